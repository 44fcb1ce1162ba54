//! Drawing a form: intro lines, each field with its counter and the rule it breaks (and the
//! values computed from it), the model's refusal, and the hints — with the seed's name for the
//! submit button.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::Frame;

use super::Ctx;
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Form, Input};
use crate::tui::widgets::popup::{self, text, Para, Scroll};
use crate::tui::widgets::text::{shown, width};

/// The rows of a form's fields at `inner` columns; returns them and the para index of the
/// focused field.
pub fn draw_fields(theme: &Theme, form: &Form, inner: usize) -> (Vec<Para>, usize) {
    let mut paras = Vec::new();
    let mut focused_at = 0;
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        if focused {
            focused_at = paras.len();
        }
        let counter = field.counter().unwrap_or_default();
        let label = format!("{}{}", if focused { "▶ " } else { "  " }, field.label);
        let gap = inner.saturating_sub(width(&label) + width(&counter) + 1).max(1);
        paras.push(Para::Row(vec![
            Span::styled(label, if focused { theme.accent } else { theme.base }),
            Span::raw(" ".repeat(gap)),
            Span::styled(counter, theme.dim),
        ]));
        let style = if focused {
            Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        };
        let room = inner.saturating_sub(3);
        let mut row = vec![Span::raw("  ")];
        match &field.input {
            Input::Text(text_field) => {
                let (spans, _) = text_field.spans(room, style, focused);
                row.extend(spans);
            }
            Input::Choice { .. } => row.push(Span::styled(format!("◂ {} ▸", field.value()), style)),
        }
        paras.push(Para::Row(row));
        if let Some(problem) = form.shown_problem(i) {
            paras.push(text(format!("  ✗ {problem}"), theme.error));
        }
        match form.preview {
            Some((after, preview)) if after == i => {
                for (label, value) in preview(form) {
                    paras.push(text(format!("  {label}: {}", shown(&value)), theme.base));
                }
            }
            _ => {}
        }
    }
    (paras, focused_at)
}

pub fn draw(ctx: &Ctx, form: &Form, frame: &mut Frame, area: Rect) {
    let theme = ctx.theme;
    let max = 66u16;
    let inner = (max.min(area.width).saturating_sub(2) as usize).max(1);
    let mut body: Vec<Para> = form.intro.iter().map(|l| text(l.clone(), theme.dim)).collect();
    if !body.is_empty() {
        body.push(Para::Blank);
    }
    let offset = body.len();
    let (fields, focused_at) = draw_fields(theme, form, inner);
    body.extend(fields);
    let mut footer = vec![Para::Blank];
    if let Some(busy) = &ctx.busy {
        footer.push(text(busy.clone(), theme.accent));
    } else if let Some(error) = &form.error {
        footer.push(text(format!("✗ {}", shown(error)), theme.error));
    } else if let Some(notice) = &form.notice {
        footer.push(text(notice.clone(), theme.dim));
    }
    let keymap = ctx.keymap;
    let mut hints = vec![
        (keymap.key(Action::Submit), form.submit_label.to_string()),
        (keymap.key(Action::NextField), "next field".to_string()),
    ];
    if form.fields.iter().any(|f| f.is_choice()) {
        hints.push((
            format!(
                "{}{}",
                keymap.key(Action::ChoicePrev),
                keymap.key(Action::ChoiceNext)
            ),
            "choose".into(),
        ));
    }
    hints.push((keymap.key(Action::Cancel), "Cancel".into()));
    footer.push(Para::Hints(hints));
    popup::show(
        frame,
        theme,
        area,
        popup::Shape {
            title: &form.title,
            max_width: max,
            scroll: Scroll::Para(offset + focused_at),
        },
        &body,
        &footer,
    );
}
