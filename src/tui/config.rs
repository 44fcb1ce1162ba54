//! The console's config file: TOML in the platform's config directory
//! (`dirs::config_dir()/kc-console/config.toml`, or the file `KC_CONSOLE_CONFIG` names).
//! `kc-console config --print-default` prints the documented defaults.
//!
//! A file that cannot be used never stops the console: it opens with the defaults and shows the
//! problem, naming the file and the line, as its first message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Local, Utc};
use serde::Deserialize;
use toml::Spanned;

use super::keymap::{self, Keymap, Rebind};
use super::theme::ThemeName;

/// The environment variable that names another config file.
pub const ENV: &str = "KC_CONSOLE_CONFIG";
/// A config file is a few hundred bytes; anything much larger is not one.
const MAX_BYTES: u64 = 64 * 1024;
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
const MAX_DATE_FORMAT: usize = 64;

/// How times are shown: in the local time zone, with the configured strftime format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dates {
    format: String,
}

impl Default for Dates {
    fn default() -> Dates {
        Dates {
            format: DEFAULT_DATE_FORMAT.into(),
        }
    }
}

impl Dates {
    /// Refuses formats chrono cannot render (which would otherwise fail at draw time).
    pub fn new(format: &str) -> Result<Dates, String> {
        if format.is_empty() || format.chars().count() > MAX_DATE_FORMAT {
            return Err(format!("date_format must be 1 to {MAX_DATE_FORMAT} characters"));
        }
        if format.chars().any(char::is_control) {
            return Err("date_format may not contain control characters".into());
        }
        if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
            return Err(format!(
                "date_format {format:?} is not a valid strftime format (e.g. \"%Y-%m-%d %H:%M\")"
            ));
        }
        Ok(Dates {
            format: format.into(),
        })
    }

    pub fn show(&self, at: &DateTime<Utc>) -> String {
        at.with_timezone(&Local).format(&self.format).to_string()
    }
}

/// Whether the menu is drawn beside the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sidebar {
    /// Shown when the terminal is at least [`Sidebar::AUTO_WIDTH`] columns wide.
    Auto,
    Show,
    Hide,
}

impl Sidebar {
    pub const AUTO_WIDTH: u16 = 100;
}

/// Everything the config file sets.
#[derive(Debug, Clone)]
pub struct Settings {
    pub theme: ThemeName,
    pub mouse: bool,
    /// The project to start in (name or ID), when the user may see it.
    pub default_project: Option<String>,
    pub dates: Dates,
    pub sidebar: Sidebar,
    pub keymap: Keymap,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            theme: ThemeName::Dark,
            mouse: true,
            default_project: None,
            dates: Dates::default(),
            sidebar: Sidebar::Auto,
            keymap: Keymap::default(),
        }
    }
}

/// `[keys.LAYER] action = ["key", …]`, with where each name is, for error lines.
type KeyTables = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<Vec<String>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    theme: Option<Spanned<String>>,
    mouse: Option<bool>,
    default_project: Option<Spanned<String>>,
    date_format: Option<Spanned<String>>,
    sidebar: Option<Spanned<String>>,
    keys: Option<KeyTables>,
}

