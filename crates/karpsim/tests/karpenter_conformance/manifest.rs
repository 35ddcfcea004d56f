//! The suite's bookkeeping: every upstream case ported or listed as not expressible, and the
//! figures users read (README, `docs/conformance.md`) equal to the suite's own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/karpenter_conformance")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(file, path)` of every upstream case, in upstream order.
fn upstream() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir().join("upstream.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (f, p) = l.split_once('\t').unwrap_or_else(|| panic!("upstream.tsv: {l:?}"));
            (f.to_string(), p.to_string())
        })
        .collect()
}

/// `(file, path) -> (category, note)` of the cases not expressible.
fn not_expressible() -> BTreeMap<(String, String), (String, String)> {
    let text = std::fs::read_to_string(dir().join("not_expressible.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for l in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = l.split('\t').collect();
        assert!(cols.len() >= 3, "not_expressible.tsv: file, case, category[, note]: {l:?}");
        let key = (cols[0].to_string(), cols[1].to_string());
        let dup = out.insert(key.clone(), (cols[2].to_string(), cols.get(3).unwrap_or(&"").to_string()));
        assert!(dup.is_none(), "not_expressible.tsv lists {key:?} twice");
    }
    out
}

/// A ported case: where, and whether the test is `#[ignore]`d (ported but not passing).
struct Ported {
    source: String,
    ignored: bool,
}

/// Every `ports!(file, path)` of the suite's sources.
fn ported() -> BTreeMap<(String, String), Ported> {
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "rs")).collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if ["manifest.rs", "harness.rs", "objects.rs", "disruption_harness.rs"].contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let mut ignored = false;
        let mut fn_ports = 0;
        // a `ports!` that rustfmt wrapped over several lines is read as one
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let mut joined = line.trim().to_string();
            if joined.starts_with("ports!(") {
                while !joined.ends_with(");") {
                    let next = lines.next().unwrap_or_else(|| panic!("{name}: unterminated {joined}"));
                    joined.push_str(next.trim());
                }
                if let Some((head, tail)) = joined.split_once(",\"")
                    && !head.contains('"')
                {
                    joined = format!("{head}, \"{tail}");
                }
            }
            let t = joined.as_str();
            if t.starts_with("#[ignore") {
                ignored = true;
            } else if t.starts_with("fn ") || t.starts_with("pub fn ") {
                fn_ports = 0;
            } else if let Some(rest) = t.strip_prefix("ports!(") {
                // ports!(CONST, "path"); (a `const CONST: &str = "file";` of the module) or ports!("file", "path");
                let (file_arg, path_arg) = rest.split_once(", ").unwrap_or_else(|| panic!("{name}: {t}"));
                let file = if file_arg.starts_with('"') {
                    file_arg.trim_matches('"').to_string()
                } else {
                    let prefix = format!("const {file_arg}: &str = ");
                    let decl = text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{name}: no const {file_arg}"));
                    decl.trim_start_matches(&prefix).trim_end_matches(';').trim_matches('"').to_string()
                };
                let path = path_arg.trim_end_matches(");").trim_end_matches(',').trim_matches('"').replace("\\\"", "\"");
                fn_ports += 1;
                assert_eq!(fn_ports, 1, "{name}: one ports! per test ({path})");
                let prev = out.insert((file, path.clone()), Ported { source: name.clone(), ignored });
                assert!(prev.is_none(), "{name}: {path:?} is ported twice");
                ignored = false;
            } else if t == "#[test]" {
                // attributes of the next test start here
            } else if t.starts_with('}') && !line.starts_with(' ') {
                ignored = false;
            }
        }
    }
    out
}

