//! Display-width text helpers. Widths are terminal columns (Korean takes two), never chars or
//! bytes; nothing is padded with `format!("{:width$}")`.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Text from outside (names, targets, messages) as it may be drawn: control characters and
/// invisible code points shown as escapes (`kc_console::text::visible`).
pub fn shown(text: &str) -> Cow<'_, str> {
    crate::text::visible(text)
}

pub fn width(text: &str) -> usize {
    text.width()
}

/// Cuts `text` to at most `width` columns, ending in `…` when anything was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Pads (or cuts, with `…`) `text` to exactly `width` columns.
pub fn cell(text: &str, width: usize) -> String {
    let mut out = fit(text, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// Word-wraps `text` to rows of at most `width` columns. Words move to the next row whole; a
/// word is broken only when it is wider than a whole row (a long ID), never otherwise.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    // Leading spaces indent every row (a detail view's values, a problem under a field).
    let body = text.trim_start_matches(' ');
    let indent = &text[..text.len() - body.len()];
    if !indent.is_empty() && indent.len() < width {
        return wrap_words(body, width - indent.len())
            .into_iter()
            .map(|row| format!("{indent}{row}"))
            .collect();
    }
    wrap_words(text, width)
}

fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w = word.width();
        let needed = if row.is_empty() { w } else { used + 1 + w };
        if needed <= width {
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(word);
            used = needed;
            continue;
        }
        if w <= width {
            rows.push(std::mem::take(&mut row));
            row.push_str(word);
            used = w;
            continue;
        }
        // A word wider than a row (an ID) starts a row of its own, so it is cut as little as
        // possible.
        if !row.is_empty() {
            rows.push(std::mem::take(&mut row));
            used = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width {
                rows.push(std::mem::take(&mut row));
                used = 0;
            }
            row.push(c);
            used += cw;
        }
    }
    rows.push(row);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_marks_what_it_cuts() {
        assert_eq!(fit("deploy-bot", 20), "deploy-bot");
        assert_eq!(fit("deploy-bot", 6), "deplo…");
        assert_eq!(fit("웹 쇼핑몰", 6), "웹 쇼…");
        assert_eq!(fit("웹 쇼핑몰", 5), "웹 …");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn cell_pads_by_display_width() {
        assert_eq!(cell("웹", 4), "웹  ");
        assert_eq!(cell("abcdef", 4), "abc…");
    }

    #[test]
    fn wrap_moves_words_whole_and_breaks_only_longer_ones() {
        assert_eq!(
            wrap("one more wrong answer locks", 10),
            ["one more", "wrong", "answer", "locks"]
        );
        assert_eq!(wrap("ID: 0123456789abcdef", 8), ["ID:", "01234567", "89abcdef"]);
        assert_eq!(wrap("ab 0123456789", 8), ["ab", "01234567", "89"]);
        assert_eq!(wrap("한국어 설명", 6), ["한국어", "설명"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(
            wrap("  indented words here", 10),
            ["  indented", "  words", "  here"]
        );
    }
}
