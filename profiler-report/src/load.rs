//! Reading a saved profile back, with one clear message for each way a file can be wrong.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use profiler_core::Snapshot;

use crate::json::{Profile, SCHEMA_VERSION};

/// What is wrong with a profile file.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read (missing, a directory, no permission...).
    Read(std::io::Error),
    /// The file is empty.
    Empty,
    /// The JSON ends early: the file was cut off.
    Truncated(serde_json::Error),
    /// The file is not JSON.
    NotJson(serde_json::Error),
    /// JSON, but not a profile: not an object, or no `schema_version`.
    NotAProfile(String),
    /// A profile of another schema version.
    UnsupportedVersion(u64),
    /// A profile of this version with missing, mistyped or inconsistent fields.
    Invalid(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(error) => write!(f, "cannot read it: {error}"),
            Self::Empty => f.write_str("empty file, not a profile"),
            Self::Truncated(error) => {
                write!(f, "truncated: the JSON ends early (line {}, column {})", error.line(), error.column())
            }
            Self::NotJson(error) => write!(f, "not JSON: {error}"),
            Self::NotAProfile(what) => write!(f, "not a profile: {what}"),
            Self::UnsupportedVersion(found) => {
                write!(f, "unsupported schema version {found}, expected {SCHEMA_VERSION}")
            }
            Self::Invalid(what) => write!(f, "invalid profile: {what}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// A [`LoadError`] with the file it is about: displays as `<path>: <what is wrong>`.
#[derive(Debug)]
pub struct ProfileFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub error: LoadError,
}

impl fmt::Display for ProfileFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for ProfileFileError {}

/// Reads a profile from text: checks it is JSON, that it is a profile, its schema version, its
/// fields, and that it rebuilds a consistent [`Snapshot`] (returned with it).
///
/// # Errors
/// The first problem found, as a [`LoadError`].
pub fn parse_profile(text: &str) -> Result<(Profile, Snapshot), LoadError> {
    /// The part of a profile read before anything else.
    #[derive(Deserialize)]
    struct Header {
        schema_version: Option<serde_json::Value>,
    }
    // A byte order mark, as some Windows editors save, is not JSON whitespace.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(LoadError::Empty);
    }
    serde_json::from_str::<IgnoredAny>(text)
        .map_err(|e| if e.is_eof() { LoadError::Truncated(e) } else { LoadError::NotJson(e) })?;
    let header: Header = serde_json::from_str(text)
        .map_err(|_| LoadError::NotAProfile("the top level is not a JSON object".to_owned()))?;
    match header.schema_version {
        None => return Err(LoadError::NotAProfile("no `schema_version` field".to_owned())),
        Some(version) => match version.as_u64() {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => return Err(LoadError::UnsupportedVersion(v)),
            None => return Err(LoadError::NotAProfile(format!("`schema_version` is {version}, not a whole number"))),
        },
    }
    let profile: Profile = serde_json::from_str(text).map_err(|e| LoadError::Invalid(e.to_string()))?;
    let snapshot = profile.to_snapshot().map_err(LoadError::Invalid)?;
    Ok((profile, snapshot))
}

/// Reads a profile file (see [`parse_profile`]).
///
/// # Errors
/// The file cannot be read or is not a valid profile; the error names the file.
///
/// ```no_run
/// match profiler_report::read_profile("profiles/run.json".as_ref()) {
///     Ok((profile, snapshot)) => println!("{} stages", snapshot.stages.len()),
///     Err(error) => eprintln!("{error}"), // profiles/run.json: truncated: ...
/// }
/// ```
pub fn read_profile(path: &Path) -> Result<(Profile, Snapshot), ProfileFileError> {
    read_profile_text(path).map(|(_, profile, snapshot)| (profile, snapshot))
}

/// Reads a profile file like [`read_profile`], and returns its text too (to embed it as it is,
/// as `profiler-report convert --format html` does).
///
/// # Errors
/// The file cannot be read or is not a valid profile; the error names the file.
pub fn read_profile_text(path: &Path) -> Result<(String, Profile, Snapshot), ProfileFileError> {
    let fail = |error| ProfileFileError { path: path.to_owned(), error };
    let bytes = std::fs::read(path).map_err(|e| fail(LoadError::Read(e)))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| fail(LoadError::NotAProfile(format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))))?;
    let (profile, snapshot) = parse_profile(&text).map_err(fail)?;
    // Returned without a byte order mark, so that it embeds as JSON (`JSON.parse` rejects one).
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    Ok((text, profile, snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze;
    use crate::test_data::{full_snapshot, test_options};

    fn good() -> String {
        let snapshot = full_snapshot();
        Profile::new(&snapshot, &analyze(&snapshot, &test_options()), "p").to_json()
    }

    fn message(text: &str) -> String {
        parse_profile(text).unwrap_err().to_string()
    }

    #[test]
    fn a_written_profile_reads_back() {
        let (profile, snapshot) = parse_profile(&good()).unwrap();
        assert_eq!(profile.schema_version, SCHEMA_VERSION);
        assert_eq!(snapshot.stages, full_snapshot().stages);
    }

    #[test]
    fn each_kind_of_bad_input_has_its_message() {
        assert_eq!(message(""), "empty file, not a profile");
        assert_eq!(message("hello"), "not JSON: expected value at line 1 column 1");
        let text = good();
        assert_eq!(message(&text[..200]), "truncated: the JSON ends early (line 10, column 8)");
        assert_eq!(message("[1, 2]"), "not a profile: the top level is not a JSON object");
        assert_eq!(message("{\"stages\": []}"), "not a profile: no `schema_version` field");
        assert_eq!(
            message("{\"schema_version\": \"2\"}"),
            "not a profile: `schema_version` is \"2\", not a whole number"
        );
        assert_eq!(message("{\"schema_version\": 2.0}"), "not a profile: `schema_version` is 2.0, not a whole number");
        assert_eq!(message("{\"schema_version\": 1, \"stages\": []}"), "unsupported schema version 1, expected 2");
        assert_eq!(message("{\"schema_version\": 3}"), "unsupported schema version 3, expected 2");
        assert!(message("{\"schema_version\": 2}").starts_with("invalid profile: missing field `created_at`"));
        let inconsistent = text.replacen("\"calls\": 1000,", "\"calls\": 1001,", 1);
        assert_eq!(
            message(&inconsistent),
            "invalid profile: stage `app::pipeline::parse_document`: histogram counts add up to 1000, not its 1001 calls"
        );
        for m in [message("hello"), message(&text[..200]), message("{\"schema_version\": 2}")] {
            assert!(!m.contains('\n'), "one line: {m}");
        }
    }

    #[test]
    fn file_errors_name_the_file() {
        let missing = Path::new("/nonexistent/dir/p.json");
        let error = read_profile(missing).unwrap_err();
        assert!(error.to_string().starts_with("/nonexistent/dir/p.json: cannot read it: "), "{error}");
        let dir = std::env::temp_dir().join(format!("profiler-report-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("binary.json");
        std::fs::write(&binary, [b'{', 0xff, b'}']).unwrap();
        assert_eq!(
            read_profile(&binary).unwrap_err().to_string(),
            format!("{}: not a profile: not UTF-8 text (byte 1)", binary.display())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
