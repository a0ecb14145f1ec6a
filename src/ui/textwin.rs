//! The editor's model, free of the DOM: where each line starts, which lines the textarea holds
//! (a window around the view once the text is long, because Chromium's textarea costs about a
//! second of layout per megabyte and 70 ms per keystroke at 1.35 MB), offsets between the text's
//! bytes and the DOM's UTF-16 units, and the undo history (the browser's own is lost each time
//! the textarea's value is set, which the window does as it moves).

/// Texts up to this many lines sit whole in the textarea (a few milliseconds per keystroke);
/// longer ones are windowed.
pub const WHOLE_LINES: usize = 2_000;
/// Lines kept above and below the view in a window.
pub const MARGIN: usize = 250;
/// The window moves when the view or the caret comes this close to its edge.
pub const SLACK: usize = 80;

/// Where each line of a text starts, and how wide the widest is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lines {
    starts: Vec<usize>,
    len: usize,
    widest: usize,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut widest = 0;
        let mut tabs = 0;
        for (i, b) in text.bytes().enumerate() {
            match b {
                b'\n' => {
                    let start = *starts.last().unwrap_or(&0);
                    widest = widest.max(i - start + tabs);
                    tabs = 0;
                    starts.push(i + 1);
                }
                // Drawn two columns wide (tab-size: 2).
                b'\t' => tabs += 1,
                _ => {}
            }
        }
        let last = *starts.last().unwrap_or(&0);
        Lines {
            widest: widest.max(text.len() - last + tabs),
            starts,
            len: text.len(),
        }
    }

    /// Lines in the text; a final newline starts one more (empty) line, as editors show it.
    pub fn count(&self) -> usize {
        self.starts.len()
    }

    /// Columns of the widest line (bytes, so at least its characters; tabs count two).
    pub fn widest(&self) -> usize {
        self.widest
    }

    /// Byte range of a line (0-based), without its newline.
    pub fn range(&self, line: usize) -> (usize, usize) {
        let line = line.min(self.count() - 1);
        let end = self.starts.get(line + 1).map_or(self.len, |next| next - 1);
        (self.starts[line], end)
    }

    /// The line (0-based) holding a byte offset.
    pub fn line_of(&self, byte: usize) -> usize {
        self.starts.partition_point(|&s| s <= byte) - 1
    }
}

/// The lines the textarea holds: `first..end` (0-based, end exclusive), bytes `start..stop` of
/// the text (the newline before line `end` stays outside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Window {
    pub first: usize,
    pub end: usize,
    pub start: usize,
    pub stop: usize,
}

impl Window {
    pub fn of(lines: &Lines, first: usize, end: usize) -> Self {
        let end = end.clamp(first + 1, lines.count());
        Window {
            first,
            end,
            start: lines.range(first).0,
            stop: lines.range(end - 1).1,
        }
    }

    /// Whether the textarea holds the whole text.
    pub fn is_whole(&self, lines: &Lines) -> bool {
        self.first == 0 && self.end == lines.count()
    }

    /// The window for a view of lines `view.0..view.1` that must also hold the lines of `keep`
    /// (the selection's ends): the whole text when it is short.
    pub fn around(lines: &Lines, view: (usize, usize), keep: &[usize]) -> Self {
        let count = lines.count();
        if count <= WHOLE_LINES {
            return Window::of(lines, 0, count);
        }
        let low = keep.iter().copied().fold(view.0, usize::min);
        let high = keep.iter().copied().fold(view.1, usize::max);
        Window::of(lines, low.saturating_sub(MARGIN), high + MARGIN)
    }

    /// Whether lines `low..high` sit inside the window with room to spare (or the window
    /// reaches the text's edge on that side).
    pub fn holds(&self, lines: &Lines, low: usize, high: usize) -> bool {
        (self.first == 0 || low >= self.first + SLACK)
            && (self.end == lines.count() || high + SLACK <= self.end)
    }
}

/// Byte offset in `text` of a UTF-16 offset (as the DOM counts), clamped to the text.
pub fn byte_at(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// UTF-16 offset of a byte offset in `text` (a byte inside a character counts from its start).
pub fn utf16_at(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].encode_utf16().count()
}

/// One change of the text: at byte `at`, `removed` was replaced by `inserted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub at: usize,
    pub removed: String,
    pub inserted: String,
}

