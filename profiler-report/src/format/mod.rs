//! Output formats of a snapshot: the text table, the JSON profile, and the visual formats
//! (folded stacks, SVG flame graph, speedscope JSON and the HTML report).

pub mod json;
pub(crate) mod text;

// TEMPORARY: until lib.rs re-exports these modules (`pub use format::{flame, folded, html,
// speedscope};`) nothing outside the crate reaches them; remove the four `allow`s then.
#[allow(dead_code, unreachable_pub)]
pub mod chrome;
#[allow(dead_code, unreachable_pub)]
pub mod flame;
#[allow(dead_code, unreachable_pub)]
pub mod folded;
#[allow(dead_code, unreachable_pub)]
pub mod html;
#[allow(dead_code, unreachable_pub)]
pub mod speedscope;

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file.
#[cfg(test)]
pub(crate) fn check_golden(name: &str, actual: &str) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("golden file (regenerate with UPDATE_GOLDEN=1)");
    assert!(actual == expected, "{name} differs from {}; review, then UPDATE_GOLDEN=1", path.display());
}
