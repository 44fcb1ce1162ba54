//! Popups: a cleared, bordered rectangle centred in the frame and clamped to it, as tall as its
//! content. Content is wrapped here, before drawing, so the height is exact and the last line
//! (the key hints) is never clipped; key hints wrap as whole `[key] label` pairs.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::text::{fit, shown, width, wrap};
use crate::tui::theme::Theme;

/// One piece of a popup's content.
pub enum Para {
    /// Word-wrapped text.
    Text(String, Style),
    /// `[key] label` pairs, wrapped as wholes.
    Hints(Vec<(String, String)>),
    /// One row drawn as given (a form field, a label and value), cut at the edge.
    Row(Vec<Span<'static>>),
    Blank,
}

pub fn text(s: impl Into<String>, style: Style) -> Para {
    Para::Text(s.into(), style)
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The columns one key hint takes: "[key] label".
fn hint_width(key: &str, label: &str) -> usize {
    width(key) + 3 + width(label)
}

/// The columns `pairs` of key hints take on one row, as [`lines`] lays them out.
pub fn hints_width(pairs: &[(String, String)]) -> usize {
    let pieces: usize = pairs.iter().map(|(k, l)| hint_width(k, l)).sum();
    pieces + 2 * pairs.len().saturating_sub(1)
}

/// The rows `paras` take at `inner` columns, and the row each para starts on.
pub fn lines(theme: &Theme, paras: &[Para], inner: usize) -> (Vec<Line<'static>>, Vec<usize>) {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    for para in paras {
        starts.push(out.len());
        match para {
            // Everything drawn in a popup goes through `text::visible`: a name or a message
            // carrying a newline or an escape sequence is shown escaped, never obeyed.
            Para::Text(s, style) => out.extend(
                wrap(&shown(s), inner)
                    .into_iter()
                    .map(|r| Line::from(Span::styled(r, *style))),
            ),
            Para::Blank => out.push(Line::from("")),
            Para::Row(spans) => {
                let mut used = 0;
                let mut row = Vec::new();
                for span in spans {
                    let room = inner.saturating_sub(used);
                    if room == 0 {
                        break;
                    }
                    let content = fit(&shown(&span.content), room);
                    used += width(&content);
                    row.push(Span::styled(content, span.style));
                }
                out.push(Line::from(row));
            }
            Para::Hints(pairs) => {
                let mut row: Vec<Span<'static>> = Vec::new();
                let mut used = 0;
                for (key, label) in pairs {
                    let key_text = format!("[{key}]");
                    let piece = hint_width(key, label);
                    if !row.is_empty() && used + 2 + piece > inner {
                        out.push(Line::from(std::mem::take(&mut row)));
                        used = 0;
                    } else if !row.is_empty() {
                        row.push(Span::raw("  "));
                        used += 2;
                    }
                    row.push(Span::styled(
                        fit(&key_text, inner.saturating_sub(used)),
                        theme.accent,
                    ));
                    row.push(Span::raw(fit(
                        &format!(" {label}"),
                        inner.saturating_sub(used + width(&key_text)),
                    )));
                    used += piece;
                }
                if !row.is_empty() {
                    out.push(Line::from(row));
                }
            }
        }
    }
    (out, starts)
}

/// Which part of a popup's body shows when it is taller than the frame.
#[derive(Debug, Clone, Copy)]
pub enum Scroll {
    /// From this row down (clamped to the last page).
    Row(usize),
    /// So that the para of this index is in view (a form's focused field).
    Para(usize),
}

/// A popup's frame: its title, its widest, and which part of a tall body shows.
pub struct Shape<'a> {
    pub title: &'a str,
    pub max_width: u16,
    pub scroll: Scroll,
}

/// Draws a popup of at most `max_width` columns, as tall as its content. `footer` (the key
/// hints) is always drawn at the bottom; when the body is taller than the frame it scrolls.
pub fn show(frame: &mut Frame, theme: &Theme, area: Rect, shape: Shape, body: &[Para], footer: &[Para]) {
    let Shape {
        title,
        max_width,
        scroll,
    } = shape;
    let outer = max_width.min(area.width);
    let inner = (outer.saturating_sub(2) as usize).max(1);
    let (rows, starts) = lines(theme, body, inner);
    let (footer_rows, _) = lines(theme, footer, inner);
    let height = u16::try_from(rows.len() + footer_rows.len() + 2).unwrap_or(u16::MAX);
    let rect = centered(area, outer, height);
    let room = (rect.height.saturating_sub(2) as usize).saturating_sub(footer_rows.len());
    let last_page = rows.len().saturating_sub(room);
    let first = match scroll {
        Scroll::Row(row) => row.min(last_page),
        Scroll::Para(index) => {
            let start = starts.get(index).copied().unwrap_or(0);
            let end = starts.get(index + 1).copied().unwrap_or(rows.len());
            // Show the para whole where it fits, its start otherwise.
            let from_end = end.saturating_sub(room);
            from_end.min(start).min(last_page)
        }
    };
    let mut drawn: Vec<Line> = rows.into_iter().skip(first).take(room).collect();
    drawn.extend(footer_rows);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.popup_border)
        .title(fit(&format!(" {} ", shown(title)), inner));
    frame.render_widget(Paragraph::new(drawn).block(block), rect);
}
