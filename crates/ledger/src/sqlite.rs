//! The embedded ledger: an SQLite file beside `wallet.dat`, shared safely
//! by every process on the machine (a daemon and `tatum-kms audit` at the
//! same time, or two daemons): WAL mode so readers never wait for the
//! writer, a busy timeout so writers queue instead of failing, and every
//! change in a `BEGIN IMMEDIATE` transaction, which takes the file's write
//! lock before reading, so a claim's read and write are one atomic step
//! across processes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use crate::audit::{canonical_json, AuditEntry, AuditFilter, GENESIS_HASH};
use crate::engine::{self, parse_json, parse_kind, signed_int, unsigned, Append, Row};
use crate::memory::now_ms;
use crate::{Claim, Lease, Ledger, LedgerError, Step, Subject};

/// The schema this build writes. Each of its migrations takes the
/// file one version up; `PRAGMA user_version` holds where a file is.
pub const FILE_SCHEMA_VERSION: u32 = 1;

/// `MIGRATIONS[n]` takes a file from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema.
    "CREATE TABLE ledger_state (
        id TEXT PRIMARY KEY NOT NULL,
        chain TEXT NOT NULL,
        network TEXT NOT NULL,
        wallets TEXT NOT NULL,            -- JSON array of strings
        request_digest TEXT NOT NULL,
        replica TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        lease_until_ms INTEGER NOT NULL,
        released INTEGER NOT NULL,
        signed TEXT,                      -- JSON SignedRecord
        submitted_at_ms INTEGER,          -- set once submitted
        submitted_tx_id TEXT
    ) STRICT;
    CREATE TABLE ledger_audit (
        seq INTEGER PRIMARY KEY NOT NULL,
        at_ms INTEGER NOT NULL,
        id TEXT NOT NULL,
        chain TEXT NOT NULL,
        network TEXT NOT NULL,
        wallets TEXT NOT NULL,            -- JSON array of strings
        replica TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,             -- canonical JSON, as hashed
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    ) STRICT;
    CREATE INDEX ledger_audit_id ON ledger_audit (id);
    CREATE INDEX ledger_audit_at ON ledger_audit (at_ms);
    -- The trail's head: where the next entry goes even if the last one
    -- was removed by hand (the gap then shows), and the anchor pruning left.
    CREATE TABLE ledger_head (
        singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1),
        last_seq INTEGER NOT NULL,
        last_hash TEXT NOT NULL,
        anchor_seq INTEGER NOT NULL,
        anchor_hash TEXT NOT NULL
    ) STRICT;",
];

/// How long a write waits for another process's transaction before the
/// ledger is reported unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded ledger, in an SQLite file. Cheap to share (`Arc`); one
/// connection per handle, its calls run on tokio's blocking threads.
pub struct FileLedger {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for FileLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLedger")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn db_error(e: rusqlite::Error) -> LedgerError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            LedgerError::Corrupt(e.to_string())
        }
        _ => LedgerError::Unavailable(Box::new(e)),
    }
}

impl FileLedger {
    /// Opens the ledger at `path`, creating it (mode 0600) if missing and
    /// bringing its schema up to [`FILE_SCHEMA_VERSION`]. A file written by
    /// a newer version is refused with [`LedgerError::Corrupt`].
    pub async fn open(path: impl Into<PathBuf>) -> Result<FileLedger, LedgerError> {
        let path = path.into();
        let opened = path.clone();
        let conn = tokio::task::spawn_blocking(move || open_connection(&opened))
            .await
            .map_err(|e| LedgerError::Unavailable(Box::new(e)))??;
        Ok(FileLedger {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the connection, on a blocking thread.
    async fn with_conn<T, F>(&self, work: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, LedgerError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier call rolled its transaction back as it
            // unwound (rusqlite's Transaction does on drop): the connection
            // is usable.
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut conn)
        })
        .await
        .map_err(|e| LedgerError::Unavailable(Box::new(e)))?
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction with the time taken
    /// once the write lock is held; commits when it returns `Ok`. Only a
    /// `durable` commit waits for the disk (`synchronous = FULL`); the
    /// others (`NORMAL`, in WAL mode) survive a crash of the process but not
    /// of the machine, which is safe for every change but the signed bytes
    /// (see `PostgresLedger::change`), and a durable commit flushes the
    /// ones before it.
    async fn write<T, F>(&self, durable: bool, work: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>, i64) -> Result<T, LedgerError> + Send + 'static,
    {
        self.with_conn(move |conn| {
            conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })
                .map_err(db_error)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_error)?;
            let out = work(&tx, now_ms())?;
            tx.commit().map_err(db_error)?;
            Ok(out)
        })
        .await
    }
}

fn open_connection(path: &Path) -> Result<Connection, LedgerError> {
    create_private(path)?;
    let mut conn = Connection::open(path).map_err(db_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
    // WAL: `audit` reads while a daemon writes. Each write then sets how
    // durable its commit is (`FileLedger::write`): FULL for the bytes
    // signed for an id, which must survive a power cut too.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(db_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LedgerError::Corrupt(format!(
            "{}: SQLite would not switch to WAL mode (it stays {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_error)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Creates `path` readable by its owner only, if it does not exist. SQLite
/// gives its WAL and shared-memory files the database file's mode.
fn create_private(path: &Path) -> Result<(), LedgerError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(LedgerError::Unavailable(Box::new(e))),
    }
}

