//! Golden records of decisions: a speed change must reproduce them exactly. Each record is a small
//! JSON summary holding a hash of the full result's JSON, kept in `tests/data/`. Regenerate only for
//! an intended change of decisions: `KARPSIM_BLESS=1 cargo test -p karpsim --test <name>`.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// FNV-1a, 64 bits: stable across platforms and Rust versions (unlike `DefaultHasher`).
pub fn fnv(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    format!("{h:016x}")
}

/// Compare `got` with `tests/data/<file>` (or write it under `KARPSIM_BLESS`), entry by entry so a
/// failure names the cases that changed.
pub fn check(file: &str, got: BTreeMap<String, serde_json::Value>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file);
    if std::env::var_os("KARPSIM_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("golden file {}: {e}", path.display()));
    let want: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let changed: Vec<&String> = want.keys().chain(got.keys()).filter(|k| want.get(*k) != got.get(*k)).collect();
    assert!(
        changed.is_empty(),
        "decisions differ from the golden record tests/data/{file} for {changed:?}\n got: {}\nwant: {}",
        serde_json::to_string_pretty(&got).unwrap(),
        text
    );
}
