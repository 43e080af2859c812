//! Output formats of a snapshot: the text table, the JSON profile, and the visual formats
//! (folded stacks, SVG flame graph, Chrome trace, speedscope JSON and the HTML report), each
//! a pure function of a snapshot or of a JSON profile. The crate root re-exports the modules.

pub mod json;
pub(crate) mod text;

pub mod chrome;
pub mod flame;
pub mod folded;
pub mod html;
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
