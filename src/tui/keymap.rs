//! The one keymap. Key handling, the footer hints and the `?` help screen are all read from it,
//! so they cannot disagree, and the config file rebinds any of it (`[keys.LAYER]`). Arrow keys
//! and vim keys both work by default. Layers follow yazi: a key means something in the layer
//! that has the input (a popup, a form), and `always` holds what works everywhere.
//!
//! Text fields are the one exception: inside a field, keys edit like a shell line (tui-input's
//! readline set, listed in the help as such) and are not rebindable, since rebinding them would
//! make typing some letters impossible.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::widgets::field::is_edit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Everywhere, before any other layer (Ctrl-C).
    Always,
    /// The screens: tables, the menu.
    Global,
    /// Forms, the sign-in screen and the typed-phrase dialogs.
    Form,
    /// Yes/no questions.
    Confirm,
    /// The one-time secret popup.
    Reveal,
    /// Read-only pages: help, the message log, a row's details.
    Viewer,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Always,
        Layer::Global,
        Layer::Form,
        Layer::Confirm,
        Layer::Reveal,
        Layer::Viewer,
    ];

    /// The name of the layer's table in the config file (`[keys.global]`).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Always => "always",
            Layer::Global => "global",
            Layer::Form => "form",
            Layer::Confirm => "confirm",
            Layer::Reveal => "reveal",
            Layer::Viewer => "viewer",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Layer::Always => "Anywhere",
            Layer::Global => "Screens",
            Layer::Form => "Forms and typed confirmations",
            Layer::Confirm => "Questions",
            Layer::Reveal => "One-time secret popup",
            Layer::Viewer => "Help, message log and details",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Interrupt,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FocusMenu,
    FocusContent,
    Open,
    Back,
    NextTab,
    PrevTab,
    Create,
    Edit,
    Settings,
    Delete,
    Mark,
    Copy,
    Detail,
    SortNext,
    SortReverse,
    Filter,
    CommandLine,
    SwitchProject,
    Messages,
    Sidebar,
    SignOut,
    Profile,
    Help,
    Quit,
    Submit,
    NextField,
    PrevField,
    ChoiceNext,
    ChoicePrev,
    Cancel,
    Yes,
    No,
    CopyId,
    CopySecret,
    Saved,
    Close,
    ScrollUp,
    ScrollDown,
    ScrollPageUp,
    ScrollPageDown,
    Search,
    CloseViewer,
}

/// One default binding: its layer, its name in the config file, its keys and what it does.
pub struct Binding {
    pub layer: Layer,
    pub action: Action,
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub description: &'static str,
}

const fn bind(
    layer: Layer,
    action: Action,
    name: &'static str,
    keys: &'static [&'static str],
    description: &'static str,
) -> Binding {
    Binding {
        layer,
        action,
        name,
        keys,
        description,
    }
}

use Action as A;
use Layer as L;

