//! SVG flame graph of the call tree, rendered by [inferno](https://docs.rs/inferno) from the
//! folded stacks.
//!
//! Each box is a stage on one path of the call tree; its width is the path's inclusive time
//! (its self time plus that of everything it calls), in nanoseconds of thread time, and
//! children sit on top of their caller. The file is inferno's usual interactive SVG: click to
//! zoom, Ctrl+F to search, a tooltip with the time and share of each box. Colours come from a
//! hash of the stage name, so the same profile always renders to the same bytes.

use std::borrow::Cow;
use std::io;

use inferno::flamegraph::{self, Options};

use crate::format::folded::{FoldedStack, render_folded};

/// Renders the SVG flame graph of `stacks` (see [`folded::stacks`](crate::format::folded::stacks))
/// under `title`, with times in nanoseconds (`ns`).
///
/// # Errors
/// No stack has any self time (inferno then has nothing to draw), the self times add up to
/// more than `u64::MAX`, or inferno failed.
pub fn render_flame_svg(stacks: &[FoldedStack], title: &str) -> io::Result<String> {
    // inferno adds the counts up in a u64.
    if stacks.iter().try_fold(0u64, |total, s| total.checked_add(s.self_ns)).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the self times add up to more than {} ns", u64::MAX),
        ));
    }
    let folded = xml_chars(&render_folded(stacks)).into_owned();
    let mut options = Options::default();
    options.title = xml_chars(title).into_owned();
    options.subtitle = Some("width: inclusive time (thread time, ns); click to zoom, Ctrl+F to search".to_owned());
    "ns".clone_into(&mut options.count_name);
    "Stage:".clone_into(&mut options.name_type);
    // Colours from a hash of the name, without inferno's random generator: same input, same bytes.
    options.deterministic = true;
    // render_folded sorts the lines already.
    options.no_sort = true;
    let mut svg = Vec::with_capacity(folded.len() * 4 + 16 * 1024);
    flamegraph::from_lines(&mut options, folded.lines(), &mut svg)?;
    String::from_utf8(svg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `text` with each character XML 1.0 forbids (the controls below U+0020 but tab, newline and
/// carriage return; U+FFFE and U+FFFF) replaced by U+FFFD. inferno escapes markup (`<`, `&`,
/// quotes) but passes these through, and one of them makes the whole SVG unreadable.
fn xml_chars(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{fffd}' | '\u{10000}'..);
    if text.chars().all(allowed) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| if allowed(c) { c } else { char::REPLACEMENT_CHARACTER }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::check_golden;
    use crate::format::folded::stacks;
    use crate::test_data::synthetic_snapshot;

    /// The `fg:w` (width in ns) of the first frame whose title starts with `name (`.
    fn frame_width(svg: &str, name: &str) -> u64 {
        let at = svg.find(&format!("<title>{name} (")).unwrap_or_else(|| panic!("no frame {name}"));
        let rest = &svg[at..];
        let w = rest.find("fg:w=\"").unwrap() + 6;
        rest[w..w + rest[w..].find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn flame_graph_of_a_synthetic_snapshot_matches_the_golden_file() {
        let svg = render_flame_svg(&stacks(&synthetic_snapshot()), "synthetic profile").unwrap();
        assert_eq!(svg, render_flame_svg(&stacks(&synthetic_snapshot()), "synthetic profile").unwrap());
        check_golden("flame.svg", &svg);
    }

    #[test]
    fn frames_are_as_wide_as_the_inclusive_time() {
        let snapshot = synthetic_snapshot();
        let svg = render_flame_svg(&stacks(&snapshot), "t").unwrap();
        assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..100]);
        assert!(svg.contains("ns"), "count name");
        // A frame spans its subtree's self time: the inclusive time (busy time for async stages).
        // inferno leaves out frames narrower than 0.01 % (here `tiny`).
        for stage in snapshot.stages.iter().filter(|s| s.impact_ns() * 10_000 >= snapshot.profiled_ns()) {
            assert_eq!(frame_width(&svg, &stage.name), stage.impact_ns(), "{}", stage.name);
        }
        assert!(!svg.contains("<title>tiny ("));
        assert_eq!(frame_width(&svg, "all"), snapshot.profiled_ns());
    }

    #[test]
    fn names_are_escaped_for_xml() {
        let stacks = vec![FoldedStack { frames: vec!["<Vec<u8> as Read>::read & co".into()], self_ns: 10 }];
        let svg = render_flame_svg(&stacks, "a <title>").unwrap();
        assert!(svg.contains("&lt;Vec&lt;u8&gt; as Read&gt;::read &amp; co"), "{svg}");
        assert!(!svg.contains("<Vec<u8>"));
    }

    #[test]
    fn characters_xml_forbids_are_replaced() {
        let stacks = vec![
            FoldedStack { frames: vec!["main".into(), "bad\u{fffe}name\u{ffff}".into()], self_ns: 10 },
            FoldedStack { frames: vec!["main".into(), "ctrl\0\x1b[2J".into()], self_ns: 10 },
        ];
        let svg = render_flame_svg(&stacks, "program\0\x1b\u{ffff}\x7f").unwrap();
        let xml_char =
            |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
        let bad: Vec<char> = svg.chars().filter(|&c| !xml_char(c)).collect();
        assert!(bad.is_empty(), "characters XML forbids: {bad:?}");
        assert!(svg.contains("program\u{fffd}\u{fffd}\u{fffd}\x7f"), "the title, DEL is allowed");
        assert!(svg.contains("<title>bad\u{fffd}name\u{fffd} ("), "{svg}");
        assert!(svg.contains("<title>ctrl  [2J ("), "controls are spaces in folded stacks already");
    }

    #[test]
    fn an_empty_profile_is_an_error() {
        let error = render_flame_svg(&[], "empty").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn self_times_beyond_u64_max_are_an_error() {
        let stacks = [
            FoldedStack { frames: vec!["a".into()], self_ns: u64::MAX },
            FoldedStack { frames: vec!["b".into()], self_ns: 1 },
        ];
        let error = render_flame_svg(&stacks, "huge").unwrap_err();
        assert_eq!(error.to_string(), "the self times add up to more than 18446744073709551615 ns");
        assert!(render_flame_svg(&stacks[..1], "huge").is_ok());
    }
}
