//! Re-renders YAML documents in random styles, keeping their values: block and flow mappings
//! and sequences mixed at any level, `- {…}` and `- […]` items, indented and zero-indented
//! sequences, 2- or 4-space steps, quoted keys, comments between and after entries, tags and
//! anchors on collections, CRLF line endings, and whole documents as JSON. For the fixer's style
//! property test (`tests/styles.rs`).

#![allow(dead_code)] // each user takes what it needs

use ambient_netpol::input::yaml::{Node, Value, parse_documents};

#[path = "cluster.rs"]
pub mod cluster;
pub use cluster::Rng;

/// The shapes a rendering used, counted (the test reports them).
#[derive(Debug, Default, Clone)]
pub struct Shapes {
    pub block_maps: usize,
    pub flow_maps: usize,
    pub block_seqs: usize,
    pub indentless_seqs: usize,
    pub flow_seqs: usize,
    pub flow_items: usize,
    pub quoted_keys: usize,
    pub comments: usize,
    pub tags: usize,
    pub anchors: usize,
    pub json_documents: usize,
    pub crlf_texts: usize,
}

impl Shapes {
    pub fn add(&mut self, other: &Shapes) {
        self.block_maps += other.block_maps;
        self.flow_maps += other.flow_maps;
        self.block_seqs += other.block_seqs;
        self.indentless_seqs += other.indentless_seqs;
        self.flow_seqs += other.flow_seqs;
        self.flow_items += other.flow_items;
        self.quoted_keys += other.quoted_keys;
        self.comments += other.comments;
        self.tags += other.tags;
        self.anchors += other.anchors;
        self.json_documents += other.json_documents;
        self.crlf_texts += other.crlf_texts;
    }
}

struct Writer<'r> {
    rng: &'r mut Rng,
    step: usize,
    shapes: Shapes,
    anchors: usize,
}

/// `text` with every document that parses re-rendered in random styles (documents that do not
/// parse are dropped).
pub fn restyle(text: &str, rng: &mut Rng) -> (String, Shapes) {
    let mut out = String::new();
    let mut shapes = Shapes::default();
    for document in parse_documents(text) {
        let Ok(Some(root)) = document.root else {
            continue;
        };
        let mut w = Writer {
            step: if rng.chance(30) { 4 } else { 2 },
            rng,
            shapes: Shapes::default(),
            anchors: 0,
        };
        if !out.is_empty() {
            out.push_str("---\n");
        }
        if w.rng.chance(10) {
            w.shapes.json_documents += 1;
            out.push_str(&json(&root));
            out.push('\n');
        } else if w.rng.chance(5) {
            out.push_str(&w.flow(&root));
            out.push('\n');
        } else {
            w.block_map(&root, 0, &mut out);
        }
        shapes.add(&w.shapes);
    }
    if rng.chance(15) {
        shapes.crlf_texts += 1;
        out = out.replace('\n', "\r\n");
    }
    (out, shapes)
}