/// The defaults (spec §6 and more). Where the seeds name a button ([Create], [Save], [OK],
/// [Copy], [Delete], [Submit], [Verify password], [More]), the screens' hints use that word.
pub const DEFAULTS: &[Binding] = &[
    bind(
        L::Always,
        A::Interrupt,
        "interrupt",
        &["C-c"],
        "quit now (asks first while a one-time secret is shown)",
    ),
    bind(L::Global, A::Up, "up", &["Up", "k"], "move up"),
    bind(L::Global, A::Down, "down", &["Down", "j"], "move down"),
    bind(L::Global, A::PageUp, "page_up", &["PgUp"], "page up"),
    bind(L::Global, A::PageDown, "page_down", &["PgDn"], "page down"),
    bind(L::Global, A::Top, "top", &["g", "Home"], "first row"),
    bind(L::Global, A::Bottom, "bottom", &["G", "End"], "last row"),
    bind(
        L::Global,
        A::FocusMenu,
        "focus_menu",
        &["Left", "h"],
        "focus the menu",
    ),
    bind(
        L::Global,
        A::FocusContent,
        "focus_content",
        &["Right", "l"],
        "focus the screen",
    ),
    bind(L::Global, A::Open, "open", &["Enter"], "open the selected row"),
    bind(L::Global, A::Back, "back", &["Esc"], "back / clear the filter"),
    bind(L::Global, A::NextTab, "next_tab", &["Tab"], "next tab"),
    bind(L::Global, A::PrevTab, "previous_tab", &["S-Tab"], "previous tab"),
    bind(L::Global, A::Create, "create", &["c"], "create"),
    bind(L::Global, A::Edit, "edit", &["e"], "edit"),
    bind(L::Global, A::Settings, "settings", &["s"], "settings / status"),
    bind(L::Global, A::Delete, "delete", &["d"], "delete"),
    bind(
        L::Global,
        A::Mark,
        "mark",
        &["Space"],
        "check / uncheck the row's box (for a batch)",
    ),
    bind(L::Global, A::Copy, "copy", &["y"], "copy the selected ID"),
    bind(
        L::Global,
        A::Detail,
        "detail",
        &["i"],
        "every field of the selected row",
    ),
    bind(L::Global, A::SortNext, "sort", &["o"], "sort by the next column"),
    bind(
        L::Global,
        A::SortReverse,
        "sort_reverse",
        &["O"],
        "reverse the sort order",
    ),
    bind(L::Global, A::Filter, "filter", &["/"], "filter the table"),
    bind(
        L::Global,
        A::CommandLine,
        "command",
        &[":"],
        "command line and palette",
    ),
    bind(
        L::Global,
        A::SwitchProject,
        "switch_project",
        &["p"],
        "switch the current project",
    ),
    bind(L::Global, A::Messages, "messages", &["m"], "the message log"),
    bind(L::Global, A::Sidebar, "sidebar", &["b"], "show or hide the menu"),
    bind(
        L::Global,
        A::SignOut,
        "sign_out",
        &["S"],
        "sign out, to sign in again or as another user",
    ),
    bind(
        L::Global,
        A::Profile,
        "profile",
        &["u"],
        "your profile, upper right: Credentials, sign out",
    ),
    bind(
        L::Global,
        A::Help,
        "help",
        &["?"],
        "keys, commands and who may do what",
    ),
    bind(L::Global, A::Quit, "quit", &["q"], "leave kc-console"),
    bind(L::Form, A::Submit, "submit", &["Enter"], "submit"),
    bind(
        L::Form,
        A::NextField,
        "next_field",
        &["Tab", "Down"],
        "next field",
    ),
    bind(
        L::Form,
        A::PrevField,
        "previous_field",
        &["S-Tab", "Up"],
        "previous field",
    ),
    bind(
        L::Form,
        A::ChoiceNext,
        "choice_next",
        &["Right", "Space"],
        "next option (choice fields)",
    ),
    bind(
        L::Form,
        A::ChoicePrev,
        "choice_previous",
        &["Left"],
        "previous option (choice fields)",
    ),
    bind(L::Form, A::Cancel, "cancel", &["Esc"], "Cancel"),
    bind(L::Confirm, A::Yes, "yes", &["y", "Enter"], "yes"),
    bind(L::Confirm, A::No, "no", &["n", "Esc"], "no"),
    bind(L::Reveal, A::CopyId, "copy_id", &["i"], "Copy the ID"),
    bind(
        L::Reveal,
        A::CopySecret,
        "copy_secret",
        &["s", "y"],
        "Copy the secret",
    ),
    bind(L::Reveal, A::Saved, "saved", &["Space"], "I have saved it"),
    bind(L::Reveal, A::Close, "close", &["Enter", "Esc"], "OK (once saved)"),
    bind(L::Viewer, A::ScrollUp, "up", &["Up", "k"], "scroll up"),
    bind(L::Viewer, A::ScrollDown, "down", &["Down", "j"], "scroll down"),
    bind(L::Viewer, A::ScrollPageUp, "page_up", &["PgUp"], "page up"),
    bind(
        L::Viewer,
        A::ScrollPageDown,
        "page_down",
        &["PgDn", "Space"],
        "page down",
    ),
    bind(L::Viewer, A::Search, "search", &["/"], "search"),
    bind(L::Viewer, A::CloseViewer, "close", &["Esc", "q"], "close"),
];

/// The short word the footer shows beside a global key (the help shows the full description).
pub fn hint(action: Action) -> &'static str {
    match action {
        Action::Help => "help",
        Action::Quit => "quit",
        Action::Filter => "filter",
        Action::CommandLine => "command",
        Action::SwitchProject => "switch project",
        Action::Messages => "messages",
        Action::Detail => "details",
        _ => "",
    }
}

