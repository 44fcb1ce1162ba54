//! Drawing the frame: a pure function of the state. The app lays the frame out (`App::areas`,
//! shared with mouse hit-testing); each screen draws its own body; popups are drawn last, over a
//! cleared rectangle clamped to the frame. Widths are display columns, so Korean lines up.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Focus, Input, Level, MIN_HEIGHT, MIN_WIDTH};
use super::keymap::Action;
use super::popups;
use super::screens::Screen;
use super::theme::Theme;
use super::widgets::field::TextField;
use super::widgets::popup::{self, Para};
use super::widgets::text::{cell, fit, shown, width};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn draw(app: &App, frame: &mut Frame) {
    draw_in(app, frame, frame.area());
}

fn spinner(app: &App) -> Option<String> {
    app.busy
        .as_ref()
        .map(|busy| format!("{} {busy}", SPINNER[app.spinner % SPINNER.len()]))
}

/// Draws the console into `area` of the frame (a walkthrough keeps rows below it for its
/// narration).
pub fn draw_in(app: &App, frame: &mut Frame, area: Rect) {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(app, frame, area);
        return;
    }
    let Some(areas) = app.areas(area) else {
        draw_sign_in(app, frame, area);
        return;
    };
    draw_header(app, frame, areas.header);
    if let Some(menu) = areas.menu {
        draw_menu(app, frame, menu);
    }
    draw_content(app, frame, areas.crumb, areas.context, areas.body);
    draw_status(app, frame, areas.status);
    draw_footer(app, frame, areas.footer);
    if let Some(line) = app.command_line_open() {
        draw_palette(app, line, frame, areas.body.union(areas.crumb));
    }
    if let Some(popup) = &app.popup {
        let ctx = popups::Ctx {
            theme: &app.theme,
            keymap: &app.settings.keymap,
            session: app.session.as_ref(),
            busy: spinner(app),
        };
        popup.draw(&ctx, frame, area);
    }
}

fn draw_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: {}×{}. kc-console needs at least {MIN_WIDTH}×{MIN_HEIGHT}. Enlarge it, or {} to quit.",
        area.width,
        area.height,
        app.settings.keymap.press(Action::Interrupt)
    );
    frame.render_widget(
        Paragraph::new(text)
            .style(app.theme.warning)
            .wrap(Wrap { trim: true }),
        area,
    );
}

fn draw_sign_in(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let form = &app.signin;
    let inner = 54usize.min(area.width.saturating_sub(2) as usize);
    let mut body = vec![
        Para::Blank,
        Para::Row(vec![Span::styled("kc-console", theme.accent)]),
        Para::Blank,
    ];
    body.extend(popups::draw_fields(theme, form, inner).0);
    let mut footer = vec![Para::Blank];
    if let Some(busy) = spinner(app) {
        footer.push(popup::text(busy, theme.accent));
    } else if let Some(error) = &form.error {
        footer.push(popup::text(format!("✗ {}", shown(error)), theme.error));
    } else if let Some(flash) = &app.flash {
        footer.push(popup::text(flash.text.clone(), theme.dim));
    }
    let k = |a| app.settings.keymap.key(a);
    footer.push(Para::Hints(vec![
        (k(Action::Submit), "Sign in".into()),
        (k(Action::NextField), "next field".into()),
        (k(Action::Cancel), "quit".into()),
    ]));
    popup::show(
        frame,
        theme,
        area,
        popup::Shape {
            title: "KakaoCloud console · Sign in",
            max_width: 56,
            scroll: popup::Scroll::Para(3 + form.focus * 2),
        },
        &body,
        &footer,
    );
}