impl Writer<'_> {
    fn key(&mut self, key: &Node) -> String {
        let text = scalar_text(key);
        match &key.value {
            Value::Scalar {
                text: t,
                plain: true,
            } if self.rng.chance(15) && !is_special(t) => {
                self.shapes.quoted_keys += 1;
                quote(t)
            }
            _ => text,
        }
    }

    /// Properties (tag, anchor) before a collection value, or nothing.
    fn properties(&mut self, node: &Node) -> String {
        let mut out = String::new();
        if self.rng.chance(4) {
            self.shapes.tags += 1;
            out.push_str(match node.value {
                Value::Map(_) => "!!map ",
                _ => "!!seq ",
            });
        }
        if self.rng.chance(4) {
            self.shapes.anchors += 1;
            self.anchors += 1;
            out.push_str(&format!("&a{} ", self.anchors));
        }
        out
    }

    /// A block map at column `indent` (its first line written from the current position when
    /// `out` does not end a line).
    fn block_map(&mut self, node: &Node, indent: usize, out: &mut String) {
        let Value::Map(entries) = &node.value else {
            out.push_str(&self.flow(node));
            out.push('\n');
            return;
        };
        if entries.is_empty() {
            out.push_str("{}\n");
            return;
        }
        self.shapes.block_maps += 1;
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 || out.is_empty() || out.ends_with('\n') {
                if i > 0 && self.rng.chance(8) {
                    self.shapes.comments += 1;
                    out.push_str(&format!("{}# a comment between entries\n", pad(indent)));
                }
                out.push_str(&pad(indent));
            }
            let key = self.key(k);
            out.push_str(&key);
            out.push(':');
            self.value(v, indent, out);
        }
    }

    /// The value of a block map entry, after its `key:`.
    fn value(&mut self, v: &Node, indent: usize, out: &mut String) {
        match &v.value {
            Value::Scalar { .. } => {
                out.push(' ');
                out.push_str(&scalar_text(v));
                self.end_line(out);
            }
            Value::Map(entries) if !entries.is_empty() && !self.rng.chance(20) => {
                let props = self.properties(v);
                out.push_str(format!(" {props}").trim_end());
                self.end_line(out);
                self.block_map(v, indent + self.step, out);
            }
            Value::Seq(items) if !items.is_empty() && !self.rng.chance(20) => {
                let props = self.properties(v);
                out.push_str(format!(" {props}").trim_end());
                self.end_line(out);
                let indentless = self.rng.chance(50);
                if indentless {
                    self.shapes.indentless_seqs += 1;
                } else {
                    self.shapes.block_seqs += 1;
                }
                self.block_seq(
                    v,
                    if indentless {
                        indent
                    } else {
                        indent + self.step
                    },
                    out,
                );
            }
            _ => {
                let props = self.properties(v);
                out.push(' ');
                out.push_str(&props);
                out.push_str(&self.flow(v));
                self.end_line(out);
            }
        }
    }

    fn end_line(&mut self, out: &mut String) {
        if self.rng.chance(5) {
            self.shapes.comments += 1;
            out.push_str(" # a comment after an entry");
        }
        out.push('\n');
    }

    fn block_seq(&mut self, node: &Node, dash: usize, out: &mut String) {
        let Value::Seq(items) = &node.value else {
            return;
        };
        for item in items {
            out.push_str(&pad(dash));
            out.push_str("- ");
            match &item.value {
                Value::Map(entries) if !entries.is_empty() && !self.rng.chance(25) => {
                    self.block_map(item, dash + 2, out);
                }
                Value::Scalar { .. } => {
                    out.push_str(&scalar_text(item));
                    self.end_line(out);
                }
                _ => {
                    self.shapes.flow_items += 1;
                    out.push_str(&self.flow(item));
                    self.end_line(out);
                }
            }
        }
    }

    fn flow(&mut self, node: &Node) -> String {
        match &node.value {
            Value::Scalar { .. } => scalar_text(node),
            Value::Seq(items) => {
                self.shapes.flow_seqs += 1;
                let items: Vec<String> = items.iter().map(|i| self.flow(i)).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Map(entries) => {
                self.shapes.flow_maps += 1;
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| {
                        let key = self.key(k);
                        format!("{key}: {}", self.flow(v))
                    })
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }
}

/// A scalar as it can be written anywhere (plain when it was plain and needs no quotes in flow
/// context, double-quoted otherwise, which keeps its string type).
fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, plain: true } if text.is_empty() => "null".into(),
        Value::Scalar { text, plain: true } if !is_special(text) => text.clone(),
        Value::Scalar { text, .. } => quote(text),
        _ => unreachable!("scalars only"),
    }
}

/// Characters that a plain scalar may not hold in flow context.
fn is_special(text: &str) -> bool {
    text.contains([
        ',', '[', ']', '{', '}', '#', ':', '"', '\'', '\n', '*', '&', '!', '|', '>',
    ]) || text.starts_with(['-', '?', '%', '@', '`', ' '])
        || text.ends_with(' ')
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// The document as JSON (plain scalars that are numbers, booleans or null stay so).
fn json(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, plain: true }
            if text.parse::<i64>().is_ok()
                || matches!(text.as_str(), "true" | "false" | "null" | "") =>
        {
            if text.is_empty() {
                "null".into()
            } else {
                text.clone()
            }
        }
        Value::Scalar { text, .. } => quote(text),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(json).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", quote(&raw(k)), json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A scalar's text as parsed.
fn raw(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, .. } => text.clone(),
        _ => unreachable!("keys are scalars"),
    }
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// What a scalar resolves to: plain integers, booleans and nulls keep their kind, everything else
/// is a string however it is quoted.
fn resolved(text: &str, plain: bool) -> (u8, &str) {
    match text {
        _ if !plain => (0, text),
        "" | "~" | "null" | "Null" | "NULL" => (1, ""),
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => (2, text),
        _ if text.parse::<i64>().is_ok() => (3, text),
        _ => (0, text),
    }
}

/// Whether two nodes hold the same values (spans and quoting aside).
pub fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar { text: x, plain: px }, Value::Scalar { text: y, plain: py }) => {
            resolved(x, *px) == resolved(y, *py)
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        _ => false,
    }
}

/// Whether `b` holds `a` with additions only: maps gain keys, sequences gain items at their end,
/// a null becomes a collection. (Written here, apart from the core's own check, on purpose.)
pub fn grows_into(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar { text, plain }, Value::Seq(_) | Value::Map(_)) => {
            resolved(text, *plain).0 == 1
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() <= y.len() && x.iter().zip(y).all(|(p, q)| grows_into(p, q))
        }
        (Value::Map(x), Value::Map(y)) => x.iter().all(|(k, v)| {
            y.iter()
                .find(|(k2, _)| same(k, k2))
                .is_some_and(|(_, v2)| grows_into(v, v2))
        }),
        _ => same(a, b),
    }
}