/// The keys of text fields (tui-input's readline set), for the help screen.
pub const TEXT_KEYS: &[(&str, &str)] = &[
    ("← → / C-b C-f", "move a character"),
    ("C-← C-→ / M-b M-f", "move a word"),
    ("Home End / C-a C-e", "start / end of the line"),
    ("BSpace Del", "delete a character"),
    ("C-w / M-BSpace", "delete the word before the cursor"),
    ("C-u", "delete the whole line"),
    ("C-k", "delete to the end of the line"),
    ("C-y", "paste back what was deleted"),
    ("paste", "pasted lines are joined with spaces, with a notice"),
];

/// A key as the keymap names it: `k`, `G`, `C-u`, `M-b`, `Enter`, `S-Tab`, `PgDn`, `F1`, `Space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    /// Whether a form or a text field already gives `self` a meaning: an edit, or Enter, Tab,
    /// S-Tab and Esc, which submit, move between fields and cancel.
    fn used_in_forms(self) -> bool {
        let mut modifiers = KeyModifiers::NONE;
        modifiers.set(KeyModifiers::CONTROL, self.ctrl);
        modifiers.set(KeyModifiers::ALT, self.alt);
        matches!(
            self.code,
            KeyCode::Enter | KeyCode::Tab | KeyCode::BackTab | KeyCode::Esc
        ) || is_edit(&KeyEvent::new(self.code, modifiers))
    }

    pub fn parse(name: &str) -> Option<Key> {
        let (ctrl, alt, rest) = if let Some(rest) = name.strip_prefix("C-") {
            (true, false, rest)
        } else if let Some(rest) = name.strip_prefix("M-") {
            (false, true, rest)
        } else {
            (false, false, name)
        };
        let code = match rest {
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "S-Tab" | "BTab" => KeyCode::BackTab,
            "BSpace" => KeyCode::Backspace,
            "Del" => KeyCode::Delete,
            "Space" => KeyCode::Char(' '),
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "PgUp" => KeyCode::PageUp,
            "PgDn" => KeyCode::PageDown,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            f if f.len() >= 2
                && f.starts_with('F')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().ok()?)
            }
            other => {
                let mut chars = other.chars();
                let c = chars.next()?;
                if chars.next().is_some() || c.is_control() || c == ' ' {
                    return None;
                }
                KeyCode::Char(c)
            }
        };
        if (ctrl || alt) && code == KeyCode::BackTab {
            return None;
        }
        Some(Key { code, ctrl, alt })
    }

    /// The key a terminal event is, with Shift folded into the character it produced.
    pub fn from_event(event: &KeyEvent) -> Key {
        Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }
}

