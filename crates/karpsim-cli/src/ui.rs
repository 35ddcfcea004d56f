//! What the command shows on stderr besides its report: a progress line for long runs (when stderr
//! is a terminal and `--quiet` is not given), cleared before the report is printed.

use karpsim::progress::Progress;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A run shorter than this shows no progress line at all.
const SHOW_AFTER: Duration = Duration::from_millis(500);
/// At most this often a new line is drawn.
const REDRAW: Duration = Duration::from_millis(100);

/// The unit a computation counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Simulated seconds, shown in hours.
    SimSeconds,
    /// Runs of a comparison.
    Runs,
    /// Rounds of disruption.
    Rounds,
}

/// Where progress lines go. `Ui::default()` shows nothing (tests, JSON consumers, pipes).
#[derive(Debug, Clone, Default)]
pub struct Ui {
    enabled: bool,
    shown: Arc<AtomicBool>,
}

fn describe(unit: Unit, done: u64, total: Option<u64>) -> String {
    match (unit, total) {
        (Unit::SimSeconds, Some(t)) if t > 0 => {
            format!("{:.1} of {:.1} h simulated ({:.0}%)", done as f64 / 3600.0, t as f64 / 3600.0, done as f64 * 100.0 / t as f64)
        }
        (Unit::SimSeconds, _) => format!("{:.1} h simulated", done as f64 / 3600.0),
        (Unit::Runs, Some(t)) => format!("{done}/{t} runs"),
        (Unit::Runs, None) => format!("{done} runs"),
        (Unit::Rounds, _) => format!("round {done}"),
    }
}

impl Ui {
    /// Progress lines on stderr when `enabled` (the caller checks that stderr is a terminal).
    pub fn new(enabled: bool) -> Ui {
        Ui { enabled, shown: Arc::default() }
    }

    /// A progress reporter for one computation, `label: 3/8 runs`.
    pub fn progress(&self, label: &'static str, unit: Unit) -> Progress {
        if !self.enabled {
            return Progress::default();
        }
        let start = Instant::now();
        let last: Mutex<Option<Instant>> = Mutex::new(None);
        let shown = Arc::clone(&self.shown);
        Progress::new(move |done, total| {
            let now = Instant::now();
            if now.duration_since(start) < SHOW_AFTER {
                return;
            }
            let Ok(mut last) = last.lock() else { return };
            let finished = total == Some(done);
            if last.is_some_and(|t| now.duration_since(t) < REDRAW) && !finished {
                return;
            }
            *last = Some(now);
            // erase to the end of the line: the text may shrink
            let _ = write!(std::io::stderr().lock(), "\r{label}: {}\x1b[K", describe(unit, done, total));
            shown.store(true, Ordering::Relaxed);
        })
    }

    /// Erase the progress line, if one was drawn.
    pub fn clear(&self) {
        if self.shown.swap(false, Ordering::Relaxed) {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_each_unit() {
        assert_eq!(describe(Unit::SimSeconds, 43_200, Some(86_400)), "12.0 of 24.0 h simulated (50%)");
        assert_eq!(describe(Unit::Runs, 3, Some(8)), "3/8 runs");
        assert_eq!(describe(Unit::Rounds, 4, None), "round 4");
    }

    #[test]
    fn a_disabled_ui_reports_nowhere() {
        assert!(!Ui::default().progress("x", Unit::Runs).is_active());
        assert!(Ui::new(true).progress("x", Unit::Runs).is_active());
    }
}
