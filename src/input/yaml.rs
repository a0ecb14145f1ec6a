//! YAML text to a tree of located nodes.
//!
//! The evaluator needs the line of every field it reports on, and the fixer needs byte offsets to
//! edit the user's text in place, so this module builds its own small tree from the events of
//! `saphyr-parser` (a YAML 1.2 parser that reports a span for every event). Documents are split on
//! `---` / `...` lines before parsing, so a syntax error in one document never hides the others,
//! and where a second object starts in one (files pasted without `---`: INP006). Most documents
//! are read by the hand-written fast path of [`fast`] instead, which gives up (to saphyr) on
//! anything outside the block YAML that manifests are written in.

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

mod fast;

/// Alias expansion and node count are capped per document so that a "billion laughs" input
/// fails with a located error instead of exhausting memory.
pub const MAX_NODES_PER_DOCUMENT: usize = 1_000_000;

/// Anchors and aliases copy at most this many bytes of text per document (each alias is a copy
/// of its anchor's tree, and each anchor keeps one): a long string aliased many times, or under
/// many nested anchors, would otherwise take gigabytes within the node cap (a 180 KB file made
/// 2.3 GB). Kubernetes stores no object past 1.5 MiB, and real anchors are small.
pub const MAX_COPIED_BYTES: usize = 16 * 1024 * 1024;

/// Collections nest at most this deep (real manifests stay under 50; CRD schemas under 200), so
/// that `- - - - ...` cannot exhaust the stack of the code that walks the tree.
pub const MAX_DEPTH: usize = 1_000;

/// Where a node starts and ends in the source text (byte offsets) and where it starts for humans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// 1-based line of `start` in the whole source.
    pub line: u32,
    /// 1-based column (in characters) of `start`.
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar as written; `plain` is false for quoted and block scalars, which are always
    /// strings (so `"80"` is the string 80 and `80` the number).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The same node in a text where everything before it moved by `bytes` and `lines` (its
    /// columns do not change).
    pub fn shift(&mut self, bytes: isize, lines: i32) {
        self.span.start = self.span.start.saturating_add_signed(bytes);
        self.span.end = self.span.end.saturating_add_signed(bytes);
        self.span.line = self.span.line.saturating_add_signed(lines);
        match &mut self.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => items.iter_mut().for_each(|n| n.shift(bytes, lines)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.shift(bytes, lines);
                v.shift(bytes, lines);
            }),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value nodes of a map entry (the key's line is where a field is written).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.is_text(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Whether this is a scalar written as `text` (a fast `as_str() == Some(text)` for a `text`
    /// that is not a spelling of null, as every key looked up is).
    fn is_text(&self, text: &str) -> bool {
        matches!(&self.value, Value::Scalar { text: t, plain } if t == text && !(*plain && is_null_text(t)))
    }

    /// A field that is present and not `null`.
    pub fn field(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|n| !n.is_null())
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if is_null_text(text))
    }

    /// The text of a scalar that is not null (numbers and booleans included, as written).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// A plain scalar that YAML resolves to an integer (decimal only, as Kubernetes writes them).
    pub fn as_int(&self) -> Option<i64> {
        match &self.value {
            Value::Scalar { text, plain: true } => text.parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Whether `other` holds everything this node does, with additions only: equal scalars, maps
    /// with at least these keys (each value extended), sequences that start with these items
    /// (each extended) and may go on, and a null that became a list or a map (`ingress:` given
    /// its rules). The fixer's edits must leave every document so.
    pub fn is_extended_by(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Scalar { text: a, plain: pa }, Value::Scalar { text: b, plain: pb }) => {
                a == b && pa == pb
            }
            (Value::Scalar { .. }, Value::Seq(_) | Value::Map(_)) => self.is_null(),
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| x.is_extended_by(y))
            }
            (Value::Map(a), Value::Map(b)) => a.iter().all(|(k, v)| {
                b.iter()
                    .any(|(k2, v2)| k.same_as(k2) && v.is_extended_by(v2))
            }),
            _ => false,
        }
    }

    /// The same value, wherever it is written (spans aside): keys may be collections (`? {a: 1}`).
    fn same_as(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k, v), (k2, v2))| k.same_as(k2) && v.same_as(v2))
            }
            (a, b) => a == b,
        }
    }

    /// What the node is, in the words an error message uses.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { plain: true, .. } if self.as_int().is_some() => "a number",
            Value::Scalar { plain: true, .. } if self.as_bool().is_some() => "a boolean",
            Value::Scalar { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// One YAML document of a source: its text range and, when it parsed, its root node.
#[derive(Clone, Debug)]
pub struct Document {
    /// Byte range of the document's text in the source.
    pub start: usize,
    pub end: usize,
    /// 1-based line where the document's text starts.
    pub line: u32,
    /// The document follows the one before it with no `---` line between them (files pasted
    /// together): the line of its first top-level key, where the second object begins.
    pub joined: Option<u32>,
    pub root: Result<Option<Node>, SyntaxError>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Splits `text` into documents and parses each on its own, as they are asked for (one
/// document's tree at a time, not the whole stream's).
pub fn parse_documents(text: &str) -> impl Iterator<Item = Document> + '_ {
    document_ranges(text).map(|(start, end, line)| parse_range(text, start, end, line))
}

/// Parses one document of `text`, from [`document_ranges`].
pub fn parse_range(text: &str, start: usize, end: usize, line: u32) -> Document {
    Document {
        start,
        end,
        line,
        joined: joined_at(text, start, end, line),
        root: parse_document(&text[start..end], start, line),
    }
}

/// Byte ranges (and first lines) of the documents of a stream, without parsing them.
///
/// Besides the `---` and `...` markers, a document is split where a second object begins in it
/// (files pasted together without a `---` between them): a top-level `apiVersion` or `kind`
/// written again at column 1. Such a document could only be an error (Kubernetes rejects a
/// duplicate key), and read as two it hides nothing; [`Document::joined`] tells it apart and
/// [`split_documents`] writes the missing markers.
pub fn document_ranges(text: &str) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
    marked_ranges(text).flat_map(move |(start, end, line, suspect)| {
        let parts = if suspect {
            pasted_parts(text, start, end, line)
        } else {
            Vec::new()
        };
        let whole = parts.is_empty().then_some((start, end, line));
        whole.into_iter().chain(parts)
    })
}

/// `text` with a `---` line inserted before every object that follows another in the same
/// document (files pasted together without one), or `None` when there is none: INP006's fix,
/// as the corrected YAML makes it (the page, which does not link the parser, has
/// [`insert_separators`]).
pub fn split_documents(text: &str) -> Option<String> {
    let starts: Vec<usize> = unmarked_starts(text).collect();
    (!starts.is_empty()).then(|| with_separators(text, &starts))
}

/// `text` with a `---` line inserted at each of `offsets` (line starts, in order).
fn with_separators(text: &str, offsets: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + 5 * offsets.len());
    let mut done = 0;
    for &at in offsets {
        out.push_str(&text[done..at]);
        out.push_str(separator_before(text, at));
        done = at;
    }
    out.push_str(&text[done..]);
    out
}

