//! How command results are printed: aligned tables for people (widths in display columns, so
//! Korean lines up), one JSON value for scripts.

use chrono::{DateTime, Local, Utc};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use crate::console::Result;

/// The text a command prints on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    /// Chooses the JSON value or the human text; the text is built only when needed.
    pub fn show(self, value: Value, human: impl FnOnce() -> String) -> Result<String> {
        if self.json {
            Ok(serde_json::to_string_pretty(&value).expect("JSON values always serialize"))
        } else {
            Ok(human())
        }
    }
}

/// Times are stored in UTC and shown in the local time zone.
pub fn local_time(at: &DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Pads `text` with spaces to `width` display columns.
pub fn pad(text: &str, width: usize) -> String {
    let used = UnicodeWidthStr::width(text);
    let mut padded = text.to_string();
    padded.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    padded
}

/// A table with a header row; columns are as wide as their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "(none)".into();
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    pad(c, widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = vec![line(headers.to_vec())];
    out.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    out.join("\n")
}

/// Label-value lines, labels aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(l, _)| l.width()).max().unwrap_or(0) + 1;
    pairs
        .iter()
        .map(|(label, value)| format!("{} {value}", pad(&format!("{label}:"), width)))
        .collect::<Vec<_>>()
        .join("\n")
}
