//! The only module that knows sled.
//!
//! The surface is deliberately small — keyed records in named tables, prefix scans, and one
//! all-or-nothing transaction that may be retried — so that another engine (etcd's
//! compare-and-swap `Txn`) could stand behind the same calls later.

mod lock;

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::Transactional;

pub use lock::DirLock;

/// Bumped whenever the layout of records changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &str = "schema_version";
const INITIALIZED_MARKER: &str = "kc-console.initialized";
/// sled's page cache; its default of 1 GiB is far more than an organization's records need.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Every table of the database. The discriminant is the index into `Store::trees`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Meta,
    Users,
    Emails,
    Lockouts,
    Payments,
    Projects,
    ProjectNames,
    Members,
    Keys,
    KeyIndex,
    ServiceAccounts,
    Inquiries,
    RevokedTokens,
    Audit,
}

impl Table {
    pub const ALL: [Table; 14] = [
        Table::Meta,
        Table::Users,
        Table::Emails,
        Table::Lockouts,
        Table::Payments,
        Table::Projects,
        Table::ProjectNames,
        Table::Members,
        Table::Keys,
        Table::KeyIndex,
        Table::ServiceAccounts,
        Table::Inquiries,
        Table::RevokedTokens,
        Table::Audit,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Users => "users",
            Table::Emails => "emails",
            Table::Lockouts => "lockouts",
            Table::Payments => "payments",
            Table::Projects => "projects",
            Table::ProjectNames => "project_names",
            Table::Members => "members",
            Table::Keys => "keys",
            Table::KeyIndex => "key_index",
            Table::ServiceAccounts => "service_accounts",
            Table::Inquiries => "inquiries",
            Table::RevokedTokens => "revoked_tokens",
            Table::Audit => "audit",
        }
    }
}

/// Why the database could not be used. Always maps to exit code 7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

fn sled_error(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } => StoreError(
            "the database is corrupted; restore the data directory from a backup or start a new one with --data-dir"
                .into(),
        ),
        sled::Error::Io(io) if io.raw_os_error() == Some(28) => {
            StoreError("the disk is full; free some space and try again".into())
        }
        other => StoreError(format!("the database could not be used: {other}")),
    }
}

/// How a transaction body fails: the model refused (`Abort`), or storage did.
pub enum TxFail<E> {
    Abort(E),
    Storage(UnabortableTransactionError),
    /// A storage failure met outside sled's transaction machinery (an unreadable record).
    Corrupt(StoreError),
}

impl<E> From<UnabortableTransactionError> for TxFail<E> {
    fn from(e: UnabortableTransactionError) -> Self {
        TxFail::Storage(e)
    }
}

impl<E> From<StoreError> for TxFail<E> {
    fn from(e: StoreError) -> Self {
        TxFail::Corrupt(e)
    }
}

/// The outcome of a failed transaction as seen by the caller.
#[derive(Debug)]
pub enum TxError<E> {
    Abort(E),
    Storage(StoreError),
}

/// The view of the tables inside one transaction.
pub struct Tx<'a> {
    trees: &'a [TransactionalTree],
}

impl Tx<'_> {
    fn tree(&self, table: Table) -> &TransactionalTree {
        &self.trees[table as usize]
    }

    pub fn get<T: DeserializeOwned, E>(&self, table: Table, key: &str) -> Result<Option<T>, TxFail<E>> {
        match self.tree(table).get(key.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(table, &bytes).map(Some).map_err(TxFail::Corrupt),
        }
    }

    pub fn put<T: Serialize, E>(&self, table: Table, key: &str, value: &T) -> Result<(), TxFail<E>> {
        let bytes = serde_json::to_vec(value).expect("records always serialize");
        self.tree(table).insert(key.as_bytes(), bytes)?;
        Ok(())
    }

    pub fn remove<E>(&self, table: Table, key: &str) -> Result<(), TxFail<E>> {
        self.tree(table).remove(key.as_bytes())?;
        Ok(())
    }

    /// A strictly increasing number, used to order audit events.
    pub fn next_sequence<E>(&self) -> Result<u64, TxFail<E>> {
        self.tree(Table::Audit)
            .generate_id()
            .map_err(|e| TxFail::Storage(UnabortableTransactionError::Storage(e)))
    }
}

fn decode<T: DeserializeOwned>(table: Table, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| {
        StoreError(format!(
            "the database is corrupted: a record in table '{}' cannot be read ({e})",
            table.name()
        ))
    })
}

