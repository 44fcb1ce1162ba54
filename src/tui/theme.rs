//! Dark, light and monochrome themes. Selection is always marked by reversed video and a `▶`
//! marker as well as colour, so it stays visible without colour (`NO_COLOR`, monochrome).

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
    Mono,
}

impl ThemeName {
    /// `NO_COLOR` (any value) wins; then `KC_CONSOLE_THEME` = dark | light | mono; then the
    /// config file's choice.
    pub fn resolve(configured: ThemeName) -> ThemeName {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ThemeName::Mono;
        }
        match std::env::var("KC_CONSOLE_THEME").as_deref() {
            Ok("light") => ThemeName::Light,
            Ok("mono") => ThemeName::Mono,
            Ok("dark") => ThemeName::Dark,
            _ => configured,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub base: Style,
    pub header: Style,
    pub accent: Style,
    pub dim: Style,
    pub selected: Style,
    pub menu_selected: Style,
    pub error: Style,
    pub success: Style,
    pub warning: Style,
    pub border: Style,
    pub popup_border: Style,
    pub table_header: Style,
}

impl Theme {
    pub fn new(name: ThemeName) -> Theme {
        let reversed = Style::new().add_modifier(Modifier::REVERSED);
        match name {
            ThemeName::Dark => Theme {
                base: Style::new(),
                header: Style::new().fg(Color::Black).bg(Color::Yellow),
                accent: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                dim: Style::new().fg(Color::DarkGray),
                selected: reversed.fg(Color::Yellow),
                menu_selected: reversed.fg(Color::Yellow).add_modifier(Modifier::BOLD),
                error: Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
                success: Style::new().fg(Color::LightGreen),
                warning: Style::new().fg(Color::LightYellow),
                border: Style::new().fg(Color::DarkGray),
                popup_border: Style::new().fg(Color::Yellow),
                table_header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            },
            ThemeName::Light => Theme {
                base: Style::new(),
                header: Style::new().fg(Color::White).bg(Color::Blue),
                accent: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
                dim: Style::new().fg(Color::Gray),
                selected: reversed.fg(Color::Blue),
                menu_selected: reversed.fg(Color::Blue).add_modifier(Modifier::BOLD),
                error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                success: Style::new().fg(Color::Green),
                warning: Style::new().fg(Color::Magenta),
                border: Style::new().fg(Color::Gray),
                popup_border: Style::new().fg(Color::Blue),
                table_header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            },
            ThemeName::Mono => Theme {
                base: Style::new(),
                header: reversed,
                accent: Style::new().add_modifier(Modifier::BOLD),
                dim: Style::new(),
                selected: reversed,
                menu_selected: reversed.add_modifier(Modifier::BOLD),
                error: Style::new().add_modifier(Modifier::BOLD),
                success: Style::new(),
                warning: Style::new().add_modifier(Modifier::BOLD),
                border: Style::new(),
                popup_border: Style::new().add_modifier(Modifier::BOLD),
                table_header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            },
        }
    }
}
