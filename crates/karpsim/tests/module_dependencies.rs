//! Dependencies between the core crate's source files run one way: no two files import each other.
//! A pair that does is one concept split across two files, or a shared type without a home of its
//! own; either makes both files harder to read and change. The test reads `src/` as text (no
//! parser: `use` declarations and `crate::`/`super::` paths, comments and strings skipped),
//! resolves each path to the file that defines the item (following `pub use` re-exports), and names
//! every pair of files that take something from each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Pairs kept on purpose, each with the reason. Empty: every mutual import found was given a home.
const ALLOWED: &[(&str, &str, &str)] = &[];

type Module = Vec<String>;

struct Crate {
    /// Module path -> (file relative to `src/`, the code without comments and string contents).
    files: BTreeMap<Module, (String, String)>,
    /// Module path -> name re-exported there -> the path it re-exports.
    reexports: BTreeMap<Module, BTreeMap<String, String>>,
}

fn read_sources(dir: &Path, root: &Path, out: &mut BTreeMap<Module, (String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_sources(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            let mut module: Module = rel.trim_end_matches(".rs").split('/').map(String::from).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            out.insert(module, (rel, strip(&std::fs::read_to_string(&p).unwrap())));
        }
    }
}

/// The code without comments, and with string and character literals emptied.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == 'r' && (c.get(i + 1) == Some(&'"') || c.get(i + 1) == Some(&'#')) && (i == 0 || !is_ident(c[i - 1])) {
            // raw string r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#'))) {
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1 + hashes;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i += 1;
        } else if c[i] == '\'' && (c.get(i + 2) == Some(&'\'') || c.get(i + 1) == Some(&'\\')) {
            // a character literal ('x', '\n', '\''), not a lifetime
            i += 1;
            while i < c.len() && c[i] != '\'' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("' '");
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Byte offsets of `word` standing alone (not part of a longer identifier or path).
fn word_at(code: &str, word: &str) -> Vec<usize> {
    let b = code.as_bytes();
    code.match_indices(word)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = i.checked_sub(1).map(|k| b[k] as char);
            let after = b.get(i + word.len()).map(|&x| x as char);
            !before.is_some_and(|x| is_ident(x) || x == ':') && !after.is_some_and(is_ident)
        })
        .collect()
}

/// `a::{b, c::{d, e as f}}` -> `a::b`, `a::c::d`, `a::c::e` (aliases dropped: the path is what counts).
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap().trim();
        return vec![path.split_whitespace().collect()];
    };
    let prefix: String = tree[..open].split_whitespace().collect();
    let body = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            '{' => {
                depth += 1;
                cur.push(ch)
            }
            '}' => {
                depth -= 1;
                cur.push(ch)
            }
            _ => cur.push(ch),
        }
    }
    parts.push(cur);
    let mut out = Vec::new();
    for p in parts.iter().filter(|p| !p.trim().is_empty()) {
        for x in expand(p) {
            out.push(if x == "self" { prefix.trim_end_matches("::").to_string() } else { format!("{prefix}{x}") });
        }
    }
    out
}

/// `use` declarations in `code`: (is a re-export, the tree), and the code with them removed.
fn uses(code: &str) -> (Vec<(bool, String)>, String) {
    let mut found = Vec::new();
    let mut rest = String::new();
    let mut last = 0;
    for i in word_at(code, "use") {
        if i < last {
            continue;
        }
        let Some(end) = code[i..].find(';').map(|e| i + e) else { continue };
        let head = code[..i].trim_end();
        let public = head.ends_with("pub") || (head.ends_with(')') && head[..head.rfind('(').unwrap_or(0)].trim_end().ends_with("pub"));
        found.push((public, code[i + 3..end].to_string()));
        rest.push_str(&code[last..i]);
        last = end + 1;
    }
    rest.push_str(&code[last..]);
    (found, rest)
}

/// `crate::…` and `super::…` paths written in code (outside `use`).
fn inline_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        for i in word_at(code, &start[..start.len() - 2]) {
            if !code[i..].starts_with(start) {
                continue;
            }
            let len = code[i..].find(|ch: char| !(is_ident(ch) || ch == ':')).unwrap_or(code.len() - i);
            out.push(code[i..i + len].trim_end_matches(':').to_string());
        }
    }
    out
}

fn defines(code: &str, name: &str) -> bool {
    ["fn", "struct", "enum", "trait", "type", "const", "static", "union", "macro_rules!"].iter().any(|kw| {
        word_at(code, name).iter().any(|&i| {
            let before = code[..i].trim_end();
            before.ends_with(kw) && before[..before.len() - kw.len()].chars().last().is_none_or(|ch| !is_ident(ch))
        })
    })
}

