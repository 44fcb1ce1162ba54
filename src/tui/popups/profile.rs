//! The profile menu under the signed-in user in the header's upper right corner, where the
//! Credentials guide starts ("In the upper right corner of the KakaoCloud console, select the
//! Credentials menu from your profile"). Opened by `u` or a click on the user.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::{Ctx, Outcome};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::screens::Screen;
use crate::tui::widgets::popup::{self, Para};
use crate::tui::widgets::text::{cell, fit, shown, width};

/// What the profile menu offers, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileEntry {
    Credentials,
    SignOut,
}

impl ProfileEntry {
    pub const ALL: [ProfileEntry; 2] = [ProfileEntry::Credentials, ProfileEntry::SignOut];

    fn label(self) -> &'static str {
        match self {
            ProfileEntry::Credentials => "Credentials",
            ProfileEntry::SignOut => "Sign out",
        }
    }
}

/// The keys the menu shows, as every popup shows them ("[Enter] open  [Esc] close").
fn hints(keymap: &Keymap) -> Vec<(String, String)> {
    vec![
        (keymap.key(Action::Submit), "open".into()),
        (keymap.key(Action::Cancel), "close".into()),
    ]
}

#[derive(Debug, Clone, Default)]
pub struct ProfileMenu {
    pub selected: usize,
}

impl ProfileMenu {
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        let last = ProfileEntry::ALL.len() - 1;
        // A menu: the form keys, and the screens' moves and the key that opened it.
        let action = keymap
            .action(Layer::Form, key)
            .or_else(|| keymap.action(Layer::Global, key));
        match action {
            Some(Action::Cancel | Action::Profile) => Outcome::Close,
            Some(Action::Submit) => self.choose(ProfileEntry::ALL[self.selected]),
            Some(Action::NextField | Action::Down) => {
                self.selected = (self.selected + 1).min(last);
                Outcome::Stay
            }
            Some(Action::PrevField | Action::Up) => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    pub fn choose(&self, entry: ProfileEntry) -> Outcome {
        match entry {
            ProfileEntry::Credentials => Outcome::Goto(Screen::Credentials),
            ProfileEntry::SignOut => Outcome::SignOut,
        }
    }

    /// The box hangs from the header's right end, below the user's line.
    pub fn rect(area: Rect, email: &str, keymap: &Keymap) -> Rect {
        let inner = ProfileEntry::ALL
            .iter()
            .map(|e| width(e.label()) + 4)
            .chain([width(&shown(email)) + 2, popup::hints_width(&hints(keymap))])
            .max()
            .unwrap_or(0) as u16;
        let w = (inner + 2).min(area.width);
        // The border, the user, a rule, the entries, the hint, the border.
        let h = (ProfileEntry::ALL.len() as u16 + 5).min(area.height.saturating_sub(1));
        Rect {
            x: area.right().saturating_sub(w),
            y: area.y + 1,
            width: w,
            height: h,
        }
    }

    /// The entry under a click at (`x`, `y`), if any.
    pub fn hit(area: Rect, email: &str, keymap: &Keymap, x: u16, y: u16) -> Option<ProfileEntry> {
        let rect = ProfileMenu::rect(area, email, keymap);
        if x <= rect.x || x + 1 >= rect.right() || y < rect.y {
            return None;
        }
        // Rows: the border, the user, a rule, then the entries.
        let row = (y - rect.y).checked_sub(3)?;
        ProfileEntry::ALL.get(row as usize).copied()
    }

    pub fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        let Some(session) = ctx.session else {
            return;
        };
        let theme = ctx.theme;
        let rect = ProfileMenu::rect(area, &session.email, ctx.keymap);
        let inner = rect.width.saturating_sub(2) as usize;
        let mut lines = vec![
            Line::from(Span::styled(
                cell(&format!(" {}", shown(&session.email)), inner),
                theme.dim,
            )),
            Line::from(Span::styled("─".repeat(inner), theme.border)),
        ];
        for (i, entry) in ProfileEntry::ALL.iter().enumerate() {
            let (marker, style) = if i == self.selected {
                ("▶ ", theme.selected)
            } else {
                ("  ", theme.base)
            };
            lines.push(Line::from(Span::styled(
                cell(&format!(" {marker}{}", entry.label()), inner),
                style,
            )));
        }
        let (hint_lines, _) = popup::lines(theme, &[Para::Hints(hints(ctx.keymap))], inner);
        lines.extend(hint_lines);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border)
            .title(fit(" Profile ", inner));
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}
