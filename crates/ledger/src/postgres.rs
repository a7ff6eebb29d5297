//! The shared ledger, in PostgreSQL, for replicas.
//!
//! Every change runs in one transaction that first locks the trail's head
//! row (`kms_ledger_head ... FOR UPDATE`): the audit chain needs a total
//! order across replicas, and the same lock makes each claim's read and
//! write one atomic step, like [`crate::MemoryLedger`]'s mutex. The id's
//! row is also locked (`FOR UPDATE`), and its new state, the audit entry
//! and the new head are written in the same transaction. Time is the
//! database's (`clock_timestamp()`, read once the locks are held), so the
//! replicas' clocks do not matter.
//!
//! Two round trips per change: `BEGIN`, the locks and the clock go out
//! together (tokio-postgres pipelines requests polled together), then the
//! writes and `COMMIT`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::types::ToSql;
use tokio_postgres::Statement;

use crate::audit::{canonical_json, AuditEntry, AuditFilter, GENESIS_HASH};
use crate::engine::{self, parse_json, parse_kind, signed_int, unsigned, Append, Row};
use crate::{Claim, Lease, Ledger, LedgerError, Step, Subject};

/// The schema this build writes; `kms_ledger_migrations` lists the
/// versions applied to a database.
pub const POSTGRES_SCHEMA_VERSION: i32 = 1;

/// `MIGRATIONS[n]` takes a database from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema. `detail` is text holding canonical JSON, not
    // jsonb, so it reads back byte for byte as it was hashed.
    "CREATE TABLE kms_ledger_state (
        id text PRIMARY KEY,
        chain text NOT NULL,
        network text NOT NULL,
        wallets text[] NOT NULL,
        request_digest text NOT NULL,
        replica text NOT NULL,
        epoch bigint NOT NULL,
        lease_until_ms bigint NOT NULL,
        released boolean NOT NULL,
        signed text,
        submitted_at_ms bigint,
        submitted_tx_id text
    );
    CREATE TABLE kms_ledger_audit (
        seq bigint PRIMARY KEY,
        at_ms bigint NOT NULL,
        id text NOT NULL,
        chain text NOT NULL,
        network text NOT NULL,
        wallets text[] NOT NULL,
        replica text NOT NULL,
        kind text NOT NULL,
        detail text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
    );
    CREATE INDEX kms_ledger_audit_id ON kms_ledger_audit (id);
    CREATE INDEX kms_ledger_audit_at ON kms_ledger_audit (at_ms);
    CREATE TABLE kms_ledger_head (
        singleton boolean PRIMARY KEY CHECK (singleton),
        last_seq bigint NOT NULL,
        last_hash text NOT NULL,
        anchor_seq bigint NOT NULL,
        anchor_hash text NOT NULL
    );",
];

/// The advisory lock key under which migrations run ("kmsledgr").
const MIGRATION_LOCK: i64 = 0x6b6d_736c_6564_6772;

/// Connections per ledger: the daemon's tasks share them.
const POOL_SIZE: usize = 8;

/// Longest wait for a connection, a lock or an answer before the ledger is
/// reported unavailable. A replica that dies inside a transaction holds the
/// head lock until the server notices (`idle_in_transaction_session_timeout`).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The database's clock in Unix milliseconds.
const CLOCK_MS: &str = "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

const STATE_COLUMNS: &str = "chain, network, wallets, request_digest, replica, epoch, \
    lease_until_ms, released, signed, submitted_at_ms, submitted_tx_id";

const ENTRY_COLUMNS: &str =
    "seq, at_ms, id, chain, network, wallets, replica, kind, detail, prev_hash, hash";

/// How the connection is protected, from the URL's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TlsMode {
    /// `disable`: plain TCP.
    Disable,
    /// `prefer` (the default, as in libpq): TLS when the server offers it,
    /// plain TCP when it has none.
    Prefer,
    /// `require`, `verify-ca`, `verify-full`: TLS or no connection.
    Require,
}

