//! Parsing of the command line's durations and timestamps, and the `--output FORMAT [PATH]` option.
//!
//! The core parses the same syntaxes for manifests (`io::value`), but keeps those parsers private;
//! these follow the same rules (Go `time.ParseDuration`, RFC 3339).

use karpsim::{Error, Result};
use std::path::PathBuf;

fn opt_err(option: &str, message: impl Into<String>) -> Error {
    Error::Option { option: option.to_string(), message: message.into() }
}

/// A Go duration (`90s`, `1h30m`, `1.5h`, `300ms`) in seconds. Zero and negative durations are errors.
pub fn parse_duration(option: &str, s: &str) -> Result<f64> {
    let bad = || opt_err(option, format!("invalid duration {s:?} (expected a Go duration such as \"2h\", \"90m\" or \"1h30m\")"));
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[u..];
        total += num * unit;
    }
    if !total.is_finite() || total < 1.0 {
        return Err(opt_err(option, format!("duration {s:?} must be at least 1s")));
    }
    Ok(total)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An RFC 3339 timestamp (`2026-11-20T12:00:00Z`, fractional seconds and `+hh:mm` offsets allowed) as Unix seconds.
pub fn parse_rfc3339(option: &str, s: &str) -> Result<i64> {
    let bad = || opt_err(option, format!("invalid timestamp {s:?} (expected RFC 3339, e.g. 2026-11-20T12:00:00Z)"));
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |from: usize, to: usize| -> Result<i64> {
        let t = s.get(from..to).ok_or_else(bad)?;
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().map_err(|_| bad()) } else { Err(bad()) }
    };
    let (y, mo, d, h, mi, sec) = (num(0, 4)?, num(5, 7)?, num(8, 10)?, num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    let offset = match s.get(i..).ok_or_else(bad)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && tz.as_bytes()[3] == b':' => {
            let o = num(i + 1, i + 3)? * 3600 + num(i + 4, i + 6)? * 60;
            if tz.starts_with('-') { -o } else { o }
        }
        _ => return Err(bad()),
    };
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// `--output table|json|csv PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    Table,
    Json,
    Csv(PathBuf),
}

/// Read `--output` values; `path_name` is what csv writes to (`DIR` or `FILE`).
pub fn parse_output(values: &[String], path_name: &str) -> Result<OutputSpec> {
    let err = |m: String| opt_err("--output", m);
    match values {
        [f] if f == "table" => Ok(OutputSpec::Table),
        [f] if f == "json" => Ok(OutputSpec::Json),
        [f] if f == "csv" => Err(err(format!("csv needs a {path_name}: --output csv {path_name}"))),
        [f, p] if f == "csv" => Ok(OutputSpec::Csv(PathBuf::from(p))),
        [f, extra] if f == "table" || f == "json" => {
            Err(err(format!("{f} takes no {path_name} (got {extra:?}; give the scenario file before --output)")))
        }
        _ => Err(err(format!("expected table, json or csv {path_name}, got {:?}", values.join(" ")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("--duration", "2h").unwrap(), 7200.0);
        assert_eq!(parse_duration("--duration", "1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("--duration", "1.5h").unwrap(), 5400.0);
        for bad in ["", "2", "2d", "h", "-1h", "0s", "1.2.3h"] {
            assert!(parse_duration("--duration", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339("--now", "1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_rfc3339("--now", "2026-01-01T00:00:00Z").unwrap(), 1_767_225_600);
        assert_eq!(parse_rfc3339("--now", "2026-01-01T02:00:00.5+02:00").unwrap(), 1_767_225_600);
        assert_eq!(parse_rfc3339("--now", "2024-02-29T12:00:00Z").unwrap(), 1_709_208_000);
        for bad in ["2026-01-01", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00", "yesterday"] {
            assert!(parse_rfc3339("--now", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_output(&v(&["table"]), "DIR").unwrap(), OutputSpec::Table);
        assert_eq!(parse_output(&v(&["csv", "out"]), "DIR").unwrap(), OutputSpec::Csv("out".into()));
        assert!(parse_output(&v(&["csv"]), "DIR").is_err());
        assert!(parse_output(&v(&["json", "x"]), "DIR").is_err());
        assert!(parse_output(&v(&["xml"]), "DIR").is_err());
    }
}
