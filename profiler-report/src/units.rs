//! How times, sizes and shares are written in reports, and how times are read from options.

use std::borrow::Cow;

/// A duration with three significant digits in ns, µs, ms or s (whole seconds from 1000 s on).
///
/// Rounds half up in integers, moving to the next unit when rounding reaches 1000:
/// `999` → `999ns`, `1234` → `1.23µs`, `999_500` → `1.00ms`, `1_500_000_000` → `1.50s`.
pub(crate) fn format_ns(ns: u64) -> String {
    if ns < 1000 {
        return format!("{ns}ns");
    }
    let ns = u128::from(ns);
    let mut digits = ns.ilog10() + 1;
    let scale = 10u128.pow(digits - 3);
    let mut mantissa = (ns + scale / 2) / scale;
    if mantissa == 1000 {
        mantissa = 100;
        digits += 1;
    }
    let (unit_digits, suffix) = match digits {
        4..=6 => (3, "µs"),
        7..=9 => (6, "ms"),
        _ => (9, "s"),
    };
    match digits - unit_digits {
        1 => format!("{}.{:02}{suffix}", mantissa / 100, mantissa % 100),
        2 => format!("{}.{}{suffix}", mantissa / 10, mantissa % 10),
        3 => format!("{mantissa}{suffix}"),
        _ => format!("{}s", (ns + 500_000_000) / 1_000_000_000),
    }
}

/// [`format_ns`] of a float duration, rounded to whole nanoseconds (negative values as 0).
pub(crate) fn format_ns_f(ns: f64) -> String {
    format_ns(if ns.is_finite() && ns > 0.0 { ns.round() as u64 } else { 0 })
}

/// A size in bytes with binary units: `512B`, `1.50KiB`, `2.00MiB`.
pub(crate) fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let suffix = UNITS[unit];
    if value < 10.0 {
        format!("{value:.2}{suffix}")
    } else if value < 100.0 {
        format!("{value:.1}{suffix}")
    } else {
        format!("{value:.0}{suffix}")
    }
}

/// A share in `[0, 1]` as a percentage with one decimal: `0.366` → `36.6%`.
pub(crate) fn format_percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A relative change with its sign: `0.25` → `+25.0%`, `-0.1` → `-10.0%`.
pub(crate) fn format_change(change: f64) -> String {
    if change.is_infinite() {
        return if change > 0.0 { "+inf%".to_owned() } else { "-inf%".to_owned() };
    }
    format!("{:+.1}%", change * 100.0)
}

/// A speed-up factor: `1.3245` → `1.32×`.
pub(crate) fn format_factor(factor: f64) -> String {
    format!("{factor:.2}×")
}

/// Reads a duration: a number with an optional unit `ns`, `us` (or `µs`), `ms` or `s`; a plain
/// number is nanoseconds. Fractions are allowed (`1.5ms`); the result is rounded to whole
/// nanoseconds.
///
/// # Errors
/// Not a non-negative finite number with a known unit; the message names what was expected.
///
/// ```
/// use profiler_report::parse_duration_ns;
/// assert_eq!(parse_duration_ns("500us"), Ok(500_000));
/// assert_eq!(parse_duration_ns("2ms"), Ok(2_000_000));
/// assert_eq!(parse_duration_ns("1.5s"), Ok(1_500_000_000));
/// assert_eq!(parse_duration_ns("750"), Ok(750));
/// assert!(parse_duration_ns("2 hours").is_err());
/// ```
pub fn parse_duration_ns(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        other => return Err(format!("unknown unit `{other}`, expected `ns`, `us`, `ms` or `s`")),
    };
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as `500us` or `2ms`"))?;
    let ns = (value * scale).round();
    if !ns.is_finite() || ns > u64::MAX as f64 {
        return Err(format!("`{text}` is too long a duration"));
    }
    Ok(ns as u64)
}

