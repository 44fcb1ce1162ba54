//! The one keymap table. Key handling, the footer hints and the `?` help screen are all read
//! from it, so they cannot disagree. Arrow keys and vim keys both work.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    CommandLine,
    Filter,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    FocusMenu,
    FocusContent,
    NextTab,
    PrevTab,
    Create,
    Edit,
    Settings,
    Delete,
    Copy,
    SwitchProject,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere outside popups and text input.
    Global,
    /// On a screen's table, when the screen offers the action.
    Screen,
}

pub struct Binding {
    pub keys: &'static [&'static str],
    pub action: Action,
    pub scope: Scope,
    pub description: &'static str,
}

const fn bind(
    keys: &'static [&'static str],
    action: Action,
    scope: Scope,
    description: &'static str,
) -> Binding {
    Binding {
        keys,
        action,
        scope,
        description,
    }
}

pub const KEYMAP: &[Binding] = &[
    bind(&["↑", "k"], Action::Up, Scope::Global, "move up"),
    bind(&["↓", "j"], Action::Down, Scope::Global, "move down"),
    bind(&["PgUp"], Action::PageUp, Scope::Global, "page up"),
    bind(&["PgDn"], Action::PageDown, Scope::Global, "page down"),
    bind(&["g"], Action::Top, Scope::Global, "first row"),
    bind(&["G"], Action::Bottom, Scope::Global, "last row"),
    bind(&["←", "h"], Action::FocusMenu, Scope::Global, "focus the menu"),
    bind(
        &["→", "l"],
        Action::FocusContent,
        Scope::Global,
        "focus the screen",
    ),
    bind(&["Enter"], Action::Open, Scope::Screen, "open"),
    bind(&["Esc"], Action::Back, Scope::Global, "back / clear filter"),
    bind(&["Tab"], Action::NextTab, Scope::Screen, "next tab"),
    bind(&["S-Tab"], Action::PrevTab, Scope::Screen, "previous tab"),
    bind(&["c"], Action::Create, Scope::Screen, "create"),
    bind(&["e"], Action::Edit, Scope::Screen, "edit"),
    bind(&["s"], Action::Settings, Scope::Screen, "settings"),
    bind(&["d"], Action::Delete, Scope::Screen, "delete"),
    bind(&["y"], Action::Copy, Scope::Screen, "copy ID"),
    bind(&["/"], Action::Filter, Scope::Global, "filter"),
    bind(&[":"], Action::CommandLine, Scope::Global, "command"),
    bind(&["p"], Action::SwitchProject, Scope::Global, "switch project"),
    bind(&["?"], Action::Help, Scope::Global, "help"),
    bind(&["q"], Action::Quit, Scope::Global, "quit"),
];

/// The name a key event has in the table.
pub fn key_name(key: &KeyEvent) -> Option<String> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char(c) => Some(format!("C-{c}")),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "g".into(),
        KeyCode::End => "G".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        _ => return None,
    })
}

pub fn binding_for(key: &KeyEvent) -> Option<&'static Binding> {
    let name = key_name(key)?;
    KEYMAP.iter().find(|b| b.keys.contains(&name.as_str()))
}

pub fn binding_of(action: Action) -> &'static Binding {
    KEYMAP
        .iter()
        .find(|b| b.action == action)
        .expect("every action has a binding")
}
