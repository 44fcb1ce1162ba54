//! A one-line text field that edits like a shell line (tui-input: a cursor, Left/Right, word
//! moves, Home/End, Delete, Ctrl-A/E/U/W/K/Y), used by every form, the `:` line, the filter,
//! the typed-phrase dialogs and the sign-in and password fields. Masked fields show bullets and
//! never appear in `Debug`.

use std::fmt;

use crossterm::event::{Event, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};
use unicode_width::UnicodeWidthChar;

#[derive(Clone, Default)]
pub struct TextField {
    input: Input,
    masked: bool,
}

impl fmt::Debug for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.masked {
            f.write_str("TextField(<masked>)")
        } else {
            f.debug_tuple("TextField").field(&self.input.value()).finish()
        }
    }
}

/// Whether a text field takes `key` as an edit (typing, moving, deleting, pasting back).
pub fn is_edit(key: &KeyEvent) -> bool {
    edit_request(key).is_some()
}

fn edit_request(key: &KeyEvent) -> Option<InputRequest> {
    // Terminals report Alt as ALT; tui-input's word moves (M-b, M-f, M-d) expect META.
    let mut key = *key;
    if key.modifiers == KeyModifiers::ALT {
        key.modifiers = KeyModifiers::META;
    }
    to_input_request(&Event::Key(key))
}

impl TextField {
    pub fn new(value: &str) -> TextField {
        TextField {
            input: Input::new(value.to_string()),
            masked: false,
        }
    }

    pub fn masked() -> TextField {
        TextField {
            input: Input::default(),
            masked: true,
        }
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.input.cursor()
    }

    pub fn is_masked(&self) -> bool {
        self.masked
    }

    /// Replaces the value, with the cursor at its end.
    pub fn set(&mut self, value: &str) {
        self.input = Input::new(value.to_string());
    }

    pub fn clear(&mut self) {
        self.input.reset();
    }

    /// Takes the value out, leaving the field empty (for passwords: moved, not copied).
    pub fn take(&mut self) -> String {
        self.input.value_and_reset()
    }

    /// Applies an editing key; false when the key is not an editing key.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        match edit_request(key) {
            Some(request) => {
                self.input.handle(request);
                true
            }
            None => false,
        }
    }

    /// Inserts pasted text at the cursor. A field is one line: line breaks and tabs become
    /// spaces and other invisible characters are dropped; the notice says so.
    pub fn paste(&mut self, text: &str) -> Option<String> {
        let mut changed = false;
        let mut lines = 1;
        let mut previous_cr = false;
        for c in text.chars() {
            let put = match c {
                '\n' if previous_cr => None,
                '\r' | '\n' | '\t' | '\u{2028}' | '\u{2029}' => {
                    if c != '\t' {
                        lines += 1;
                    }
                    changed = true;
                    Some(' ')
                }
                c if crate::text::is_hidden(c) => {
                    changed = true;
                    None
                }
                c => Some(c),
            };
            previous_cr = c == '\r';
            if let Some(c) = put {
                self.input.handle(InputRequest::InsertChar(c));
            }
        }
        match (changed, lines) {
            (false, _) => None,
            (true, 1) => {
                Some("Pasted text: tabs became spaces and invisible characters were dropped.".into())
            }
            (true, n) => Some(format!("Pasted {n} lines, joined into one with spaces.")),
        }
    }

    /// The field drawn in `width` columns: the part around the cursor, the cursor cell in
    /// reverse video when `focused`. Returns the spans and the cursor's column.
    pub fn spans(&self, width: usize, style: Style, focused: bool) -> (Vec<Span<'static>>, usize) {
        let width = width.max(1);
        let shown: Vec<(char, usize)> = if self.masked {
            (0..self.input.value().chars().count())
                .map(|_| ('•', 1))
                .collect()
        } else {
            self.input
                .value()
                .chars()
                .map(|c| {
                    let c = if crate::text::is_hidden(c) { '�' } else { c };
                    (c, c.width().unwrap_or(0))
                })
                .collect()
        };
        let cursor = self.input.cursor().min(shown.len());
        // Scroll so the cursor (one column past the end at most) stays in view.
        let before: usize = shown[..cursor].iter().map(|(_, w)| w).sum();
        let scroll = (before + 1).saturating_sub(width);
        let mut spans = Vec::new();
        let mut column = 0;
        let mut text = String::new();
        let mut cursor_column = 0;
        let mut skipped = 0;
        for (i, (c, w)) in shown.iter().enumerate() {
            if skipped < scroll {
                skipped += w;
                continue;
            }
            if column + w > width {
                break;
            }
            if i == cursor && focused {
                spans.push(Span::styled(std::mem::take(&mut text), style));
                spans.push(Span::styled(
                    c.to_string(),
                    style.add_modifier(Modifier::REVERSED),
                ));
                cursor_column = column;
            } else {
                text.push(*c);
            }
            column += w;
        }
        if cursor >= shown.len() {
            cursor_column = column;
        }
        spans.push(Span::styled(text, style));
        if focused && cursor >= shown.len() && column < width {
            spans.push(Span::styled(" ", style.add_modifier(Modifier::REVERSED)));
            column += 1;
        }
        if column < width {
            spans.push(Span::styled(" ".repeat(width - column), style));
        }
        (spans, cursor_column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn masked_fields_stay_out_of_debug() {
        let mut field = TextField::masked();
        field.paste("hunter2");
        assert_eq!(format!("{field:?}"), "TextField(<masked>)");
        let (spans, _) = field.spans(20, Style::new(), true);
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.starts_with("•••••••") && !text.contains("hunter2"));
    }

    #[test]
    fn the_view_follows_the_cursor() {
        let mut field = TextField::new("abcdefghij");
        let (spans, column) = field.spans(5, Style::new(), true);
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!((text.as_str(), column), ("ghij ", 4));
        field.edit(&key(KeyCode::Home, KeyModifiers::NONE));
        let (spans, column) = field.spans(5, Style::new(), true);
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!((text.as_str(), column), ("abcde", 0));
    }
}
