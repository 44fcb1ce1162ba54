//! Diagnostic logging, off unless asked for: `KC_CONSOLE_LOG=error|warn|info|debug|trace`
//! writes to `KC_CONSOLE_LOG_FILE`, or `kc-console.log` in the data directory (never to the
//! terminal, which the console owns). Log events carry actors, actions, IDs and outcomes, never
//! a secret, a token or a request body.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::Level;

use crate::console::{Error, Result};

/// Starts logging when `KC_CONSOLE_LOG` asks for it; returns the log file's path.
pub fn init(data_dir: &Path) -> Result<Option<PathBuf>> {
    let Ok(level) = std::env::var("KC_CONSOLE_LOG") else {
        return Ok(None);
    };
    let level: Level = level.parse().map_err(|_| {
        Error::Invalid(format!(
            "KC_CONSOLE_LOG={level:?} must be error, warn, info, debug or trace"
        ))
    })?;
    let path = std::env::var_os("KC_CONSOLE_LOG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("kc-console.log"));
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    // Private (0600), and never appended to through a link planted in its place.
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| Error::Invalid(format!("cannot open the log file {}: {e}", path.display())))?;
    // A second initialisation in one process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(Some(path))
}
