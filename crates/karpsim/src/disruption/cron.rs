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

/// One field's bounds, name and value names (robfig/cron v3 `spec.go`: `minutes`, `hours`, `dom`,
/// `months`, `dow`; day of week is 0-6 there, so `7` is out of range).
struct Bounds {
    name: &'static str,
    lo: u32,
    hi: u32,
    names: &'static [&'static str],
}

const FIELDS: [Bounds; 5] = [
    Bounds { name: "minute", lo: 0, hi: 59, names: &[] },
    Bounds { name: "hour", lo: 0, hi: 23, names: &[] },
    Bounds { name: "day of month", lo: 1, hi: 31, names: &[] },
    Bounds { name: "month", lo: 1, hi: 12, names: &MONTHS },
    Bounds { name: "day of week", lo: 0, hi: 6, names: &DAYS },
];

/// A value: a name (case-insensitive) or a non-negative decimal integer (robfig `parseIntOrName`,
/// `mustParseInt`, which uses Go's `strconv.Atoi`).
fn parse_value(s: &str, b: &Bounds) -> Result<u32, CronError> {
    if let Some(i) = b.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + b.lo);
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(CronError(format!("{} {s:?} is not a number{}", b.name, if b.names.is_empty() { "" } else { " or a name" })));
    }
    // anything past u32 is out of every field's range
    Ok(digits.parse().unwrap_or(u32::MAX))
}