/// Two lines: organization and user; then the current project, nickname and full ID, which
/// matter most and so get a line of their own.
fn draw_header(app: &App, frame: &mut Frame, area: Rect) {
    let Some(session) = app.session.as_ref() else {
        return;
    };
    let full = area.width as usize;
    // Already cut to at most half the width.
    let right = app.header_user();
    let left = format!(" KakaoCloud │ {}", shown(&session.org_name));
    let top = format!("{}{right}", cell(&left, full.saturating_sub(width(&right))));
    let project = match &session.current {
        Some(c) => format!(
            " Current project: {} ({}) · {}",
            shown(&c.project.nickname),
            shown(&c.project.name),
            c.project.id
        ),
        None => format!(
            " Current project: none — {} to choose one",
            app.settings.keymap.press(Action::SwitchProject)
        ),
    };
    let lines = vec![
        Line::from(Span::styled(top, app.theme.header)),
        Line::from(Span::styled(cell(&project, full), app.theme.header)),
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
    let outer = Rect {
        width: area.width + 1,
        ..area
    };
    frame.render_widget(block, outer);
    let ctx = app.ctx();
    let mut lines = Vec::new();
    let mut group = None;
    for row in app.menu_rows(area.height as usize) {
        let Some(screen) = row else {
            continue;
        };
        if screen.group() != group {
            group = screen.group();
            if let (Some(g), true) = (group, app.menu_rows(area.height as usize).contains(&None)) {
                lines.push(Line::from(Span::styled(format!(" {g}"), app.theme.dim)));
            }
        }
        let indent = if screen.group().is_some() { "   " } else { " " };
        let lit = screen == app.screen.menu_entry();
        let unavailable = ctx
            .as_ref()
            .is_some_and(|c| app.component(screen).unavailable(c).is_some());
        let marker = if lit { "▶" } else { " " };
        let label = cell(
            &format!("{marker}{indent}{}", screen.title()),
            area.width as usize,
        );
        let index = Screen::MENU.iter().position(|s| *s == screen).unwrap_or(0);
        let style = if app.focus == Focus::Menu && index == app.menu_index {
            app.theme.menu_selected
        } else if lit {
            app.theme.accent
        } else if unavailable {
            app.theme.dim.add_modifier(Modifier::CROSSED_OUT)
        } else {
            app.theme.base
        };
        lines.push(Line::from(Span::styled(label, style)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_content(app: &App, frame: &mut Frame, crumb: Rect, context_area: Rect, body: Rect) {
    let Some(ctx) = app.ctx() else {
        return;
    };
    let component = app.component(app.screen);
    let mut spans = vec![Span::styled(format!(" {}", app.breadcrumb()), app.theme.accent)];
    let unavailable = component.unavailable(&ctx);
    if let (Some(table), None) = (component.table(), &unavailable) {
        if table.error().is_none()
            && app.screen != Screen::Dashboard
            && !(table.loading() && table.is_empty())
        {
            let n = table.len();
            let count = if table.filter().is_empty() {
                format!("{n} row{}", if n == 1 { "" } else { "s" })
            } else {
                format!("{} of {n} rows match /{}", table.shown(), shown(table.filter()))
            };
            let checked = match table.marked() {
                0 => String::new(),
                n => format!(" · {n} checked"),
            };
            spans.push(Span::styled(format!("  ({count}{checked})"), app.theme.dim));
        }
        if let Some((column, order)) = table.sort() {
            let title = table.titles()[column].0;
            spans.push(Span::styled(
                format!("  sorted by {title} {}", order.arrow()),
                app.theme.dim,
            ));
        }
    }
    if app.offline.is_some() {
        spans.push(Span::styled("  · offline: read-only", app.theme.warning));
    } else if unavailable.is_none() {
        if let Some(withheld) = app.withheld() {
            spans.push(Span::styled(format!("  · {withheld}"), app.theme.dim));
        }
    }
    let full = crumb.width as usize;
    let mut used = 0;
    let spans: Vec<Span> = spans
        .into_iter()
        .map(|s| {
            let text = fit(&s.content, full.saturating_sub(used));
            used += width(&text);
            Span::styled(text, s.style)
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), crumb);
    if let Some(why) = unavailable {
        let mut text = vec![
            Line::from(""),
            Line::from(Span::styled(
                format!(" Not available: {}", app.screen.title()),
                app.theme.accent,
            )),
            Line::from(""),
        ];
        let room = (body.width as usize).saturating_sub(2);
        text.extend(
            super::widgets::text::wrap(&shown(&why), room)
                .into_iter()
                .map(|row| Line::from(format!(" {row}"))),
        );
        frame.render_widget(Paragraph::new(text), body.union(context_area));
        return;
    }
    frame.render_widget(Paragraph::new(component.context(&ctx)), context_area);
    component.draw(&ctx, frame, body);
}

/// The filter's or the command line's row: its sign, the field, and its keys, which keep their
/// room (the sign and the cursor take one column each).
fn prompt_line<'a>(theme: &Theme, sign: &'a str, field: &TextField, keys: &'a str, full: usize) -> Line<'a> {
    let room = full.saturating_sub(width(keys) + 2).max(1);
    let (spans, _) = field.spans(room, theme.base, true);
    let mut row = vec![Span::styled(sign, theme.accent)];
    row.extend(spans);
    row.push(Span::styled(keys, theme.dim));
    Line::from(row)
}

fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let full = area.width as usize;
    let lines = match &app.input {
        Input::Filter(field) => vec![prompt_line(theme, "/", field, "  Enter keep · Esc clear", full)],
        Input::Command(line) => vec![prompt_line(
            theme,
            ":",
            &line.field,
            "  Tab complete · Enter run · Esc cancel",
            full,
        )],
        Input::None => match (spinner(app), &app.flash) {
            (Some(busy), _) => vec![Line::from(Span::styled(busy, theme.accent))],
            (None, Some(flash)) => {
                let style = match flash.kind {
                    Level::Info => theme.base,
                    Level::Success => theme.success,
                    Level::Warning => theme.warning,
                    Level::Error => theme.error,
                };
                app.status_rows(area.width)
                    .into_iter()
                    .map(|r| Line::from(Span::styled(r, style)))
                    .collect()
            }
            (None, None) => vec![Line::from("")],
        },
    };
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            let mut used = 0;
            Line::from(
                l.spans
                    .into_iter()
                    .map(|s| {
                        let text = fit(&s.content, full.saturating_sub(used));
                        used += width(&text);
                        Span::styled(text, s.style)
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let rows = app.footer_rows(area.width);
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|row| {
            let spans: Vec<Span> = row
                .into_iter()
                .flat_map(|(key, label)| {
                    [
                        Span::styled(format!(" {key}"), app.theme.accent),
                        Span::styled(format!(" {label} "), app.theme.dim),
                    ]
                })
                .collect();
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// The `:` palette: the commands that match what is typed, best first, above the status line.
fn draw_palette(app: &App, line: &super::app::CommandLine, frame: &mut Frame, area: Rect) {
    let rows = line.matches.len().min(8);
    let height = (rows.max(1) + 2) as u16;
    if area.height < height || area.width < 20 {
        return;
    }
    let rect = Rect {
        x: area.x,
        y: area.bottom() - height,
        width: area.width.min(72),
        height,
    };
    let inner = rect.width.saturating_sub(2) as usize;
    let first = line.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = Vec::new();
    for (n, &i) in line.matches.iter().enumerate().skip(first).take(rows) {
        let entry = &line.entries[i];
        let text = cell(
            &format!(" {:<18} {}", shown(&entry.text), shown(&entry.description)),
            inner,
        );
        let style = if n == line.selected && line.completing {
            app.theme.selected
        } else {
            app.theme.base
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(" no command matches", app.theme.dim)));
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(app.theme.popup_border)
                .title(" Commands "),
        ),
        rect,
    );
}
