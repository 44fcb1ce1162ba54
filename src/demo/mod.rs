//! Walkthroughs: plain-text scripts that drive the real console key by key, with narration.
//! The same script plays live for an audience (`kc-console demo SCRIPT`) and headless as a
//! test (every `expect` checked, every `snapshot` taken).
//!
//! Format, one step per line (`#` starts a comment):
//!
//! ```text
//! title   Issuing IAM and S3 access keys     the walkthrough's name (once, first)
//! user    owner@pangyo.example               who is signed in (default: the owner)
//! caption Text shown in the narration band   (`caption` alone clears it)
//! press   Enter                              keys, by name: Enter Esc Tab BTab Up Down Left
//!                                            Right PgUp PgDn BSpace Space, or one character
//! type    :credentials                       text typed one character at a time
//! wait    800                                a pause, in milliseconds (live only)
//! expect  IAM access key                     fails unless the screen shows this text
//! snapshot credentials-list                  a named frame (headless: an insta snapshot)
//! ```

pub mod live;

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::console::{Config, Console, Error, FixedClock, Limits, Result, SeededEntropy};
use crate::tui::app::App;
use crate::tui::config::Settings;
use crate::tui::effects::session_for;
use crate::tui::headless::{parse_key, Headless};
use crate::tui::msg::{Effect, Msg};
use crate::tui::theme::ThemeName;

/// The walkthroughs shipped with kc-console: (file name, script).
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "access-keys",
        include_str!("../../assets/demos/access-keys.kcdemo"),
    ),
    ("projects", include_str!("../../assets/demos/projects.kcdemo")),
    (
        "service-accounts",
        include_str!("../../assets/demos/service-accounts.kcdemo"),
    ),
    (
        "service-agents",
        include_str!("../../assets/demos/service-agents.kcdemo"),
    ),
    (
        "project-reader",
        include_str!("../../assets/demos/project-reader.kcdemo"),
    ),
];

/// The size walkthroughs are recorded at; live playback uses the terminal's own size.
pub const WIDTH: u16 = 100;
pub const HEIGHT: u16 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Caption(String),
    Press(Vec<String>),
    Type(String),
    Wait(u64),
    Expect(String),
    Snapshot(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub title: String,
    pub user: String,
    /// Each step with the line it came from, for error messages.
    pub steps: Vec<(usize, Step)>,
}

impl Script {
    pub fn parse(text: &str) -> Result<Script> {
        let mut title = None;
        let mut user = "owner@pangyo.example".to_string();
        let mut steps = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim();
            let bad = |why: &str| Error::Invalid(format!("line {number}: {why}: {raw}"));
            let needs_text = |what: &str| {
                if rest.is_empty() {
                    Err(bad(&format!("{word} needs {what}")))
                } else {
                    Ok(rest.to_string())
                }
            };
            let step = match word {
                "title" => {
                    title = Some(needs_text("a name")?);
                    continue;
                }
                "user" => {
                    user = needs_text("an email")?;
                    continue;
                }
                "caption" => Step::Caption(rest.to_string()),
                "press" => {
                    let keys: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
                    if keys.is_empty() {
                        return Err(bad("press needs at least one key"));
                    }
                    if let Some(unknown) = keys.iter().find(|k| parse_key(k).is_none()) {
                        return Err(bad(&format!("unknown key {unknown:?}")));
                    }
                    Step::Press(keys)
                }
                "type" => Step::Type(needs_text("text")?),
                "wait" => Step::Wait(rest.parse().map_err(|_| bad("wait needs milliseconds"))?),
                "expect" => Step::Expect(needs_text("the text to look for")?),
                "snapshot" => Step::Snapshot(needs_text("a name")?),
                other => return Err(bad(&format!("unknown step {other:?}"))),
            };
            steps.push((number, step));
        }
        let title = title.ok_or_else(|| Error::Invalid("the walkthrough has no title line".into()))?;
        Ok(Script { title, user, steps })
    }

    /// A bundled walkthrough by name, or a script file by path.
    pub fn load(name_or_path: &str) -> Result<Script> {
        if let Some((_, text)) = BUNDLED.iter().find(|(name, _)| *name == name_or_path) {
            return Script::parse(text);
        }
        let text = std::fs::read_to_string(name_or_path).map_err(|e| {
            Error::Invalid(format!(
                "{name_or_path:?} is neither a bundled walkthrough (kc-console demo --list) nor a readable file: {e}"
            ))
        })?;
        Script::parse(&text)
    }
}

/// Demo mode: a fixed clock and seeded secrets, so every run of a walkthrough looks the same.
pub fn demo_config() -> Config {
    Config {
        clock: Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 24, 0, 30, 0).unwrap(),
        )),
        entropy: Arc::new(SeededEntropy::new(20241115)),
        limits: Limits::default(),
    }
}

/// The console a walkthrough starts on: the demo organization, `user` signed in, with the
/// effects (the first screen's load) still to be carried out.
pub fn start(console: &Console, user: &str, theme: ThemeName) -> Result<(App, Vec<Effect>)> {
    let user = console.user_by_email(user)?;
    let session = session_for(console, Console::actor_for(&user), None)?;
    // Walkthroughs play the same on every machine: the default settings, not the viewer's.
    let settings = Settings {
        theme,
        ..Settings::default()
    };
    let mut app = App::new(settings, "");
    let effects = app.update(Msg::SignedIn(Ok(session)));
    Ok((app, effects))
}

/// Plays a script headless. Returns the named frames of its `snapshot` steps; fails at the
/// first `expect` the screen does not meet, naming the line.
pub fn play_headless(console: &Console, script: &Script) -> Result<Vec<(String, String)>> {
    let (app, effects) = start(console, &script.user, ThemeName::Mono)?;
    let mut headless = Headless::new(console, app);
    headless.run(effects);
    let mut snapshots = Vec::new();
    for (line, step) in &script.steps {
        match step {
            Step::Caption(_) | Step::Wait(_) => {}
            Step::Press(keys) => {
                let names: Vec<&str> = keys.iter().map(String::as_str).collect();
                headless.keys(&names);
            }
            Step::Type(text) => headless.type_text(text),
            Step::Expect(text) => {
                let screen = headless.render(WIDTH, HEIGHT);
                if !screen.contains(text.as_str()) {
                    return Err(Error::Invalid(format!(
                        "line {line}: expected {text:?} on screen, but the screen was:\n{screen}"
                    )));
                }
            }
            Step::Snapshot(name) => snapshots.push((name.clone(), headless.render(WIDTH, HEIGHT))),
        }
    }
    Ok(snapshots)
}

/// One line per bundled walkthrough, for `kc-console demo --list`.
pub fn list() -> Result<Vec<(String, String)>> {
    BUNDLED
        .iter()
        .map(|(name, text)| Ok(((*name).to_string(), Script::parse(text)?.title)))
        .collect()
}
