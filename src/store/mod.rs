//! The only module that knows sled.
//!
//! The surface is deliberately small — keyed records in named tables, prefix scans, pages of a
//! key range in either order, one all-or-nothing transaction that may be retried, and atomic
//! batches of writes to one table — so that another engine (etcd's `Range` with `limit` and
//! `sort_order`, and its compare-and-swap `Txn`) could stand behind the same calls later.

mod lock;
mod private;

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::Transactional;

pub use lock::DirLock;

/// Bumped whenever the layout of records changes incompatibly.
pub const SCHEMA_VERSION: u32 = 2;
/// Older versions the model knows how to bring up to date (see `Store::upgrading_from`).
const UPGRADABLE_FROM: &[u32] = &[1];
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
    use std::os::unix::fs::OpenOptionsExt;
    let probe = dir.join(".kc-console-space-probe");
    // A fresh file of our own: never one a link points at.
    let _ = std::fs::remove_file(&probe);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(private::FILE_MODE)
        .open(&probe);
    let written = created.and_then(|mut f| {
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

/// The socket a server holding the data directory answers on (see `crate::server`).
pub const SERVER_SOCKET: &str = "kc-console.sock";

/// Whoever holds the directory's lock is its only server, so a server socket found on opening
/// was left by one that was killed: remove it (only a socket of that name, never anything else).
fn remove_stale_socket(dir: &Path) {
    use std::os::unix::fs::FileTypeExt;
    let socket = dir.join(SERVER_SOCKET);
    if std::fs::symlink_metadata(&socket).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(&socket);
    }
}

/// Whether `dir` holds a database already (or once did): the marker an organization leaves,
/// or a database directory with files in it. Asked before opening, which would create one.
impl Store {
    pub fn holds_database(dir: &Path) -> bool {
        dir.join(INITIALIZED_MARKER).exists()
            || std::fs::read_dir(dir.join("db"))
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
    }
}

/// Keys from `start` (inclusive) to `end` (exclusive; none: every key from `start` on) —
/// etcd's `[key, range_end)`, compared as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    start: Vec<u8>,
    end: Option<Vec<u8>>,
}

impl KeyRange {
    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &str) -> KeyRange {
        KeyRange {
            start: prefix.as_bytes().to_vec(),
            end: prefix_end(prefix.as_bytes()),
        }
    }

    /// Keys from `start` (inclusive) to `end` (exclusive).
    pub fn between(start: &str, end: &str) -> KeyRange {
        KeyRange {
            start: start.as_bytes().to_vec(),
            end: Some(end.as_bytes().to_vec()),
        }
    }

    /// Narrowed to keys strictly below `key` (a cursor for the next page, newest first).
    pub fn below(mut self, key: &str) -> KeyRange {
        if self.end.as_deref().is_none_or(|end| key.as_bytes() < end) {
            self.end = Some(key.as_bytes().to_vec());
        }
        self
    }

    /// Narrowed to keys strictly above `key` (a cursor for the next page, oldest first).
    pub fn above(mut self, key: &str) -> KeyRange {
        let mut after = key.as_bytes().to_vec();
        after.push(0);
        if after > self.start {
            self.start = after;
        }
        self
    }
}

/// The first key after every key that starts with `prefix` (none when there is none).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Which end of a range a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Smallest key first (oldest first for sequence-keyed records).
    Ascending,
    /// Greatest key first (newest first).
    Descending,
}