/// One field (robfig `getField` and `getRange`): comma-separated ranges `*`, `?`, `N`, `A-B`, each
/// with an optional `/STEP`; `N/STEP` means `N-max/STEP`. Returns the bits and whether the field
/// counts as a star for the day-of-month/day-of-week rule (`*` or `?` without a step above 1).
fn parse_field(field: &str, b: &Bounds) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    let mut star = false;
    for part in field.split(',').filter(|p| !p.is_empty()) {
        let mut slash = part.split('/');
        let range = slash.next().unwrap_or_default();
        let step = match (slash.next(), slash.next()) {
            (None, _) => None,
            (Some(st), None) => Some(parse_value(st, &Bounds { names: &[], ..*b }).map_err(|_| CronError(format!("{} step {st:?} is not a number", b.name)))?),
            (Some(_), Some(_)) => return Err(CronError(format!("{} {part:?} has more than one '/'", b.name))),
        };
        let (a, z, is_star) = if range == "*" || range == "?" {
            (b.lo, b.hi, true)
        } else {
            let mut dash = range.split('-');
            let a = parse_value(dash.next().unwrap_or_default(), b)?;
            match (dash.next(), dash.next()) {
                (None, _) => (a, if step.is_some() { b.hi } else { a }, false),
                (Some(z), None) => (a, parse_value(z, b)?, false),
                (Some(_), Some(_)) => return Err(CronError(format!("{} {part:?} has more than one '-'", b.name))),
            }
        };
        if a < b.lo {
            return Err(CronError(format!("{} {part:?}: {a} is below {}", b.name, b.lo)));
        }
        if z > b.hi {
            return Err(CronError(format!("{} {part:?}: {z} is above {} (range {}-{})", b.name, b.hi, b.lo, b.hi)));
        }
        if a > z {
            return Err(CronError(format!("{} {part:?}: the range starts after it ends", b.name)));
        }
        let step = step.unwrap_or(1);
        if step == 0 {
            return Err(CronError(format!("{} {part:?}: the step must be positive", b.name)));
        }
        star |= is_star && step <= 1;
        let mut v = a;
        while v <= z {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Cron {
    /// Parse a schedule as Karpenter does (`Budget.IsActive`: robfig/cron v3 `ParseStandard`): five
    /// fields, or one of the descriptors the NodePool CRD's pattern allows (`@yearly`, `@annually`,
    /// `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`). A schedule that can never fire is an
    /// error too: Karpenter would take such a budget as always active (robfig's `Next` gives up and
    /// returns the zero time, which `IsActive` reads as "fired").
    pub fn parse(expr: &str) -> Result<Cron, CronError> {
        let e = expr.trim();
        let expanded = match e {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            d if d.starts_with('@') => {
                return Err(CronError(format!(
                    "unknown descriptor {d:?} (@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"
                )));
            }
            other => other,
        };
        let f: Vec<&str> = expanded.split_whitespace().collect();
        if f.len() != 5 {
            return Err(CronError(format!("expected 5 fields (minute hour day-of-month month day-of-week), found {}", f.len())));
        }
        let (minutes, _) = parse_field(f[0], &FIELDS[0])?;
        let (hours, _) = parse_field(f[1], &FIELDS[1])?;
        let (dom, dom_star) = parse_field(f[2], &FIELDS[2])?;
        let (months, _) = parse_field(f[3], &FIELDS[3])?;
        let (dow, dow_star) = parse_field(f[4], &FIELDS[4])?;
        let c = Cron { minutes, hours: hours as u32, dom: dom as u32, months: months as u16, dow: dow as u8, dom_star, dow_star };
        if !c.ever_fires() {
            return Err(CronError("the schedule never fires (Karpenter would treat the budget as always active)".into()));
        }
        Ok(c)
    }

    /// Whether some minute matches: checked over four years from 2024-01-01, which holds every
    /// month/day/weekday combination a schedule can ask for (29 February included).
    fn ever_fires(&self) -> bool {
        const FIRST_DAY: i64 = 19_723; // 2024-01-01
        self.minutes != 0 && self.hours != 0 && (FIRST_DAY..FIRST_DAY + 4 * 366).any(|d| self.day_matches(d))
    }

    fn day_matches(&self, days: i64) -> bool {
        let (_, month, day) = civil_from_days(days);
        let weekday = (days + 4).rem_euclid(7) as u32; // 1970-01-01 was a Thursday
        if self.months & (1 << month) == 0 {
            return false;
        }
        let dom_ok = self.dom & (1 << day) != 0;
        let dow_ok = self.dow & (1 << weekday) != 0;
        // robfig `dayMatches`: if either day field is a star, both must match; otherwise either may
        if self.dom_star || self.dow_star { dom_ok && dow_ok } else { dom_ok || dow_ok }
    }

    /// Whether the schedule fires at the start of this minute (minutes since the Unix epoch, UTC).
    pub fn matches_minute(&self, epoch_minute: i64) -> bool {
        let minute = epoch_minute.rem_euclid(60) as u32;
        let hour = (epoch_minute.div_euclid(60)).rem_euclid(24) as u32;
        self.minutes & (1 << minute) != 0 && self.hours & (1 << hour) != 0 && self.day_matches(epoch_minute.div_euclid(1440))
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
        // robfig/cron v3 rejects each of these; Karpenter's CRD pattern lets the 5-field ones through
        for bad in [
            "* * *", "61 * * * *", "@fortnightly", "@every 1h", "*/0 * * * *", "1-0 * * * *", "0 0 * * 8", "0 0 * * 7",
            "0 0 30 2 *", "a * * * *", "1/2/3 * * * *", "1-2-3 * * * *", ", * * * *", "-1 * * * *", "0 24 * * *",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        for ok in ["*/15 1-3,5 1 jan-mar sun", "0 9 * * MON-FRI", "5/10 * * * *", "0 0 29 2 *", " @daily ", "0 0 ? * 1,3"] {
            assert!(Cron::parse(ok).is_ok(), "{ok:?} should parse");
        }
        let e = Cron::parse("0 0 * * 8").unwrap_err().to_string();
        assert!(e.contains("day of week") && e.contains("0-6"), "{e}");
    }

    #[test]
    fn stepped_star_is_not_a_star() {
        // robfig: "*/2" in day-of-month clears the star bit, so day of week alone may match
        let c = Cron::parse("0 0 */2 * mon").unwrap();
        let monday_the_30th = (THU + 4 * 86_400) / 60; // 2026-11-30, a Monday and an even day
        assert!(c.matches_minute(monday_the_30th));
    }
}
