//! Kubernetes' own rules for the strings that decide placement: label keys (qualified names), label
//! values, and object names (`k8s.io/apimachinery/pkg/util/validation`: `IsQualifiedName`,
//! `IsValidLabelValue`, `IsDNS1123Subdomain`, `IsDNS1123Label`). The API server refuses objects that
//! break them, so a real cluster never has such strings; a hand-written manifest with one would be
//! refused by `kubectl apply`, and karpsim refuses it too instead of matching it against nothing.
//!
//! Each check returns `Err(reason)`, a phrase to put after the offending string.

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters: the name part of a label key,
/// and any non-empty label value.
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A DNS-1123 label: lowercase alphanumerics and `-`, alphanumeric at both ends, at most 63.
fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// A DNS-1123 subdomain: dot-separated DNS labels, at most 253 characters.
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A label key (`IsQualifiedName`): `[prefix/]name`, the prefix a DNS-1123 subdomain.
pub fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !is_dns_subdomain(p)
    {
        return Err(format!(
            "is not a valid label key: the prefix {p:?} must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)"
        ));
    }
    if !is_label_name(name) {
        return Err("is not a valid label key: the name must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into());
    }
    Ok(())
}

/// A label value (`IsValidLabelValue`): empty, or a label name.
pub fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err("is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into())
    }
}

/// An object name that must be a DNS-1123 subdomain (pods, controllers, nodes, NodePools...).
pub fn object_name(name: &str) -> Result<(), String> {
    if is_dns_subdomain(name) {
        Ok(())
    } else {
        Err("is not a valid name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters".into())
    }
}

/// A namespace name (a DNS-1123 label).
pub fn namespace(name: &str) -> Result<(), String> {
    if is_dns_label(name) {
        Ok(())
    } else {
        Err("is not a valid namespace: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys() {
        for ok in ["app", "kubernetes.io/arch", "karpenter.k8s.aws/instance-family", "a_b.c-d", "A1", "x/y"] {
            assert!(label_key(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in ["", "-app", "app-", "Kubernetes.io/arch", "a b", "a/b/c", "/x", "x/", long.as_str(), "ex@mple.com/x"] {
            assert!(label_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn label_values_and_names() {
        for ok in ["", "amd64", "m7i.large", "us-east-1a", "A_b"] {
            assert!(label_value(ok).is_ok(), "{ok:?}");
        }
        for bad in ["arm 64", "-x", "x-", "a/b", &"v".repeat(64)] {
            assert!(label_value(bad).is_err(), "{bad:?}");
        }
        assert!(object_name("web-5c9d.x").is_ok());
        assert!(object_name("ip-10-0-1-10.ec2.internal").is_ok());
        for bad in ["Web", "web_1", "-web", "web.", "", &"a".repeat(254)] {
            assert!(object_name(bad).is_err(), "{bad:?}");
        }
        assert!(namespace("kube-system").is_ok());
        assert!(namespace("a.b").is_err());
    }
}