/// INP006's fix from its findings' lines, for the page: `text` with a `---` line inserted above
/// each of `lines` (1-based: the first key of an object pasted after another), and above the
/// comment lines right over it, as [`split_documents`] places them. It reads no YAML, so the
/// page calls it without linking the parser. A line whose top-level key the document above
/// does not already have (the text changed since the analysis, or a marker is there now) is
/// left alone.
pub fn insert_separators(text: &str, lines: &[u32]) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&at| at < text.len())
        .collect();
    let line_at = |i: usize| {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        text[starts[i]..end].trim_end_matches(['\n', '\r'])
    };
    let mut lines: Vec<usize> = lines
        .iter()
        .filter_map(|&l| (l as usize).checked_sub(1))
        .filter(|&i| i < starts.len())
        .collect();
    crate::sort::sort(&mut lines);
    lines.dedup();
    // Line indexes where a `---` goes.
    let mut at: Vec<usize> = Vec::new();
    for line in lines {
        // A key at column 1 that the document above already has (as the analysis found it).
        let Some(key) = line_at(line).split_once(':').map(|(k, _)| k) else {
            continue;
        };
        if key.is_empty() || key.starts_with([' ', '\t', '#', '-', '"', '\'', '{', '[']) {
            continue;
        }
        let mut top = line;
        while top > 0 && !at.contains(&top) {
            let above = line_at(top - 1);
            if is_marker(above, "---") || is_marker(above, "...") {
                break;
            }
            top -= 1;
        }
        let repeated = (top..line).any(|i| {
            line_at(i)
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        });
        if !repeated {
            continue;
        }
        let mut i = line;
        while i > top + 1 && line_at(i - 1).starts_with('#') {
            i -= 1;
        }
        at.push(i);
    }
    let offsets: Vec<usize> = at.into_iter().map(|i| starts[i]).collect();
    with_separators(text, &offsets)
}

