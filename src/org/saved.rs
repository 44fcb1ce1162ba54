//! Sessions kept by `kc-console login` (like `gh` and `kubectl` keep theirs): a file in the
//! user's state directory (`$XDG_STATE_HOME/kc-console/sessions.json`, or
//! `KC_CONSOLE_STATE_DIR`), 0600 in a 0700 directory, holding one session per organization
//! (data directory or server URL) and e-mail, and which e-mail signed in last.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Location;
use crate::console::{Error, Result, Secret};

#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
    /// The pinned certificate of an `https://` server, kept so later commands need no flag.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ForLocation {
    /// The e-mail that signed in last: used when a command names no `--user`.
    current: Option<String>,
    sessions: BTreeMap<String, Saved>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    locations: BTreeMap<String, ForLocation>,
}

fn state_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("KC_CONSOLE_STATE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("kc-console"))
        .ok_or_else(|| Error::Invalid("no state directory on this platform; set KC_CONSOLE_STATE_DIR".into()))
}

fn path() -> Result<PathBuf> {
    Ok(state_dir()?.join("sessions.json"))
}

fn read() -> Result<File> {
    let path = path()?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::Invalid(format!(
                "{} cannot be read ({e}); delete it and sign in again with `kc-console login`",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
        Err(e) => Err(Error::Invalid(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes the file whole: a new file (0600) renamed over the old one.
fn write(file: &File) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = state_dir()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::Invalid(format!("cannot create {}: {e}", dir.display())))?;
    let path = path()?;
    let temporary = dir.join(format!(".sessions.{}.tmp", std::process::id()));
    let bytes = serde_json::to_vec_pretty(file).expect("sessions always serialize");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temporary, &path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::Invalid(format!("cannot write {}: {e}", path.display()))
    })
}

/// The session to use at `location`: the one of `email` when given, else the last signed in.
/// Expired sessions are not offered.
pub fn find(location: &Location, email: Option<&str>, now: DateTime<Utc>) -> Result<Option<(String, Saved)>> {
    let mut file = read()?;
    let Some(entry) = file.locations.remove(&location.key()) else {
        return Ok(None);
    };
    let Some(email) = email.map(str::to_lowercase).or(entry.current.clone()) else {
        return Ok(None);
    };
    let mut sessions = entry.sessions;
    Ok(sessions
        .remove(&email)
        .filter(|s| s.expires_at > now)
        .map(|s| (email, s)))
}

/// The pinned fingerprint kept for a server, when a command gives none.
pub fn fingerprint(location: &Location) -> Result<Option<String>> {
    Ok(read()?
        .locations
        .get(&location.key())
        .and_then(|entry| entry.sessions.values().find_map(|s| s.fingerprint.clone())))
}

pub fn store(location: &Location, email: &str, saved: Saved) -> Result<()> {
    let mut file = read()?;
    let entry = file.locations.entry(location.key()).or_default();
    let email = email.to_lowercase();
    entry.current = Some(email.clone());
    entry.sessions.insert(email, saved);
    write(&file)
}

/// Forgets a session; true when there was one.
pub fn forget(location: &Location, email: &str) -> Result<bool> {
    let mut file = read()?;
    let key = location.key();
    let Some(entry) = file.locations.get_mut(&key) else {
        return Ok(false);
    };
    let email = email.to_lowercase();
    let had = entry.sessions.remove(&email).is_some();
    if entry.current.as_deref() == Some(email.as_str()) {
        entry.current = entry.sessions.keys().next().cloned();
    }
    if entry.sessions.is_empty() {
        file.locations.remove(&key);
    }
    write(&file)?;
    Ok(had)
}