impl fmt::Display for Key {
    /// How hints and help show the key: arrows as arrows, the rest as the config spells it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("C-")?;
        }
        if self.alt {
            f.write_str("M-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Backspace => f.write_str("BSpace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A binding in force: the default's, or the config file's keys for it.
#[derive(Debug, Clone)]
pub struct Bound {
    pub layer: Layer,
    pub action: Action,
    pub name: &'static str,
    pub keys: Vec<Key>,
    pub description: &'static str,
}

/// The keymap in force.
#[derive(Debug, Clone)]
pub struct Keymap {
    bound: Vec<Bound>,
}

/// A rebinding from the config file: layer, action name, key names, and the line it is on.
pub struct Rebind {
    pub layer: String,
    pub name: String,
    pub keys: Vec<String>,
    pub line: usize,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            bound: DEFAULTS
                .iter()
                .map(|b| Bound {
                    layer: b.layer,
                    action: b.action,
                    name: b.name,
                    keys: b
                        .keys
                        .iter()
                        .map(|k| Key::parse(k).expect("default keys parse"))
                        .collect(),
                    description: b.description,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with `rebinds` applied; the first problem is returned with its line.
    pub fn with(rebinds: &[Rebind]) -> Result<Keymap, (usize, String)> {
        let mut map = Keymap::default();
        for rebind in rebinds {
            let bad = |why: String| (rebind.line, why);
            let Some(layer) = Layer::ALL.iter().copied().find(|l| l.name() == rebind.layer) else {
                let names: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
                return Err(bad(format!(
                    "unknown key layer [keys.{}]; the layers are {}",
                    rebind.layer,
                    names.join(", ")
                )));
            };
            let Some(bound) = map
                .bound
                .iter_mut()
                .find(|b| b.layer == layer && b.name == rebind.name)
            else {
                let names: Vec<&str> = DEFAULTS
                    .iter()
                    .filter(|b| b.layer == layer)
                    .map(|b| b.name)
                    .collect();
                return Err(bad(format!(
                    "unknown action {:?} in [keys.{}]; its actions are {}",
                    rebind.name,
                    layer.name(),
                    names.join(", ")
                )));
            };
            if rebind.keys.is_empty() {
                return Err(bad(format!("{} needs at least one key", rebind.name)));
            }
            let mut keys = Vec::new();
            for name in &rebind.keys {
                let key = Key::parse(name).ok_or_else(|| {
                    bad(format!(
                        "{name:?} is not a key name (examples: \"k\", \"G\", \"C-u\", \"M-b\", \"Enter\", \"S-Tab\", \"PgDn\", \"F1\", \"Space\")"
                    ))
                })?;
                if layer == Layer::Always && key.used_in_forms() {
                    return Err(bad(format!(
                        "{name:?} cannot be an [keys.always] key: those work inside forms and text fields too, where {name:?} edits or moves (try \"C-q\" or a function key)"
                    )));
                }
                keys.push(key);
            }
            bound.keys = keys;
        }
        map.yield_defaults_to(rebinds)?;
        // A key may mean one thing per layer; `always` keys win everywhere, so they may not be
        // reused at all.
        for (i, a) in map.bound.iter().enumerate() {
            for b in &map.bound[i + 1..] {
                let shared = a.layer == b.layer || a.layer == Layer::Always || b.layer == Layer::Always;
                if let Some(key) = a.keys.iter().find(|k| shared && b.keys.contains(k)) {
                    let line = rebinds
                        .iter()
                        .filter(|r| {
                            (r.layer == a.layer.name() && r.name == a.name)
                                || (r.layer == b.layer.name() && r.name == b.name)
                        })
                        .map(|r| r.line)
                        .max()
                        .unwrap_or(0);
                    return Err((
                        line,
                        format!(
                            "{key} is bound twice: to {}.{} and to {}.{}",
                            a.layer.name(),
                            a.name,
                            b.layer.name(),
                            b.name
                        ),
                    ));
                }
            }
        }
        Ok(map)
    }

    /// A key the user bound in a layer is taken from an action of that layer that has it only
    /// by default, so a config written before that default existed keeps working. Only a
    /// global action that a `:` command also reaches ([`COMMANDS`], `:project NAME`) may be
    /// left without a key; anything else is
    /// refused with the user's line.
    /// The `always` layer gives and takes nothing: its keys work everywhere.
    fn yield_defaults_to(&mut self, rebinds: &[Rebind]) -> Result<(), (usize, String)> {
        let rebound = |layer: Layer, name: &str| {
            rebinds
                .iter()
                .find(|r| r.layer == layer.name() && r.name == name)
                .map(|r| r.line)
        };
        let chosen: Vec<(Layer, &'static str, Vec<Key>, usize)> = self
            .bound
            .iter()
            .filter(|b| b.layer != Layer::Always)
            .filter_map(|b| rebound(b.layer, b.name).map(|line| (b.layer, b.name, b.keys.clone(), line)))
            .collect();
        for (layer, name, keys, line) in chosen {
            for other in &mut self.bound {
                if other.layer != layer || rebound(other.layer, other.name).is_some() {
                    continue;
                }
                let Some(taken) = other.keys.iter().find(|k| keys.contains(k)).copied() else {
                    continue;
                };
                other.keys.retain(|k| !keys.contains(k));
                let may_go_keyless = layer == Layer::Global && command_for(other.action).is_some();
                if other.keys.is_empty() && !may_go_keyless {
                    return Err((
                        line,
                        format!(
                            "{taken} is now {}.{name}, which leaves {}.{} without a key: give it one too",
                            layer.name(),
                            layer.name(),
                            other.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What `event` does in `layer` (the `always` layer is asked first).
    pub fn action(&self, layer: Layer, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event);
        let find = |layer: Layer| {
            self.bound
                .iter()
                .find(|b| b.layer == layer && b.keys.contains(&key))
                .map(|b| b.action)
        };
        find(Layer::Always).or_else(|| find(layer))
    }

    pub fn bound(&self) -> &[Bound] {
        &self.bound
    }

    fn find(&self, action: Action) -> &Bound {
        self.bound
            .iter()
            .find(|b| b.action == action)
            .expect("every action has a binding")
    }

    /// The first key of `action`, as hints show it.
    pub fn key(&self, action: Action) -> String {
        self.find(action)
            .keys
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// How to reach `action` in a sentence: "press p", or its `:` command when the config file
    /// left it without a key.
    pub fn press(&self, action: Action) -> String {
        match (self.key(action), command_for(action)) {
            (key, Some(command)) if key.is_empty() => format!("type :{command}"),
            (key, _) => format!("press {key}"),
        }
    }

    /// Every key of `action`, as the help shows them ("↑ / k").
    pub fn keys(&self, action: Action) -> String {
        let keys: Vec<String> = self.find(action).keys.iter().map(ToString::to_string).collect();
        if keys.is_empty() {
            // Its key was given to another action in the config file.
            return "(no key)".into();
        }
        keys.join(" / ")
    }

    pub fn description(&self, action: Action) -> &'static str {
        self.find(action).description
    }
}

/// A `:` command that does what a key does (screens and `project NAME` aside), described as
/// the keymap describes the key.
pub struct KeyCommand {
    pub name: &'static str,
    /// Other spellings it answers to.
    pub aliases: &'static [&'static str],
    pub action: Action,
}

/// Every `:` command that does what a key does: the palette, the command line and the help
/// read this one list, and only these actions (and switching project) may be left without a
/// key by the config file.
pub const COMMANDS: &[KeyCommand] = &[
    KeyCommand {
        name: "messages",
        aliases: &["log"],
        action: Action::Messages,
    },
    KeyCommand {
        name: "help",
        aliases: &[],
        action: Action::Help,
    },
    KeyCommand {
        name: "sidebar",
        aliases: &[],
        action: Action::Sidebar,
    },
    KeyCommand {
        name: "profile",
        aliases: &[],
        action: Action::Profile,
    },
    KeyCommand {
        name: "signout",
        aliases: &[],
        action: Action::SignOut,
    },
    KeyCommand {
        name: "quit",
        aliases: &["q"],
        action: Action::Quit,
    },
];

/// `:project NAME` switches the current project, as `p` does.
pub const PROJECT_COMMAND: &str = "project NAME";

pub fn find_command(line: &str) -> Option<&'static KeyCommand> {
    COMMANDS
        .iter()
        .find(|c| c.name == line || c.aliases.contains(&line))
}

/// The `:` command that reaches `action` without a key, if there is one.
fn command_for(action: Action) -> Option<&'static str> {
    match action {
        Action::SwitchProject => Some(PROJECT_COMMAND),
        _ => COMMANDS.iter().find(|c| c.action == action).map(|c| c.name),
    }
}

/// The `[keys]` part of the default config file: every binding, commented out.
pub fn default_toml() -> String {
    let keyless: Vec<&str> = DEFAULTS
        .iter()
        .filter(|b| b.layer == Layer::Global && command_for(b.action).is_some())
        .map(|b| b.name)
        .collect();
    let mut out = format!(
        "# Only actions a : command also reaches may be left without a key: {}.\n",
        keyless.join(", ")
    );
    for layer in Layer::ALL {
        out.push_str(&format!("\n# [keys.{}]  # {}\n", layer.name(), layer.title()));
        for b in DEFAULTS.iter().filter(|b| b.layer == layer) {
            let keys: Vec<String> = b.keys.iter().map(|k| format!("{k:?}")).collect();
            let line = format!("# {} = [{}]", b.name, keys.join(", "));
            out.push_str(&format!("{line:<42} # {}\n", b.description));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_key_parses_and_prints_back() {
        for b in DEFAULTS {
            for name in b.keys {
                let key = Key::parse(name).unwrap_or_else(|| panic!("{name}"));
                let shown = key.to_string();
                let back = match shown.as_str() {
                    "↑" => "Up",
                    "↓" => "Down",
                    "←" => "Left",
                    "→" => "Right",
                    other => other,
                };
                assert_eq!(Key::parse(back), Some(key), "{name}");
            }
        }
        Keymap::with(&[]).expect("the defaults have no conflicts");
    }

    #[test]
    fn names_that_are_not_keys_are_refused() {
        for bad in ["", "Ctrl-x", "C-", "ab", "F13", "C-S-Tab", " "] {
            assert_eq!(Key::parse(bad), None, "{bad:?}");
        }
    }
}