/// Why a config file was not used: the line (0 when it is about the whole file) and what is
/// wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads settings from the text of a config file.
pub fn parse(text: &str) -> Result<Settings, Problem> {
    let file: File = toml::from_str(text).map_err(|e| Problem {
        line: e.span().map_or(0, |s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let at = |spanned_start: usize, message: String| Problem {
        line: line_of(text, spanned_start),
        message,
    };
    let mut settings = Settings::default();
    if let Some(theme) = file.theme {
        settings.theme = match theme.get_ref().as_str() {
            "dark" => ThemeName::Dark,
            "light" => ThemeName::Light,
            "mono" => ThemeName::Mono,
            other => {
                return Err(at(
                    theme.span().start,
                    format!("unknown theme {other:?}; use \"dark\", \"light\" or \"mono\""),
                ))
            }
        };
    }
    if let Some(mouse) = file.mouse {
        settings.mouse = mouse;
    }
    if let Some(project) = file.default_project {
        let name = project.get_ref().trim();
        if name.chars().any(crate::text::is_hidden) || name.chars().count() > 64 {
            return Err(at(
                project.span().start,
                "default_project must be a project name or ID".into(),
            ));
        }
        settings.default_project = (!name.is_empty()).then(|| name.to_string());
    }
    if let Some(format) = file.date_format {
        settings.dates = Dates::new(format.get_ref()).map_err(|m| at(format.span().start, m))?;
    }
    if let Some(sidebar) = file.sidebar {
        settings.sidebar = match sidebar.get_ref().as_str() {
            "auto" => Sidebar::Auto,
            "show" => Sidebar::Show,
            "hide" => Sidebar::Hide,
            other => {
                return Err(at(
                    sidebar.span().start,
                    format!("unknown sidebar setting {other:?}; use \"auto\", \"show\" or \"hide\""),
                ))
            }
        };
    }
    if let Some(layers) = file.keys {
        let mut rebinds = Vec::new();
        for (layer, actions) in layers {
            for (name, keys) in actions {
                rebinds.push(Rebind {
                    layer: layer.get_ref().clone(),
                    name: name.get_ref().clone(),
                    keys: keys.get_ref().clone(),
                    line: line_of(text, name.span().start),
                });
            }
        }
        settings.keymap = Keymap::with(&rebinds).map_err(|(line, message)| Problem { line, message })?;
    }
    Ok(settings)
}

/// Where the config file is: `KC_CONSOLE_CONFIG`, else the platform's config directory.
pub fn path() -> Option<PathBuf> {
    match std::env::var_os(ENV) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join("kc-console").join("config.toml")),
    }
}

/// Reads the config file at `path`: the settings to use, and what was wrong with the file
/// when it could not be used (the defaults are used then). A missing file is not a problem.
pub fn load_from(path: &Path) -> (Settings, Option<String>) {
    let problem = |why: String| {
        (
            Settings::default(),
            Some(format!(
                "Config file {} not used ({why}); the console runs with the defaults. `kc-console config --print-default` shows a valid file.",
                crate::text::visible(&path.display().to_string())
            )),
        )
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
        Err(e) => return problem(format!("cannot read it: {e}")),
    };
    if !meta.is_file() {
        return problem("not a file".into());
    }
    if meta.len() > MAX_BYTES {
        return problem(format!("larger than {} KiB", MAX_BYTES / 1024));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return problem(format!("cannot read it: {e}")),
    };
    match parse(&text) {
        Ok(settings) => (settings, None),
        Err(p) if p.line == 0 => problem(crate::text::visible(&p.message).into_owned()),
        Err(p) => problem(format!("line {}: {}", p.line, crate::text::visible(&p.message))),
    }
}

/// The settings for this run, and the problem with the config file if there was one.
pub fn load() -> (Settings, Option<String>) {
    match path() {
        Some(path) => load_from(&path),
        None => (Settings::default(), None),
    }
}

/// The documented default config file (`kc-console config --print-default`).
pub fn default_file() -> String {
    let mut out = String::from(
        "# kc-console: the interactive console's settings.\n\
         # Put this file at the platform's config directory + kc-console/config.toml\n\
         # (Linux: ~/.config/kc-console/config.toml), or name it with KC_CONSOLE_CONFIG.\n\
         # Every setting is optional; these are the defaults. A file with a mistake is not used:\n\
         # the console opens with the defaults and names the line in its first message.\n\
         \n\
         # Colours: \"dark\", \"light\" or \"mono\". NO_COLOR (any value) forces mono, and\n\
         # KC_CONSOLE_THEME overrides this setting.\n\
         theme = \"dark\"\n\
         \n\
         # Mouse: click to select a row, a menu entry, a tab or a column header (sorts by it);\n\
         # the wheel scrolls. `kc-console --no-mouse` turns it off for one run.\n\
         mouse = true\n\
         \n\
         # The project to start in (name or ID) when you may see it; \"\" = the organization's\n\
         # default project, else your first.\n\
         default_project = \"\"\n\
         \n\
         # How times are shown, in the local time zone (chrono strftime).\n\
         date_format = \"%Y-%m-%d %H:%M:%S\"\n\
         \n\
         # The menu beside the screens: \"auto\" (shown from 100 columns up), \"show\" or \"hide\".\n\
         # The b key shows or hides it while the console runs.\n\
         sidebar = \"auto\"\n\
         \n\
         # Key bindings, by layer. Uncomment a line to rebind; each action takes a list of keys.\n\
         # Key names: a character (\"k\", \"G\", \"/\"), C-x (Ctrl), M-x (Alt), Enter, Esc, Tab,\n\
         # S-Tab, BSpace, Del, Space, Up, Down, Left, Right, PgUp, PgDn, Home, End, F1..F12.\n\
         # A key may mean one thing per layer; a key you bind is taken from the action that has\n\
         # it by default. Inside text fields, keys edit like a shell line.\n",
    );
    out.push_str(&keymap::default_toml());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_default_file_parses_to_the_defaults() {
        let settings = parse(&default_file()).expect("the default file is valid");
        assert_eq!(settings.theme, ThemeName::Dark);
        assert!(settings.mouse);
        assert_eq!(settings.default_project, None);
        assert_eq!(settings.dates, Dates::default());
        assert_eq!(settings.sidebar, Sidebar::Auto);
    }

    #[test]
    fn uncommenting_a_default_binding_keeps_it_valid() {
        let text = default_file()
            .replace("# [keys.global]", "[keys.global]")
            .replace("# quit = [\"q\"]", "quit = [\"q\"]");
        parse(&text).expect("the default bindings written out are valid");
    }
}
