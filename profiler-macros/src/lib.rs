//! `#[instrument_stage]`: placeholder until the macro lands.
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_attribute]
pub fn instrument_stage(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