/// A PostgreSQL URL whose password never shows: [`std::fmt::Display`] and
/// [`std::fmt::Debug`] print [`PostgresUrl::redacted`].
#[derive(Clone)]
pub struct PostgresUrl {
    url: SecretString,
    redacted: String,
}

impl PostgresUrl {
    /// Wraps `url` (`postgres://user:password@host:port/db?sslmode=...`).
    pub fn new(url: &str) -> PostgresUrl {
        PostgresUrl {
            redacted: redact(url),
            url: SecretString::from(url.to_owned()),
        }
    }

    /// The URL with the password replaced by `***`, for logs.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }
}

impl std::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresUrl({})", self.redacted)
    }
}

fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Cannot fail on a URL that has a password (it has a host).
                let _ = parsed.set_password(Some("***"));
            }
            // A password can also come as a query parameter.
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" {
                        "***".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "(an unparsable PostgreSQL URL)".into(),
    }
}

/// Why a URL was refused; never shows the URL itself.
#[derive(Debug, thiserror::Error)]
#[error("the ledger URL {redacted} is not usable: {reason}")]
struct UrlError {
    redacted: String,
    reason: String,
}

/// The connection settings and TLS mode a URL names.
fn parse_url(
    url: &PostgresUrl,
) -> Result<(tokio_postgres::Config, TlsMode, Option<String>), LedgerError> {
    let refuse = |reason: String| {
        LedgerError::Unavailable(Box::new(UrlError {
            redacted: url.redacted.clone(),
            reason,
        }))
    };
    let mut parsed =
        url::Url::parse(url.url.expose_secret()).map_err(|e| refuse(format!("not a URL ({e})")))?;
    let mut mode = TlsMode::Prefer;
    let mut root_cert = None;
    // tokio-postgres knows `sslmode` up to `require` and nothing of
    // `sslrootcert`: both are handled here and taken out of its URL.
    let mut kept = Vec::new();
    for (key, value) in parsed.query_pairs() {
        match &*key {
            "sslmode" => {
                mode = match &*value {
                    "disable" => TlsMode::Disable,
                    "prefer" | "allow" => TlsMode::Prefer,
                    "require" | "verify-ca" | "verify-full" => TlsMode::Require,
                    other => return Err(refuse(format!("unknown sslmode {other:?}"))),
                }
            }
            "sslrootcert" => root_cert = Some(value.into_owned()),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    let mut config = tokio_postgres::Config::from_str(parsed.as_str())
        .map_err(|e| refuse(format!("not a PostgreSQL URL ({e})")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("tatum-kms");
    }
    config.keepalives(true);
    // A replica that stops answering inside a transaction must not hold
    // the head lock (every other replica's writes) for long.
    let options = format!(
        "{} -c idle_in_transaction_session_timeout={} -c lock_timeout={}",
        config.get_options().unwrap_or_default(),
        TIMEOUT.as_millis() * 3 / 2,
        TIMEOUT.as_millis()
    );
    config.options(options.trim_start());
    Ok((config, mode, root_cert))
}

/// rustls with ring (the provider reqwest already brings), trusting
/// `root_cert` (a PEM file, libpq's `sslrootcert`) or else the Mozilla
/// roots of `webpki-roots`; the server's name is always verified.
fn tls_connector(
    root_cert: Option<&str>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, LedgerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect())
                .map_err(|e| LedgerError::Unavailable(format!("sslrootcert {path}: {e}").into()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(LedgerError::Unavailable(
                    format!("sslrootcert {path}: no certificate in it").into(),
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| LedgerError::Unavailable(Box::new(e)))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn db(e: tokio_postgres::Error) -> LedgerError {
    LedgerError::Unavailable(Box::new(e))
}

fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> Result<T, LedgerError> {
    row.try_get(index)
        .map_err(|e| LedgerError::Corrupt(format!("column {index}: {e}")))
}

/// The shared ledger in PostgreSQL. Cheap to share (`Arc`); a pool of
/// 8 connections, which reconnects when the database is back.
pub struct PostgresLedger {
    pool: Pool,
    url: PostgresUrl,
}

impl std::fmt::Debug for PostgresLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLedger")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A pooled connection. Dropped before [`Session::done`] (an error or a
/// cancelled call, maybe inside a transaction), the connection is closed,
/// never handed to another call: the server then rolls back whatever it had
/// open and releases its locks.
struct Session {
    client: Option<Object>,
}

impl Session {
    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("a session's client is there until done")
    }

    /// Back to the pool: the connection is idle, outside any transaction.
    fn done(mut self) {
        drop(self.client.take());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

/// The statements of a change, prepared once per connection.
struct Statements {
    lock_head: Statement,
    state_for_update: Statement,
    clock: Statement,
    upsert_state: Statement,
    insert_entry: Statement,
    update_head: Statement,
}

/// What a change writes, after its answer.
struct Change<T> {
    answer: T,
    row: Option<Row>,
    append: Option<Append>,
}

impl PostgresLedger {
    /// Connects to `url` and brings the schema up to
    /// [`POSTGRES_SCHEMA_VERSION`] (under an advisory lock, so replicas
    /// starting together do not race). A database migrated by a newer
    /// version is refused with [`LedgerError::Corrupt`].
    pub async fn connect(url: PostgresUrl) -> Result<PostgresLedger, LedgerError> {
        let (config, mode, root_cert) = parse_url(&url)?;
        let manager_config = ManagerConfig {
            // A connection whose server went away is closed: checked for
            // free. One that breaks unnoticed fails its next call (the
            // ledger is then unavailable for that call) and is dropped.
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match mode {
            TlsMode::Disable => {
                let mut config = config;
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                Manager::from_config(config, tokio_postgres::NoTls, manager_config)
            }
            TlsMode::Prefer | TlsMode::Require => {
                let mut config = config;
                config.ssl_mode(if mode == TlsMode::Require {
                    tokio_postgres::config::SslMode::Require
                } else {
                    tokio_postgres::config::SslMode::Prefer
                });
                Manager::from_config(config, tls_connector(root_cert.as_deref())?, manager_config)
            }
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(TIMEOUT))
            .create_timeout(Some(TIMEOUT))
            .recycle_timeout(Some(TIMEOUT))
            .build()
            .map_err(|e| LedgerError::Unavailable(Box::new(e)))?;
        let ledger = PostgresLedger { pool, url };
        ledger.migrate().await?;
        Ok(ledger)
    }

    /// The URL, password hidden.
    pub fn url(&self) -> &PostgresUrl {
        &self.url
    }

    async fn session(&self) -> Result<Session, LedgerError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| LedgerError::Unavailable(Box::new(e)))?;
        Ok(Session {
            client: Some(client),
        })
    }

    async fn migrate(&self) -> Result<(), LedgerError> {
        timed(async {
            let session = self.session().await?;
            let c = session.client();
            c.batch_execute("BEGIN").await.map_err(db)?;
            c.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(db)?;
            c.batch_execute(
                "CREATE TABLE IF NOT EXISTS kms_ledger_migrations (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )",
            )
            .await
            .map_err(db)?;
            let current: i32 = c
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM kms_ledger_migrations",
                    &[],
                )
                .await
                .map_err(db)?
                .get(0);
            if current > POSTGRES_SCHEMA_VERSION {
                return Err(LedgerError::Corrupt(format!(
                    "the ledger database has schema version {current}, newer than this build's {POSTGRES_SCHEMA_VERSION}: use a newer tatum-kms"
                )));
            }
            for (from, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
                c.batch_execute(step).await.map_err(db)?;
                if from == 0 {
                    c.execute(
                        "INSERT INTO kms_ledger_head VALUES (true, 0, $1, 0, $1)",
                        &[&GENESIS_HASH],
                    )
                    .await
                    .map_err(db)?;
                }
                let version = from as i32 + 1;
                c.execute(
                    "INSERT INTO kms_ledger_migrations (version) VALUES ($1)",
                    &[&version],
                )
                .await
                .map_err(db)?;
            }
            c.batch_execute("COMMIT").await.map_err(db)?;
            session.done();
            Ok(())
        })
        .await
    }

    async fn statements(c: &Object) -> Result<Statements, LedgerError> {
        let state_sql =
            format!("SELECT {STATE_COLUMNS} FROM kms_ledger_state WHERE id = $1 FOR UPDATE");
        let clock_sql = format!("SELECT {CLOCK_MS}");
        let entry_sql = format!(
            "INSERT INTO kms_ledger_audit ({ENTRY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let (lock_head, state_for_update, clock, upsert_state, insert_entry, update_head) = tokio::join!(
            c.prepare_cached("SELECT last_seq, last_hash FROM kms_ledger_head FOR UPDATE"),
            c.prepare_cached(&state_sql),
            c.prepare_cached(&clock_sql),
            c.prepare_cached(
                "INSERT INTO kms_ledger_state (id, chain, network, wallets, request_digest,
                    replica, epoch, lease_until_ms, released, signed, submitted_at_ms, submitted_tx_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (id) DO UPDATE SET
                    chain = excluded.chain, network = excluded.network, wallets = excluded.wallets,
                    request_digest = excluded.request_digest, replica = excluded.replica,
                    epoch = excluded.epoch, lease_until_ms = excluded.lease_until_ms,
                    released = excluded.released, signed = excluded.signed,
                    submitted_at_ms = excluded.submitted_at_ms,
                    submitted_tx_id = excluded.submitted_tx_id"
            ),
            c.prepare_cached(&entry_sql),
            c.prepare_cached("UPDATE kms_ledger_head SET last_seq = $1, last_hash = $2"),
        );
        Ok(Statements {
            lock_head: lock_head.map_err(db)?,
            state_for_update: state_for_update.map_err(db)?,
            clock: clock.map_err(db)?,
            upsert_state: upsert_state.map_err(db)?,
            insert_entry: insert_entry.map_err(db)?,
            update_head: update_head.map_err(db)?,
        })
    }

    /// One change to `id`: locks the head and the id's row, reads the
    /// database's clock, lets `decide` answer from the row, writes what it
    /// says and commits — or rolls back when it refuses.
    ///
    /// Only `durable` changes wait for the disk (`synchronous_commit`):
    /// the signed bytes must survive a crash of the database's machine, or
    /// a retry could sign other bytes. The other changes may be lost with
    /// the last moments before such a crash, and that is safe: a lost claim
    /// or release leaves the row as it was before (the fencing by replica
    /// and epoch still holds), a lost submission makes a retry send the
    /// same bytes again; and a durable commit flushes every change before
    /// it, so no change after a lost one survives.
    async fn change<T, F>(&self, id: &str, durable: bool, decide: F) -> Result<T, LedgerError>
    where
        F: FnOnce(Option<Row>, i64) -> Result<Change<T>, LedgerError>,
    {
        timed(async {
            let session = self.session().await?;
            let c = session.client();
            let st = Self::statements(c).await?;
            let id_param: [&(dyn ToSql + Sync); 1] = [&id];
            let begin = if durable {
                "BEGIN"
            } else {
                "BEGIN; SET LOCAL synchronous_commit TO off"
            };
            let (begin, head, state, clock) = tokio::join!(
                c.batch_execute(begin),
                c.query_one(&st.lock_head, &[]),
                c.query_opt(&st.state_for_update, &id_param),
                c.query_one(&st.clock, &[]),
            );
            begin.map_err(db)?;
            let head = head.map_err(db)?;
            let state = state.map_err(db)?;
            let now: i64 = column(&clock.map_err(db)?, 0)?;
            let row = state.map(|r| row_from(id, &r)).transpose()?;
            let change = match decide(row, now) {
                Ok(change) => change,
                Err(refused) => {
                    c.batch_execute("ROLLBACK").await.map_err(db)?;
                    session.done();
                    return Err(refused);
                }
            };
            let last_seq = unsigned(column(&head, 0)?, "the head's seq")?;
            let last_hash: String = column(&head, 1)?;
            let entry = change.append.map(|a| a.seal(last_seq + 1, now, &last_hash));
            let row_params = change.row.as_ref().map(row_params).transpose()?;
            let entry_params = entry.as_ref().map(entry_params).transpose()?;
            let write_row = async {
                match &row_params {
                    Some(p) => {
                        let refs = p.refs();
                        c.execute(&st.upsert_state, &refs).await.map(drop)
                    }
                    None => Ok(()),
                }
            };
            let write_entry = async {
                match (&entry_params, &entry) {
                    (Some(p), Some(e)) => {
                        let (entry_refs, head_refs) =
                            (p.refs(), [&p.seq as &(dyn ToSql + Sync), &e.hash]);
                        let (inserted, head) = tokio::join!(
                            c.execute(&st.insert_entry, &entry_refs),
                            c.execute(&st.update_head, &head_refs),
                        );
                        inserted.and(head).map(drop)
                    }
                    _ => Ok(()),
                }
            };
            let (row_written, entry_written, commit) =
                tokio::join!(write_row, write_entry, c.batch_execute("COMMIT"));
            // A failed write aborted the transaction: its COMMIT rolled back.
            row_written.map_err(db)?;
            entry_written.map_err(db)?;
            commit.map_err(db)?;
            session.done();
            Ok(change.answer)
        })
        .await
    }
}

/// Runs `work` with the ledger's time limit: past it, the call fails as
/// unavailable (its connection, dropped mid-way, is closed).
async fn timed<T>(
    work: impl std::future::Future<Output = Result<T, LedgerError>>,
) -> Result<T, LedgerError> {
    match tokio::time::timeout(TIMEOUT * 2, work).await {
        Ok(result) => result,
        Err(elapsed) => Err(LedgerError::Unavailable(Box::new(elapsed))),
    }
}

fn row_from(id: &str, r: &tokio_postgres::Row) -> Result<Row, LedgerError> {
    let signed: Option<String> = column(r, 8)?;
    let submitted_at: Option<i64> = column(r, 9)?;
    let tx_id: Option<String> = column(r, 10)?;
    Ok(Row {
        subject: Subject {
            id: id.to_owned(),
            chain: column(r, 0)?,
            network: column(r, 1)?,
            wallets: column(r, 2)?,
            request_digest: column(r, 3)?,
        },
        replica: column(r, 4)?,
        epoch: unsigned(column(r, 5)?, "an epoch")?,
        lease_until_ms: column(r, 6)?,
        released: column(r, 7)?,
        signed: signed
            .map(|s| parse_json(&s, "a state's signed transaction"))
            .transpose()?,
        submitted: submitted_at.map(|at| (tx_id, at)),
    })
}

/// Owned query parameters, borrowed as tokio-postgres wants them.
struct Params {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
    seq: i64,
}

impl Params {
    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| &**v as &(dyn ToSql + Sync))
            .collect()
    }
}

fn row_params(row: &Row) -> Result<Params, LedgerError> {
    let signed = row
        .signed
        .as_ref()
        .map(|s| serde_json::to_string(s).expect("a SignedRecord serializes"));
    Ok(Params {
        values: vec![
            Box::new(row.subject.id.clone()),
            Box::new(row.subject.chain.clone()),
            Box::new(row.subject.network.clone()),
            Box::new(row.subject.wallets.clone()),
            Box::new(row.subject.request_digest.clone()),
            Box::new(row.replica.clone()),
            Box::new(signed_int(row.epoch, "an epoch")?),
            Box::new(row.lease_until_ms),
            Box::new(row.released),
            Box::new(signed),
            Box::new(row.submitted.as_ref().map(|(_, at)| *at)),
            Box::new(row.submitted.as_ref().and_then(|(tx_id, _)| tx_id.clone())),
        ],
        seq: 0,
    })
}

fn entry_params(entry: &AuditEntry) -> Result<Params, LedgerError> {
    let seq = signed_int(entry.seq, "a seq")?;
    Ok(Params {
        values: vec![
            Box::new(seq),
            Box::new(entry.at_ms),
            Box::new(entry.id.clone()),
            Box::new(entry.chain.clone()),
            Box::new(entry.network.clone()),
            Box::new(entry.wallets.clone()),
            Box::new(entry.replica.clone()),
            Box::new(entry.kind.as_str()),
            Box::new(canonical_json(&entry.detail)),
            Box::new(entry.prev_hash.clone()),
            Box::new(entry.hash.clone()),
        ],
        seq,
    })
}

fn entry_from(r: &tokio_postgres::Row) -> Result<AuditEntry, LedgerError> {
    let detail: String = column(r, 8)?;
    let kind: String = column(r, 7)?;
    Ok(AuditEntry {
        seq: unsigned(column(r, 0)?, "a seq")?,
        at_ms: column(r, 1)?,
        id: column(r, 2)?,
        chain: column(r, 3)?,
        network: column(r, 4)?,
        wallets: column(r, 5)?,
        replica: column(r, 6)?,
        kind: parse_kind(&kind)?,
        detail: parse_json(&detail, "an entry's detail")?,
        prev_hash: column(r, 9)?,
        hash: column(r, 10)?,
    })
}

#[async_trait]
impl Ledger for PostgresLedger {
    async fn claim(
        &self,
        subject: &Subject,
        replica: &str,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        self.change(&subject.id, false, |row, now| {
            let plan = engine::claim(row, subject, replica, lease, now);
            Ok(Change {
                answer: plan.answer,
                row: plan.row,
                append: plan.append,
            })
        })
        .await
    }

    async fn renew(&self, lease: &Lease, duration: Duration) -> Result<(), LedgerError> {
        self.change(&lease.id, false, |row, now| {
            let mut row = engine::held(row, lease, now)?;
            row.lease_until_ms = now.saturating_add(engine::lease_ms(duration));
            Ok(Change {
                answer: (),
                row: Some(row),
                append: None,
            })
        })
        .await
    }

    async fn record(&self, lease: &Lease, step: Step) -> Result<(), LedgerError> {
        let durable = step.is_signature();
        self.change(&lease.id, durable, |row, now| {
            let written = engine::record(row, lease, step, now)?;
            let (row, append) = written.map_or((None, None), |(r, a)| (Some(r), Some(a)));
            Ok(Change {
                answer: (),
                row,
                append,
            })
        })
        .await
    }

    async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, LedgerError> {
        // The very tests of AuditFilter::matches: exact text, ANY for the
        // wallets, since inclusive, until exclusive.
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM kms_ledger_audit WHERE true");
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut bind = |sql: &mut String, clause: &str, value: Box<dyn ToSql + Sync + Send>| {
            values.push(value);
            sql.push_str(&clause.replace('$', &format!("${}", values.len())));
        };
        if let Some(id) = &filter.id {
            bind(&mut sql, " AND id = $", Box::new(id.clone()));
        }
        if let Some(chain) = &filter.chain {
            bind(&mut sql, " AND chain = $", Box::new(chain.clone()));
        }
        if let Some(wallet) = &filter.wallet {
            bind(&mut sql, " AND $ = ANY (wallets)", Box::new(wallet.clone()));
        }
        if let Some(kind) = filter.kind {
            bind(&mut sql, " AND kind = $", Box::new(kind.as_str()));
        }
        if let Some(since) = filter.since_ms {
            bind(&mut sql, " AND at_ms >= $", Box::new(since));
        }
        if let Some(until) = filter.until_ms {
            bind(&mut sql, " AND at_ms < $", Box::new(until));
        }
        sql.push_str(" ORDER BY seq");
        if let Some(limit) = filter.limit {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            bind(&mut sql, " LIMIT $", Box::new(limit));
        }
        let params = Params { values, seq: 0 };
        timed(async {
            let session = self.session().await?;
            let c = session.client();
            let statement = c.prepare_cached(&sql).await.map_err(db)?;
            let rows = c.query(&statement, &params.refs()).await.map_err(db)?;
            session.done();
            rows.iter().map(entry_from).collect()
        })
        .await
    }

    async fn anchor(&self) -> Result<(u64, String), LedgerError> {
        timed(async {
            let session = self.session().await?;
            let row = session
                .client()
                .query_one("SELECT anchor_seq, anchor_hash FROM kms_ledger_head", &[])
                .await
                .map_err(db)?;
            session.done();
            Ok((
                unsigned(column(&row, 0)?, "the anchor's seq")?,
                column(&row, 1)?,
            ))
        })
        .await
    }

    async fn prune(&self, before_ms: i64) -> Result<u64, LedgerError> {
        timed(async {
            let session = self.session().await?;
            let c = session.client();
            // Prepared first: a statement given as text is sent only after
            // its preparation's round trip, which would put it after the
            // COMMIT sent with it.
            let (lock_head, last_before, remove, anchor, forget) = tokio::join!(
                c.prepare_cached("SELECT last_seq FROM kms_ledger_head FOR UPDATE"),
                c.prepare_cached(
                    "SELECT seq, hash FROM kms_ledger_audit WHERE at_ms < $1 ORDER BY seq DESC LIMIT 1"
                ),
                c.prepare_cached("DELETE FROM kms_ledger_audit WHERE seq <= $1"),
                c.prepare_cached("UPDATE kms_ledger_head SET anchor_seq = $1, anchor_hash = $2"),
                c.prepare_cached("DELETE FROM kms_ledger_state WHERE submitted_at_ms < $1"),
            );
            let (lock_head, last_before, remove, anchor, forget) = (
                lock_head.map_err(db)?,
                last_before.map_err(db)?,
                remove.map_err(db)?,
                anchor.map_err(db)?,
                forget.map_err(db)?,
            );
            let before_param: [&(dyn ToSql + Sync); 1] = [&before_ms];
            let (begin, head, last) = tokio::join!(
                c.batch_execute("BEGIN"),
                c.query_one(&lock_head, &[]),
                c.query_opt(&last_before, &before_param),
            );
            begin.map_err(db)?;
            head.map_err(db)?;
            let Some(last) = last.map_err(db)? else {
                c.batch_execute("ROLLBACK").await.map_err(db)?;
                session.done();
                return Ok(0);
            };
            let seq: i64 = column(&last, 0)?;
            let hash: String = column(&last, 1)?;
            let seq_param: [&(dyn ToSql + Sync); 1] = [&seq];
            let anchor_params: [&(dyn ToSql + Sync); 2] = [&seq, &hash];
            let (removed, anchored, forgotten, commit) = tokio::join!(
                c.execute(&remove, &seq_param),
                c.execute(&anchor, &anchor_params),
                c.execute(&forget, &before_param),
                c.batch_execute("COMMIT"),
            );
            let removed = removed.map_err(db)?;
            anchored.map_err(db)?;
            forgotten.map_err(db)?;
            commit.map_err(db)?;
            session.done();
            Ok(removed)
        })
        .await
    }

    async fn check(&self) -> Result<(), LedgerError> {
        timed(async {
            let session = self.session().await?;
            session
                .client()
                .query_one("SELECT last_seq FROM kms_ledger_head", &[])
                .await
                .map_err(db)?;
            session.done();
            Ok(())
        })
        .await
    }
}
