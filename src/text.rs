//! Text that came from outside (names, URL segments, typed fields, files) on its way to a
//! terminal or a log: control characters and characters that draw as nothing are shown as
//! escapes, so nothing outside can move the cursor, set the clipboard (OSC 52), retitle the
//! window or forge a line.

use std::borrow::Cow;

/// Characters that would let text look like something it is not: controls, and Unicode's
/// default-ignorable code points — zero-width and joiner characters, bidirectional marks and
/// overrides, Hangul fillers, variation selectors, tags — which draw as nothing.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2028}' | '\u{2029}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// `text` with every hidden character written as a visible `\u{…}` escape (one line, plain
/// ASCII for the escapes, so widths stay predictable). Borrowed when there is nothing to escape.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            shown.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(visible("plain 웹 쇼핑몰"), "plain 웹 쇼핑몰");
        assert_eq!(visible("\u{1b}]52;c;aGk=\u{7}x"), "\\u{1b}]52;c;aGk=\\u{7}x");
        assert_eq!(visible("a\nb\r\u{202e}c"), "a\\u{a}b\\u{d}\\u{202e}c");
        assert_eq!(visible("\u{9b}31m"), "\\u{9b}31m");
    }
}
