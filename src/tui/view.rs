//! Rendering: a pure function of the state. Popups are drawn last, over a cleared rectangle
//! clamped to the frame. Tables draw only the rows that fit. Widths are display columns, so
//! Korean (two columns a character) lines up.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Confirm, FlashKind, Focus, Input, Popup, Reveal, TableView, TypedConfirm};
use super::form::{FieldKind, Form, Submit};
use super::keymap::{binding_of, Action, Scope, KEYMAP};
use super::screens::Screen;
use crate::console::access::MATRIX;
use crate::console::ServiceAccount;

/// Below this the console shows a "terminal too small" notice instead of its frame.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
const MENU_WIDTH: u16 = 22;
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Cuts `text` to at most `width` display columns, ending in `…` when cut.
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

/// Pads (or cuts) `text` to exactly `width` display columns.
fn cell(text: &str, width: usize) -> String {
    let mut out = fit(text, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// Rows `lines` take when wrapped to `width` columns (an estimate by display width that errs
/// on the generous side), plus the two border rows.
fn popup_height(lines: &[Line], width: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| wrapped_rows(&l.to_string(), inner)).sum();
    u16::try_from(rows + 2).unwrap_or(u16::MAX)
}

/// Rows a line takes when word-wrapped to `width` columns, as `Paragraph` wraps it: words move
/// to the next row whole, and a word wider than a row is broken.
pub fn wrapped_rows(text: &str, width: usize) -> usize {
    let mut rows = 1;
    let mut used = 0;
    for word in text.split(' ') {
        let w = word.width();
        let needed = if used == 0 { w } else { used + 1 + w };
        if needed <= width {
            used = needed;
        } else if w <= width {
            rows += 1;
            used = w;
        } else {
            rows += usize::from(used > 0) + (w - 1) / width;
            used = (w - 1) % width + 1;
        }
    }
    rows
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

pub fn draw(app: &App, frame: &mut Frame) {
    draw_in(app, frame, frame.area());
}

/// Draws the console into `area` of the frame (a walkthrough keeps rows below it for its
/// narration).
pub fn draw_in(app: &App, frame: &mut Frame, area: Rect) {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(app, frame, area);
        return;
    }
    if app.session.is_none() {
        draw_sign_in(app, frame, area);
        return;
    }
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(app, frame, header);
    let [menu, content] =
        Layout::horizontal([Constraint::Length(MENU_WIDTH), Constraint::Min(1)]).areas(body);
    draw_menu(app, frame, menu);
    draw_content(app, frame, content);
    draw_status(app, frame, status);
    draw_footer(app, frame, footer);
    if let Some(popup) = &app.popup {
        draw_popup(app, popup, frame, area);
    }
}

fn draw_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: {}×{}. kc-console needs at least {MIN_WIDTH}×{MIN_HEIGHT}. Enlarge it; Ctrl-C quits.",
        area.width, area.height
    );
    frame.render_widget(
        Paragraph::new(text)
            .style(app.theme.warning)
            .wrap(Wrap { trim: true }),
        area,
    );
}