/// Where the documents that follow another without a `---` line start (byte offsets).
fn unmarked_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    document_ranges(text)
        .filter(move |&(start, end, line)| joined_at(text, start, end, line).is_some())
        .map(|(start, ..)| start)
}

/// The marker line to insert at `at` (a line start), with the line ending of the line above.
pub fn separator_before(text: &str, at: usize) -> &'static str {
    if text[..at].ends_with("\r\n") {
        "---\r\n"
    } else {
        "---\n"
    }
}

/// Whether `line` (without its line break) is the marker `m` (`---` or `...`): the marker
/// followed by a blank or nothing.
fn is_marker(line: &str, m: &str) -> bool {
    line.strip_prefix(m)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// For a range of [`document_ranges`]: whether it starts where no marker does (an object pasted
/// after another), and then the line of its first top-level key.
fn joined_at(text: &str, start: usize, end: usize, line: u32) -> Option<u32> {
    if start == 0 || is_marker(text[start..end].lines().next().unwrap_or_default(), "---") {
        return None;
    }
    let before = text[..start].strip_suffix('\n').unwrap_or(&text[..start]);
    let before = before.strip_suffix('\r').unwrap_or(before);
    let last = before.rfind('\n').map_or(before, |i| &before[i + 1..]);
    if is_marker(last, "...") {
        return None;
    }
    (line..)
        .zip(text[start..end].lines())
        .find(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, _)| n)
}

/// Whether a line (without its line break) starts with the top-level key `apiVersion:` or
/// `kind:` at column 1: the lines that begin Kubernetes objects.
fn header_key(line: &str) -> Option<&'static str> {
    // (Every line of every document comes here: most start with a blank.)
    if !matches!(line.as_bytes().first(), Some(b'a' | b'k')) {
        return None;
    }
    ["apiVersion", "kind"].into_iter().find(|key| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

/// Byte ranges (and first lines) of the documents between markers, and whether each is
/// suspected of holding several objects (`apiVersion` or `kind` twice at column 1). A line that
/// starts with `---` or `...` followed by a blank or the end of the line is a document marker
/// wherever it stands (YAML 1.2 forbids both inside scalars), so splitting on them is exact.
fn marked_ranges(text: &str) -> impl Iterator<Item = (usize, usize, u32, bool)> + '_ {
    let bytes = text.as_bytes();
    let (mut start, mut start_line, mut offset, mut line_no) = (0, 1, 0, 0u32);
    // `apiVersion` and `kind` lines seen in the current document.
    let mut headers = [0u8; 2];
    std::iter::from_fn(move || {
        while offset < bytes.len() {
            let at = offset;
            offset = bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| at + i + 1);
            line_no += 1;
            // Only a line that starts with `-`, `.`, `a` or `k` can be a marker or a header
            // (most lines of a document start with a blank).
            if !matches!(bytes[at], b'-' | b'.' | b'a' | b'k') {
                continue;
            }
            let bare = text[at..offset].trim_end_matches(['\n', '\r']);
            if is_marker(bare, "---") {
                // `---` opens a new document: the text before it is the previous one.
                let previous = (start, at, start_line, headers.iter().any(|&n| n > 1));
                (start, start_line, headers) = (at, line_no, [0; 2]);
                if at > previous.0 {
                    return Some(previous);
                }
            } else if is_marker(bare, "...") {
                // `...` closes the current document, marker included.
                let closed = (start, offset, start_line, headers.iter().any(|&n| n > 1));
                (start, start_line, headers) = (offset, line_no + 1, [0; 2]);
                return Some(closed);
            } else if let Some(key) = header_key(bare) {
                let n = &mut headers[usize::from(key == "kind")];
                *n = n.saturating_add(1);
            }
        }
        // The rest after the last marker, once.
        (offset > start).then(|| {
            let last = (start, offset, start_line, headers.iter().any(|&n| n > 1));
            start = offset;
            last
        })
    })
}

/// How many top-level keys above a repeated `apiVersion` or `kind` may go with the new object.
const MAX_MOVED_KEYS: usize = 16;

/// A top-level key of a document: its text (unless quoted), and its line (0-based, in the
/// document's text).
struct RootKey<'a> {
    name: Option<&'a str>,
    line: usize,
}

