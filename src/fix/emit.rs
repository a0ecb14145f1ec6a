//! A tiny YAML writer for what the fixer adds: rules, ports and whole policies, in the block or
//! flow style of the surrounding text.

/// A YAML value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
}

impl Y {
    pub fn map(entries: Vec<(&str, Y)>) -> Y {
        Y::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    pub fn str(s: impl Into<String>) -> Y {
        Y::Str(s.into())
    }
}

/// The conventions of the text being edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Spaces per nesting level of maps.
    pub step: usize,
    /// `key:\n- item` (kubectl's style) rather than `key:\n  - item`.
    pub indentless: bool,
    /// JSON-style quoted keys and strings (`"port": 15008`).
    pub json: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            step: 2,
            indentless: true,
            json: false,
        }
    }
}

/// A scalar as YAML text: plain when that is unambiguous, double-quoted otherwise.
pub fn scalar(value: &Y, style: Style) -> String {
    match value {
        Y::Int(n) => n.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Str(s) if !style.json && is_plain_safe(s) => s.clone(),
        Y::Str(s) => double_quoted(s),
        Y::Map(_) | Y::Seq(_) => flow(value, style),
    }
}

/// A YAML double-quoted scalar (the JSON escapes are valid YAML escapes).
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn key(k: &str, style: Style) -> String {
    scalar(&Y::Str(k.to_string()), style)
}

/// Plain scalars that YAML reads back as the same string (not a number, bool or null, and no
/// indicator characters).
fn is_plain_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'))
        && !s.starts_with(['-', '.'])
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        )
}

/// `{port: 15008, protocol: TCP}` / `[a, b]`.
pub fn flow(value: &Y, style: Style) -> String {
    match value {
        Y::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", key(k, style), flow(v, style)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Y::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|v| flow(v, style)).collect();
            format!("[{}]", inner.join(", "))
        }
        scalar_value => scalar(scalar_value, style),
    }
}

/// A map's entries as block lines at `indent`, each ending with a newline.
pub fn block_map(entries: &[(String, Y)], indent: usize, style: Style) -> String {
    let mut out = String::new();
    let pad = " ".repeat(indent);
    for (k, v) in entries {
        out.push_str(&pad);
        out.push_str(&key(k, style));
        out.push(':');
        match v {
            Y::Map(inner) if !inner.is_empty() => {
                out.push('\n');
                out.push_str(&block_map(inner, indent + style.step, style));
            }
            Y::Seq(items) if !items.is_empty() => {
                out.push('\n');
                let dash = if style.indentless {
                    indent
                } else {
                    indent + style.step
                };
                for item in items {
                    out.push_str(&block_item(item, dash, dash + 2, style));
                }
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other, style));
                out.push('\n');
            }
        }
    }
    out
}

/// One sequence item (`- ...`) with its dash at column `dash` and its content at column
/// `content` (`dash + 2` usually; users who write `-   key` get their alignment back).
pub fn block_item(item: &Y, dash: usize, content: usize, style: Style) -> String {
    let content = content.max(dash + 2);
    match item {
        Y::Map(entries) if !entries.is_empty() => {
            // The first entry follows the dash; the others align with it.
            let body = block_map(entries, content, style);
            format!("{}{}", item_lead(dash, content), &body[content..])
        }
        other => flow_item(other, dash, content, style),
    }
}

/// A block sequence item written in flow style on its dash's line (`- {port: 15008}`).
pub fn flow_item(item: &Y, dash: usize, content: usize, style: Style) -> String {
    let content = content.max(dash + 2);
    format!("{}{}\n", item_lead(dash, content), flow(item, style))
}

/// The dash of an item at column `dash` and the blanks up to its content's column.
fn item_lead(dash: usize, content: usize) -> String {
    format!("{}-{}", " ".repeat(dash), " ".repeat(content - dash - 1))
}

/// A whole document (a map at column 0).
pub fn document(entries: &[(String, Y)]) -> String {
    block_map(entries, 0, Style::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port() -> Y {
        Y::map(vec![("port", Y::Int(15008)), ("protocol", Y::str("TCP"))])
    }

    #[test]
    fn block_items_align_their_keys() {
        assert_eq!(
            block_item(&port(), 4, 6, Style::default()),
            "    - port: 15008\n      protocol: TCP\n"
        );
        assert_eq!(
            block_item(&port(), 4, 8, Style::default()),
            "    -   port: 15008\n        protocol: TCP\n"
        );
    }

    #[test]
    fn nested_sequences_follow_the_indentation_style() {
        let rule = Y::map(vec![(
            "from",
            Y::Seq(vec![Y::map(vec![(
                "ipBlock",
                Y::map(vec![("cidr", Y::str("169.254.7.127/32"))]),
            )])]),
        )]);
        assert_eq!(
            block_item(&rule, 2, 4, Style::default()),
            "  - from:\n    - ipBlock:\n        cidr: 169.254.7.127/32\n"
        );
        let indented = Style {
            indentless: false,
            ..Style::default()
        };
        assert_eq!(
            block_item(&rule, 2, 4, indented),
            "  - from:\n      - ipBlock:\n          cidr: 169.254.7.127/32\n"
        );
    }

    #[test]
    fn flow_and_json_styles() {
        assert_eq!(
            flow(&port(), Style::default()),
            "{port: 15008, protocol: TCP}"
        );
        let json = Style {
            json: true,
            ..Style::default()
        };
        assert_eq!(
            flow(&port(), json),
            "{\"port\": 15008, \"protocol\": \"TCP\"}"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        let s = Style::default();
        assert_eq!(scalar(&Y::str("8080"), s), "\"8080\"");
        assert_eq!(scalar(&Y::str("true"), s), "\"true\"");
        assert_eq!(scalar(&Y::str("fd16::1/128"), s), "\"fd16::1/128\"");
        assert_eq!(
            scalar(&Y::str("app.kubernetes.io/name"), s),
            "app.kubernetes.io/name"
        );
        assert_eq!(scalar(&Y::str("<img src=x>"), s), "\"<img src=x>\"");
        assert_eq!(scalar(&Y::str("a\"b\\c\n"), s), "\"a\\\"b\\\\c\\n\"");
    }
}
