//! One process per data directory: an advisory lock on `kc-console.lock`, held for the life of
//! the `Store`, released by the OS even when the process is killed.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use super::StoreError;

/// The pid the lock file names.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut text);
    text
}

/// Takes the lock. When the file names this very process, the lock belongs to a Console it has
/// just dropped whose descriptor a child process, forked at that moment and not yet exec'd,
/// still shares; that clears within moments, so wait for it rather than refuse.
fn try_lock(file: &mut File) -> Result<(), TryLockError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock)
                if holder(file).trim() == std::process::id().to_string()
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let path = dir.join("kc-console.lock");
        // Never through a link, never truncating on open: the pid is written below only once
        // the file is known to be ours alone.
        let mut file = super::private::open_own_file(&path, "the lock file")?;
        match try_lock(&mut file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    format!("another process (pid {holder})")
                };
                return Err(StoreError(format!(
                    "the data directory {} is in use by {who}; close it or choose another --data-dir",
                    dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError(format!("cannot lock {}: {e}", path.display())))
            }
        }
        // The pid is only a hint for the message above; failing to write it is harmless.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(DirLock { _file: file })
    }
}