fn draw_sign_in(app: &App, frame: &mut Frame, area: Rect) {
    let form = &app.signin;
    let box_area = centered(area, 56, 14);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.popup_border)
        .title(" KakaoCloud console · Sign in ");
    let inner = block.inner(box_area);
    frame.render_widget(block, box_area);
    let mut lines = vec![
        Line::from(""),
        Line::from(Span::styled("kc-console", app.theme.accent)),
        Line::from(""),
    ];
    lines.extend(field_lines(app, form, inner.width as usize));
    lines.push(Line::from(""));
    if let Some(busy) = &app.busy {
        lines.push(Line::from(Span::styled(
            format!("{} {busy}", SPINNER[app.spinner % SPINNER.len()]),
            app.theme.accent,
        )));
    } else if let Some(error) = &form.error {
        lines.push(Line::from(Span::styled(error.clone(), app.theme.error)));
    } else {
        lines.push(Line::from(Span::styled(
            "Enter: sign in · Tab: next field · Esc: quit",
            app.theme.dim,
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Two lines: organization and user; then the current project, nickname and full ID, which
/// matter most and so get a line of their own.
fn draw_header(app: &App, frame: &mut Frame, area: Rect) {
    let session = app.session.as_ref().expect("header needs a session");
    let width = area.width as usize;
    let right = format!("{} ", session.email);
    let right_width = right.width().min(width / 2);
    let left = format!(" KakaoCloud │ {}", session.org_name);
    let top = format!(
        "{}{}",
        cell(&left, width.saturating_sub(right_width)),
        fit(&right, right_width)
    );
    let project = match &session.current {
        Some(c) => format!(
            " Current project: {} ({}) · {}",
            c.project.nickname, c.project.name, c.project.id
        ),
        None => " Current project: none — press p to choose one".into(),
    };
    let lines = vec![
        Line::from(Span::styled(top, app.theme.header)),
        Line::from(Span::styled(cell(&project, width), app.theme.header)),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_menu(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::RIGHT)
        .border_style(if app.focus == Focus::Menu {
            app.theme.popup_border
        } else {
            app.theme.border
        });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    let mut group = None;
    // Group headings go first when the menu would not fit.
    let groups = Screen::MENU
        .iter()
        .filter_map(|s| s.group())
        .collect::<std::collections::BTreeSet<_>>();
    let headings = usize::from(inner.height) >= Screen::MENU.len() + groups.len();
    for (i, screen) in Screen::MENU.iter().enumerate() {
        if screen.group() != group {
            group = screen.group();
            if let (Some(g), true) = (group, headings) {
                lines.push(Line::from(Span::styled(format!(" {g}"), app.theme.dim)));
            }
        }
        let indent = if screen.group().is_some() { "   " } else { " " };
        let lit = *screen == app.screen.menu_entry();
        let marker = if lit { "▶" } else { " " };
        let label = cell(
            &format!("{marker}{indent}{}", screen.title()),
            inner.width as usize,
        );
        let style = if app.focus == Focus::Menu && i == app.menu_index {
            app.theme.menu_selected
        } else if lit {
            app.theme.accent
        } else {
            app.theme.base
        };
        lines.push(Line::from(Span::styled(label, style)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn breadcrumb(screen: Screen) -> String {
    match screen.group() {
        Some(g) => format!("{g} › {}", screen.title()),
        None => screen.title().to_string(),
    }
}

/// Lines between the breadcrumb and the table: the Credentials tabs, or the service account a
/// detail page is about.
fn context_lines(app: &App) -> Vec<Line<'static>> {
    let tab = |label: &str, on: bool| {
        if on {
            Span::styled(format!("[ {label} ]"), app.theme.selected)
        } else {
            Span::styled(format!("  {label}  "), app.theme.dim)
        }
    };
    match app.screen {
        Screen::CredentialsIam | Screen::CredentialsS3 => vec![Line::from(vec![
            Span::raw(" "),
            tab("IAM access key", app.screen == Screen::CredentialsIam),
            Span::raw(" "),
            tab("S3 access key", app.screen == Screen::CredentialsS3),
            Span::styled("   Tab switches", app.theme.dim),
        ])],
        Screen::ServiceAccountDetail => {
            let id = app.sa_detail.clone().unwrap_or_default();
            vec![
                Line::from(vec![Span::styled(" ID: ", app.theme.dim), Span::raw(id)]),
                Line::from(vec![
                    Span::raw(" "),
                    tab("IAM access key", true),
                    Span::styled("   Credentials", app.theme.dim),
                ]),
            ]
        }
        _ => Vec::new(),
    }
}

fn draw_content(app: &App, frame: &mut Frame, area: Rect) {
    let context = context_lines(app);
    let [crumb, context_area, table_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(context.len() as u16),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(context), context_area);
    if app.screen.is_credentials() && !app.credentials_unlocked {
        let text = vec![
            Line::from(""),
            Line::from(" Profile › Credentials is protected by a password re-check."),
            Line::from(Span::styled(
                " Press Enter to verify your password.",
                app.theme.accent,
            )),
        ];
        frame.render_widget(Paragraph::new(text), table_area);
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" {}", breadcrumb(app.screen)),
                app.theme.accent,
            )),
            crumb,
        );
        return;
    }
    let table = app.table(app.screen);
    let count = table.map(|t| {
        if t.filter.is_empty() {
            format!("{} row{}", t.rows.len(), if t.rows.len() == 1 { "" } else { "s" })
        } else {
            format!("{} of {} rows match /{}", t.visible.len(), t.rows.len(), t.filter)
        }
    });
    let mut spans = vec![Span::styled(
        format!(" {}", breadcrumb(app.screen)),
        app.theme.accent,
    )];
    let failed = table.is_some_and(|t| t.error.is_some());
    if let (Some(count), true) = (count, app.screen != Screen::Dashboard && !failed) {
        spans.push(Span::styled(format!("  ({count})"), app.theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), crumb);
    let Some(table) = table else {
        return;
    };
    if let Some(error) = &table.error {
        let text = vec![
            Line::from(""),
            Line::from(Span::styled(format!(" {error}"), app.theme.error)),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), table_area);
        return;
    }
    if table.loading && table.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(" Loading…", app.theme.dim)),
            table_area,
        );
        return;
    }
    if app.screen == Screen::Dashboard {
        draw_dashboard(app, table, frame, table_area);
    } else {
        draw_table(app, table, frame, table_area);
    }
}

fn draw_dashboard(app: &App, table: &TableView, frame: &mut Frame, area: Rect) {
    let width = area.width as usize;
    let lines: Vec<Line> = table
        .rows
        .iter()
        .map(|row| {
            let label = cell(&format!(" {}", row.cells[0]), 20);
            Line::from(vec![
                Span::styled(label, app.theme.dim),
                Span::raw(fit(&row.cells[1], width.saturating_sub(20))),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// Which columns fit and how wide each is, from the header and the rows on screen only.
fn column_widths(screen: Screen, rows: &[&[String]], width: usize) -> Vec<(usize, usize)> {
    let columns = screen.columns();
    let gutter = 2;
    let natural = |i: usize| -> usize {
        rows.iter()
            .map(|r| r.get(i).map(|c| c.width()).unwrap_or(0))
            .chain(std::iter::once(columns[i].title.width()))
            .max()
            .unwrap_or(0)
            .max(columns[i].min_width as usize)
    };
    let mut widths: Vec<(usize, usize)> = (0..columns.len()).map(|i| (i, natural(i))).collect();
    // Columns with drop order 2 and up go while the rest would not fit whole; those with drop
    // order 1 only while the rest would not fit even at their minimum widths. Identifying
    // columns (drop order 0) are never dropped, only narrowed.
    let natural_total = |widths: &[(usize, usize)]| widths.iter().map(|(_, w)| w + 2).sum::<usize>() + gutter;
    let min_total = |widths: &[(usize, usize)]| {
        widths
            .iter()
            .map(|(i, _)| columns[*i].min_width as usize + 2)
            .sum::<usize>()
            + gutter
    };
    for (floor, total) in [
        (2u8, &natural_total as &dyn Fn(&[(usize, usize)]) -> usize),
        (1, &min_total),
    ] {
        while total(&widths) > width {
            let Some(&(drop, _)) = widths
                .iter()
                .filter(|(i, _)| columns[*i].drop_order >= floor)
                .max_by_key(|(i, _)| (columns[*i].drop_order, *i))
            else {
                break;
            };
            widths.retain(|(i, _)| *i != drop);
        }
    }
    let available = width.saturating_sub(gutter + 2 * widths.len());
    let mut total: usize = widths.iter().map(|(_, w)| w).sum();
    // Shrink the widest column, one column at a time, down to its minimum.
    while total > available {
        let Some(widest) = widths
            .iter_mut()
            .filter(|(i, w)| *w > columns[*i].min_width as usize)
            .max_by_key(|(_, w)| *w)
        else {
            break;
        };
        widest.1 -= 1;
        total -= 1;
    }
    widths
}

fn draw_table(app: &App, table: &TableView, frame: &mut Frame, area: Rect) {
    let height = area.height.saturating_sub(1) as usize;
    if height == 0 {
        return;
    }
    let offset = if table.selected < height {
        0
    } else {
        table.selected + 1 - height
    };
    let window: Vec<usize> = table.visible.iter().skip(offset).take(height).copied().collect();
    let cells: Vec<&[String]> = window.iter().map(|&i| table.rows[i].cells.as_slice()).collect();
    let widths = column_widths(app.screen, &cells, area.width as usize);
    let columns = app.screen.columns();
    let render_row = |marker: &str, texts: Vec<&str>| -> String {
        let mut line = marker.to_string();
        for ((_, w), text) in widths.iter().zip(texts) {
            line.push_str(&cell(text, *w));
            line.push_str("  ");
        }
        line
    };
    let header = render_row("  ", widths.iter().map(|(i, _)| columns[*i].title).collect());
    let mut lines = vec![Line::from(Span::styled(
        fit(&header, area.width as usize),
        app.theme.table_header,
    ))];
    if table.visible.is_empty() {
        let text = if table.filter.is_empty() {
            "  (none yet)"
        } else {
            "  (no rows match the filter)"
        };
        lines.push(Line::from(Span::styled(text, app.theme.dim)));
    }
    for (position, &row_index) in window.iter().enumerate() {
        let row = &table.rows[row_index];
        let selected = offset + position == table.selected;
        let marker = if selected { "▶ " } else { "  " };
        let text = render_row(
            marker,
            widths.iter().map(|(i, _)| row.cells[*i].as_str()).collect(),
        );
        let style = if selected && app.focus == Focus::Content {
            app.theme.selected
        } else if selected {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            app.theme.base
        };
        lines.push(Line::from(Span::styled(fit(&text, area.width as usize), style)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let width = area.width as usize;
    let line = match &app.input {
        Input::Filter => {
            let filter = app
                .table(app.screen)
                .map(|t| t.filter.as_str())
                .unwrap_or_default();
            Line::from(vec![
                Span::styled("/", app.theme.accent),
                Span::raw(format!("{filter}▏")),
                Span::styled("  Enter keep · Esc clear", app.theme.dim),
            ])
        }
        Input::Command(text) => {
            let fits: Vec<&str> = super::app::COMMANDS
                .iter()
                .copied()
                .filter(|c| c.starts_with(text.as_str()))
                .collect();
            Line::from(vec![
                Span::styled(":", app.theme.accent),
                Span::raw(format!("{text}▏")),
                Span::styled(format!("  {}", fits.join(" ")), app.theme.dim),
            ])
        }
        Input::None => match (&app.busy, &app.flash) {
            (Some(busy), _) => Line::from(Span::styled(
                format!("{} {busy}", SPINNER[app.spinner % SPINNER.len()]),
                app.theme.accent,
            )),
            (None, Some(flash)) => {
                let style = match flash.kind {
                    FlashKind::Info => app.theme.base,
                    FlashKind::Success => app.theme.success,
                    FlashKind::Error => app.theme.error,
                };
                Line::from(Span::styled(fit(&flash.text, width), style))
            }
            (None, None) => Line::from(""),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The footer: the current screen's offered actions, then the global keys.
pub fn footer_hints(app: &App) -> Vec<(String, String)> {
    let mut hints = Vec::new();
    if app.popup.is_some() || app.input != Input::None {
        return hints;
    }
    let global = |action: Action| {
        let b = binding_of(action);
        (b.keys[0].to_string(), b.description.to_string())
    };
    let has_rows = app.screen == Screen::Dashboard
        || app
            .table(app.screen)
            .is_some_and(|t| !t.visible.is_empty() && t.error.is_none());
    // Help and quit come first so the narrowest footer still shows them.
    hints.push(global(Action::Help));
    hints.push(global(Action::Quit));
    for action in [
        Action::Open,
        Action::NextTab,
        Action::Create,
        Action::Edit,
        Action::Settings,
        Action::Delete,
        Action::Copy,
    ] {
        let acts_on_a_row = matches!(
            action,
            Action::Edit | Action::Settings | Action::Delete | Action::Copy
        ) || (action == Action::Open && !app.screen.is_credentials());
        if acts_on_a_row && !has_rows {
            continue;
        }
        if let Some(label) = app.offered(action) {
            hints.push((binding_of(action).keys[0].to_string(), label.to_string()));
        }
    }
    for action in [Action::Filter, Action::CommandLine, Action::SwitchProject] {
        hints.push(global(action));
    }
    hints
}

fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, label) in footer_hints(app) {
        let piece = format!(" {key} {label} ");
        if used + piece.width() > area.width as usize {
            break;
        }
        used += piece.width();
        spans.push(Span::styled(format!(" {key}"), app.theme.accent));
        spans.push(Span::styled(format!(" {label} "), app.theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn popup_block<'a>(app: &App, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.popup_border)
        .title(format!(" {title} "))
}

/// A popup of word-wrapped lines: `width` columns at most, as tall as its text, centred over a
/// cleared rectangle clamped to `area`.
fn show_popup(app: &App, frame: &mut Frame, area: Rect, title: &str, width: u16, lines: Vec<Line>) {
    let width = width.min(area.width);
    let rect = centered(area, width, popup_height(&lines, width));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(popup_block(app, title))
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn draw_popup(app: &App, popup: &Popup, frame: &mut Frame, area: Rect) {
    match popup {
        Popup::Form(form) => draw_form(app, form, frame, area),
        Popup::Confirm(confirm) => draw_confirm(app, confirm, frame, area),
        Popup::TypedConfirm(dialog) => draw_typed_confirm(app, dialog, frame, area),
        Popup::Reveal(reveal) => draw_reveal(app, reveal, frame, area),
        Popup::Help { scroll } => draw_help(app, *scroll, frame, area),
        Popup::Switcher(_) => draw_switcher(app, frame, area),
    }
}

fn field_lines(app: &App, form: &Form, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let counter = field.counter().unwrap_or_default();
        let label = format!("{}{}", if focused { "▶ " } else { "  " }, field.label);
        let gap = width.saturating_sub(label.width() + counter.width());
        lines.push(Line::from(vec![
            Span::styled(label, if focused { app.theme.accent } else { app.theme.base }),
            Span::raw(" ".repeat(gap)),
            Span::styled(counter, app.theme.dim),
        ]));
        let cursor = if focused && !matches!(field.kind, FieldKind::Choice(_)) {
            "▏"
        } else {
            ""
        };
        let shown = field.display();
        let room = width.saturating_sub(3);
        // Long input scrolls so its end (where typing happens) stays visible.
        let visible = if shown.width() > room {
            let tail: String = shown
                .chars()
                .rev()
                .scan(0, |w, c| {
                    *w += c.width().unwrap_or(0);
                    (*w < room).then_some(c)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("…{tail}")
        } else {
            shown
        };
        let style = if focused {
            app.theme.selected
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        };
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{visible}{cursor}"), style),
        ]));
        if let Some(problem) = form.shown_problem(i) {
            lines.push(Line::from(Span::styled(
                format!("  ✗ {problem}"),
                app.theme.error,
            )));
        }
    }
    lines
}

fn draw_form(app: &App, form: &Form, frame: &mut Frame, area: Rect) {
    let width = 64.min(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = form
        .intro
        .iter()
        .map(|l| Line::from(Span::styled(l.clone(), app.theme.dim)))
        .collect();
    if let Submit::CreateServiceAccount = form.submit {
        let project_id = app
            .session
            .as_ref()
            .and_then(|s| s.project_id())
            .unwrap_or_default();
        let name = form.value("Service account name");
        let preview = if name.is_empty() {
            "{name}".to_string()
        } else {
            name.to_string()
        };
        lines.push(Line::from(vec![
            Span::styled("Service account ID: ", app.theme.dim),
            Span::raw(ServiceAccount::id_for(&preview, &project_id)),
        ]));
    }
    if !lines.is_empty() {
        lines.push(Line::from(""));
    }
    lines.extend(field_lines(app, form, width.saturating_sub(2) as usize));
    lines.push(Line::from(""));
    if let Some(busy) = &app.busy {
        lines.push(Line::from(Span::styled(
            format!("{} {busy}", SPINNER[app.spinner % SPINNER.len()]),
            app.theme.accent,
        )));
    } else if let Some(error) = &form.error {
        lines.push(Line::from(Span::styled(format!("✗ {error}"), app.theme.error)));
    }
    let has_choice = form.fields.iter().any(|f| matches!(f.kind, FieldKind::Choice(_)));
    let hint = if has_choice {
        "Tab next field · ←/→ choose · Enter submit · Esc cancel"
    } else {
        "Tab next field · Enter submit · Esc cancel"
    };
    lines.push(Line::from(Span::styled(hint, app.theme.dim)));
    show_popup(app, frame, area, &form.title, width, lines);
}

fn draw_confirm(app: &App, confirm: &Confirm, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = confirm.lines.iter().map(|l| Line::from(l.clone())).collect();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("[y/Enter]", app.theme.accent),
        Span::raw(" confirm   "),
        Span::styled("[n/Esc]", app.theme.accent),
        Span::raw(" cancel"),
    ]));
    show_popup(app, frame, area, &confirm.title, 70, lines);
}

fn draw_typed_confirm(app: &App, dialog: &TypedConfirm, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = dialog.lines.iter().map(|l| Line::from(l.clone())).collect();
    lines.push(Line::from(""));
    lines.push(Line::from(format!("Type \"{}\" to confirm:", dialog.phrase)));
    lines.push(Line::from(Span::styled(
        format!("{}▏", dialog.typed),
        app.theme.selected,
    )));
    lines.push(Line::from(""));
    let delete = if dialog.matches() {
        Span::styled("[Enter] Delete", app.theme.error)
    } else {
        Span::styled(
            "[Enter] Delete (type the phrase exactly)",
            app.theme.dim.add_modifier(Modifier::CROSSED_OUT),
        )
    };
    lines.push(Line::from(vec![
        delete,
        Span::raw("   "),
        Span::styled("[Esc] cancel", app.theme.accent),
    ]));
    show_popup(app, frame, area, &dialog.title, 72, lines);
}

fn draw_reveal(app: &App, reveal: &Reveal, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = reveal
        .lines
        .iter()
        .map(|(label, value)| {
            Line::from(vec![
                Span::styled(format!("{label}: "), app.theme.dim),
                Span::raw(value.clone()),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", reveal.id.0), app.theme.dim),
        Span::raw(reveal.id.1.clone()),
    ]));
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", reveal.secret_label), app.theme.dim),
        Span::styled(reveal.secret.expose().to_string(), app.theme.accent),
    ]));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("⚠ {}", reveal.warning),
        app.theme.warning,
    )));
    lines.push(Line::from(""));
    let checkbox = if reveal.saved { "[x]" } else { "[ ]" };
    lines.push(Line::from(vec![
        Span::styled("[i]", app.theme.accent),
        Span::raw(format!(" copy {}   ", reveal.id.0)),
        Span::styled("[s]", app.theme.accent),
        Span::raw(format!(" copy {}", reveal.secret_label)),
    ]));
    lines.push(Line::from(vec![
        Span::styled("[Space]", app.theme.accent),
        Span::raw(format!(" {checkbox} I have saved it   ")),
        Span::styled("[Enter]", app.theme.accent),
        Span::raw(" close"),
    ]));
    if let Some(note) = &reveal.note {
        lines.push(Line::from(Span::styled(note.clone(), app.theme.dim)));
    }
    // Wide enough for a 64-character secret on one line where the terminal allows.
    show_popup(app, frame, area, &reveal.title, 90, lines);
}

/// The help screen: every key of the current screen, from the keymap, and the permission matrix.
pub fn help_lines(app: &App) -> Vec<String> {
    let mut lines = vec![format!("Keys on {}", breadcrumb(app.screen)), String::new()];
    for binding in KEYMAP {
        let label = match binding.scope {
            Scope::Global => Some(binding.description),
            Scope::Screen => app.offered(binding.action),
        };
        if let Some(label) = label {
            lines.push(format!("  {:<12} {label}", binding.keys.join(" / ")));
        }
    }
    lines.push(String::new());
    lines.push("Who may do what".into());
    lines.push(format!("  {} OA OR PA PM PR", cell("action", 58)));
    for row in MATRIX {
        let mark = |b: bool| if b { "✓ " } else { "· " };
        lines.push(format!(
            "  {} {} {} {} {} {}",
            cell(row.action, 58),
            mark(row.org_admin),
            mark(row.org_reader),
            mark(row.project_admin),
            mark(row.project_member),
            mark(row.project_reader)
        ));
    }
    lines.push(
        "  OA Org Admin · OR Org Reader · PA Project Admin · PM Project Member · PR Project Reader".into(),
    );
    lines
}

fn draw_help(app: &App, scroll: u16, frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = help_lines(app).into_iter().map(Line::from).collect();
    let rect = centered(area, 100, area.height.saturating_sub(2));
    let last_page = (lines.len() as u16).saturating_sub(rect.height.saturating_sub(2));
    let scroll = scroll.min(last_page);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(popup_block(app, "Help · Esc to close · j/k scroll"))
            .scroll((scroll, 0)),
        rect,
    );
}

fn draw_switcher(app: &App, frame: &mut Frame, area: Rect) {
    let Some(Popup::Switcher(switcher)) = &app.popup else {
        return;
    };
    let Some(session) = &app.session else {
        return;
    };
    let matches = app.switcher_matches();
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Filter: ", app.theme.dim),
            Span::raw(format!("{}▏", switcher.filter)),
        ]),
        Line::from(""),
    ];
    let width = 60.min(area.width.saturating_sub(2)) as usize;
    for (i, id) in matches.iter().enumerate() {
        let Some(view) = session.projects.iter().find(|v| &v.project.id == id) else {
            continue;
        };
        let current = session.current.as_ref().is_some_and(|c| &c.project.id == id);
        let text = format!(
            "{}{} · {}{}",
            if i == switcher.selected { "▶ " } else { "  " },
            view.project.nickname,
            view.project.name,
            if current { "  (current)" } else { "" }
        );
        let style = if i == switcher.selected {
            app.theme.selected
        } else {
            app.theme.base
        };
        lines.push(Line::from(Span::styled(
            cell(&text, width.saturating_sub(2)),
            style,
        )));
    }
    if matches.is_empty() {
        lines.push(Line::from(Span::styled("  no project matches", app.theme.dim)));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Enter switch · Esc cancel",
        app.theme.dim,
    )));
    let rect = centered(area, width as u16 + 2, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(popup_block(app, "Switch project")),
        rect,
    );
}
