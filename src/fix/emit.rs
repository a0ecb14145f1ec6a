//! A tiny YAML writer for what the fixer adds: rules, ports and whole policies, in the block or
//! flow style of the surrounding text.

/// A YAML value to write.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Each writer below appends to one buffer: the extra documents of a large cluster are
/// thousands, and a string per node cost more than the rest of their making.
///
/// A scalar as YAML text: plain when that is unambiguous, double-quoted otherwise.
fn write_scalar(out: &mut String, value: &Y, style: Style) {
    match value {
        Y::Int(n) => out.push_str(&n.to_string()),
        Y::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Y::Str(s) => write_str(out, s, style),
        Y::Map(_) | Y::Seq(_) => write_flow(out, value, style),
    }
}

fn write_str(out: &mut String, s: &str, style: Style) {
    if !style.json && is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_double_quoted(out, s);
    }
}

/// A YAML double-quoted scalar (the JSON escapes are valid YAML escapes).
fn write_double_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
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
}

pub fn key(k: &str, style: Style) -> String {
    let mut out = String::new();
    write_str(&mut out, k, style);
    out
}

/// Plain scalars that YAML reads back as the same string (not a number, bool or null, and no
/// indicator characters).
fn is_plain_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'))
        && !s.starts_with(['-', '.'])
        && !reads_as_number(s)
        && ![
            "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
        ]
        .iter()
        .any(|word| s.eq_ignore_ascii_case(word))
}

/// Whether `s` (letters, digits and `./-_`, not starting with `-` or `.`) reads as a floating
/// point number: one that starts with a digit may, one that starts with a letter only as
/// `inf`, `infinity` or `nan`, whatever its case.
fn reads_as_number(s: &str) -> bool {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.parse::<f64>().is_ok()
    } else {
        ["inf", "infinity", "nan"]
            .iter()
            .any(|word| s.eq_ignore_ascii_case(word))
    }
}

/// `{port: 15008, protocol: TCP}` / `[a, b]`.
pub fn flow(value: &Y, style: Style) -> String {
    let mut out = String::new();
    write_flow(&mut out, value, style);
    out
}

fn write_flow(out: &mut String, value: &Y, style: Style) {
    match value {
        Y::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k, style);
                out.push_str(": ");
                write_flow(out, v, style);
            }
            out.push('}');
        }
        Y::Seq(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, v, style);
            }
            out.push(']');
        }
        scalar_value => write_scalar(out, scalar_value, style),
    }
}

