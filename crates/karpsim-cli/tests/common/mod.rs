//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use karpsim_cli::{Report, execute, parse};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// A path in the repository.
pub fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path).display().to_string()
}

/// A file of `tests/data`.
pub fn data(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file).display().to_string()
}

/// `karpsim ARGS` through `parse` + `execute`, which must succeed.
pub fn run_ok(args: &[&str]) -> Report {
    let cli = parse(std::iter::once("karpsim").chain(args.iter().copied())).expect("arguments parse");
    execute(&cli).unwrap_or_else(|e| panic!("karpsim {args:?} failed: {e}"))
}

/// `karpsim ARGS` with JSON output, parsed.
pub fn run_json(args: &[&str]) -> Value {
    let r = run_ok(args);
    assert!(r.warnings.is_empty(), "JSON output keeps warnings in the document");
    serde_json::from_str(&r.stdout).expect("stdout is JSON")
}

/// The built binary, for exit codes and stderr.
pub fn binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_karpsim")).args(args).output().expect("karpsim runs")
}

/// Write `text` to a file of a scratch directory for this test process; returns its path.
pub fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("karpsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file.display().to_string()
}