/// Writes to one table applied all at once, outside any transaction: sled's `Batch`, etcd's
/// `Txn` of puts and deletes.
#[derive(Debug, Default)]
pub struct Batch {
    writes: Vec<(String, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn put<T: Serialize>(&mut self, key: &str, value: &T) {
        let bytes = serde_json::to_vec(value).expect("records always serialize");
        self.writes.push((key.into(), Some(bytes)));
    }

    pub fn remove(&mut self, key: &str) {
        self.writes.push((key.into(), None));
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    path: PathBuf,
    /// The data directory's marker says an organization was created here.
    initialized: bool,
    /// The schema version found, when it is an older one the model must bring up to date.
    upgrading_from: Option<u32>,
    /// Held by every transaction and every `exclusive` body, so a read-modify-write outside a
    /// transaction (a counter beside a batch) cannot interleave with one inside.
    writer: Mutex<()>,
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
        private::create_dir(dir)?;
        private::secure_dir(dir)?;
        let lock = DirLock::acquire(dir)?;
        remove_stale_socket(dir);
        private::secure_contents(dir)?;
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
        // What sled just wrote (its files in a new directory, the snapshot of every start).
        private::secure_contents(dir)?;
        let trees = Table::ALL
            .iter()
            .map(|t| db.open_tree(t.name()).map_err(sled_error))
            .collect::<Result<Vec<_>, _>>()?;
        let mut store = Store {
            db,
            trees,
            path: dir.to_path_buf(),
            initialized,
            upgrading_from: None,
            writer: Mutex::new(()),
            generation: AtomicU64::new(0),
            _lock: lock,
        };
        store.upgrading_from = store.check_schema()?;
        Ok(store)
    }

    /// Writes the schema version into a new database; checks it in an existing one, and says
    /// which older version it holds when the model can bring that up to date. A database whose
    /// files existed but hold no version is damaged: sled reads a log it cannot make sense of as
    /// empty, and treating that as new would invite writing over it.
    fn check_schema(&self) -> Result<Option<u32>, StoreError> {
        let meta = &self.trees[Table::Meta as usize];
        match meta.get(SCHEMA_KEY).map_err(sled_error)? {
            None if !self.initialized => {
                self.finish_upgrade()?;
                Ok(None)
            }
            None => Err(damaged(&self.path, "it has no schema version")),
            Some(bytes) => {
                let version: u32 = decode(Table::Meta, &bytes)?;
                if version == SCHEMA_VERSION {
                    Ok(None)
                } else if UPGRADABLE_FROM.contains(&version) {
                    Ok(Some(version))
                } else {
                    Err(StoreError(format!(
                        "the database has schema version {version}, this kc-console reads version {SCHEMA_VERSION}"
                    )))
                }
            }
        }
    }

    /// The older schema version this database holds, which the model brings up to date before
    /// calling `finish_upgrade`; None when it is current.
    pub fn upgrading_from(&self) -> Option<u32> {
        self.upgrading_from
    }

    /// Records that the database now has the current layout.
    pub fn finish_upgrade(&self) -> Result<(), StoreError> {
        self.trees[Table::Meta as usize]
            .insert(
                SCHEMA_KEY,
                serde_json::to_vec(&SCHEMA_VERSION).expect("a number serializes"),
            )
            .map_err(sled_error)?;
        self.flush()
    }

    /// Whether an organization was ever created in this data directory (see `mark_initialized`).
    pub fn was_initialized(&self) -> bool {
        self.initialized
    }

    /// Records, outside the database, that it now holds an organization; from then on a
    /// database without one is known to be damaged rather than new.
    pub fn mark_initialized(&self) -> Result<(), StoreError> {
        let path = self.path.join(INITIALIZED_MARKER);
        private::open_own_file(&path, "the marker file")?
            .sync_all()
            .map_err(|e| StoreError(format!("cannot write {}: {e}", path.display())))
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

    /// Up to `limit` records of `range`, from the end that `order` names. Only what the page
    /// holds is read, however large the table.
    pub fn page<T: DeserializeOwned>(
        &self,
        table: Table,
        range: &KeyRange,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let tree = &self.trees[table as usize];
        let start = range.start.as_slice();
        let records = match &range.end {
            Some(end) if end.as_slice() <= start => return Ok(Vec::new()),
            Some(end) => tree.range(start..end.as_slice()),
            None => tree.range(start..),
        };
        let decoded = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            let (k, v) = item.map_err(sled_error)?;
            Ok((String::from_utf8_lossy(&k).into_owned(), decode(table, &v)?))
        };
        match order {
            Order::Ascending => records.take(limit).map(decoded).collect(),
            Order::Descending => records.rev().take(limit).map(decoded).collect(),
        }
    }

    /// Runs `body` while no transaction and no other `exclusive` body runs, so that what it
    /// reads (a counter, the oldest records) stays true until it applies its batch. Plain `put`s
    /// are not held off: keep the keys a body reads out of their reach.
    pub fn exclusive<T>(&self, body: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        body()
    }

    /// Applies `batch` to `table` one write after another, each atomic by itself: after a crash,
    /// the writes up to some point are there and none after it (sled recovers a prefix of its
    /// log). Much cheaper than `apply` on a busy store: no global lock, so concurrent reads and
    /// writes go on (sled's atomic batches wait for every reader, its flusher included).
    pub fn apply_in_order(&self, table: Table, batch: Batch) -> Result<(), StoreError> {
        let tree = &self.trees[table as usize];
        for (key, value) in batch.writes {
            match value {
                Some(bytes) => tree.insert(key.as_bytes(), bytes).map(drop),
                None => tree.remove(key.as_bytes()).map(drop),
            }
            .map_err(sled_error)?;
        }
        self.wrote(table);
        Ok(())
    }

    /// Applies `batch` to `table` atomically: after a crash, all of it or none of it is there.
    pub fn apply(&self, table: Table, batch: Batch) -> Result<(), StoreError> {
        let mut writes = sled::Batch::default();
        for (key, value) in batch.writes {
            match value {
                Some(bytes) => writes.insert(key.as_bytes(), bytes),
                None => writes.remove(key.as_bytes()),
            }
        }
        self.trees[table as usize]
            .apply_batch(writes)
            .map_err(sled_error)?;
        self.wrote(table);
        Ok(())
    }

    /// Runs `body` as one all-or-nothing transaction over every table. It may run more than once
    /// if sled detects a conflict, so it must not have side effects outside the transaction.
    pub fn transact<T, E>(&self, body: impl Fn(&Tx) -> Result<T, TxFail<E>>) -> Result<T, TxError<E>> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
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
                self.generation.fetch_add(1, Ordering::AcqRel);
                Ok(v)
            }
            Err(TransactionError::Abort(Err(e))) => Err(TxError::Abort(e)),
            Err(TransactionError::Abort(Ok(corrupt))) => Err(TxError::Storage(corrupt)),
            Err(TransactionError::Storage(e)) => Err(TxError::Storage(sled_error(e))),
        }
    }

    /// Removes every record whose key sorts before `end`, a slice at a time (a large backlog
    /// is never held in memory at once); returns how many.
    pub fn remove_before(&self, table: Table, end: &str) -> Result<usize, StoreError> {
        let tree = &self.trees[table as usize];
        let mut removed = 0;
        loop {
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
            self.wrote(table);
        }
        Ok(removed)
    }

    /// The number of records in `table`. It walks the table: for small ones only (revocations
    /// of unexpired tokens, in tests and figures).
    pub fn record_count(&self, table: Table) -> usize {
        self.trees[table as usize].len()
    }

    /// A number that changes after every write that lands outside the audit log. Whoever
    /// derives something from the records may keep it while the generation it read *before*
    /// reading them is still current: every write method here must end with `wrote()`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Nothing is derived from the audit log, so its appends (many, on the token API's hot
    /// path) leave what was derived from the rest current.
    fn wrote(&self, table: Table) {
        if table != Table::Audit {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
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
