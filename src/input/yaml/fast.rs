//! A fast path for the YAML that Kubernetes manifests are written in.
//!
//! `saphyr-parser` reads every character through a general scanner, about 300 instructions a
//! byte: 40 % of `check` on a large cluster. Manifests use a small part of YAML: block maps and
//! sequences (`key:` followed by `- item` at the same indentation included), one-line plain and
//! quoted scalars, comments and one-line flow collections (`{}`, `[TCP, UDP]`, `{a: b}`). This
//! module reads that subset line by line and builds the tree, spans included, that
//! [`super::parse_document`] builds from saphyr's events: quirks kept (a quoted scalar's span
//! runs over the blanks and the comment after it, an empty value sits at its `:`).
//!
//! It answers `None` as soon as the text leaves the subset (anchors, aliases, tags, block and
//! multi-line scalars, tabs, carriage returns, odd indentation, duplicate keys, anything that
//! could be a syntax error) and the caller then runs saphyr, so every error, its message and every
//! unusual construct still come from saphyr. `tests/yaml_fast.rs` and the fuzz target
//! `yaml_fast` hold the two to the same trees.

use super::{MAX_NODES_PER_DOCUMENT, Node, Span, Value};

/// Nesting past which the fast path leaves the document to saphyr (whose path reports
/// [`super::MAX_DEPTH`]); it also bounds this module's recursion.
const MAX_FAST_DEPTH: usize = 64;

/// Longer keys (in bytes) go to saphyr, which stops looking for a simple key's `:` after 1,024
/// characters.
const MAX_KEY_BYTES: usize = 1000;

/// Maps with more keys check them for duplicates by sorting rather than by pairs.
const SCAN_KEYS: usize = 16;

/// The root of the document `chunk` (found at byte `base` and line `first_line` of the source),
/// `Some(None)` for a document of comments, or `None` when the document is not in the subset
/// this module reads exactly.
pub fn parse(chunk: &str, base: usize, first_line: u32) -> Option<Option<Node>> {
    let mut p = Fast {
        text: chunk,
        bytes: chunk.as_bytes(),
        base,
        line_base: first_line.checked_sub(1)?,
        ascii: true,
        start: 0,
        content: 0,
        end: 0,
        line: 0,
        next: 0,
        eof: false,
        nodes: 0,
        entries: Vec::with_capacity(16),
        items: Vec::with_capacity(16),
    };
    p.advance()?;
    if p.eof {
        return Some(None);
    }
    let root = p.block(p.content, 0)?;
    // A line less indented than the root is left: an error.
    p.eof.then_some(Some(root))
}

/// The reader: the document's text and its current line, the first one with content that is not
/// read yet.
struct Fast<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the document in the source.
    base: usize,
    /// The source's line before the document's first.
    line_base: u32,
    /// The current line is ASCII (columns are byte offsets).
    ascii: bool,
    /// Where the current line starts, where its content starts (after its indentation) and
    /// where it ends (at its `\n` or the end of the text).
    start: usize,
    content: usize,
    end: usize,
    /// 1-based number of the current line in the document.
    line: u32,
    /// Where the line after the current one starts.
    next: usize,
    /// No line with content is left.
    eof: bool,
    /// Nodes made so far.
    nodes: usize,
    /// The entries and items of the collections being read, innermost last (each collection
    /// then takes its own in a vector of the right size).
    entries: Vec<(Node, Node)>,
    items: Vec<Node>,
}

