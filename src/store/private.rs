//! The data directory is private, as ssh treats its keys: it holds the token signing key and
//! the password hashes. The directory (and every directory in it) is 0700 and every file 0600;
//! a wider mode found at start is tightened, and where it cannot be (another owner, a read-only
//! file system) the open is refused with the path and the fix. Nothing inside is a link or a
//! special file: sled makes neither, and following one would let whoever planted it choose
//! which file kc-console writes over.
//!
//! Files created later are private through the process umask (077, set first thing in `main`);
//! the check runs again once sled has opened, which covers the snapshot sled writes at every
//! start in processes (tests, benchmarks) that keep a wider umask.

use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::StoreError;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents, 0700.
pub fn create_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| StoreError(format!("cannot create the data directory {}: {e}", dir.display())))
}

fn why(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EROFS) => "the file system is read-only".into(),
        Some(libc::EPERM) | Some(libc::EACCES) => "you are not its owner".into(),
        _ => e.to_string(),
    }
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The data directory itself: owned by whoever runs kc-console, and 0700. A link to a directory
/// is followed here (a user may keep the data elsewhere); nothing inside is.
pub fn secure_dir(dir: &Path) -> Result<(), StoreError> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| StoreError(format!("cannot use the data directory {}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(StoreError(format!(
            "the data directory {} is not a directory; choose another --data-dir",
            dir.display()
        )));
    }
    // Another user's directory could hold links planted to make us write over our own files.
    if meta.uid() != effective_uid() {
        return Err(StoreError(format!(
            "the data directory {} is owned by uid {}, not by you (uid {}); run kc-console as its owner, or choose another --data-dir",
            dir.display(),
            meta.uid(),
            effective_uid()
        )));
    }
    tighten(
        dir,
        &meta,
        DIR_MODE,
        &File::open(dir).map_err(|e| cannot(dir, &meta, &e))?,
    )
}

fn cannot(path: &Path, meta: &Metadata, e: &std::io::Error) -> StoreError {
    let command = if meta.is_dir() { "chmod 700" } else { "chmod 600" };
    let fix = match e.raw_os_error() {
        Some(libc::EROFS) => "make the file system writable so kc-console can tighten it".to_string(),
        _ => format!("run `{command} {}` as its owner", path.display()),
    };
    StoreError(format!(
        "{} is open to other users (mode {:o}) and cannot be made private ({}); {fix}, or choose another --data-dir",
        path.display(),
        meta.mode() & 0o7777,
        why(e),
    ))
}

/// Narrows `path` (already open as `file`, so a swap after the check changes nothing) to `want`
/// when group or others have any access.
fn tighten(path: &Path, meta: &Metadata, want: u32, file: &File) -> Result<(), StoreError> {
    if meta.mode() & 0o077 == 0 {
        return Ok(());
    }
    file.set_permissions(std::fs::Permissions::from_mode(want))
        .map_err(|e| cannot(path, meta, &e))?;
    tracing::warn!(path = %path.display(), was = format!("{:o}", meta.mode() & 0o7777), "made private");
    Ok(())
}

/// Refuses a link or a special file at `path` (judged without following it); `what` names it
/// in the message ("the lock file"), or is empty.
pub fn refuse_odd(path: &Path, meta: &Metadata, what: &str) -> Result<(), StoreError> {
    let kind = meta.file_type();
    if kind.is_file() || kind.is_dir() {
        return Ok(());
    }
    Err(odd(path, kind.is_symlink(), what))
}

fn odd(path: &Path, link: bool, what: &str) -> StoreError {
    let problem = if link {
        "is a symbolic link"
    } else {
        "is not a regular file"
    };
    let name = if what.is_empty() {
        path.display().to_string()
    } else {
        format!("{what} {}", path.display())
    };
    StoreError(format!(
        "{name} {problem}; kc-console follows no links and opens no special files in its data directory: remove it (or put the real file in its place) and try again"
    ))
}

/// Opens an existing entry without following a link and without blocking on a FIFO.
fn open_entry(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Every entry under `dir`: links and special files refused, wider modes tightened.
pub fn secure_contents(dir: &Path) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| StoreError(format!("cannot read the data directory {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| StoreError(format!("cannot read the data directory {}: {e}", dir.display())))?
            .path();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Gone since the listing (sled replacing a snapshot): nothing to secure.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError(format!("cannot read {}: {e}", path.display()))),
        };
        refuse_odd(&path, &meta, "")?;
        let file = match open_entry(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            // Replaced by a link since it was looked at.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(odd(&path, true, "")),
            Err(e) => return Err(cannot(&path, &meta, &e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| StoreError(format!("cannot read {}: {e}", path.display())))?;
        refuse_odd(&path, &meta, "")?;
        if meta.is_dir() {
            tighten(&path, &meta, DIR_MODE, &file)?;
            secure_contents(&path)?;
        } else {
            tighten(&path, &meta, FILE_MODE, &file)?;
        }
    }
    Ok(())
}

/// Opens (creating, 0600) a small file of kc-console's own in the data directory for writing:
/// never through a link, never truncating, only a regular file with no other names.
pub fn open_own_file(path: &Path, what: &str) -> Result<File, StoreError> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        refuse_odd(path, &meta, what)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => odd(path, true, what),
            _ => StoreError(format!(
                "cannot use the data directory {}: {}; make it writable or choose another --data-dir",
                path.parent().unwrap_or(path).display(),
                match e.raw_os_error() {
                    Some(libc::EROFS) => "the file system is read-only".to_string(),
                    Some(libc::EACCES) => "permission denied".to_string(),
                    _ => e.to_string(),
                }
            )),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| StoreError(format!("cannot read {}: {e}", path.display())))?;
    refuse_odd(path, &meta, what)?;
    if meta.nlink() > 1 {
        return Err(StoreError(format!(
            "{what} {} has other names (hard links); remove it and try again",
            path.display()
        )));
    }
    tighten(path, &meta, FILE_MODE, &file)?;
    Ok(file)
}
