//! The one error type of the core. Faces (CLI, Python) turn it into a message or an exception.

use std::fmt;

/// Where in the user's input a problem was found. Every field is optional except `field`, so an error
/// can name as much as is known: file, document index, object kind and name, and the field path.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub file: Option<String>,
    /// 1-based index of the YAML/JSON document in the file (or item of a `kind: List`).
    pub document: Option<usize>,
    pub kind: Option<String>,
    /// `namespace/name` or `name` for cluster-scoped objects.
    pub object: Option<String>,
    /// Dotted field path, e.g. `spec.template.spec.containers[0].resources.requests.cpu`.
    pub field: Option<String>,
}

impl Location {
    pub fn field(field: impl Into<String>) -> Self {
        Location { field: Some(field.into()), ..Default::default() }
    }
    /// Prefix `parent` to the field path (`parent.field`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = Some(match self.field.take() {
            Some(f) if !f.is_empty() => {
                if f.starts_with('[') { format!("{parent}{f}") } else { format!("{parent}.{f}") }
            }
            _ => parent.to_string(),
        });
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.clone());
        }
        if let Some(d) = self.document {
            parts.push(format!("document {d}"));
        }
        match (&self.kind, &self.object) {
            (Some(k), Some(o)) => parts.push(format!("{k} {o}")),
            (Some(k), None) => parts.push(k.clone()),
            (None, Some(o)) => parts.push(o.clone()),
            (None, None) => {}
        }
        if let Some(field) = &self.field {
            parts.push(format!("field {field}"));
        }
        if parts.is_empty() {
            write!(f, "input")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

/// Every failure the core reports. Non-exhaustive so that new kinds of failure do not break callers.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A Kubernetes quantity string that cannot be parsed or is out of range.
    #[error("invalid quantity {value:?}: {reason}")]
    Quantity { value: String, reason: String },
    /// Bad user input (manifests, scenario files): names where it was found. (Boxed: the location
    /// holds several strings, and errors travel in every `Result` of the crate.)
    #[error("{at}: {message}")]
    Input { at: Box<Location>, message: String },
    /// A catalog that cannot be loaded or used (unknown region, malformed file, no offerings...).
    #[error("catalog {catalog}: {message}")]
    Catalog { catalog: String, message: String },
    /// A file or directory that cannot be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// An option given to an algorithm that is out of range.
    #[error("option {option}: {message}")]
    Option { option: String, message: String },
}

impl Error {
    pub fn input(at: Location, message: impl Into<String>) -> Self {
        Error::Input { at: Box::new(at), message: message.into() }
    }
    pub fn catalog(catalog: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Catalog { catalog: catalog.into(), message: message.into() }
    }
    /// Attach location context to an error found deeper down (quantity errors become input errors).
    pub fn at(self, at: Location) -> Self {
        match self {
            Error::Quantity { value, reason } => Error::input(at, format!("invalid quantity {value:?}: {reason}")),
            Error::Input { at: inner, message } => Error::input(merge(at, *inner), message),
            other => other,
        }
    }
}

fn merge(outer: Location, inner: Location) -> Location {
    let field = match (outer.field, inner.field) {
        (Some(o), Some(i)) => Some(if i.starts_with('[') { format!("{o}{i}") } else { format!("{o}.{i}") }),
        (o, i) => i.or(o),
    };
    Location {
        file: inner.file.or(outer.file),
        document: inner.document.or(outer.document),
        kind: inner.kind.or(outer.kind),
        object: inner.object.or(outer.object),
        field,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
