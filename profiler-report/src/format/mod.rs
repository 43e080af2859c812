//! Output formats of a snapshot: the text table and the JSON profile.

pub mod json;
pub(crate) mod text;
