//! The `karpsim` command as a library function, so that the binary and the Python package's
//! `karpsim` script run the same code.
//!
//! Each command returns its output as a [`Report`] (a `String`, plus warnings for stderr) instead of
//! printing, which keeps the commands testable; [`run`] does the printing and picks the exit code.

// The commands return the core's `karpsim::Error`; its size is the core's decision (error.rs), and
// nothing here is a hot path.

pub mod advise_cmd;
pub mod args;
pub mod bound_cmd;
pub mod catalog_opts;
pub mod catalog_cmd;
pub mod compare_cluster;
pub mod compare_cmd;
pub mod consolidate_cmd;
pub mod huge_heap;
mod json_out;
pub mod provision_cmd;
pub mod scheduler_opts;
pub mod simulate_cmd;
pub mod table;
pub mod trace_cmd;
pub mod ui;
pub mod units;

use args::{Cli, Command};
use clap::Parser;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a command produced: `stdout` as printed, and warnings for stderr (`warning: ...`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub stdout: String,
    /// For people reading a table. JSON output carries its warnings inside the document instead.
    pub warnings: Vec<String>,
}

/// Exit code for any error karpsim reports (bad input, unknown catalog...); clap uses 2 for usage
/// errors as well.
pub const ERROR_EXIT: u8 = 2;

/// Parse the command line (`args[0]` is the program name).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// Run a parsed command (no progress shown).
pub fn execute(cli: &Cli) -> karpsim::Result<Report> {
    execute_with(cli, &ui::Ui::default())
}

/// Run a parsed command; long runs report their progress through `ui`.
pub fn execute_with(cli: &Cli, ui: &ui::Ui) -> karpsim::Result<Report> {
    match &cli.command {
        Command::Catalog(a) => catalog_cmd::execute(a),
        Command::Provision(a) => provision_cmd::execute(a),
        Command::Consolidate(a) => consolidate_cmd::execute(a, ui),
        Command::Simulate(a) => simulate_cmd::execute(a, ui),
        Command::Compare(a) => compare_cmd::execute(a, ui),
        Command::Trace(a) => trace_cmd::execute(a),
        Command::Bound(a) => bound_cmd::execute(a),
        Command::Advise(a) => advise_cmd::execute(a),
    }
}

/// Whether commands free their big structures (inputs, state, results) when done: true unless
/// [`skip_freeing_at_exit`] was called.
static FREE_WHEN_DONE: AtomicBool = AtomicBool::new(true);

/// For a process that exits once the command is done (the `karpsim` binary, not the Python module,
/// which runs commands inside a long-lived interpreter): commands leave their big structures to the
/// operating system instead of freeing them one allocation at a time (at 5,000 pods that freeing is
/// about 2% of the run).
pub fn skip_freeing_at_exit() {
    FREE_WHEN_DONE.store(false, Ordering::Relaxed);
}

/// Drop `value`, or leave it to the process's exit (see [`skip_freeing_at_exit`]).
pub(crate) fn release<T>(value: T) {
    if FREE_WHEN_DONE.load(Ordering::Relaxed) {
        drop(value);
    } else {
        std::mem::forget(value);
    }
}

/// The warnings to print: each once, in the order first seen.
pub fn dedup_warnings(warnings: &[String]) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    warnings.iter().map(String::as_str).filter(|w| seen.insert(*w)).collect()
}

/// The whole command: parse, run, print. `args[0]` is the program name.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    ExitCode::from(run_code(args))
}

/// [`run`] with the exit status as a number (`ExitCode` cannot be read back), for the Python
/// package's `python -m karpsim` and `karpsim.__main__.main()`.
pub fn run_code<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version come here too, with exit code 0.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(ERROR_EXIT);
        }
    };
    let ui = ui::Ui::new(!cli.quiet && std::io::stderr().is_terminal());
    let outcome = execute_with(&cli, &ui);
    ui.clear();
    match outcome {
        Ok(report) => {
            // write! rather than print!: a closed pipe (`karpsim catalog | head`) must not panic
            let mut out = std::io::stdout().lock();
            let written = out.write_all(report.stdout.as_bytes()).and_then(|_| out.flush());
            let mut err = std::io::stderr().lock();
            if !cli.quiet {
                for w in dedup_warnings(&report.warnings) {
                    let _ = writeln!(err, "warning: {w}");
                }
            }
            exit_code_of_write(written, &mut err)
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {e}");
            ERROR_EXIT
        }
    }
}

/// Exit code of a command whose reader closed the pipe (`karpsim catalog | head`): what a shell shows
/// for a process ended by SIGPIPE, as Unix tools end.
pub const CLOSED_PIPE_EXIT: u8 = 141;

/// The exit code after writing a command's output: a write error is reported on `err` with a
/// non-zero code (output lost on a full disk must not look like success), except a closed pipe, which
/// ends quietly.
pub fn exit_code_of_write(written: std::io::Result<()>, err: &mut impl Write) -> u8 {
    match written {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => CLOSED_PIPE_EXIT,
        Err(e) => {
            let _ = writeln!(err, "error: writing the output: {e}");
            ERROR_EXIT
        }
    }
}