/// The documents of the range `start..end` (first line `line`) of `text` when it holds several
/// objects pasted one after the other, or nothing when it does not.
///
/// A new object begins at a top-level `apiVersion` or `kind` that the object above already has;
/// keys just above it that also repeat one of the object above belong to the new object too,
/// and so do the comment lines right above its first key (a file's header comment).
fn pasted_parts(text: &str, start: usize, end: usize, line: u32) -> Vec<(usize, usize, u32)> {
    let chunk = &text[start..end];
    let keys = root_keys(chunk);
    // For each key, where the same key was last written before it (one pass: a hostile
    // document of many keys must not cost their square).
    let mut last: HashMap<&str, usize> = HashMap::new();
    let previous: Vec<Option<usize>> = keys
        .iter()
        .enumerate()
        .map(|(k, key)| key.name.and_then(|n| last.insert(n, k)))
        .collect();
    let mut splits: Vec<usize> = Vec::new(); // indexes in `keys`
    let mut first = 0;
    for j in 0..keys.len() {
        if !matches!(keys[j].name, Some("apiVersion" | "kind")) {
            continue;
        }
        let Some(earlier) = previous[j].filter(|&e| e >= first) else {
            continue;
        };
        // Back over the keys just above that repeat one of the object above (a few at most:
        // objects have a handful of top-level keys), and over the other of `apiVersion` and
        // `kind` right above (objects start with both; the one above may lack it).
        let mut s = j;
        while s - 1 > earlier
            && j - s < MAX_MOVED_KEYS
            && (previous[s - 1].is_some_and(|p| p >= first)
                || (s == j
                    && matches!(keys[s - 1].name, Some("apiVersion" | "kind"))
                    && keys[s - 1].name != keys[j].name))
        {
            s -= 1;
        }
        splits.push(s);
        first = s;
    }
    if splits.is_empty() {
        return Vec::new();
    }
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(chunk.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut parts = Vec::with_capacity(splits.len() + 1);
    let (mut from, mut from_line) = (0, 0);
    for s in splits {
        // The comment lines right above the key open the new object.
        let floor = keys[s - 1].line + 1;
        let mut at_line = keys[s].line;
        while at_line > floor && chunk[line_starts[at_line - 1]..].starts_with('#') {
            at_line -= 1;
        }
        let at = line_starts[at_line];
        parts.push((start + from, start + at, line + from_line as u32));
        (from, from_line) = (at, at_line);
    }
    parts.push((start + from, end, line + from_line as u32));
    parts
}

/// The top-level keys of a document in order: its lines that start at column 1 with `key:`.
/// Where the root is a block map, as in every Kubernetes object, that is exact: nothing else
/// starts at column 1 in one (the parser rejects a flow collection or a quoted string that
/// continues there, and block scalars are indented). Read from the lines, not the parser, it
/// also holds past a syntax error, so an error in one object does not hide the next.
fn root_keys(chunk: &str) -> Vec<RootKey<'_>> {
    chunk
        .split('\n')
        .enumerate()
        .filter_map(|(line, text)| {
            let text = text.strip_suffix('\r').unwrap_or(text);
            // (`-` also skips the document's own `---` line.)
            if text.is_empty() || text.starts_with([' ', '\t', '#', '-', '?', ':', '{', '[']) {
                return None;
            }
            let name = text
                .split_once(": ")
                .or_else(|| text.split_once(":\t"))
                .map(|(key, _)| key)
                .or_else(|| text.strip_suffix(':'))
                .filter(|key| !key.starts_with(['"', '\'']));
            Some(RootKey { name, line })
        })
        .collect()
}

/// Maps the parser's character indexes to byte offsets of the whole source.
struct Offsets<'a> {
    chunk: &'a str,
    base: usize,
    line_base: u32,
    /// Byte offset of every character, when the chunk is not ASCII.
    chars: Option<Vec<usize>>,
}

impl<'a> Offsets<'a> {
    fn new(chunk: &'a str, base: usize, first_line: u32) -> Self {
        let chars = (!chunk.is_ascii()).then(|| chunk.char_indices().map(|(i, _)| i).collect());
        Offsets {
            chunk,
            base,
            line_base: first_line - 1,
            chars,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        let local = match &self.chars {
            None => char_index.min(self.chunk.len()),
            Some(chars) => chars.get(char_index).copied().unwrap_or(self.chunk.len()),
        };
        self.base + local
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span {
            start: self.byte(span.start.index()),
            end: self.byte(span.end.index()),
            line: self.line_base + span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        }
    }

    fn error(&self, err: &ScanError) -> SyntaxError {
        SyntaxError {
            line: self.line_base + err.marker().line() as u32,
            column: err.marker().col() as u32 + 1,
            message: err.info().to_string(),
        }
    }
}

enum Frame {
    Seq(Span, usize, Vec<Node>),
    Map(Span, usize, Vec<(Node, Node)>, Option<Node>, Keys),
}

/// The keys of a map under construction, for the duplicate check: a scan while the map is small
/// (Kubernetes maps are), a hash set once it is large, so a hostile map of 500,000 keys is
/// checked in linear time, not quadratic.
#[derive(Default)]
struct Keys(Option<foldhash::HashSet<String>>);

impl Keys {
    const SCAN: usize = 32;

