//! Cron schedules for disruption budgets, evaluated in UTC at simulated time
//! (`nodepool.go: Budget.IsActive`, which uses robfig/cron's standard parser).

use crate::io::civil_from_days;
use std::fmt;

/// A parsed five-field cron expression (minute hour day-of-month month day-of-week) or macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    dom: u32,
    months: u16,
    dow: u8,
    dom_star: bool,
    dow_star: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(pub String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_value(s: &str, names: &[&str], base: u32) -> Result<u32, CronError> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + base);
    }
    s.parse().map_err(|_| CronError(format!("invalid cron value {s:?}")))
}

/// Parse one field into a bit set over `[lo, hi]`; returns (bits, was_star).
fn parse_field(field: &str, lo: u32, hi: u32, names: &[&str], base: u32) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    let star = field == "*" || field == "?";
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| CronError(format!("invalid cron step {s:?}")))?),
            None => (part, 1),
        };
        if step == 0 {
            return Err(CronError("cron step must be positive".into()));
        }
        let (a, b) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (parse_value(a, names, base)?, parse_value(b, names, base)?)
        } else {
            let v = parse_value(range, names, base)?;
            (v, if part.contains('/') { hi } else { v })
        };
        // Sunday may be written 7
        let b = if hi == 6 && b == 7 { 6 } else { b };
        let a = if hi == 6 && a == 7 { 0 } else { a };
        if a < lo || b > hi || a > b {
            return Err(CronError(format!("cron field {field:?} out of range {lo}-{hi}")));
        }
        let mut v = a;
        while v <= b {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Cron {
    pub fn parse(expr: &str) -> Result<Cron, CronError> {
        let e = expr.trim();
        let expanded = match e {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let f: Vec<&str> = expanded.split_whitespace().collect();
        if f.len() != 5 {
            return Err(CronError(format!("cron schedule {expr:?} must have 5 fields or be a macro like @daily")));
        }
        let (minutes, _) = parse_field(f[0], 0, 59, &[], 0)?;
        let (hours, _) = parse_field(f[1], 0, 23, &[], 0)?;
        let (dom, dom_star) = parse_field(f[2], 1, 31, &[], 1)?;
        let (months, _) = parse_field(f[3], 1, 12, &MONTHS, 1)?;
        let (dow, dow_star) = parse_field(f[4], 0, 6, &DAYS, 0)?;
        Ok(Cron { minutes, hours: hours as u32, dom: dom as u32, months: months as u16, dow: dow as u8, dom_star, dow_star })
    }

    /// Whether the schedule fires at the start of this minute (minutes since the Unix epoch, UTC).
    pub fn matches_minute(&self, epoch_minute: i64) -> bool {
        let minute = epoch_minute.rem_euclid(60) as u32;
        let hour = (epoch_minute.div_euclid(60)).rem_euclid(24) as u32;
        let days = epoch_minute.div_euclid(1440);
        let (_, month, day) = civil_from_days(days);
        let weekday = (days + 4).rem_euclid(7) as u32; // 1970-01-01 was a Thursday
        if self.minutes & (1 << minute) == 0 || self.hours & (1 << hour) == 0 || self.months & (1 << month) == 0 {
            return false;
        }
        let dom_ok = self.dom & (1 << day) != 0;
        let dow_ok = self.dow & (1 << weekday) != 0;
        // standard cron: if either day field is a star, both must match; otherwise either may
        if self.dom_star || self.dow_star { dom_ok && dow_ok } else { dom_ok || dow_ok }
    }

    /// `Budget.IsActive`: the schedule fired in `(now - duration, now]` (i.e. the next activation after
    /// `now - duration` is not later than `now`). Times in seconds since the epoch.
    pub fn active(&self, now: i64, duration: i64) -> bool {
        let start = now - duration; // exclusive
        // activations happen at whole minutes; first whole minute strictly after `start`
        let mut m = start.div_euclid(60) + 1;
        let last = now.div_euclid(60);
        // a window longer than a year always contains any satisfiable schedule's activation
        let last = last.min(m + 366 * 1440);
        while m <= last {
            if self.matches_minute(m) {
                return true;
            }
            m += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-26 (a Thursday) 00:00 UTC
    const THU: i64 = 1_795_651_200;

    #[test]
    fn dates_and_weekdays() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(THU / 86400), (2026, 11, 26));
        let c = Cron::parse("0 9 * * thu").unwrap();
        assert!(c.matches_minute(THU / 60 + 9 * 60));
        assert!(!c.matches_minute(THU / 60 + 9 * 60 + 1440), "friday does not match");
    }

    #[test]
    fn active_windows() {
        // business hours 09:00 for 8h on weekdays
        let c = Cron::parse("0 9 * * mon-fri").unwrap();
        assert!(c.active(THU + 10 * 3600, 8 * 3600));
        assert!(c.active(THU + 9 * 3600, 8 * 3600), "active at the activation instant");
        assert!(!c.active(THU + 17 * 3600, 8 * 3600), "the window is half-open: (start, start+duration)");
        assert!(!c.active(THU + 8 * 3600, 8 * 3600));
        let daily = Cron::parse("@daily").unwrap();
        assert!(daily.active(THU + 3600, 2 * 3600));
        assert!(!daily.active(THU + 3 * 3600, 2 * 3600));
    }

    #[test]
    fn parse_errors_and_forms() {
        assert!(Cron::parse("* * *").is_err());
        assert!(Cron::parse("61 * * * *").is_err());
        assert!(Cron::parse("*/0 * * * *").is_err());
        assert!(Cron::parse("*/15 1-3,5 1 jan-mar 7").is_ok());
    }
}