/// `text` with each control character (newline, tab, NUL, ESC, DEL, the C1 controls: see
/// [`char::is_control`]) and each bidirectional formatting mark written as in a Rust string
/// literal ([`char::escape_default`]: `\n`, `\t`, `\u{1b}`, `\u{202e}`), so that a name read
/// from a profile can neither break a line of a text report, nor send escape sequences to the
/// terminal, nor reorder what it shows. Other characters are kept.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Control characters, and the invisible marks that reorder text on a terminal (bidirectional
/// overrides and isolates), which could make a name read as another.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Makes `name` [`printable`] and shortens it to at most `width` characters by replacing its
/// beginning with `…`: every name a text report shows in a column goes through here.
///
/// The end of a path names the function, so that part is kept; when a `::` or `/` boundary
/// falls in the kept part and at least half of it remains after the boundary, the cut is made
/// there so no segment is shown in part. Widths count `char`s, not terminal cells.
pub(crate) fn ellipsize(name: &str, width: usize) -> Cow<'_, str> {
    match printable(name) {
        Cow::Borrowed(name) => shorten(name, width),
        Cow::Owned(name) => Cow::Owned(shorten(&name, width).into_owned()),
    }
}

/// [`ellipsize`] of a printable name.
fn shorten(name: &str, width: usize) -> Cow<'_, str> {
    let len = name.chars().count();
    if len <= width {
        return Cow::Borrowed(name);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let keep = width - 1;
    let tail_start = name.char_indices().nth(len - keep).map_or(name.len(), |(i, _)| i);
    let at_boundary = |i: usize| name[..i].ends_with("::") || name[..i].ends_with('/');
    let cut = name[tail_start..]
        .char_indices()
        .map(|(i, _)| tail_start + i)
        .find(|&i| at_boundary(i) && name[i..].chars().count() * 2 >= keep)
        .unwrap_or(tail_start);
    Cow::Owned(format!("…{}", &name[cut..]))
}

/// Splits `text` into lines of at most `width` columns (counting `char`s, ANSI escapes
/// excluded), breaking at spaces; the first line starts with `first`, the others with `rest`.
/// A word longer than a whole line is cut (a word holding an ANSI escape is kept whole).
///
/// Widths are counted as the lines grow, so the time is linear in the length of `text`, even
/// for a megabyte-long name cut into thousands of lines.
pub(crate) fn wrap(first: &str, rest: &str, text: &str, width: usize) -> Vec<String> {
    let rest_width = visible_width(rest);
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut used = visible_width(first);
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word;
        let mut word_width = visible_width(word);
        if !empty && used + 1 + word_width > width {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            used = rest_width;
            empty = true;
        }
        if !empty {
            line.push(' ');
            used += 1;
        }
        let cuttable = !word.contains('\x1b');
        while cuttable && word_width > 0 && used + word_width > width {
            let room = width.saturating_sub(used).max(1);
            let cut = word.char_indices().nth(room).map_or(word.len(), |(i, _)| i);
            line.push_str(&word[..cut]);
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            used = rest_width;
            word = &word[cut..];
            word_width -= room.min(word_width);
        }
        line.push_str(word);
        used += word_width;
        empty = false;
    }
    lines.push(line);
    lines
}