    /// Whether `key` is new among `entries` (whose keys this tracks); records it.
    fn insert(&mut self, entries: &[(Node, Node)], key: &str) -> bool {
        if self.0.is_none() && entries.len() >= Self::SCAN {
            let set = entries
                .iter()
                .filter_map(|(k, _)| k.as_str().map(str::to_string))
                .collect();
            self.0 = Some(set);
        }
        match &mut self.0 {
            Some(set) => set.insert(key.to_string()),
            None => !entries.iter().any(|(k, _)| k.is_text(key)),
        }
    }
}

/// Parses one document's text (`chunk`, found at byte `base` / line `first_line` of the source):
/// with the fast path when the document is in its subset, with saphyr otherwise.
fn parse_document(chunk: &str, base: usize, first_line: u32) -> Result<Option<Node>, SyntaxError> {
    match fast::parse(chunk, base, first_line) {
        Some(root) => Ok(root),
        None => parse_saphyr(chunk, base, first_line),
    }
}

/// The fast path's reading of one document (`None`: not in its subset), for the differential
/// tests and the fuzzer, which hold it to [`parse_saphyr`]'s.
#[doc(hidden)]
pub fn parse_fast(chunk: &str, base: usize, first_line: u32) -> Option<Option<Node>> {
    fast::parse(chunk, base, first_line)
}

/// Parses one document's text with saphyr (as [`parse_document`] does outside the fast path's
/// subset).
#[doc(hidden)]
pub fn parse_saphyr(
    chunk: &str,
    base: usize,
    first_line: u32,
) -> Result<Option<Node>, SyntaxError> {
    let offsets = Offsets::new(chunk, base, first_line);
    let mut parser = Parser::new_from_str(chunk);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    let mut copied = 0usize;
    let over_copied = |span: Span| {
        located(
            span,
            format!(
                "the anchors and aliases of this document copy more than {} MB of text; \
                 remove them or split the document",
                MAX_COPIED_BYTES / (1024 * 1024)
            ),
        )
    };

    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| offsets.error(&e))?;
        let span = offsets.span(span);
        let (node, anchor) = match event {
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {
                continue;
            }
            Event::StreamEnd => break,
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(located(
                    span,
                    format!(
                        "collections nest more than {MAX_DEPTH} levels deep here; \
                         no Kubernetes object does: check the indentation and the `- ` markers"
                    ),
                ));
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(span, anchor, Vec::new()));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(span, anchor, Vec::new(), None, Keys::default()));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(start, anchor, items)) => {
                    // A block collection ends with its last item (the end event sits at the next
                    // token, possibly lines below); an empty one at its end event.
                    let end = items.last().map_or(span.end, |n| n.span.end);
                    (node(Value::Seq(items), start, end), anchor)
                }
                _ => return Err(internal_error(span)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(start, anchor, entries, ..)) => {
                    let end = entries.last().map_or(span.end, |(_, v)| v.span.end);
                    (node(Value::Map(entries), start, end), anchor)
                }
                _ => return Err(internal_error(span)),
            },
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == ScalarStyle::Plain;
                (
                    Node {
                        value: Value::Scalar {
                            text: Cow::into_owned(text),
                            plain,
                        },
                        span,
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    return Err(located(span, "alias to an unknown anchor".into()));
                };
                let (count, bytes) = weight(target);
                nodes += count;
                copied += bytes;
                if nodes > MAX_NODES_PER_DOCUMENT {
                    return Err(too_many_nodes(span));
                }
                if copied > MAX_COPIED_BYTES {
                    return Err(over_copied(span));
                }
                let mut copy = target.clone();
                copy.span = span;
                (copy, 0)
            }
        };
        nodes += 1;
        if nodes > MAX_NODES_PER_DOCUMENT {
            return Err(too_many_nodes(span));
        }
        if anchor != 0 {
            copied += weight(&node).1;
            if copied > MAX_COPIED_BYTES {
                return Err(over_copied(span));
            }
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending, keys)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(name) = key.as_str()
                        && !keys.insert(entries, name)
                    {
                        return Err(located(
                            key.span,
                            format!(
                                "duplicate key `{name}` in the same map (Kubernetes rejects it); \
                                 keep one of them"
                            ),
                        ));
                    }
                    entries.push((key, node));
                }
            },
        }
    }
    // `---` followed by nothing but comments is an empty document, not a null object.
    Ok(root.filter(|r| !r.is_null()))
}