/// Opens sled, waiting briefly while a Console this process just dropped lets go of the files:
/// sled's background threads can hold its own file lock for a moment after the drop. The
/// directory lock is ours by now, so "lock busy" here can only be that.
fn open_sled(path: &Path) -> std::thread::Result<sled::Result<sled::Db>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        // sled can panic on some kinds of damaged files; a damaged file is a storage error,
        // never a crash of the console.
        let opened = catch_unwind(AssertUnwindSafe(|| {
            sled::Config::new().path(path).cache_capacity(CACHE_BYTES).open()
        }));
        let busy = matches!(&opened, Ok(Err(sled::Error::Io(e))) if e.to_string().contains("could not acquire lock"));
        if !busy || std::time::Instant::now() > deadline {
            return opened;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// sled writes a snapshot to `snap.N.generating` and renames it when complete. One left behind
/// (a crash, or a full disk, mid-write) is never valid, yet sled 0.34 then reports the whole
/// database corrupted; removing it lets sled recover from its log as it should.
fn remove_unfinished_snapshots(db_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(db_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Asks the file system holding `dir` whether it is full or read-only: sled reports those in
/// many shapes, or not at all, and they must not be mistaken for damage.
fn write_probe(dir: &Path) -> Option<StoreError> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the struct it is given and reads only the NUL-terminated path.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return None;
    }
    if stats.f_flag & libc::ST_RDONLY != 0 {
        return Some(StoreError(format!(
            "cannot use the data directory {}: the file system is read-only; make it writable or choose another --data-dir",
            dir.display()
        )));
    }
    // A failed open may have freed what it had taken, so free space alone proves little: try
    // to write as much as sled would need to recover (a few segments).
    use std::io::Write;
    let probe = dir.join(".kc-console-space-probe");
    let written = std::fs::File::create(&probe).and_then(|mut f| {
        let block = vec![0u8; 1024 * 1024];
        for _ in 0..4 {
            f.write_all(&block)?;
        }
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    match written {
        Err(e) if e.raw_os_error() == Some(28) => Some(StoreError(
            "the disk is full; free some space and try again".into(),
        )),
        _ => None,
    }
}

fn damaged(dir: &Path, why: &str) -> StoreError {
    StoreError(format!(
        "the database in {} is damaged ({why}); restore the data directory from a backup, or delete it to start afresh",
        dir.display()
    ))
}

pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    path: PathBuf,
    /// The data directory's marker says an organization was created here.
    initialized: bool,
    /// Bumped after every write that lands (see `generation`).
    generation: AtomicU64,
    _lock: DirLock,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in `dir`, taking the directory's lock first so a
    /// second process gets a clear "in use" error rather than sled's.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError(format!("cannot create the data directory {}: {e}", dir.display())))?;
        let lock = DirLock::acquire(dir)?;
        let path = dir.join("db");
        // sled reads a damaged or emptied log as an empty database. The marker, written beside
        // it once an organization exists, lets `check_schema` tell "new" from "damaged".
        let initialized = dir.join(INITIALIZED_MARKER).exists();
        let existed = initialized
            || std::fs::read_dir(&path)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
        let damaged = || damaged(dir, "its files cannot be read");
        remove_unfinished_snapshots(&path);
        let opened = open_sled(&path);
        let db = match opened {
            Ok(Ok(db)) => db,
            // sled reports a full or read-only disk in many shapes (or panics); ask the file
            // system directly before calling the files damaged.
            Ok(Err(_)) | Err(_) if let Some(cause) = write_probe(dir) => return Err(cause),
            Ok(Err(e @ sled::Error::Io(_))) => return Err(sled_error(e)),
            Ok(Err(_)) | Err(_) if existed => return Err(damaged()),
            Ok(Err(e)) => return Err(sled_error(e)),
            Err(_) => return Err(damaged()),
        };
        let trees = Table::ALL
            .iter()
            .map(|t| db.open_tree(t.name()).map_err(sled_error))
            .collect::<Result<Vec<_>, _>>()?;
        let store = Store {
            db,
            trees,
            path: dir.to_path_buf(),
            initialized,
            generation: AtomicU64::new(0),
            _lock: lock,
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Writes the schema version into a new database; checks it in an existing one. A database
    /// whose files existed but hold no version is damaged: sled reads a log it cannot make sense
    /// of as empty, and treating that as new would invite writing over it.
    fn check_schema(&self) -> Result<(), StoreError> {
        let meta = &self.trees[Table::Meta as usize];
        match meta.get(SCHEMA_KEY).map_err(sled_error)? {
            None if !self.initialized => {
                meta.insert(SCHEMA_KEY, serde_json::to_vec(&SCHEMA_VERSION).unwrap())
                    .map_err(sled_error)?;
                self.flush()
            }
            None => Err(damaged(&self.path, "it has no schema version")),
            Some(bytes) => {
                let version: u32 = decode(Table::Meta, &bytes)?;
                if version == SCHEMA_VERSION {
                    Ok(())
                } else {
                    Err(StoreError(format!(
                        "the database has schema version {version}, this kc-console reads version {SCHEMA_VERSION}"
                    )))
                }
            }
        }
    }

    /// Whether an organization was ever created in this data directory (see `mark_initialized`).
    pub fn was_initialized(&self) -> bool {
        self.initialized
    }

    /// Records, outside the database, that it now holds an organization; from then on a
    /// database without one is known to be damaged rather than new.
    pub fn mark_initialized(&self) -> Result<(), StoreError> {
        let path = self.path.join(INITIALIZED_MARKER);
        let write = || -> std::io::Result<()> {
            let file = std::fs::File::create(&path)?;
            file.sync_all()
        };
        write().map_err(|e| StoreError(format!("cannot write {}: {e}", path.display())))
    }

    pub fn dir(&self) -> &Path {
        &self.path
    }

    pub fn get<T: DeserializeOwned>(&self, table: Table, key: &str) -> Result<Option<T>, StoreError> {
        match self.trees[table as usize]
            .get(key.as_bytes())
            .map_err(sled_error)?
        {
            None => Ok(None),
            Some(bytes) => decode(table, &bytes).map(Some),
        }
    }

    /// Every record whose key starts with `prefix`, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.trees[table as usize]
            .scan_prefix(prefix.as_bytes())
            .map(|item| {
                let (k, v) = item.map_err(sled_error)?;
                Ok((String::from_utf8_lossy(&k).into_owned(), decode(table, &v)?))
            })
            .collect()
    }

    /// Up to `limit` records from the end of the table backwards (newest first for tables
    /// keyed by a big-endian sequence).
    pub fn scan_newest<T: DeserializeOwned>(&self, table: Table, limit: usize) -> Result<Vec<T>, StoreError> {
        self.trees[table as usize]
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(table, &v.map_err(sled_error)?))
            .collect()
    }

    pub fn count(&self, table: Table) -> usize {
        self.trees[table as usize].len()
    }

    /// Runs `body` as one all-or-nothing transaction over every table. It may run more than once
    /// if sled detects a conflict, so it must not have side effects outside the transaction.
    pub fn transact<T, E>(&self, body: impl Fn(&Tx) -> Result<T, TxFail<E>>) -> Result<T, TxError<E>> {
        let result = self.trees[..].transaction(|trees| {
            let tx = Tx { trees };
            body(&tx).map_err(|fail| match fail {
                TxFail::Abort(e) => ConflictableTransactionError::Abort(Err(e)),
                TxFail::Corrupt(e) => ConflictableTransactionError::Abort(Ok(e)),
                TxFail::Storage(UnabortableTransactionError::Conflict) => {
                    ConflictableTransactionError::Conflict
                }
                TxFail::Storage(UnabortableTransactionError::Storage(e)) => {
                    ConflictableTransactionError::Storage(e)
                }
            })
        });
        match result {
            Ok(v) => {
                self.wrote();
                Ok(v)
            }
            Err(TransactionError::Abort(Err(e))) => Err(TxError::Abort(e)),
            Err(TransactionError::Abort(Ok(corrupt))) => Err(TxError::Storage(corrupt)),
            Err(TransactionError::Storage(e)) => Err(TxError::Storage(sled_error(e))),
        }
    }

    /// Writes one record on its own (atomic by itself), outside any transaction.
    pub fn put<T: Serialize>(&self, table: Table, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).expect("records always serialize");
        self.trees[table as usize]
            .insert(key.as_bytes(), bytes)
            .map_err(sled_error)?;
        self.wrote();
        Ok(())
    }

    /// Removes every record whose key sorts before `end`; returns how many.
    pub fn remove_before(&self, table: Table, end: &str) -> Result<usize, StoreError> {
        let tree = &self.trees[table as usize];
        let mut removed = 0;
        loop {
            // In slices, so a large backlog is never held in memory at once.
            let keys: Vec<sled::IVec> = tree
                .range(..end.as_bytes())
                .keys()
                .take(1024)
                .collect::<Result<_, _>>()
                .map_err(sled_error)?;
            if keys.is_empty() {
                break;
            }
            for key in &keys {
                tree.remove(key).map_err(sled_error)?;
            }
            removed += keys.len();
        }
        if removed > 0 {
            self.wrote();
        }
        Ok(removed)
    }

    /// A number that changes after every write that lands. Whoever derives something from
    /// the records may keep it while the generation it read *before* reading them is still
    /// current: every write method here must end with `wrote()`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn wrote(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A strictly increasing number, outside any transaction.
    pub fn next_sequence(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(sled_error)
    }

    /// Makes every committed transaction durable before the caller reports success.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(sled_error)
    }
}

/// Key of an audit event: zero-padded so that key order is sequence order.
pub fn sequence_key(seq: u64) -> String {
    format!("{seq:020}")
}