impl Crate {
    fn load() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = BTreeMap::new();
        read_sources(&root, &root, &mut files);
        let mut reexports = BTreeMap::new();
        for (m, (_, code)) in &files {
            let mut names = BTreeMap::new();
            for (public, tree) in uses(code).0 {
                if public {
                    for path in expand(&tree) {
                        names.insert(path.rsplit("::").next().unwrap().to_string(), path);
                    }
                }
            }
            reexports.insert(m.clone(), names);
        }
        Crate { files, reexports }
    }

    /// The file (module) that defines what `path`, written in module `at`, names; `None` for other
    /// crates.
    fn resolve(&self, at: &[String], path: &str, depth: usize) -> Option<Module> {
        let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut cur: Module = at.to_vec();
        match segs.first().copied() {
            Some("crate") => {
                cur.clear();
                segs.remove(0);
            }
            Some("super" | "self") => {
                while let Some(s @ ("super" | "self")) = segs.first().copied() {
                    if s == "super" {
                        cur.pop();
                    }
                    segs.remove(0);
                }
            }
            Some(first) => {
                // edition 2018 paths: a child module of `at`, or another crate
                let mut child = cur.clone();
                child.push(first.to_string());
                if !self.files.contains_key(&child) {
                    return None;
                }
            }
            None => return None,
        }
        // an inline module (`mod tests { … }`) belongs to its file
        while !self.files.contains_key(&cur) {
            cur.pop()?;
        }
        for s in segs {
            let mut child = cur.clone();
            child.push(s.to_string());
            if self.files.contains_key(&child) {
                cur = child;
                continue;
            }
            if s == "*" || defines(&self.files[&cur].1, s) {
                return Some(cur);
            }
            if let Some(target) = self.reexports[&cur].get(s).filter(|_| depth < 8) {
                return self.resolve(&cur, target, depth + 1).or(Some(cur));
            }
            return Some(cur);
        }
        Some(cur)
    }

    /// File -> file it takes something from -> the paths it names there.
    fn imports(&self) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
        let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (m, (file, code)) in &self.files {
            // inline modules: `super::` there is this file's module
            let mut regions: Vec<(Module, &str)> = Vec::new();
            let mut last = 0;
            for i in word_at(code, "mod") {
                let after = code[i + 3..].trim_start();
                let name: String = after.chars().take_while(|&ch| is_ident(ch)).collect();
                if i < last || name.is_empty() || !after[name.len()..].trim_start().starts_with('{') {
                    continue;
                }
                let open = i + 3 + code[i + 3..].find('{').unwrap();
                let mut depth = 0;
                let mut close = code.len();
                for (k, ch) in code[open..].char_indices() {
                    depth += match ch {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    if depth == 0 {
                        close = open + k + 1;
                        break;
                    }
                }
                regions.push((m.clone(), &code[last..i]));
                let mut inner = m.clone();
                inner.push(name);
                regions.push((inner, &code[i..close]));
                last = close;
            }
            regions.push((m.clone(), &code[last..]));
            for (at, text) in regions {
                let (declared, rest) = uses(text);
                let mut paths: Vec<String> = declared.into_iter().filter(|(public, _)| !public).flat_map(|(_, t)| expand(&t)).collect();
                paths.extend(inline_paths(&rest));
                for p in paths {
                    let Some(target) = self.resolve(&at, &p, 0) else { continue };
                    if target != *m {
                        out.entry(file.clone()).or_default().entry(self.files[&target].0.clone()).or_default().insert(p);
                    }
                }
            }
        }
        out
    }
}

#[test]
fn no_two_source_files_import_each_other() {
    let krate = Crate::load();
    let imports = krate.imports();
    let mut mutual = Vec::new();
    for (a, targets) in &imports {
        for (b, names) in targets {
            let Some(back) = imports.get(b).and_then(|t| t.get(a)) else { continue };
            if a < b && !ALLOWED.iter().any(|(x, y, _)| (x, y) == (&a.as_str(), &b.as_str()) || (y, x) == (&a.as_str(), &b.as_str())) {
                mutual.push(format!("{a} <-> {b}: {a} takes {names:?}, {b} takes {back:?}"));
            }
        }
    }
    assert!(
        mutual.is_empty(),
        "source files of crates/karpsim/src that import each other (give the shared item one home, or allow the pair in \
         ALLOWED with the reason):\n{}",
        mutual.join("\n")
    );
}

/// The scanner sees what it must: without these, the test above could pass by finding nothing.
#[test]
fn the_scanner_finds_imports_and_reexports() {
    let krate = Crate::load();
    assert!(krate.files.len() > 50, "read {} source files", krate.files.len());
    let imports = krate.imports();
    let takes = |a: &str, b: &str, name: &str| imports.get(a).and_then(|t| t.get(b)).is_some_and(|n| n.iter().any(|p| p.ends_with(name)));
    // a `use super::…` of a sibling, a `crate::…` path through a `pub use` re-export, a path in code
    assert!(takes("sim/engine/provisioner.rs", "sim/engine.rs", "Engine"));
    assert!(takes("sim/engine/provisioner.rs", "scheduling/cluster_view.rs", "ClusterView"));
    assert!(takes("sim/scenario.rs", "sim/trace.rs", "read_events"));
    assert_eq!(expand("a::{b, c::{d, e as f}, self}"), ["a::b", "a::c::d", "a::c::e", "a"]);
    assert_eq!(strip("let s = \"crate::x\"; // super::y\nlet c = '\"';"), "let s = \"\"; \nlet c = ' ';");
}