/// The figures and the list of cases not expressible, as `docs/conformance.md` shows them.
fn document(total: usize, ported: &BTreeMap<(String, String), Ported>, not: &BTreeMap<(String, String), (String, String)>) -> String {
    let passing = ported.values().filter(|p| !p.ignored).count();
    let mut s = String::new();
    s += "# Karpenter conformance\n\n";
    s += "`crates/karpsim/tests/karpenter_conformance/` ports the test cases of Karpenter's own test files at\n";
    s += "kubernetes-sigs/karpenter v1.14.1 (`pkg/controllers/provisioning/scheduling/suite_test.go`,\n";
    s += "`topology_test.go`, `instance_selection_test.go`, `pkg/controllers/provisioning/suite_test.go` and\n";
    s += "`pkg/controllers/disruption/*_test.go`): one Rust test per `It` or table `Entry`, naming the Go file\n";
    s += "and the case, written in our own words over karpsim's inputs (Kubernetes objects and a custom\n";
    s += "catalog of Karpenter's fake instance types). This file is generated by the suite\n";
    s += "(`UPDATE_CONFORMANCE_DOC=1 cargo test -p karpsim --test karpenter_conformance manifest`).\n\n";
    s += "Karpenter's tests set some NodeClaim status conditions directly; the ported cases set what karpsim\n";
    s += "derives them from instead (Consolidatable: `consolidateAfter` elapsed since the node's last pod\n";
    s += "event; Drifted: a NodePool template the node no longer matches). Plain Go unit tests (`func Test…`\n";
    s += "in `disruption/consolidation_logging_test.go` and `validation_test.go`) are not Ginkgo cases and are\n";
    s += "not counted. karpsim reads inputs without any object of a storage kind (PersistentVolumeClaim,\n";
    s += "PersistentVolume, StorageClass) as not giving that kind, where Karpenter's API server has none: the\n";
    s += "cases about a missing claim, volume or class give one unrelated object of its kind.\n\n";
    s += &format!("{}\n\n", summary(total, ported.len(), passing, not.len()));
    let mut by_file: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (f, _) in ported.keys() {
        by_file.entry(f).or_default().0 += 1;
    }
    for ((f, _), p) in ported.iter() {
        if p.ignored {
            by_file.entry(f).or_default().2 += 1;
        }
    }
    for (f, _) in not.keys() {
        by_file.entry(f).or_default().1 += 1;
    }
    s += "| Go file (`pkg/controllers/`) | ported | not expressible | ported, not passing |\n|---|---:|---:|---:|\n";
    for (f, (p, n, i)) in &by_file {
        s += &format!("| `{f}` | {p} | {n} | {i} |\n");
    }
    let ignored: Vec<_> = ported.iter().filter(|(_, p)| p.ignored).collect();
    if !ignored.is_empty() {
        s += "\n## Ported but not passing\n\n";
        for ((f, c), p) in ignored {
            s += &format!("- `{f}`: {c} (`{}`)\n", p.source);
        }
    }
    s += "\n## Not expressible, by reason\n";
    let mut by_cat: BTreeMap<&str, Vec<(&str, &str, &str)>> = BTreeMap::new();
    for ((f, c), (cat, note)) in not {
        by_cat.entry(cat).or_default().push((f, c, note));
    }
    for (cat, cases) in by_cat {
        s += &format!("\n### {cat} ({})\n\n", cases.len());
        for (f, c, note) in cases {
            if note.is_empty() {
                s += &format!("- `{f}`: {c}\n");
            } else {
                s += &format!("- `{f}`: {c} ({note})\n");
            }
        }
    }
    s
}

/// The sentence the README and the document share.
fn summary(total: usize, ported: usize, passing: usize, not: usize) -> String {
    format!(
        "Of the {total} test cases, {ported} are ported and {passing} of them pass; {not} cannot be expressed with karpsim's inputs."
    )
}

#[test]
fn manifest() {
    let up = upstream();
    let total = up.len();
    let known: BTreeSet<(String, String)> = up.iter().cloned().collect();
    assert_eq!(known.len(), total, "upstream.tsv repeats a case");
    let ported = ported();
    let not = not_expressible();
    for k in ported.keys() {
        assert!(known.contains(k), "ports! names a case that is not in upstream.tsv: {k:?}");
        assert!(!not.contains_key(k), "{k:?} is both ported and listed as not expressible");
    }
    for k in not.keys() {
        assert!(known.contains(k), "not_expressible.tsv names a case that is not in upstream.tsv: {k:?}");
    }
    let missing: Vec<&(String, String)> = up.iter().filter(|k| !ported.contains_key(*k) && !not.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} upstream case(s) neither ported nor listed as not expressible, e.g.:\n{}",
        missing.len(),
        missing.iter().take(20).map(|(f, c)| format!("{f}\t{c}")).collect::<Vec<_>>().join("\n")
    );

    let doc = document(total, &ported, &not);
    let doc_path = repo_root().join("docs/conformance.md");
    if std::env::var_os("UPDATE_CONFORMANCE_DOC").is_some() {
        std::fs::write(&doc_path, &doc).unwrap();
    }
    let current = std::fs::read_to_string(&doc_path).unwrap_or_default();
    assert!(current == doc, "docs/conformance.md is not current: run UPDATE_CONFORMANCE_DOC=1 cargo test -p karpsim --test karpenter_conformance manifest");
    let passing = ported.values().filter(|p| !p.ignored).count();
    let line = summary(total, ported.len(), passing, not.len());
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(readme.replace('\n', " ").contains(&line), "the README's Fidelity section must say: {line}");
    // the README's table of reasons: one row per reason of not_expressible.tsv, with its count
    let mut want: Vec<usize> = {
        let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
        for (cat, _) in not.values() {
            *by_cat.entry(cat).or_default() += 1;
        }
        by_cat.into_values().collect()
    };
    let mut got: Vec<usize> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| Why not expressible | Cases |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_end_matches('|').rsplit('|').next().unwrap().trim().parse::<usize>().unwrap_or_else(|_| panic!("README row {l:?}")))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the README's table of reasons must list each reason of not_expressible.tsv with its count");
}
