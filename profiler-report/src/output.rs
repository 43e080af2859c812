//! The UTC timestamps in profile names and contents, written and read back.
//!
//! Timestamps are computed here from the Unix time (Howard Hinnant's `civil_from_days`), so
//! the crate needs no date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Directory of profiles when neither `PROFILE_OUTPUT` nor `PROFILE_OUTPUT_DIR` is set,
/// relative to the current directory.
pub(crate) const DEFAULT_DIR: &str = "profiles";

/// RFC 3339 in UTC with whole seconds: `2026-11-21T17:19:00Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let t = Civil::from_unix(unix_seconds(time));
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year, t.month, t.day, t.hour, t.minute, t.second)
}

/// ISO 8601 basic format in UTC, for file names: `20261121T171900Z`.
pub(crate) fn compact_utc(time: SystemTime) -> String {
    let t = Civil::from_unix(unix_seconds(time));
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year, t.month, t.day, t.hour, t.minute, t.second)
}

/// Reads what [`rfc3339`] writes: `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds). `None` for
/// anything else, including impossible dates such as February 30th.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    let (year, month, day) = (i64::from(number(0..4)?), number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None; // a day past the end of its month
    }
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    })
}

/// Whole seconds since the Unix epoch, rounded down (also before 1970), saturating.
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 { -whole.saturating_add(1) } else { -whole }
        }
    }
}

/// A UTC date and time of day.
#[derive(Debug, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    fn from_unix(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        let in_day = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Self { year, month, day, hour: in_day / 3600, minute: in_day / 60 % 60, second: in_day % 60 }
    }
}

/// The proleptic Gregorian date `days` days after 1970-01-01, as (year, month 1..=12, day 1..=31).
///
/// Counts in 400-year eras of 146,097 days starting on March 1st, so the leap day is the last
/// day of its "year" (see <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32; // [1, 31]
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 to the proleptic Gregorian date (the inverse of [`civil_from_days`] for
/// valid dates; see <https://howardhinnant.github.io/date_algorithms.html#days_from_civil>).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400); // [0, 399]
    let month_from_march = i64::from(if month > 2 { month - 3 } else { month + 9 }); // [0, 11]
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year; // [0, 146096]
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: i64) -> SystemTime {
        if seconds >= 0 {
            UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
        }
    }

    #[test]
    fn timestamps_of_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"), // 2000 is a leap year (divisible by 400)
            (951_868_800, "2000-03-01T00:00:00Z"),
            (1_709_164_800, "2024-02-29T00:00:00Z"),
            (1_795_281_540, "2026-11-21T17:19:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (4_107_456_000, "2100-02-28T00:00:00Z"), // 2100 is not (divisible by 100)
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-2_203_891_200, "1900-03-01T00:00:00Z"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(rfc3339(at(seconds)), expected, "{seconds}");
        }
        assert_eq!(compact_utc(at(1_795_281_540)), "20261121T171900Z");
    }

    #[test]
    fn fractions_of_a_second_round_down() {
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(1999)), "1970-01-01T00:00:01Z");
        assert_eq!(rfc3339(UNIX_EPOCH - Duration::from_millis(1)), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn every_day_of_four_centuries_follows_the_previous_one() {
        let (mut year, mut month, mut day) = civil_from_days(-1);
        assert_eq!((year, month, day), (1969, 12, 31));
        for days in 0..146_097 {
            let next = civil_from_days(days);
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let month_len =
                [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1];
            let expected = if day < month_len {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
            assert_eq!(next, expected, "day {days}");
            (year, month, day) = next;
        }
    }

    #[test]
    fn timestamps_read_back_exactly() {
        for seconds in
            [0, 951_782_400, 1_709_164_800, 1_795_281_540, 4_107_456_000, 253_402_300_799, -1, -2_203_891_200]
        {
            let written = rfc3339(at(seconds));
            assert_eq!(parse_rfc3339(&written), Some(at(seconds)), "{written}");
        }
        for days in -1000..1000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in [
            "",
            "2026-11-21",
            "2026-11-21T17:19:00",
            "2026-11-21T17:19:00+01:00",
            "2026-11-21 17:19:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T17:60:00Z",
            "2026-11-00T17:19:00Z",
            "+026-11-21T17:19:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
    }
}
