//! The warnings of the runs a comparison makes (cluster variants, scenario variants and seeds,
//! `advise`'s candidates). Each run starts from a state whose own warnings the caller has already
//! reported once; what a run adds (a round cap that cut until-stable short, pods a variant leaves
//! pending for a phantom topology domain, reservations that made pods wait, a static NodePool its
//! limits hold back) belongs to that run, and must reach the user with the run's name: a row whose
//! answer is partial or caveated must not look like the others.

/// What `run` warned beyond `known` (the state's own warnings, reported once by the caller), in the
/// run's order, each message once.
pub fn own(known: &[String], run: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in run {
        if !known.contains(&w) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// How many run names a grouped warning lists before "and N more".
const NAMES_SHOWN: usize = 5;

/// One line per distinct message over several runs, naming the runs that gave it: `variant spot:
/// MESSAGE`, `variants spot, od: MESSAGE`; after five names, `and N more`. Lines come in order of
/// first appearance (runs in the order given, each run's warnings in order), so the report is the
/// same on any number of threads. `kind` names a run (`variant`, `candidate`). `said`: lines the
/// caller has reported already; a run's message whose own line (`variant spot: MESSAGE`) is among
/// them is not repeated (a variant's launch warnings are said before it runs, and its run gives
/// them again).
pub fn grouped<'a>(kind: &str, runs: impl IntoIterator<Item = (&'a str, &'a [String])>, said: &[String]) -> Vec<String> {
    let mut messages: Vec<(&'a str, Vec<&'a str>)> = Vec::new();
    for (name, warnings) in runs {
        for w in warnings {
            if said.iter().any(|s| s.strip_prefix(kind).and_then(|s| s.strip_prefix(' ')).and_then(|s| s.strip_prefix(name)).and_then(|s| s.strip_prefix(": ")) == Some(w.as_str())) {
                continue;
            }
            match messages.iter_mut().find(|(m, _)| *m == w.as_str()) {
                Some((_, names)) => {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                None => messages.push((w.as_str(), vec![name])),
            }
        }
    }
    messages
        .into_iter()
        .map(|(message, names)| {
            let mut who = names.iter().take(NAMES_SHOWN).copied().collect::<Vec<_>>().join(", ");
            if names.len() > NAMES_SHOWN {
                who.push_str(&format!(" and {} more", names.len() - NAMES_SHOWN));
            }
            let kind = if names.len() == 1 { kind.to_string() } else { format!("{kind}s") };
            format!("{kind} {who}: {message}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_run_keeps_only_what_it_added_once() {
        let known = s(&["input warning"]);
        let run = s(&["input warning", "stopped after 3 rounds", "pods waited", "stopped after 3 rounds"]);
        assert_eq!(own(&known, run), s(&["stopped after 3 rounds", "pods waited"]));
    }

    #[test]
    fn one_line_per_message_naming_each_run_that_gave_it() {
        let (a, b, c) = (s(&["cut short", "pending"]), s(&["pending"]), Vec::new());
        let lines = grouped("variant", [("base", &a[..]), ("spot", &b[..]), ("od", &c[..])], &[]);
        assert_eq!(lines, s(&["variant base: cut short", "variants base, spot: pending"]));
        // what was said for a run already is not said again
        let lines = grouped("variant", [("base", &a[..]), ("spot", &b[..])], &s(&["variant spot: pending"]));
        assert_eq!(lines, s(&["variant base: cut short", "variant base: pending"]));
    }

    #[test]
    fn many_runs_are_counted_after_five_names() {
        let w = s(&["m"]);
        let names: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
        let lines = grouped("candidate", names.iter().map(|n| (n.as_str(), &w[..])), &[]);
        assert_eq!(lines, s(&["candidates c0, c1, c2, c3, c4 and 3 more: m"]));
    }
}