/// Brings the schema up to [`FILE_SCHEMA_VERSION`] under the write lock, so
/// two processes opening a new file together do not both create it.
fn migrate(conn: &mut Connection) -> Result<(), LedgerError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let version: u32 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_error)?;
    if version > FILE_SCHEMA_VERSION {
        return Err(LedgerError::Corrupt(format!(
            "the ledger file has schema version {version}, newer than this build's {FILE_SCHEMA_VERSION}: use a newer tatum-kms"
        )));
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(step).map_err(db_error)?;
        if from == 0 {
            tx.execute(
                "INSERT INTO ledger_head VALUES (1, 0, ?1, 0, ?1)",
                params![GENESIS_HASH],
            )
            .map_err(db_error)?;
        }
    }
    if version < FILE_SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", FILE_SCHEMA_VERSION)
            .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)
}

fn read_row(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Option<Row>, LedgerError> {
    let raw = tx
        .query_row(
            "SELECT chain, network, wallets, request_digest, replica, epoch, lease_until_ms,
                    released, signed, submitted_at_ms, submitted_tx_id
             FROM ledger_state WHERE id = ?1",
            params![id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            },
        )
        .optional()
        .map_err(db_error)?;
    let Some((chain, network, wallets, digest, replica, epoch, until, released, signed, at, tx_id)) =
        raw
    else {
        return Ok(None);
    };
    Ok(Some(Row {
        subject: Subject {
            id: id.to_owned(),
            chain,
            network,
            wallets: parse_json(&wallets, "a state's wallets")?,
            request_digest: digest,
        },
        replica,
        epoch: unsigned(epoch, "an epoch")?,
        lease_until_ms: until,
        released,
        signed: signed
            .map(|s| parse_json(&s, "a state's signed transaction"))
            .transpose()?,
        submitted: at.map(|at| (tx_id, at)),
    }))
}

fn write_row(tx: &rusqlite::Transaction<'_>, row: &Row) -> Result<(), LedgerError> {
    let signed = row
        .signed
        .as_ref()
        .map(|s| serde_json::to_string(s).expect("a SignedRecord serializes"));
    tx.execute(
        "INSERT INTO ledger_state (id, chain, network, wallets, request_digest, replica, epoch,
                                   lease_until_ms, released, signed, submitted_at_ms, submitted_tx_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET
            chain = excluded.chain, network = excluded.network, wallets = excluded.wallets,
            request_digest = excluded.request_digest, replica = excluded.replica,
            epoch = excluded.epoch, lease_until_ms = excluded.lease_until_ms,
            released = excluded.released, signed = excluded.signed,
            submitted_at_ms = excluded.submitted_at_ms, submitted_tx_id = excluded.submitted_tx_id",
        params![
            row.subject.id,
            row.subject.chain,
            row.subject.network,
            serde_json::to_string(&row.subject.wallets).expect("strings serialize"),
            row.subject.request_digest,
            row.replica,
            signed_int(row.epoch, "an epoch")?,
            row.lease_until_ms,
            row.released,
            signed,
            row.submitted.as_ref().map(|(_, at)| *at),
            row.submitted.as_ref().and_then(|(tx_id, _)| tx_id.clone()),
        ],
    )
    .map_err(db_error)?;
    Ok(())
}

fn append(tx: &rusqlite::Transaction<'_>, entry: Append, now: i64) -> Result<(), LedgerError> {
    let (last_seq, last_hash): (i64, String) = tx
        .query_row(
            "SELECT last_seq, last_hash FROM ledger_head WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db_error)?;
    let entry = entry.seal(unsigned(last_seq, "the head's seq")? + 1, now, &last_hash);
    let seq = signed_int(entry.seq, "a seq")?;
    tx.execute(
        "INSERT INTO ledger_audit (seq, at_ms, id, chain, network, wallets, replica, kind, detail,
                                   prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            seq,
            entry.at_ms,
            entry.id,
            entry.chain,
            entry.network,
            serde_json::to_string(&entry.wallets).expect("strings serialize"),
            entry.replica,
            entry.kind.as_str(),
            canonical_json(&entry.detail),
            entry.prev_hash,
            entry.hash,
        ],
    )
    .map_err(db_error)?;
    tx.execute(
        "UPDATE ledger_head SET last_seq = ?1, last_hash = ?2 WHERE singleton = 1",
        params![seq, entry.hash],
    )
    .map_err(db_error)?;
    Ok(())
}

#[allow(clippy::type_complexity)]
fn entry_from_columns(
    columns: (
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ),
) -> Result<AuditEntry, LedgerError> {
    let (seq, at_ms, id, chain, network, wallets, replica, kind, detail, prev_hash, hash) = columns;
    Ok(AuditEntry {
        seq: unsigned(seq, "a seq")?,
        at_ms,
        id,
        chain,
        network,
        wallets: parse_json(&wallets, "an entry's wallets")?,
        replica,
        kind: parse_kind(&kind)?,
        detail: parse_json(&detail, "an entry's detail")?,
        prev_hash,
        hash,
    })
}

/// The entries `filter` lets through, filtered by SQLite with the very
/// tests of [`AuditFilter::matches`] (exact, case-sensitive text).
fn query_entries(conn: &Connection, filter: &AuditFilter) -> Result<Vec<AuditEntry>, LedgerError> {
    let mut sql = String::from(
        "SELECT seq, at_ms, id, chain, network, wallets, replica, kind, detail, prev_hash, hash
         FROM ledger_audit WHERE 1 = 1",
    );
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, value: rusqlite::types::Value| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    };
    use rusqlite::types::Value as V;
    if let Some(id) = &filter.id {
        bind(&mut sql, " AND id = ?", V::Text(id.clone()));
    }
    if let Some(chain) = &filter.chain {
        bind(&mut sql, " AND chain = ?", V::Text(chain.clone()));
    }
    if let Some(wallet) = &filter.wallet {
        bind(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM json_each(ledger_audit.wallets) w WHERE w.value = ?)",
            V::Text(wallet.clone()),
        );
    }
    if let Some(kind) = filter.kind {
        bind(&mut sql, " AND kind = ?", V::Text(kind.as_str().to_owned()));
    }
    if let Some(since) = filter.since_ms {
        bind(&mut sql, " AND at_ms >= ?", V::Integer(since));
    }
    if let Some(until) = filter.until_ms {
        bind(&mut sql, " AND at_ms < ?", V::Integer(until));
    }
    // SQLite's LIMIT -1 is no limit.
    let limit = filter
        .limit
        .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    bind(&mut sql, " ORDER BY seq LIMIT ?", V::Integer(limit));
    let mut statement = conn.prepare(&sql).map_err(db_error)?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(values), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .map_err(db_error)?;
    let mut entries = Vec::new();
    for row in rows {
        entries.push(entry_from_columns(row.map_err(db_error)?)?);
    }
    Ok(entries)
}