impl Edit {
    /// The edit that turns `old` into `new`, found by their common start and end; `None` when
    /// they are equal.
    pub fn between(old: &str, new: &str) -> Option<Edit> {
        if old == new {
            return None;
        }
        let mut head = old
            .bytes()
            .zip(new.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        while !old.is_char_boundary(head) || !new.is_char_boundary(head) {
            head -= 1;
        }
        let room = old.len().min(new.len()) - head;
        let mut tail = old
            .bytes()
            .rev()
            .zip(new.bytes().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        while !old.is_char_boundary(old.len() - tail) || !new.is_char_boundary(new.len() - tail) {
            tail -= 1;
        }
        Some(Edit {
            at: head,
            removed: old[head..old.len() - tail].to_string(),
            inserted: new[head..new.len() - tail].to_string(),
        })
    }

    /// Applies the edit to `text`; false (and nothing changed) when it does not fit there.
    pub fn apply(&self, text: &mut String) -> bool {
        let end = self.at + self.removed.len();
        let fits = text.get(self.at..end) == Some(self.removed.as_str());
        if fits {
            text.replace_range(self.at..end, &self.inserted);
        }
        fits
    }

    fn inverse(&self) -> Edit {
        Edit {
            at: self.at,
            removed: self.inserted.clone(),
            inserted: self.removed.clone(),
        }
    }

    fn size(&self) -> usize {
        self.removed.len() + self.inserted.len()
    }
}

/// Typing within this many milliseconds of the last keystroke joins its undo step.
const JOIN_MS: f64 = 1_000.0;
/// The undo history forgets its oldest steps past this many bytes of text.
const HISTORY_BYTES: usize = 64 << 20;

/// Undo and redo, as edits of the whole text.
#[derive(Debug, Default)]
pub struct History {
    undo: Vec<(Edit, f64)>,
    redo: Vec<Edit>,
    bytes: usize,
}

impl History {
    /// Records an edit made at time `now` (milliseconds); typing a word is one step.
    pub fn record(&mut self, edit: Edit, now: f64) {
        self.redo.clear();
        if let Some((last, when)) = self.undo.last_mut() {
            // Typing on, also after a replaced selection.
            let typing = edit.removed.is_empty()
                && edit.at == last.at + last.inserted.len()
                && !edit.inserted.contains('\n')
                && !last.inserted.contains('\n')
                && now - *when < JOIN_MS;
            if typing {
                self.bytes += edit.inserted.len();
                last.inserted.push_str(&edit.inserted);
                *when = now;
                return;
            }
        }
        self.bytes += edit.size();
        self.undo.push((edit, now));
        while self.bytes > HISTORY_BYTES && self.undo.len() > 1 {
            let (old, _) = self.undo.remove(0);
            self.bytes -= old.size();
        }
    }

    /// Undoes the last step on `text`; the byte range of what it put back.
    pub fn undo(&mut self, text: &mut String) -> Option<(usize, usize)> {
        let (edit, _) = self.undo.pop()?;
        self.bytes -= edit.size();
        let back = edit.inverse();
        if !back.apply(text) {
            self.clear();
            return None;
        }
        self.redo.push(edit);
        Some((back.at, back.at + back.inserted.len()))
    }

    /// Redoes the last undone step on `text`; the byte range of what it put in.
    pub fn redo(&mut self, text: &mut String) -> Option<(usize, usize)> {
        let edit = self.redo.pop()?;
        if !edit.apply(text) {
            self.clear();
            return None;
        }
        let range = (edit.at, edit.at + edit.inserted.len());
        self.bytes += edit.size();
        self.undo.push((edit, f64::NEG_INFINITY));
        Some(range)
    }

    fn clear(&mut self) {
        *self = History::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_count_like_an_editor() {
        let l = Lines::new("a\nbb\n");
        assert_eq!(l.count(), 3);
        assert_eq!(l.range(0), (0, 1));
        assert_eq!(l.range(1), (2, 4));
        assert_eq!(l.range(2), (5, 5));
        assert_eq!(l.line_of(0), 0);
        assert_eq!(l.line_of(1), 0);
        assert_eq!(l.line_of(2), 1);
        assert_eq!(l.line_of(5), 2);
        assert_eq!(l.widest(), 2);
        assert_eq!(Lines::new("").count(), 1);
        assert_eq!(Lines::new("\t\tx").widest(), 5);
    }

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn short_texts_are_whole_long_ones_windowed_around_view_and_selection() {
        let short = numbered(WHOLE_LINES - 1);
        let lines = Lines::new(&short);
        let w = Window::around(&lines, (500, 530), &[]);
        assert!(w.is_whole(&lines));
        assert_eq!((w.start, w.stop), (0, short.len()));

        let long = numbered(50_000);
        let lines = Lines::new(&long);
        let w = Window::around(&lines, (10_000, 10_030), &[]);
        assert_eq!((w.first, w.end), (10_000 - MARGIN, 10_030 + MARGIN));
        assert!(long[w.start..w.stop].starts_with(&format!("line {}\n", 10_001 - MARGIN)));
        assert!(long[w.start..w.stop].ends_with(&format!("line {}", 10_030 + MARGIN)));
        assert!(w.holds(&lines, 10_000, 10_030));
        assert!(!w.holds(&lines, 10_000 + MARGIN, 10_030 + MARGIN));
        // A selection far above the view stays inside.
        let w = Window::around(&lines, (10_000, 10_030), &[20]);
        assert_eq!(w.first, 0);
        // At the end: the last (empty) line is in, and the window reaches the text's end.
        let w = Window::around(&lines, (49_990, 50_001), &[]);
        assert_eq!((w.end, w.stop), (50_001, long.len()));
        assert!(w.holds(&lines, 49_990, 50_001));
    }

    #[test]
    fn offsets_between_bytes_and_utf16() {
        let s = "aé😀b";
        assert_eq!(utf16_at(s, 0), 0);
        assert_eq!(utf16_at(s, 1), 1);
        assert_eq!(utf16_at(s, 3), 2);
        assert_eq!(utf16_at(s, 7), 4);
        assert_eq!(utf16_at(s, 5), 2, "inside the emoji counts from its start");
        assert_eq!(byte_at(s, 4), 7);
        assert_eq!(byte_at(s, 5), 8);
        assert_eq!(byte_at(s, 99), 8);
    }

    #[test]
    fn typing_joins_one_undo_step_a_newline_starts_another() {
        let mut text = String::from("ab");
        let mut h = History::default();
        for (i, c) in ["x", "y", "\n", "z"].iter().enumerate() {
            let old = text.clone();
            text.insert_str(1 + i, c);
            h.record(Edit::between(&old, &text).unwrap(), i as f64 * 100.0);
        }
        assert_eq!(text, "axy\nzb");
        assert_eq!(h.undo(&mut text), Some((4, 4)));
        assert_eq!(text, "axy\nb");
        assert_eq!(h.undo(&mut text), Some((3, 3)));
        assert_eq!(h.undo(&mut text), Some((1, 1)));
        assert_eq!(text, "ab");
        assert_eq!(h.undo(&mut text), None);
        assert_eq!(h.redo(&mut text), Some((1, 3)));
        assert_eq!(text, "axyb");
        // Typing over a selection and on is one step.
        h.record(Edit::between("axyb", "aZyb").unwrap(), 5_000.0);
        h.record(Edit::between("aZyb", "aZZyb").unwrap(), 5_100.0);
        text = "aZZyb".to_string();
        assert_eq!(h.undo(&mut text), Some((1, 2)));
        assert_eq!(text, "axyb");
        // A new edit forgets what could be redone.
        h.record(Edit::between("axyb", "axyb!").unwrap(), 10_000.0);
        text.push('!');
        assert_eq!(h.redo(&mut text), None);
    }

    proptest! {
        #[test]
        fn edits_between_texts_apply_and_undo(old in "[aé\n😀 ]{0,40}", new in "[aé\n😀 ]{0,40}") {
            let mut text = old.clone();
            let mut h = History::default();
            if let Some(edit) = Edit::between(&old, &new) {
                prop_assert!(edit.apply(&mut text));
                prop_assert_eq!(&text, &new);
                h.record(edit, 0.0);
                prop_assert!(h.undo(&mut text).is_some());
                prop_assert_eq!(&text, &old);
                prop_assert!(h.redo(&mut text).is_some());
                prop_assert_eq!(&text, &new);
            } else {
                prop_assert_eq!(&old, &new);
            }
        }

        #[test]
        fn windows_hold_whole_lines(text in "[ab\n]{0,60}", first in 0usize..30, len in 1usize..30) {
            let lines = Lines::new(&text);
            let first = first.min(lines.count() - 1);
            let w = Window::of(&lines, first, first + len);
            let expected: Vec<&str> = text.split('\n').skip(first).take(w.end - w.first).collect();
            prop_assert_eq!(&text[w.start..w.stop], expected.join("\n"));
            prop_assert_eq!(lines.line_of(w.start), first);
        }
    }
}