fn node(value: Value, start: Span, end: usize) -> Node {
    Node {
        value,
        span: Span { end, ..start },
    }
}

/// Nodes and bytes of text in a tree.
fn weight(node: &Node) -> (usize, usize) {
    let add = |(n, b): (usize, usize), (m, c): (usize, usize)| (n + m, b + c);
    match &node.value {
        Value::Scalar { text, .. } => (1, text.len()),
        Value::Seq(items) => items.iter().map(weight).fold((1, 0), add),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| add(weight(k), weight(v)))
            .fold((1, 0), add),
    }
}

fn located(span: Span, message: String) -> SyntaxError {
    SyntaxError {
        line: span.line,
        column: span.column,
        message,
    }
}

fn too_many_nodes(span: Span) -> SyntaxError {
    located(
        span,
        format!(
            "the document expands to more than {MAX_NODES_PER_DOCUMENT} nodes (aliases included); \
             split it or remove the aliases"
        ),
    )
}

fn internal_error(span: Span) -> SyntaxError {
    located(span, "unbalanced collection events from the parser".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(text: &str) -> Vec<Result<Option<Node>, SyntaxError>> {
        parse_documents(text).map(|d| d.root).collect()
    }

    #[test]
    fn splits_on_markers_and_keeps_lines() {
        let text = "a: 1\n---\nb: 2\n...\n--- \nc:\n  d: 3\n";
        let docs: Vec<Document> = parse_documents(text).collect();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].line, 2);
        let third = docs[2].root.clone().unwrap().unwrap();
        assert_eq!(third.get("c").unwrap().get("d").unwrap().span.line, 7);
        assert_eq!(third.get("c").unwrap().get("d").unwrap().as_int(), Some(3));
    }

    #[test]
    fn dashes_inside_a_line_are_not_markers() {
        let docs: Vec<Document> = parse_documents("a: ---\nb: \"--- x\"\n").collect();
        assert_eq!(docs.len(), 1);
        let root = docs[0].root.clone().unwrap().unwrap();
        assert_eq!(root.get("a").unwrap().as_str(), Some("---"));
    }

    #[test]
    fn syntax_error_is_located_and_isolated() {
        let text = "a: 1\n---\nb: [1, 2\nc: 3\n---\nd: 4\n";
        let r = roots(text);
        assert_eq!(r.len(), 3);
        assert!(r[0].as_ref().unwrap().is_some());
        let err = r[1].as_ref().unwrap_err();
        assert!(err.line >= 3 && err.line <= 5, "{err:?}");
        assert_eq!(
            r[2].as_ref()
                .unwrap()
                .as_ref()
                .unwrap()
                .get("d")
                .unwrap()
                .span
                .line,
            6
        );
    }

    #[test]
    fn spans_are_byte_offsets_with_multibyte_text() {
        let text = "name: \"héllo wörld\"\nport: 80\n";
        let root = roots(text).remove(0).unwrap().unwrap();
        let port = root.get("port").unwrap();
        assert_eq!(&text[port.span.start..port.span.end], "80");
        assert_eq!(port.span.line, 2);
        assert_eq!(port.span.column, 7);
    }

    #[test]
    fn quoted_numbers_are_strings() {
        let root = roots("a: \"80\"\nb: 80\nc: ~\n")
            .remove(0)
            .unwrap()
            .unwrap();
        assert_eq!(root.get("a").unwrap().as_int(), None);
        assert_eq!(root.get("b").unwrap().as_int(), Some(80));
        assert!(root.get("c").unwrap().is_null());
        assert!(root.field("c").is_none());
    }

    #[test]
    fn comment_only_document_has_no_root() {
        let r = roots("# nothing here\n---\n# nor here\n");
        assert!(r.iter().all(|d| matches!(d, Ok(None))));
    }

    #[test]
    fn crlf_lines_count_like_lf() {
        let root = roots("a: 1\r\nb:\r\n  c: 2\r\n")
            .remove(0)
            .unwrap()
            .unwrap();
        assert_eq!(root.get("b").unwrap().get("c").unwrap().span.line, 3);
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = roots("a: 1\nb: 2\na: 3\n").remove(0).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("duplicate key `a`"));
    }

    #[test]
    fn nesting_is_capped_at_max_depth() {
        let at_limit = format!("{}x\n", "- ".repeat(MAX_DEPTH));
        assert!(roots(&at_limit).remove(0).is_ok());
        let deeper = format!("{}x\n", "- ".repeat(MAX_DEPTH + 1));
        let err = roots(&deeper).remove(0).unwrap_err();
        assert_eq!(err.column as usize, 2 * MAX_DEPTH + 1);
        assert!(err.message.contains("nest more than"), "{err:?}");
        // Far deeper (a stack overflow before the cap): the same error, quickly.
        let bomb = format!("{}x\n", "- ".repeat(200_000));
        assert!(roots(&bomb).remove(0).is_err());
    }

    #[test]
    fn aliases_expand_within_a_budget() {
        let root = roots("x: &p {port: 80}\ny: *p\n")
            .remove(0)
            .unwrap()
            .unwrap();
        assert_eq!(
            root.get("y").unwrap().get("port").unwrap().as_int(),
            Some(80)
        );

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let err = roots(&bomb).remove(0).unwrap_err();
        assert!(err.message.contains("more than"), "{err:?}");

        // Few nodes, long text: a 100 KB string (kept once by its anchor) aliased 200 times
        // passes the byte budget at the 167th alias, at column 5 + 4 × 166 of the second line.
        let long = |aliases: usize| {
            format!(
                "a: &a \"{}\"\nb: [{}]\n",
                "x".repeat(100_000),
                vec!["*a"; aliases].join(", ")
            )
        };
        let err = roots(&long(200)).remove(0).unwrap_err();
        assert!(err.message.contains("copy more than 16 MB"), "{err:?}");
        assert_eq!((err.line, err.column), (2, 5 + 4 * 166));
        assert!(roots(&long(160)).remove(0).is_ok());
        // Nested anchors each keep a copy: 20 anchors over a 1 MB string pass it too, without
        // an alias.
        let nested = |depth: usize| {
            format!(
                "a: {}\"{}\"{}\n",
                "&n [".repeat(depth),
                "x".repeat(1 << 20),
                "]".repeat(depth)
            )
        };
        let err = roots(&nested(20)).remove(0).unwrap_err();
        assert!(err.message.contains("copy more than 16 MB"), "{err:?}");
        assert!(roots(&nested(10)).remove(0).is_ok());
    }

    /// The documents of a text as (first line, joined line, text).
    fn parts(text: &str) -> Vec<(u32, Option<u32>, &str)> {
        parse_documents(text)
            .map(|d| (d.line, d.joined, &text[d.start..d.end]))
            .collect()
    }

    const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
    const POLICY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  podSelector: {}\n";

    #[test]
    fn objects_pasted_without_markers_are_separate_documents() {
        let text = format!("{NAMESPACE}{POLICY}{NAMESPACE}");
        assert_eq!(
            parts(&text),
            [
                (1, None, NAMESPACE),
                (5, Some(5), POLICY),
                (12, Some(12), NAMESPACE)
            ]
        );
        assert!(parse_documents(&text).all(|d| d.root.is_ok()));
        assert_eq!(
            split_documents(&text).as_deref(),
            Some(format!("{NAMESPACE}---\n{POLICY}---\n{NAMESPACE}").as_str())
        );
        // Once split, nothing is joined any more.
        let split = split_documents(&text).unwrap();
        assert!(parse_documents(&split).all(|d| d.joined.is_none()));
        assert_eq!(split_documents(&split), None);
    }

    #[test]
    fn a_header_comment_goes_with_the_object_below_it() {
        let text = format!("{NAMESPACE}\n# the policy\n# of shop\n{POLICY}");
        let found = parts(&text);
        assert_eq!(found[0], (1, None, &*format!("{NAMESPACE}\n")));
        assert_eq!(found[1].0, 6);
        assert_eq!(found[1].1, Some(8), "joined at the key, below the comments");
        assert!(found[1].2.starts_with("# the policy\n"));
        assert_eq!(
            split_documents(&text).unwrap(),
            format!("{NAMESPACE}\n---\n# the policy\n# of shop\n{POLICY}")
        );
    }

    #[test]
    fn a_second_object_may_start_with_kind_or_repeated_keys() {
        // `kind` first: split at the repeated `kind`.
        let kind_first = "kind: Namespace\napiVersion: v1\nmetadata:\n  name: a\n";
        let text = format!("{NAMESPACE}{kind_first}");
        assert_eq!(parts(&text)[1], (5, Some(5), kind_first));
        // `metadata` first: it repeats a key of the object above, so it belongs to the next.
        let metadata_first = "metadata:\n  name: b\nkind: Namespace\napiVersion: v1\n";
        let text = format!("{NAMESPACE}{metadata_first}");
        assert_eq!(parts(&text)[1], (5, Some(5), metadata_first));
    }

    #[test]
    fn the_header_pair_stays_together() {
        // The object above has no `apiVersion`: the next one's, right above its repeated `kind`,
        // still goes with it.
        let above = "kind: Namespace\nmetadata:\n  name: a\n";
        let next = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n";
        let text = format!("{above}{next}");
        assert_eq!(parts(&text), [(1, None, above), (4, Some(4), next)]);
    }

    #[test]
    fn only_a_repeated_top_level_header_splits() {
        // A key written twice is a duplicate, not a second object.
        let dup = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\nmetadata:\n  name: b\n";
        assert_eq!(parts(dup).len(), 1);
        assert!(roots(dup)[0].is_err());
        // Nested `apiVersion` keys (a List's items, a template) are not at column 1.
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n- apiVersion: v1\n  kind: Namespace\n";
        assert_eq!(parts(list).len(), 1);
        // Inside a block scalar: not keys (indented).
        let scalar = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a.yaml: |\n    apiVersion: v1\n    kind: Pod\n";
        assert_eq!(parts(scalar).len(), 1);
        // Nothing else can start at column 1 in a map: the parser rejects a quoted string or
        // a flow collection that continues there (which is why keys are read from the lines).
        for text in [
            "a: \"x\nkind: y\"\n",
            "a: [x,\nkind: y]\n",
            "a: {x: 1,\nkind: y}\n",
        ] {
            assert!(roots(text)[0].is_err(), "{text:?}");
        }
        // Markers already there: nothing joined.
        let marked = format!("{NAMESPACE}---\n{POLICY}...\n{NAMESPACE}");
        assert!(parts(&marked).iter().all(|(_, joined, _)| joined.is_none()));
        assert_eq!(split_documents(&marked), None);
    }

    #[test]
    fn many_repeated_keys_before_a_repeated_header_cost_no_square() {
        // An object of 20,000 keys pasted twice: the keys above the second `apiVersion` all
        // repeat; only a few go with it, and the walk back is not a scan per key.
        let keys: String = (0..20_000).map(|i| format!("k{i}: v\n")).collect();
        let text = format!("apiVersion: v1\n{keys}{keys}apiVersion: v1\n{keys}");
        let started = std::time::Instant::now();
        let found = parts(&text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].0, 40_002 - MAX_MOVED_KEYS as u32);
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn a_syntax_error_in_one_pasted_object_does_not_hide_the_next() {
        let broken = "apiVersion: v1\nkind: Namespace\nmetadata: [shop\n";
        let text = format!("{broken}{POLICY}");
        let docs: Vec<Document> = parse_documents(&text).collect();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].root.is_err());
        assert_eq!(docs[1].joined, Some(4));
        let policy = docs[1].root.clone().unwrap().unwrap();
        assert_eq!(policy.get("kind").unwrap().as_str(), Some("NetworkPolicy"));
    }

    #[test]
    fn the_page_inserts_the_markers_from_the_findings_lines() {
        let text = format!("{NAMESPACE}\n# the policy\n{POLICY}{NAMESPACE}");
        let joined: Vec<u32> = parse_documents(&text).filter_map(|d| d.joined).collect();
        assert_eq!(joined, [7, 14]);
        let fixed = insert_separators(&text, &joined);
        assert_eq!(Some(fixed.clone()), split_documents(&text));
        // Again, or with lines that no longer start an object: nothing more changes.
        assert_eq!(insert_separators(&fixed, &[8, 16]), fixed);
        assert_eq!(insert_separators(&text, &[2, 10, 0, 999]), text);
    }

    #[test]
    fn the_marker_takes_the_line_ending_of_the_text() {
        let text = format!("{NAMESPACE}{POLICY}").replace('\n', "\r\n");
        let split = split_documents(&text).unwrap();
        assert_eq!(
            split,
            format!("{NAMESPACE}---\n{POLICY}").replace('\n', "\r\n")
        );
    }

    #[test]
    fn json_parses_as_yaml() {
        let root = roots("{\"kind\": \"List\", \"items\": [{\"kind\": \"Pod\"}]}")
            .remove(0)
            .unwrap()
            .unwrap();
        let items = root.get("items").unwrap().as_seq().unwrap();
        assert_eq!(items[0].get("kind").unwrap().as_str(), Some("Pod"));
    }
}
