//! Parsing of the command line's durations and timestamps, and the `--output FORMAT [PATH]` option.
//!
//! Durations and timestamps use the core's parsers (Go `time.ParseDuration`, RFC 3339).

use karpsim::{Error, Result};
use std::path::PathBuf;

fn opt_err(option: &str, message: impl Into<String>) -> Error {
    Error::Option { option: option.to_string(), message: message.into() }
}

/// A Go duration (`90s`, `1h30m`, `1.5h`) in seconds, parsed as manifests are (`karpsim::io`).
/// Durations under a second are errors here: no command-line duration means less.
pub fn parse_duration(option: &str, s: &str) -> Result<f64> {
    let secs = karpsim::io::parse_duration(s.trim()).map_err(|m| opt_err(option, m))?;
    if secs < 1 {
        return Err(opt_err(option, format!("duration {s:?} must be at least 1s")));
    }
    Ok(secs as f64)
}

/// An RFC 3339 timestamp (`2026-11-20T12:00:00Z`, fractional seconds and `+hh:mm` offsets allowed) as Unix seconds.
pub fn parse_rfc3339(option: &str, s: &str) -> Result<i64> {
    karpsim::io::parse_rfc3339(s).ok_or_else(|| opt_err(option, format!("invalid timestamp {s:?} (expected RFC 3339, e.g. 2026-11-20T12:00:00Z)")))
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