/// Columns a string takes on a terminal: its `char`s without ANSI escape sequences.
pub(crate) fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_three_significant_digits_in_the_fitting_unit() {
        let cases = [
            (0, "0ns"),
            (7, "7ns"),
            (999, "999ns"),
            (1000, "1.00µs"),
            (1234, "1.23µs"),
            (1235, "1.24µs"),
            (12_345, "12.3µs"),
            (123_456, "123µs"),
            (999_499, "999µs"),
            (999_500, "1.00ms"),
            (9_995_000, "10.0ms"),
            (123_456_789, "123ms"),
            (999_999_999, "1.00s"),
            (1_500_000_000, "1.50s"),
            (59_940_000_000, "59.9s"),
            (123_456_000_000, "123s"),
            (999_500_000_000, "1000s"),
            (3_600_000_000_000, "3600s"),
            (u64::MAX, "18446744074s"),
        ];
        for (ns, expected) in cases {
            assert_eq!(format_ns(ns), expected, "{ns} ns");
        }
        assert_eq!(format_ns_f(1234.4), "1.23µs");
        assert_eq!(format_ns_f(-5.0), "0ns");
        assert_eq!(format_ns_f(f64::NAN), "0ns");
    }

    #[test]
    fn sizes_percentages_changes_and_factors_are_readable() {
        assert_eq!(format_bytes(0), "0B");
        assert_eq!(format_bytes(1023), "1023B");
        assert_eq!(format_bytes(1536), "1.50KiB");
        assert_eq!(format_bytes(3 << 20), "3.00MiB");
        assert_eq!(format_bytes(50 << 30), "50.0GiB");
        assert_eq!(format_bytes(u64::MAX), "16.0EiB");
        assert_eq!(format_percent(0.366), "36.6%");
        assert_eq!(format_percent(1.0), "100.0%");
        assert_eq!(format_percent(0.0), "0.0%");
        assert_eq!(format_change(0.25), "+25.0%");
        assert_eq!(format_change(-0.1), "-10.0%");
        assert_eq!(format_change(0.0), "+0.0%");
        assert_eq!(format_change(f64::INFINITY), "+inf%");
        assert_eq!(format_factor(1.3245), "1.32×");
    }

    #[test]
    fn durations_parse_with_units() {
        let cases = [
            ("0", 0),
            ("750", 750),
            ("750ns", 750),
            ("500us", 500_000),
            ("500µs", 500_000),
            ("2ms", 2_000_000),
            ("1.5ms", 1_500_000),
            (" 3 s ", 3_000_000_000),
            ("0.0004ms", 400),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration_ns(text), Ok(expected), "{text:?}");
        }
        for bad in ["", "ms", "-1ms", "2 hours", "1e3", "1.2.3ms", "99999999999999999999s"] {
            assert!(parse_duration_ns(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_duration_ns("2h"), Err("unknown unit `h`, expected `ns`, `us`, `ms` or `s`".to_owned()));
    }

    #[test]
    fn long_names_keep_their_end_and_cut_at_a_segment_boundary() {
        let cases = [
            ("short", 10, "short"),
            ("abcdefghij", 10, "abcdefghij"),
            ("app::pipeline::parse_document", 25, "…pipeline::parse_document"),
            ("crate::module::submodule::function_name", 20, "…function_name"),
            ("src/parser/expression/binary_operator.rs", 24, "…binary_operator.rs"),
            // The boundary would leave less than half of the room: cut inside the segment.
            ("a_rather_long_segment::b", 10, "…egment::b"),
            ("abcdefghijklmnopqrstuvwxyz", 10, "…rstuvwxyz"),
            ("αβγδεζηθικλμ", 5, "…ικλμ"),
            ("abc", 1, "…"),
            ("abc", 0, ""),
        ];
        for (name, width, expected) in cases {
            let got = ellipsize(name, width);
            assert_eq!(got, expected, "{name:?} in {width}");
            assert!(got.chars().count() <= width);
        }
    }

    #[test]
    fn control_characters_are_escaped_as_in_rust_strings() {
        assert!(matches!(printable("app::parse <é> \\n"), Cow::Borrowed("app::parse <é> \\n")));
        assert_eq!(printable("a\nb\r\tc\0\x1b[31mred\x7f\u{9b}2J"), "a\\nb\\r\\tc\\u{0}\\u{1b}[31mred\\u{7f}\\u{9b}2J");
        // The escapes count in the width, so a shortened name still fits its column.
        assert_eq!(ellipsize("x\ty", 10), "x\\ty");
        assert_eq!(ellipsize("abc::\x1b", 8), "…\\u{1b}");
        // A right-to-left override would make `evil_gpj.exe` read as `evil_exe.jpg`.
        assert_eq!(printable("evil_\u{202e}gpj.exe"), "evil_\\u{202e}gpj.exe");
        assert_eq!(printable("a\u{2066}b\u{200f}"), "a\\u{2066}b\\u{200f}");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("> ", "  ", "aaa bbb ccc", 9), ["> aaa bbb", "  ccc"]);
        assert_eq!(wrap("", "", "", 10), [""]);
        assert_eq!(wrap("", "", "abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(visible_width("\x1b[31mred\x1b[0m"), 3);
        assert_eq!(wrap("> ", "  ", "ab cdefghijk l", 6), ["> ab", "  cdef", "  ghij", "  k l"]);
        assert_eq!(wrap("", "", "αβγδε \x1b[1mbold\x1b[0m", 4), ["αβγδ", "ε", "\x1b[1mbold\x1b[0m"]);
    }

    #[test]
    fn wrapping_a_huge_word_takes_linear_time() {
        // Recounting the rest of the word at each cut made this quadratic: minutes in a debug build.
        let word = "x".repeat(2_000_000);
        let started = std::time::Instant::now();
        let lines = wrap("", "  ", &word, 100);
        let elapsed = started.elapsed();
        assert_eq!(lines.len(), 1 + (2_000_000 - 100usize).div_ceil(98));
        assert!(lines.iter().all(|l| l.chars().count() <= 100));
        assert_eq!(lines.concat().replace(' ', ""), word);
        assert!(elapsed.as_secs() < 5, "{elapsed:?} to wrap 2 MB");
    }
}
