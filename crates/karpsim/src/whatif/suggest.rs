//! "Did you mean ...?": the closest known value to a typo, for error messages that list what is
//! valid (what-if keys and values, NodePool names).

/// Edit distance between two strings by characters, a swap of neighbours counting as one edit
/// (optimal string alignment: `amd46` is one edit from `amd64`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The known value closest to `typo`, if one is close enough to be a plausible typo: the same
/// letters in another case, a prefix of at least three characters (`arm` for `arm64`), or at most
/// one edit in three characters. Ties go to the first in `known` order.
pub fn closest<'a, I>(typo: &str, known: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = typo.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for k in known {
        let kl = k.to_lowercase();
        let d = if kl == lower {
            0
        } else if lower.chars().count() >= 3 && (kl.starts_with(&lower) || lower.starts_with(&kl)) {
            1
        } else {
            distance(&lower, &kl)
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    let limit = (typo.chars().count() / 3).max(1);
    best.filter(|(d, _)| *d <= limit).map(|(_, k)| k)
}

/// Lists longer than this are counted rather than printed (the ~1,300 instance types of a region).
const MAX_LISTED: usize = 200;

/// `unknown X "v"; did you mean "w"? (valid: a, b, c)`, the suggestion only when one is close.
pub fn unknown_value(what: &str, value: &str, known: &[&str]) -> String {
    let hint = closest(value, known.iter().copied()).map(|k| format!("; did you mean {k:?}?")).unwrap_or_default();
    let list = match known.len() {
        0 => "valid: none".to_string(),
        n if n > MAX_LISTED => format!("{n} valid values; `karpsim catalog` lists them"),
        _ => format!("valid: {}", known.join(", ")),
    };
    format!("unknown {what} {value:?}{hint} ({list})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_case_prefix_and_small_edits() {
        let archs = ["amd64", "arm64"];
        assert_eq!(closest("arm", archs), Some("arm64"));
        assert_eq!(closest("ARM64", archs), Some("arm64"));
        assert_eq!(closest("amd46", archs), Some("amd64"));
        assert_eq!(closest("x86", archs), None);
        assert_eq!(closest("spotty", ["on-demand", "spot", "reserved"]), Some("spot"));
        assert_eq!(closest("M7I", ["m7g", "m7i", "c7i"]), Some("m7i"));
        assert_eq!(closest("m99z", ["m7g", "m7i", "c7i"]), None);
        assert_eq!(closest("anything", []), None);
    }

    #[test]
    fn messages_list_the_valid_values() {
        let m = unknown_value("architecture", "arm", &["amd64", "arm64"]);
        assert_eq!(m, "unknown architecture \"arm\"; did you mean \"arm64\"? (valid: amd64, arm64)");
        let m = unknown_value("family", "zz9", &["m7i"]);
        assert_eq!(m, "unknown family \"zz9\" (valid: m7i)");
    }
}
