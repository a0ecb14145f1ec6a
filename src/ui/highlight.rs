//! A light YAML highlighter for the editor: keys, comments, quoted strings, document markers and
//! list dashes. It colours only the lines on screen, so a 1 MB paste costs no more than a short
//! one; every token is a text node, so nothing in the YAML is ever read as markup.

/// What a piece of a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Plain,
    Key,
    Comment,
    String,
    Marker,
    Dash,
}

impl Token {
    pub fn class(self) -> &'static str {
        match self {
            Token::Plain => "t-plain",
            Token::Key => "t-key",
            Token::Comment => "t-comment",
            Token::String => "t-string",
            Token::Marker => "t-marker",
            Token::Dash => "t-dash",
        }
    }
}

/// Splits one line into coloured pieces; their texts concatenate to the line.
pub fn tokens(line: &str) -> Vec<(Token, &str)> {
    let mut out = Vec::new();
    if line.starts_with("---") || line.starts_with("...") {
        out.push((Token::Marker, line));
        return out;
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let (lead, mut rest) = line.split_at(indent);
    if !lead.is_empty() {
        out.push((Token::Plain, lead));
    }
    // List dashes ("- - key: v").
    while let Some(after) = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
    {
        let dash_len = rest.len() - after.len();
        out.push((Token::Dash, &rest[..dash_len]));
        rest = after;
    }
    // A key: text up to the first `:` followed by a blank or the end, outside quotes.
    if let Some(colon) = key_end(rest) {
        out.push((Token::Key, &rest[..colon]));
        rest = &rest[colon..];
    }
    // The value: quoted strings and a trailing comment.
    let bytes = rest.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                let end = rest[i + 1..]
                    .find(q as char)
                    .map_or(rest.len(), |e| i + 1 + e + 1);
                if start < i {
                    out.push((Token::Plain, &rest[start..i]));
                }
                out.push((Token::String, &rest[i..end]));
                start = end;
                i = end;
            }
            b'#' if i == 0 || bytes[i - 1] == b' ' => {
                if start < i {
                    out.push((Token::Plain, &rest[start..i]));
                }
                out.push((Token::Comment, &rest[i..]));
                return out;
            }
            _ => i += 1,
        }
    }
    if start < rest.len() {
        out.push((Token::Plain, &rest[start..]));
    }
    out
}

/// The end of a mapping key at the start of `s` (index of its `:`), if there is one.
fn key_end(s: &str) -> Option<usize> {
    if s.starts_with('#')
        || s.starts_with('"')
        || s.starts_with('\'')
        || s.starts_with('{')
        || s.starts_with('[')
    {
        return None;
    }
    let bytes = s.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))
        .filter(|&i| i > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(Token, &str)> {
        tokens(line)
    }

    #[test]
    fn pieces_rebuild_the_line_and_are_classified() {
        for line in [
            "  - port: 9090 # app",
            "key: \"a # not a comment\"",
            "---",
            "- - x: 'y'",
            "  plain text",
            "",
            "-",
            "a:b: c",
        ] {
            let joined: String = tokens(line).iter().map(|(_, p)| *p).collect();
            assert_eq!(joined, line);
        }
        assert_eq!(
            kinds("  - port: 9090 # app"),
            [
                (Token::Plain, "  "),
                (Token::Dash, "- "),
                (Token::Key, "port"),
                (Token::Plain, ": 9090 "),
                (Token::Comment, "# app")
            ]
        );
        assert_eq!(
            kinds("k: \"a # b\""),
            [
                (Token::Key, "k"),
                (Token::Plain, ": "),
                (Token::String, "\"a # b\"")
            ]
        );
        assert_eq!(kinds("--- # doc"), [(Token::Marker, "--- # doc")]);
    }
}