/// A map's entries as block lines at `indent`, each ending with a newline.
pub fn block_map(entries: &[(String, Y)], indent: usize, style: Style) -> String {
    let mut out = String::new();
    write_block_map(&mut out, entries, indent, None, style);
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// [`block_map`] into `out`; with `lead`, the first entry follows a sequence item's dash
/// written there (`lead` is that dash's column) instead of its own indentation.
fn write_block_map(
    out: &mut String,
    entries: &[(String, Y)],
    indent: usize,
    lead: Option<usize>,
    style: Style,
) {
    for (i, (k, v)) in entries.iter().enumerate() {
        match lead {
            Some(dash) if i == 0 => write_item_lead(out, dash, indent),
            _ => pad(out, indent),
        }
        write_str(out, k, style);
        out.push(':');
        match v {
            Y::Map(inner) if !inner.is_empty() => {
                out.push('\n');
                write_block_map(out, inner, indent + style.step, None, style);
            }
            Y::Seq(items) if !items.is_empty() => {
                out.push('\n');
                let dash = if style.indentless {
                    indent
                } else {
                    indent + style.step
                };
                for item in items {
                    write_block_item(out, item, dash, dash + 2, style);
                }
            }
            other => {
                out.push(' ');
                write_scalar(out, other, style);
                out.push('\n');
            }
        }
    }
}

/// One sequence item (`- ...`) with its dash at column `dash` and its content at column
/// `content` (`dash + 2` usually; users who write `-   key` get their alignment back).
pub fn block_item(item: &Y, dash: usize, content: usize, style: Style) -> String {
    let mut out = String::new();
    write_block_item(&mut out, item, dash, content, style);
    out
}

fn write_block_item(out: &mut String, item: &Y, dash: usize, content: usize, style: Style) {
    let content = content.max(dash + 2);
    match item {
        // The first entry follows the dash; the others align with it.
        Y::Map(entries) if !entries.is_empty() => {
            write_block_map(out, entries, content, Some(dash), style);
        }
        other => write_flow_item(out, other, dash, content, style),
    }
}

/// A block sequence item written in flow style on its dash's line (`- {port: 15008}`).
pub fn flow_item(item: &Y, dash: usize, content: usize, style: Style) -> String {
    let mut out = String::new();
    write_flow_item(&mut out, item, dash, content, style);
    out
}

fn write_flow_item(out: &mut String, item: &Y, dash: usize, content: usize, style: Style) {
    write_item_lead(out, dash, content.max(dash + 2));
    write_flow(out, item, style);
    out.push('\n');
}

/// The dash of an item at column `dash` and the blanks up to its content's column.
fn write_item_lead(out: &mut String, dash: usize, content: usize) {
    pad(out, dash);
    out.push('-');
    pad(out, content - dash - 1);
}

/// A whole document (a map at column 0).
pub fn document(entries: &[(String, Y)]) -> String {
    block_map(entries, 0, Style::default())
}

/// A document's YAML text, written when something first reads it. A large cluster's findings
/// ask for thousands of AuthorizationPolicies in each round of a fix: the rounds compare them
/// as trees, and only the outputs that show them (`--extras`, JSON, the page) write them, each
/// once.
#[derive(Clone)]
pub struct Yaml {
    /// The document to write (`None`: made from text).
    tree: Option<std::sync::Arc<[(String, Y)]>>,
    text: std::sync::OnceLock<String>,
}

impl Yaml {
    /// A document to write as [`document`] would.
    pub fn document(entries: Vec<(String, Y)>) -> Yaml {
        Yaml {
            tree: Some(entries.into()),
            text: std::sync::OnceLock::new(),
        }
    }
}

impl From<String> for Yaml {
    fn from(text: String) -> Yaml {
        Yaml {
            tree: None,
            text: text.into(),
        }
    }
}

impl From<&str> for Yaml {
    fn from(text: &str) -> Yaml {
        Yaml::from(text.to_string())
    }
}

impl std::ops::Deref for Yaml {
    type Target = str;

    fn deref(&self) -> &str {
        self.text.get_or_init(|| match &self.tree {
            Some(tree) => document(tree),
            None => String::new(),
        })
    }
}

/// Two trees compare as trees (unwritten); otherwise as text.
impl PartialEq for Yaml {
    fn eq(&self, other: &Yaml) -> bool {
        match (&self.tree, &other.tree) {
            (Some(a), Some(b)) => a == b,
            _ => **self == **other,
        }
    }
}

impl Eq for Yaml {}

/// Hashes nothing (equal documents hash alike): what holds documents in a hash set keys them
/// by their kind and name too, which writing the text for would undo the laziness.
impl std::hash::Hash for Yaml {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl std::fmt::Debug for Yaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for Yaml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl serde::Serialize for Yaml {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Yaml {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Yaml, D::Error> {
        String::deserialize(deserializer).map(Yaml::from)
    }
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
        assert_eq!(flow(&Y::str("8080"), s), "\"8080\"");
        assert_eq!(flow(&Y::str("true"), s), "\"true\"");
        assert_eq!(flow(&Y::str("fd16::1/128"), s), "\"fd16::1/128\"");
        assert_eq!(
            flow(&Y::str("app.kubernetes.io/name"), s),
            "app.kubernetes.io/name"
        );
        assert_eq!(flow(&Y::str("<img src=x>"), s), "\"<img src=x>\"");
        // What Rust reads as a number is quoted: digits first, or inf/infinity/nan in any case.
        for number in ["1e5", "0.5", "Infinity", "NaN", "inf", "No", "~"] {
            assert_eq!(flow(&Y::str(number), s), format!("\"{number}\""));
        }
        for word in ["e5", "info", "nano", "v1", "ns-1"] {
            assert_eq!(flow(&Y::str(word), s), word);
        }
        assert_eq!(flow(&Y::str("a\"b\\c\n"), s), "\"a\\\"b\\\\c\\n\"");
    }

    /// A document is written when first read, as `document` writes it; two unwritten ones
    /// compare as trees (and stay unwritten), one written from text compares by its text; the
    /// page reads it back from its JSON as text.
    #[test]
    fn a_document_is_written_when_first_read() {
        let tree = |name: &str| {
            vec![
                ("kind".to_string(), Y::str("AuthorizationPolicy")),
                ("metadata".to_string(), Y::map(vec![("name", Y::str(name))])),
            ]
        };
        let (a, b, c) = (
            Yaml::document(tree("a")),
            Yaml::document(tree("a")),
            Yaml::document(tree("c")),
        );
        assert!(a == b && a != c);
        assert!(a.text.get().is_none() && b.text.get().is_none() && c.text.get().is_none());
        let text = document(&tree("a"));
        assert_eq!(text, "kind: AuthorizationPolicy\nmetadata:\n  name: a\n");
        assert_eq!(&*a, text);
        assert_eq!(a, Yaml::from(text.as_str()));
        assert_ne!(c, Yaml::from(text.as_str()));
        let json = serde_json::to_string(&b).expect("serialised");
        assert_eq!(json, serde_json::to_string(&text).expect("serialised"));
        let back: Yaml = serde_json::from_str(&json).expect("read back");
        assert_eq!(back, a);
        assert_eq!(back.to_string(), text);
    }
}