impl Fast<'_> {
    /// Moves to the next line with content, over blank and comment lines; `None` at a document
    /// marker or directive (the document's own first `---` line aside) or at a line with a
    /// character saphyr has rules of its own for (tabs, carriage returns, NUL, BOMs, other
    /// control characters and line separators).
    fn advance(&mut self) -> Option<()> {
        let b = self.bytes;
        while self.next < b.len() {
            let start = self.next;
            let (end, ascii) = line_end(b, start)?;
            if !ascii && self.text.get(start..end)?.chars().any(odd) {
                return None;
            }
            self.ascii = ascii;
            self.next = end + 1;
            self.line += 1;
            let line = &b[start..end];
            if line.starts_with(b"---") || line.starts_with(b"...") || line.starts_with(b"%") {
                if start == 0 && line.starts_with(b"---") && blank_rest(&line[3..]) {
                    continue;
                }
                return None;
            }
            let content = start + line.iter().take_while(|&&c| c == b' ').count();
            if content == end || b[content] == b'#' {
                continue;
            }
            (self.start, self.content, self.end) = (start, content, end);
            return Some(());
        }
        self.eof = true;
        Some(())
    }

    /// Indentation of the current line.
    fn indent(&self) -> usize {
        self.content - self.start
    }

    /// Whether the current line goes on deeper than `col` (when nothing may).
    fn deeper(&self, col: usize) -> bool {
        !self.eof && self.indent() > col
    }

    /// The byte at `i` of the current line, 0 at its end.
    fn byte(&self, i: usize) -> u8 {
        if i < self.end { self.bytes[i] } else { 0 }
    }

    /// Whether `i` is a blank or the end of the current line.
    fn blank_or_end(&self, i: usize) -> bool {
        matches!(self.byte(i), b' ' | 0)
    }

    /// Whether a `- ` entry starts at `i`.
    fn dash(&self, i: usize) -> bool {
        self.byte(i) == b'-' && self.blank_or_end(i + 1)
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.byte(i) == b' ' {
            i += 1;
        }
        i
    }

    /// Where saphyr's token ends after `i`: over blanks and a comment to the end of the line
    /// (`None` for a `#` with no blank before it, an error).
    fn ws_end(&self, i: usize) -> Option<usize> {
        let j = self.skip_spaces(i);
        match self.byte(j) {
            b'#' if j > i => Some(self.end),
            b'#' => None,
            _ => Some(j),
        }
    }

    /// The span from `start` to `end`, which start on the current line.
    fn span(&self, start: usize, end: usize) -> Span {
        let before = &self.bytes[self.start..start];
        let column = if self.ascii {
            before.len()
        } else {
            before.iter().filter(|&&c| c & 0xc0 != 0x80).count()
        };
        Span {
            start: self.base + start,
            end: self.base + end,
            line: self.line_base + self.line,
            column: column as u32 + 1,
        }
    }

    /// A new node (counted against [`MAX_NODES_PER_DOCUMENT`]).
    fn node(&mut self, value: Value, span: Span) -> Option<Node> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES_PER_DOCUMENT).then_some(Node { value, span })
    }

    fn scalar_node(&mut self, text: &str, plain: bool, start: usize, end: usize) -> Option<Node> {
        let value = Value::Scalar {
            text: text.to_string(),
            plain,
        };
        self.node(value, self.span(start, end))
    }

    /// The block collection starting at `at`, the content of the current line (a value written
    /// below its key or its `-`, or the root).
    fn block(&mut self, at: usize, depth: usize) -> Option<Node> {
        if self.dash(at) {
            return self.seq(at, self.indent(), depth, false);
        }
        let (key, colon) = self.key(at)?;
        self.map(key, colon, self.indent(), depth)
    }

    /// A key at `at`: a scalar followed by `:` and a blank; the key and where its `:` is.
    fn key(&mut self, at: usize) -> Option<(Node, usize)> {
        let (key, after) = self.scalar(at)?;
        (after - at <= MAX_KEY_BYTES && self.byte(after) == b':' && self.blank_or_end(after + 1))
            .then_some((key, after))
    }

    /// A block map at column `col` whose first key is read (its `:` at `colon`).
    fn map(&mut self, first: Node, colon: usize, col: usize, depth: usize) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let start = first.span;
        let mark = self.entries.len();
        let (mut key, mut colon) = (first, colon);
        loop {
            let value = self.value(colon, col, depth + 1)?;
            self.entries.push((key, value));
            if self.eof || self.indent() < col {
                break;
            }
            if self.indent() > col || self.dash(self.content) {
                return None;
            }
            (key, colon) = self.key(self.content)?;
        }
        self.map_node(mark, start)
    }

    /// The map of the entries above `mark` on the stack, starting at `start` and ending with its
    /// last value (`None` with duplicate keys).
    fn map_node(&mut self, mark: usize, start: Span) -> Option<Node> {
        let entries = self.entries.get(mark..)?;
        if duplicates(entries) {
            return None;
        }
        let end = entries.last()?.1.span.end;
        let entries = self.entries.split_off(mark);
        self.node(Value::Map(entries), Span { end, ..start })
    }

    /// The sequence of the items above `mark` on the stack, as [`Self::map_node`].
    fn seq_node(&mut self, mark: usize, start: Span) -> Option<Node> {
        let end = self.items.get(mark..)?.last()?.span.end;
        let items = self.items.split_off(mark);
        self.node(Value::Seq(items), Span { end, ..start })
    }

    /// The value of the key whose `:` is at `colon`, in a map at column `col`: on the same line,
    /// below it (more indented, or a `- ` list at the key's column) or empty.
    fn value(&mut self, colon: usize, col: usize, depth: usize) -> Option<Node> {
        let at = self.skip_spaces(colon + 1);
        if !matches!(self.byte(at), b'#' | 0) {
            return self.inline(at, col, depth, false);
        }
        // An empty value sits at its `:`.
        let empty = self.span(colon, colon);
        self.advance()?;
        if self.deeper(col) {
            return self.block(self.content, depth);
        }
        if !self.eof && self.indent() == col && self.dash(self.content) {
            return self.seq(self.content, col, depth, true);
        }
        self.node(
            Value::Scalar {
                text: String::new(),
                plain: true,
            },
            empty,
        )
    }

    /// A block sequence whose first `-` is at `at`, at column `col`. Written at its parent key's
    /// column (`indentless`), it starts where its first entry's content does, as in saphyr.
    fn seq(&mut self, at: usize, col: usize, depth: usize, indentless: bool) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let mark = self.items.len();
        let mut start = None;
        let mut at = at;
        loop {
            let p = self.skip_spaces(at + 1);
            let inline = !matches!(self.byte(p), b'#' | 0);
            // Where saphyr's entry token is: at the content, or at the end of the line.
            let mark = if inline { p } else { self.end };
            let mark = self.span(mark, mark);
            if start.is_none() {
                start = Some(if indentless { mark } else { self.span(at, at) });
            }
            let item = if inline {
                self.inline(p, col, depth + 1, true)?
            } else {
                self.advance()?;
                if self.deeper(col) {
                    self.block(self.content, depth + 1)?
                } else {
                    self.node(
                        Value::Scalar {
                            text: String::new(),
                            plain: true,
                        },
                        mark,
                    )?
                }
            };
            self.items.push(item);
            if self.eof || self.indent() < col {
                break;
            }
            if self.indent() > col {
                return None;
            }
            if !self.dash(self.content) {
                if indentless {
                    break;
                }
                return None;
            }
            at = self.content;
        }
        self.seq_node(mark, start?)
    }

    /// The node written at `at` after a `key: ` or a `- ` of a collection at column `col`, to the
    /// end of its line: a scalar, a flow collection, or after a `- ` a nested block collection
    /// (`- - a`, `- key: value`).
    fn inline(&mut self, at: usize, col: usize, depth: usize, in_seq: bool) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let (mut node, after) = match self.byte(at) {
            b'-' if in_seq && self.dash(at) => {
                return self.seq(at, at - self.start, depth, false);
            }
            b'[' | b'{' => self.flow(at, depth)?,
            _ => self.scalar(at)?,
        };
        let scalar = matches!(node.value, Value::Scalar { .. });
        if self.byte(after) == b':' && self.blank_or_end(after + 1) {
            // A map in a sequence's entry (the entry's prefix is `- ` and blanks: ASCII).
            if !in_seq || !scalar || after - at > MAX_KEY_BYTES {
                return None;
            }
            return self.map(node, after, at - self.start, depth);
        }
        let end = self.ws_end(after)?;
        if end != self.end {
            return None;
        }
        // Quoted scalars end where saphyr's token does, over blanks and comment.
        if matches!(node.value, Value::Scalar { plain: false, .. }) {
            node.span.end = self.base + end;
        }
        self.advance()?;
        // A deeper line would continue the scalar (or be an error).
        (!self.deeper(col)).then_some(node)
    }

    /// A plain or quoted scalar at `at` (block context), and where it ends.
    fn scalar(&mut self, at: usize) -> Option<(Node, usize)> {
        match self.byte(at) {
            b'"' | b'\'' => self.quoted(at),
            b'-' | b'?' | b':' if self.blank_or_end(at + 1) => None,
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%'
            | b'@' | b'`' | 0 => None,
            _ => {
                let end = self.plain_end(at);
                let node = self.scalar_node(self.text.get(at..end)?, true, at, end)?;
                Some((node, end))
            }
        }
    }

    /// Where a plain scalar (block context) starting at `at` ends: before `: `, ` #`, or blanks
    /// at the end of the line.
    fn plain_end(&self, at: usize) -> usize {
        let line = &self.bytes[at..self.end];
        let (mut i, mut end) = (0, 0);
        while let Some(&c) = line.get(i) {
            match c {
                b' ' => {
                    while line.get(i) == Some(&b' ') {
                        i += 1;
                    }
                    if matches!(line.get(i), None | Some(b'#')) {
                        break;
                    }
                }
                b':' if matches!(line.get(i + 1), None | Some(b' ')) => break,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        at + end
    }

    /// A quoted scalar at `at`, closed on its line, and where its closing quote ends.
    fn quoted(&mut self, at: usize) -> Option<(Node, usize)> {
        let quote = self.byte(at);
        let mut text = String::new();
        let (mut from, mut i) = (at + 1, at + 1);
        loop {
            match self.byte(i) {
                0 => return None,
                b'\'' if quote == b'\'' && self.byte(i + 1) == b'\'' => {
                    text.push_str(self.text.get(from..=i)?);
                    i += 2;
                    from = i;
                }
                c if c == quote => break,
                b'\\' if quote == b'"' => {
                    text.push_str(self.text.get(from..i)?);
                    let (c, len) = escape(&self.bytes[i + 1..self.end])?;
                    text.push(c);
                    i += 1 + len;
                    from = i;
                }
                _ => i += 1,
            }
        }
        text.push_str(self.text.get(from..i)?);
        let value = Value::Scalar { text, plain: false };
        let node = self.node(value, self.span(at, i + 1))?;
        Some((node, i + 1))
    }

    /// A flow collection at `at` (`[` or `{`), closed on its line, and where it ends.
    fn flow(&mut self, at: usize, depth: usize) -> Option<(Node, usize)> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let is_map = self.byte(at) == b'{';
        let close = if is_map { b'}' } else { b']' };
        let mut start = self.span(at, at);
        let mut i = self.skip_spaces(at + 1);
        if self.byte(i) == close {
            // Empty: saphyr's end token runs over the blanks and comment after it.
            start.end = self.base + self.ws_end(i + 1)?;
            let value = if is_map {
                Value::Map(Vec::new())
            } else {
                Value::Seq(Vec::new())
            };
            return Some((self.node(value, start)?, i + 1));
        }
        let mark = if is_map {
            self.entries.len()
        } else {
            self.items.len()
        };
        let after = loop {
            let (item, mut after) = self.flow_item(i, depth + 1)?;
            if is_map {
                if !matches!(item.value, Value::Scalar { .. })
                    || self.byte(after) != b':'
                    || self.byte(after + 1) != b' '
                {
                    return None;
                }
                let (value, end) = self.flow_item(self.skip_spaces(after + 1), depth + 1)?;
                self.entries.push((item, value));
                after = end;
            } else {
                self.items.push(item);
            }
            let j = self.skip_spaces(after);
            match self.byte(j) {
                b',' => {
                    i = self.skip_spaces(j + 1);
                    if matches!(self.byte(i), b']' | b'}' | b',') {
                        return None;
                    }
                }
                c if c == close => break j + 1,
                _ => return None,
            }
        };
        let node = if is_map {
            self.map_node(mark, start)?
        } else {
            self.seq_node(mark, start)?
        };
        Some((node, after))
    }

    /// An entry of a flow collection at `at`: a flow collection or a scalar, and where it ends
    /// (a quoted scalar's span runs over the blanks after it).
    fn flow_item(&mut self, at: usize, depth: usize) -> Option<(Node, usize)> {
        match self.byte(at) {
            b'[' | b'{' => self.flow(at, depth),
            b'"' | b'\'' => {
                let (mut node, after) = self.quoted(at)?;
                node.span.end = self.base + self.skip_spaces(after);
                Some((node, after))
            }
            c if c.is_ascii_alphanumeric()
                || c >= 0x80
                || matches!(
                    c,
                    b'_' | b'.' | b'/' | b'~' | b'+' | b'$' | b'(' | b'=' | b'^'
                )
                || (c == b'-' && self.byte(at + 1).is_ascii_alphanumeric()) =>
            {
                let end = self.flow_plain_end(at)?;
                let node = self.scalar_node(self.text.get(at..end)?, true, at, end)?;
                Some((node, end))
            }
            _ => None,
        }
    }

    /// Where a plain scalar in a flow collection ends: before `,[]{}`, `: `, `:` before one of
    /// those, or blanks before one of those or a `#`. `None` where saphyr has rules of its own.
    fn flow_plain_end(&self, at: usize) -> Option<usize> {
        let (mut i, mut end) = (at, at);
        loop {
            match self.byte(i) {
                0 | b',' | b'[' | b']' | b'{' | b'}' => return Some(end),
                b' ' => {
                    i = self.skip_spaces(i);
                    if matches!(self.byte(i), 0 | b',' | b']' | b'}' | b'#' | b':') {
                        return Some(end);
                    }
                }
                b':' if matches!(
                    self.byte(i + 1),
                    0 | b' ' | b',' | b'[' | b']' | b'{' | b'}'
                ) =>
                {
                    return Some(end);
                }
                b'-' if matches!(self.byte(i + 1), b',' | b'[' | b']' | b'{' | b'}') => {
                    return None;
                }
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
    }
}

/// Where the line that starts at `start` ends (at its `\n` or the end of the text) and whether it
/// is ASCII; `None` when it holds an ASCII control character (a tab, a carriage return, NUL...).
fn line_end(b: &[u8], start: usize) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let (mut i, mut ascii) = (start, true);
    loop {
        // Eight bytes at a time while all are printable ASCII (none below a blank, above `~`).
        while let Some(word) = b.get(i..i + 8) {
            let x = u64::from_le_bytes(word.try_into().ok()?);
            let below = x.wrapping_sub(ONES * 0x20) & !x;
            let del = (x & !HIGH) + ONES;
            if (x | below | del) & HIGH != 0 {
                break;
            }
            i += 8;
        }
        match b.get(i) {
            None | Some(b'\n') => return Some((i, ascii)),
            Some(0..=0x1f | 0x7f) => return None,
            Some(0x80..) => ascii = false,
            _ => {}
        }
        i += 1;
    }
}

/// Characters saphyr has rules of its own for, beyond the ASCII ones (control characters, BOMs,
/// line separators, non-characters).
fn odd(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Whether `rest` (after a `---` at the start of a line) leaves it a document marker with
/// nothing on its line: blanks, maybe a comment.
fn blank_rest(rest: &[u8]) -> bool {
    match rest.first() {
        None => true,
        Some(b' ') => matches!(rest.iter().find(|&&c| c != b' '), None | Some(b'#')),
        _ => false,
    }
}

/// The character of a double-quoted scalar's escape (`rest` follows its `\`), and the bytes it
/// takes; `None` for an escape saphyr rejects or one that continues the line.
fn escape(rest: &[u8]) -> Option<(char, usize)> {
    let digits = match rest.first()? {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        c => {
            let c = match c {
                b'0' => '\0',
                b'a' => '\x07',
                b'b' => '\x08',
                b't' => '\t',
                b'n' => '\n',
                b'v' => '\x0b',
                b'f' => '\x0c',
                b'r' => '\r',
                b'e' => '\x1b',
                b' ' => ' ',
                b'"' => '"',
                b'/' => '/',
                b'\\' => '\\',
                b'N' => '\u{85}',
                b'_' => '\u{a0}',
                b'L' => '\u{2028}',
                b'P' => '\u{2029}',
                _ => return None,
            };
            return Some((c, 1));
        }
    };
    let code = rest
        .get(1..1 + digits)?
        .iter()
        .try_fold(0, |code, &c| Some(code << 4 | char::from(c).to_digit(16)?))?;
    Some((char::from_u32(code)?, 1 + digits))
}

/// Whether two keys of a map are written alike (saphyr's path then reports a duplicate, or at
/// least could: the fast path leaves the document to it).
fn duplicates(entries: &[(Node, Node)]) -> bool {
    fn key((k, _): &(Node, Node)) -> &str {
        match &k.value {
            Value::Scalar { text, .. } => text,
            _ => "",
        }
    }
    if entries.len() <= SCAN_KEYS {
        return entries
            .iter()
            .enumerate()
            .any(|(i, a)| entries[..i].iter().any(|b| key(a) == key(b)));
    }
    let mut keys: Vec<&str> = entries.iter().map(key).collect();
    crate::sort::sort(&mut keys);
    keys.windows(2).any(|w| w[0] == w[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_are_found_eight_bytes_at_a_time_and_controls_at_any_place() {
        for len in 0..20 {
            for at in 0..len {
                let mut line = vec![b'a'; len];
                line[at] = b'\n';
                assert_eq!(line_end(&line, 0), Some((at, true)), "{len} {at}");
                for c in [b'\t', b'\r', 0, 0x1f, 0x7f] {
                    line[at] = c;
                    assert_eq!(line_end(&line, 0), None, "{len} {at} {c}");
                }
                line[at] = 0xc3;
                let (end, ascii) = line_end(&line, 0).unwrap();
                assert_eq!((end, ascii), (len, false));
            }
            assert_eq!(line_end(&vec![b'~'; len], 0), Some((len, true)));
        }
    }
}