#[async_trait]
impl Ledger for FileLedger {
    async fn claim(
        &self,
        subject: &Subject,
        replica: &str,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        let (subject, replica) = (subject.clone(), replica.to_owned());
        self.write(false, move |tx, now| {
            let plan = engine::claim(read_row(tx, &subject.id)?, &subject, &replica, lease, now);
            if let Some(row) = &plan.row {
                write_row(tx, row)?;
            }
            if let Some(entry) = plan.append {
                append(tx, entry, now)?;
            }
            Ok(plan.answer)
        })
        .await
    }

    async fn renew(&self, lease: &Lease, duration: Duration) -> Result<(), LedgerError> {
        let lease = lease.clone();
        self.write(false, move |tx, now| {
            let mut row = engine::held(read_row(tx, &lease.id)?, &lease, now)?;
            row.lease_until_ms = now.saturating_add(engine::lease_ms(duration));
            write_row(tx, &row)
        })
        .await
    }

    async fn record(&self, lease: &Lease, step: Step) -> Result<(), LedgerError> {
        let lease = lease.clone();
        let durable = step.is_signature();
        self.write(durable, move |tx, now| {
            if let Some((row, entry)) = engine::record(read_row(tx, &lease.id)?, &lease, step, now)?
            {
                write_row(tx, &row)?;
                append(tx, entry, now)?;
            }
            Ok(())
        })
        .await
    }

    async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, LedgerError> {
        let filter = filter.clone();
        self.with_conn(move |conn| query_entries(conn, &filter))
            .await
    }

    async fn anchor(&self) -> Result<(u64, String), LedgerError> {
        self.with_conn(|conn| {
            let (seq, hash): (i64, String) = conn
                .query_row(
                    "SELECT anchor_seq, anchor_hash FROM ledger_head WHERE singleton = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(db_error)?;
            Ok((unsigned(seq, "the anchor's seq")?, hash))
        })
        .await
    }

    async fn prune(&self, before_ms: i64) -> Result<u64, LedgerError> {
        self.write(true, move |tx, _| {
            let last_removed: Option<(i64, String)> = tx
                .query_row(
                    "SELECT seq, hash FROM ledger_audit WHERE at_ms < ?1 ORDER BY seq DESC LIMIT 1",
                    params![before_ms],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_error)?;
            let Some((seq, hash)) = last_removed else {
                return Ok(0);
            };
            let removed = tx
                .execute("DELETE FROM ledger_audit WHERE seq <= ?1", params![seq])
                .map_err(db_error)?;
            tx.execute(
                "UPDATE ledger_head SET anchor_seq = ?1, anchor_hash = ?2 WHERE singleton = 1",
                params![seq, hash],
            )
            .map_err(db_error)?;
            tx.execute(
                "DELETE FROM ledger_state WHERE submitted_at_ms < ?1",
                params![before_ms],
            )
            .map_err(db_error)?;
            Ok(removed as u64)
        })
        .await
    }

    async fn check(&self) -> Result<(), LedgerError> {
        self.with_conn(|conn| {
            conn.query_row("SELECT last_seq FROM ledger_head", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }
}
