//! Typed, validated access to the fields of a located YAML tree.
//!
//! Every accessor takes the field's path for the message, so an INP003 finding says exactly which
//! field is wrong, what it is and what it should be.

use crate::input::yaml::{Node, Value};
use crate::net::PortRef;

/// A field value Kubernetes would reject, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub message: String,
    pub line: u32,
    pub column: u32,
}

impl Invalid {
    pub fn at(node: &Node, message: String) -> Invalid {
        Invalid {
            message,
            line: node.span.line,
            column: node.span.column,
        }
    }
}

pub type Checked<T> = Result<T, Invalid>;

/// `check` of a field at `path`, the path written only when the check fails (for the message):
/// most fields are valid, and formatting every path cost the parse of a large input a few
/// percent.
pub fn at<T>(check: impl Fn(&str) -> Checked<T>, path: impl FnOnce() -> String) -> Checked<T> {
    check("").or_else(|_| check(&path()))
}

fn wrong_type(node: &Node, path: &str, expected: &str) -> Invalid {
    Invalid::at(
        node,
        format!("`{path}` is {}; it must be {expected}", node.type_name()),
    )
}

/// A map field that may be absent or null.
pub fn map<'a>(parent: &'a Node, key: &str, path: &str) -> Checked<Option<&'a Node>> {
    match parent.field(key) {
        None => Ok(None),
        Some(n) if matches!(n.value, Value::Map(_)) => Ok(Some(n)),
        Some(n) => Err(wrong_type(n, path, "a map")),
    }
}

/// A list field that may be absent or null.
pub fn seq<'a>(parent: &'a Node, key: &str, path: &str) -> Checked<Option<&'a [Node]>> {
    match parent.field(key) {
        None => Ok(None),
        Some(n) => n
            .as_seq()
            .map(Some)
            .ok_or_else(|| wrong_type(n, path, "a list")),
    }
}

/// [`seq`] with at most `max` items: the limits that keep hostile input bounded (README, "Limits
/// and hostile input"); no real object comes near them.
pub fn seq_at_most<'a>(
    parent: &'a Node,
    key: &str,
    path: &str,
    max: usize,
) -> Checked<Option<&'a [Node]>> {
    let items = seq(parent, key, path)?;
    match (items, parent.get(key)) {
        (Some(list), Some(node)) if list.len() > max => Err(Invalid::at(
            node,
            format!(
                "`{path}` has {} entries; ambient-netpol analyses at most {max} (no real object comes near): split it",
                list.len()
            ),
        )),
        _ => Ok(items),
    }
}

/// A string field that may be absent or null. Plain numbers and booleans are rejected, as the
/// Kubernetes API does for string fields (`"true"` must be quoted).
pub fn string<'a>(parent: &'a Node, key: &str, path: &str) -> Checked<Option<&'a str>> {
    match parent.field(key) {
        None => Ok(None),
        Some(n) => scalar_string(n, path).map(Some),
    }
}

pub fn scalar_string<'a>(node: &'a Node, path: &str) -> Checked<&'a str> {
    match &node.value {
        Value::Scalar { text, plain }
            if !*plain || (node.as_int().is_none() && node.as_bool().is_none()) =>
        {
            Ok(text)
        }
        Value::Scalar { text, .. } => Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a string: write \"{text}\" in quotes",
                node.type_name()
            ),
        )),
        _ => Err(wrong_type(node, path, "a string")),
    }
}

/// A boolean field that may be absent or null.
pub fn boolean(parent: &Node, key: &str, path: &str) -> Checked<Option<bool>> {
    match parent.field(key) {
        None => Ok(None),
        Some(n) => n
            .as_bool()
            .map(Some)
            .ok_or_else(|| wrong_type(n, path, "true or false")),
    }
}

/// A map of strings to strings (labels, annotations, `matchLabels`).
pub fn string_map(parent: &Node, key: &str, path: &str) -> Checked<Vec<(String, String)>> {
    let Some(node) = map(parent, key, path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in node.as_map().unwrap_or_default() {
        let k = scalar_string(k, path)?;
        let v = if v.is_null() {
            ""
        } else {
            at(|p| scalar_string(v, p), || format!("{path}.{k}"))?
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// A list of strings (selector `values`, `policyTypes`).
pub fn string_list(parent: &Node, key: &str, path: &str) -> Checked<Vec<String>> {
    let Some(items) = seq(parent, key, path)? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, n)| at(|p| scalar_string(n, p), || format!("{path}[{i}]")).map(str::to_string))
        .collect()
}

/// A port number (1..65535) or a port name (an IANA_SVC_NAME: 1-15 lowercase letters, digits and
/// dashes, with a letter, no leading, trailing or double dash).
pub fn port_ref(node: &Node, path: &str) -> Checked<PortRef> {
    if let Some(n) = node.as_int() {
        return u16::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .map(PortRef::Number)
            .ok_or_else(|| {
                Invalid::at(
                    node,
                    format!("`{path}` is {n}; a port must be from 1 to 65535"),
                )
            });
    }
    let name = scalar_string(node, path)?;
    if is_port_name(name) {
        Ok(PortRef::Name(name.to_string()))
    } else {
        Err(Invalid::at(
            node,
            format!(
                "`{path}` is `{name}`, which is neither a port number nor a valid port name (1-15 lowercase letters, digits and dashes, with at least one letter){}",
                if name.parse::<u32>().is_ok() {
                    "; write the number without quotes"
                } else {
                    ""
                }
            ),
        ))
    }
}

pub fn is_port_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}
