//! Flags and commands, spelled as the original spelled them (camelCase),
//! with kebab-case aliases.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{value_parser, ArgAction, Args, Parser, Subcommand};
use kms_core::Chain;

use crate::error::CliError;

const AFTER_HELP: &str = "\
Examples:
  tatum-kms generatemanagedwallet BTC --testnet
  tatum-kms storemanagedwallet ETH < mnemonic.txt
  tatum-kms getaddress <signatureId> 0
  tatum-kms export --path /secure/wallet.dat

The password comes from TATUM_KMS_PASSWORD (also read from ~/.tatumrc/.env or --envFile),
or is asked on the terminal without echo.
Exit codes: 0 success, 1 failure, 2 usage error or wrong password.";

#[derive(Parser, Debug)]
#[command(
    name = "tatum-kms",
    version,
    // The original's first line, which its own test suite checks.
    about = "Tatum KMS - Key Management System for Tatum-powered apps.",
    long_about = "Tatum KMS - Key Management System for Tatum-powered apps.\n\nKeeps your wallets in an encrypted wallet.dat, signs the Tatum API's pending transactions after your approval service agrees, and hands them back for broadcast.",
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    /// Without a command, the help is printed (as the original did).
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct Global {
    /// Use the testnet variant of the blockchain (mainnet by default).
    #[arg(long, global = true, overrides_with = "testnet", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = value_parser!(bool), value_name = "true|false")]
    pub(crate) testnet: bool,
    /// Wallet store file [default: ~/.tatumrc/wallet.dat].
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) path: Option<std::path::PathBuf>,
    /// .env file to read variables from [default: ~/.tatumrc/.env].
    #[arg(
        long = "envFile",
        alias = "env-file",
        global = true,
        value_name = "FILE"
    )]
    pub(crate) env_file: Option<std::path::PathBuf>,
    /// Tatum API key (else TATUM_API_KEY).
    #[arg(long = "apiKey", alias = "api-key", global = true, value_name = "KEY")]
    pub(crate) api_key: Option<String>,
    /// Take the password from VGS.
    #[arg(long, global = true, overrides_with = "vgs", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = value_parser!(bool), value_name = "true|false")]
    pub(crate) vgs: bool,
    /// Take the password from Azure Key Vault.
    #[arg(long, global = true, overrides_with = "azure", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = value_parser!(bool), value_name = "true|false")]
    pub(crate) azure: bool,
    /// Take the password from AWS Secrets Manager.
    #[arg(long, global = true, overrides_with = "aws", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = value_parser!(bool), value_name = "true|false")]
    pub(crate) aws: bool,
    /// Open a wallet.dat whose key-derivation cost is above what this
    /// version writes (a header can be tampered with to make opening it
    /// take minutes and gigabytes).
    #[arg(long = "allow-costly-kdf", alias = "allowCostlyKdf", global = true)]
    pub(crate) allow_costly_kdf: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Poll the Tatum API for pending transactions, sign them with the stored keys and broadcast them.
    #[command(
        name = "daemon",
        after_help = "Examples:\n  tatum-kms daemon --testnet --chain BTC,ETH\n  tatum-kms daemon --externalUrl https://approver.example.com/tx --period 10\n  tatum-kms daemon --testnet --runOnce --wallets <signatureId>,<signatureId>"
    )]
    Daemon(Box<DaemonArgs>),
    /// List the signing ledger's audit trail as JSON, verify its hash chain, or prune it.
    #[command(
        name = "audit",
        after_help = "Examples:\n  tatum-kms audit --chain SOL --state signed --since 2026-12-01T00:00:00Z\n  tatum-kms audit verify --head sha256:…\n  tatum-kms audit prune --before 2026-06-01T00:00:00Z"
    )]
    Audit(AuditArgs),
    /// Generate a wallet and print it; nothing is stored.
    #[command(
        name = "generatewallet",
        after_help = "Example: tatum-kms generatewallet ETH --testnet"
    )]
    GenerateWallet {
        #[arg(value_name = "CHAIN", value_parser = chain_parser(), ignore_case = true)]
        chain: Chain,
    },
    /// Generate a wallet and add it to the store; prints its signatureId.
    #[command(
        name = "generatemanagedwallet",
        after_help = "Example: tatum-kms generatemanagedwallet BTC --testnet"
    )]
    GenerateManagedWallet {
        #[arg(value_name = "CHAIN", value_parser = chain_parser(), ignore_case = true)]
        chain: Chain,
    },
    /// Store an existing mnemonic (read without echo, or from stdin).
    #[command(
        name = "storemanagedwallet",
        after_help = "Examples:\n  tatum-kms storemanagedwallet BTC          (asks for the mnemonic)\n  tatum-kms storemanagedwallet BTC < mnemonic.txt"
    )]
    StoreManagedWallet {
        #[arg(value_name = "CHAIN", value_parser = chain_parser(), ignore_case = true)]
        chain: Chain,
    },
    /// Store an existing private key (read without echo, or from stdin).
    #[command(
        name = "storemanagedprivatekey",
        after_help = "Example: tatum-kms storemanagedprivatekey ETH < key.txt"
    )]
    StoreManagedPrivateKey {
        #[arg(value_name = "CHAIN", value_parser = chain_parser(), ignore_case = true)]
        chain: Chain,
    },
    /// Generate and store COUNT private keys; prints one {signatureId, address} line each.
    #[command(
        name = "generatemanagedprivatekeybatch",
        after_help = "Example: tatum-kms generatemanagedprivatekeybatch ETH 1000 > keys.jsonl"
    )]
    GenerateManagedPrivateKeyBatch {
        #[arg(value_name = "CHAIN", value_parser = chain_parser(), ignore_case = true)]
        chain: Chain,
        #[arg(value_name = "COUNT", value_parser = parse_count)]
        count: usize,
    },
    /// Print the private key of a stored wallet at a derivation index.
    #[command(
        name = "getprivatekey",
        after_help = "Example: tatum-kms getprivatekey <signatureId> 0\n\nThe index is needed for mnemonic wallets only; a wallet with one key (XRP, XLM, ALGO, a stored private key) answers its key, with or without it, as the original did."
    )]
    GetPrivateKey {
        #[arg(value_name = "SIGNATURE_ID")]
        id: String,
        #[arg(value_name = "INDEX", value_parser = parse_index)]
        index: Option<u32>,
    },
    /// Print the address of a stored wallet at a derivation index.
    #[command(
        name = "getaddress",
        after_help = "Example: tatum-kms getaddress <signatureId> 0\n\nThe index is needed for mnemonic wallets only; a wallet with one key (XRP, XLM, ALGO, a stored private key) answers its address, with or without it, as the original did."
    )]
    GetAddress {
        #[arg(value_name = "SIGNATURE_ID")]
        id: String,
        #[arg(value_name = "INDEX", value_parser = parse_index)]
        index: Option<u32>,
    },
    /// Print a stored wallet (with its secrets).
    #[command(
        name = "getmanagedwallet",
        after_help = "Example: tatum-kms getmanagedwallet <signatureId>"
    )]
    GetManagedWallet {
        #[arg(value_name = "SIGNATURE_ID")]
        id: String,
    },
    /// Remove a wallet from the store.
    #[command(
        name = "removewallet",
        after_help = "Example: tatum-kms removewallet <signatureId>"
    )]
    RemoveWallet {
        #[arg(value_name = "SIGNATURE_ID")]
        id: String,
    },
    /// Print every stored wallet (with its secrets).
    #[command(
        name = "export",
        after_help = "Example: tatum-kms export > backup.json   (keep it safe)"
    )]
    Export,
    /// Print the settings the KMS sees, secrets masked.
    #[command(name = "checkconfig")]
    CheckConfig,
    /// Report on the system and the given wallets (comma-separated signatureIds).
    #[command(name = "report", after_help = "Example: tatum-kms report id1,id2")]
    Report {
        #[arg(value_name = "SIGNATURE_IDS", default_value = "")]
        ids: String,
    },
    /// Rewrite a store of the original tatum-kms in the authenticated format (after a backup).
    #[command(name = "migrate")]
    Migrate,
    /// Re-encrypt the store under a new password (asked twice, or TATUM_KMS_NEW_PASSWORD).
    #[command(name = "changepassword")]
    ChangePassword,
    /// Sign one pending transaction (the API's JSON, from FILE or stdin) with the stored keys and print it; nothing is sent.
    #[command(
        name = "signpending",
        after_help = "Examples:\n  tatum-kms signpending pending.json\n  curl ... /v3/kms/pending/BTC | jq '.[0]' | tatum-kms signpending -\n\nPrints {\"id\", \"chain\", \"txData\"} (SOL also \"signedTransaction\", the base64 wire transaction).\nOffline by default: a transaction that needs a value from the network (a nonce, a fee) fails with a message naming it."
    )]
    SignPending {
        /// The pending transaction as JSON; `-` or nothing reads stdin.
        #[arg(value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// Fetch what signing needs (nonce, gas price, blockhash) from the Tatum API; nothing is broadcast.
        #[arg(long)]
        online: bool,
    },
    /// Print shell completions.
    #[command(
        name = "completions",
        after_help = "Example: tatum-kms completions bash > /etc/bash_completion.d/tatum-kms"
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    #[command(name = "manpage", hide = true)]
    Manpage,
}

/// How the daemon logs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How the approval server is asked about a transaction (`--externalUrlMethod`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum ExternalUrlMethod {
    /// `GET {externalUrl}/{id}`.
    #[default]
    #[value(name = "GET", alias = "get")]
    Get,
    /// `POST {externalUrl}/{id}` with the pending transaction as the body.
    #[value(name = "POST", alias = "post")]
    Post,
}

/// The flags of `daemon`, spelled as the original spelled them (camelCase),
/// with kebab-case aliases.
#[derive(Args, Debug, Clone)]
pub(crate) struct DaemonArgs {
    /// Seconds between two checks for new transactions (fractions allowed, as the original).
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub(crate) period: f64,
    /// Blockchains to check, comma-separated [default: every chain].
    #[arg(long, value_name = "CHAINS", value_delimiter = ',', value_parser = parse_chain)]
    pub(crate) chain: Vec<Chain>,
    /// Approval server asked before each transaction is signed (four-eye
    /// principle): GET {URL}/{id}, any 2xx approves. Required on mainnet.
    #[arg(long = "externalUrl", alias = "external-url", value_name = "URL")]
    pub(crate) external_url: Option<String>,
    /// HTTP method for --externalUrl: GET, or POST with the pending transaction as the body.
    #[arg(
        long = "externalUrlMethod",
        alias = "external-url-method",
        value_name = "METHOD",
        default_value = "GET",
        ignore_case = true
    )]
    pub(crate) external_url_method: ExternalUrlMethod,
    /// Seconds to wait for the approval server; no answer is a rejection.
    #[arg(
        long = "externalUrlTimeout",
        alias = "external-url-timeout",
        value_name = "SECONDS",
        default_value = "10",
        value_parser = parse_seconds
    )]
    pub(crate) external_url_timeout: f64,
    /// Check for new transactions once, sign them, and exit.
    #[arg(long = "runOnce", alias = "run-once", overrides_with = "run_once", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = value_parser!(bool), value_name = "true|false")]
    pub(crate) run_once: bool,
    /// With --runOnce: only these wallets (comma-separated signatureIds).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub(crate) wallets: Option<Vec<String>>,
    /// With --runOnce: only these pending transactions (comma-separated ids).
    #[arg(
        long = "transactionIds",
        alias = "transaction-ids",
        value_name = "IDS",
        value_delimiter = ','
    )]
    pub(crate) transaction_ids: Option<Vec<String>>,
    /// Log lines as readable text or as JSON objects.
    #[arg(
        long = "log-format",
        alias = "logFormat",
        value_name = "FORMAT",
        default_value = "human"
    )]
    pub(crate) log_format: LogFormat,
    /// A local policy (TOML; docs/security.md): chains, networks, fee and
    /// amount caps, destinations, transactions per hour per wallet.
    /// Enforced whatever the approver answers.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<std::path::PathBuf>,
    /// Serve Prometheus metrics and a health check on this address (e.g. 127.0.0.1:9464).
    #[arg(long = "metrics-addr", alias = "metricsAddr", value_name = "ADDR")]
    pub(crate) metrics_addr: Option<std::net::SocketAddr>,
    /// The signing ledger: postgres://… shared by replicas, or a file
    /// [default: TATUM_KMS_LEDGER, else wallet.dat.ledger beside the store].
    #[arg(long, value_name = "URL")]
    pub(crate) ledger: Option<String>,
    /// Transactions in hand at once (one sender's always in order).
    #[arg(long, value_name = "N", default_value = "16", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) concurrency: u16,
    /// This replica's name in the ledger [default: TATUM_KMS_REPLICA, else host-pid].
    #[arg(long, value_name = "NAME")]
    pub(crate) replica: Option<String>,
    /// Seconds a claim lasts unless renewed: how soon other replicas take
    /// over the work of one that died.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    pub(crate) lease: f64,
}

/// The flags of `audit`.
#[derive(Args, Debug, Clone)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    pub(crate) action: Option<AuditAction>,
    /// The signing ledger (as `daemon --ledger`) [default: TATUM_KMS_LEDGER,
    /// else wallet.dat.ledger beside the store].
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) ledger: Option<String>,
    /// Only this pending transaction.
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,
    /// Only this chain.
    #[arg(long, value_name = "CHAIN", value_parser = chain_parser(), ignore_case = true)]
    pub(crate) chain: Option<Chain>,
    /// Only entries naming this wallet (signatureId).
    #[arg(long, value_name = "ID")]
    pub(crate) wallet: Option<String>,
    /// Only this kind of entry: claimed, approved, rejected, signed,
    /// resigned, submitted, failed, conflict.
    #[arg(long, value_name = "STATE", value_parser = parse_entry_kind)]
    pub(crate) state: Option<kms_ledger::EntryKind>,
    /// Only entries at or after this time (RFC 3339, or Unix seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_time_ms)]
    pub(crate) since: Option<i64>,
    /// Only entries before this time (RFC 3339, or Unix seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_time_ms)]
    pub(crate) until: Option<i64>,
    /// At most this many entries (the oldest first).
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
}

impl AuditArgs {
    pub(crate) fn filter(&self) -> kms_ledger::AuditFilter {
        kms_ledger::AuditFilter {
            id: self.id.clone(),
            chain: self.chain.map(|c| c.to_string()),
            wallet: self.wallet.clone(),
            kind: self.state,
            since_ms: self.since,
            until_ms: self.until,
            limit: self.limit,
        }
    }
}

/// What `audit` does besides listing.
#[derive(Subcommand, Debug, Clone)]
pub(crate) enum AuditAction {
    /// Recompute the hash chain: exit 1 naming the first edited, missing or
    /// rewritten entry. Prints the last entry's hash (the head): keep it
    /// elsewhere and pass it back with --head to also detect a cut end.
    Verify {
        /// A head printed by an earlier `audit verify`.
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
    /// Remove entries older than a time (and the state of ids submitted
    /// before it); the rest stays verifiable.
    Prune {
        /// RFC 3339 or Unix seconds.
        #[arg(long, value_name = "TIME", value_parser = parse_time_ms)]
        before: i64,
    },
}

fn parse_entry_kind(text: &str) -> Result<kms_ledger::EntryKind, String> {
    kms_ledger::EntryKind::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
        "one of claimed, approved, rejected, signed, resigned, submitted, failed, conflict".into()
    })
}

/// RFC 3339 (`2026-12-01T00:00:00Z`) or Unix seconds, as Unix milliseconds.
fn parse_time_ms(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds
            .checked_mul(1000)
            .ok_or_else(|| "out of range".to_string());
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| "an RFC 3339 time (2026-12-01T00:00:00Z) or Unix seconds".into())
}

/// Checks what clap cannot: `--testnet` may come before the subcommand,
/// where the subcommand's own rules do not see it.
pub(crate) fn validate(cli: &Cli) -> Result<(), clap::Error> {
    if let Some(Command::Daemon(opts)) = &cli.command {
        if !cli.global.testnet && opts.external_url.is_none() {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            return Err(cmd.error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "daemon on mainnet needs --externalUrl <URL>, the approval server asked before each \
                 transaction is signed (four-eye principle); add --testnet for testnet",
            ));
        }
    }
    Ok(())
}

/// Parses and validates the command line.
pub(crate) fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = normalize_boolean_flags(args.into_iter().map(Into::into));
    let cli = Cli::try_parse_from(args)?;
    validate(&cli)?;
    Ok(cli)
}

/// The original's boolean flags. Its parser (meow on yargs-parser) took
/// `--testnet`, `--testnet=false`, `--no-testnet` and `--testnet false`.
const BOOLEAN_FLAGS: [&str; 6] = ["testnet", "vgs", "azure", "aws", "runOnce", "run-once"];

/// Rewrites `--no-X` and `--X true|false` (a separate word) of the boolean
/// flags into `--X=false` / `--X=true|false`, the one spelling clap takes
/// beside `--X`, so scripts written for the original parse the same.
fn normalize_boolean_flags(
    args: impl Iterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        let Some(name) = text.strip_prefix("--") else {
            out.push(arg);
            continue;
        };
        if let Some(negated) = name
            .strip_prefix("no-")
            .filter(|n| BOOLEAN_FLAGS.contains(n))
        {
            out.push(format!("--{negated}=false").into());
        } else if BOOLEAN_FLAGS.contains(&name) {
            match args.peek().and_then(|next| next.to_str()) {
                Some(value @ ("true" | "false")) => {
                    out.push(format!("--{name}={value}").into());
                    args.next();
                }
                _ => out.push(arg),
            }
        } else {
            out.push(arg);
        }
    }
    out
}

fn parse_chain(text: &str) -> Result<Chain, String> {
    text.parse::<Chain>().map_err(|e| e.explained())
}

/// A `<CHAIN>` argument: one of the 21 chains (listed in `--help`), any case.
fn chain_parser() -> impl TypedValueParser<Value = Chain> {
    PossibleValuesParser::new(Chain::ALL.map(|c| PossibleValue::new(c.as_str())))
        .map(|name| name.parse::<Chain>().expect("a listed chain parses"))
}

/// The most keys one `generatemanagedprivatekeybatch` makes: each costs a
/// PBKDF2 run and the whole batch is written at once, so a mistyped count
/// (10^14) would otherwise run until killed.
pub(crate) const MAX_BATCH: usize = 1_000_000;

fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n <= MAX_BATCH => Ok(n),
        Ok(_) => Err(format!(
            "at most {MAX_BATCH} keys per batch; run several batches"
        )),
        Err(_) => Err(format!("count must be a whole number, not '{text}'")),
    }
}

fn parse_index(text: &str) -> Result<u32, String> {
    kms_chain_signers::parse_index(text).map_err(|e| e.to_string())
}

/// A command line clap refused. An unknown chain gets the original's
/// message and exit code (`Error: Unsupported blockchain.`, 1), which
/// scripts match on; everything else clap's own message.
pub(crate) fn parse_error(e: clap::Error) -> CliError {
    let named_chain = matches!(
        e.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg == "<CHAIN>"
    );
    if e.kind() == ErrorKind::InvalidValue && named_chain {
        if let Some(ContextValue::String(value)) = e.get(ContextKind::InvalidValue) {
            if let Err(unsupported) = value.parse::<Chain>() {
                return unsupported.into();
            }
        }
    }
    CliError::Clap(e)
}

/// A positive number of seconds.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!(
            "'{text}' is not a number of seconds (more than 0, at most 86400)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon(args: &[&str]) -> (Global, DaemonArgs) {
        let cli = parse_from(std::iter::once("tatum-kms").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        match cli.command {
            Some(Command::Daemon(d)) => (cli.global, *d),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn boolean_flags_take_every_spelling_the_original_took() {
        let testnet = |args: &[&str]| -> bool {
            let cli = parse_from(std::iter::once("tatum-kms").chain(args.iter().copied()))
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            cli.global.testnet
        };
        for (args, expected) in [
            (&["generatewallet", "BTC"][..], false),
            (&["generatewallet", "BTC", "--testnet"], true),
            (&["--testnet", "generatewallet", "BTC"], true),
            (&["generatewallet", "BTC", "--testnet=true"], true),
            (&["generatewallet", "BTC", "--testnet=false"], false),
            (&["generatewallet", "BTC", "--no-testnet"], false),
            (&["generatewallet", "BTC", "--testnet", "false"], false),
            (&["generatewallet", "BTC", "--testnet", "true"], true),
            (&["--testnet", "false", "generatewallet", "BTC"], false),
            (
                &["generatewallet", "BTC", "--testnet", "--testnet=false"],
                false,
            ),
        ] {
            assert_eq!(testnet(args), expected, "{args:?}");
        }
        let (g, d) = daemon(&[
            "daemon",
            "--runOnce=false",
            "--aws",
            "false",
            "--no-vgs",
            "--testnet",
        ]);
        assert!(!d.run_once && !g.aws && !g.vgs && g.testnet);
        let (_, d) = daemon(&["daemon", "--testnet", "--run-once", "true"]);
        assert!(d.run_once);
        // Only true and false: anything else is an error, not a guess.
        let bad = parse_from(["tatum-kms", "generatewallet", "BTC", "--testnet=yes"]).unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidValue);
        // A word after the flag that is not a boolean stays a word.
        assert!(testnet(&["--testnet", "generatewallet", "BTC"]));
    }

    #[test]
    fn daemon_flags_take_the_originals_spelling_and_kebab_case() {
        let (g, d) = daemon(&["daemon", "--testnet"]);
        assert!(g.testnet);
        assert_eq!(d.period, 5.0);
        assert!(d.chain.is_empty());
        assert_eq!(d.external_url, None);
        assert_eq!(d.external_url_method, ExternalUrlMethod::Get);
        assert_eq!(d.external_url_timeout, 10.0);
        assert!(!d.run_once);
        assert_eq!(d.log_format, LogFormat::Human);

        for spelling in [
            [
                "--externalUrl",
                "--externalUrlMethod",
                "--externalUrlTimeout",
                "--runOnce",
                "--transactionIds",
                "--apiKey",
                "--envFile",
                "--logFormat",
                "--metricsAddr",
            ],
            [
                "--external-url",
                "--external-url-method",
                "--external-url-timeout",
                "--run-once",
                "--transaction-ids",
                "--api-key",
                "--env-file",
                "--log-format",
                "--metrics-addr",
            ],
        ] {
            let (g, d) = daemon(&[
                "--path=/tmp/w.dat",
                "daemon",
                "--period=0.5",
                "--chain",
                "BTC,eth",
                spelling[0],
                "https://approve.example/tx",
                spelling[1],
                "post",
                spelling[2],
                "3",
                spelling[3],
                "--wallets",
                "a,b",
                spelling[4],
                "t1,t2",
                spelling[5],
                "key",
                spelling[6],
                "/tmp/.env",
                spelling[7],
                "json",
                spelling[8],
                "127.0.0.1:9464",
            ]);
            assert!(!g.testnet);
            assert_eq!(g.path.as_deref(), Some(std::path::Path::new("/tmp/w.dat")));
            assert_eq!(g.api_key.as_deref(), Some("key"));
            assert_eq!(
                g.env_file.as_deref(),
                Some(std::path::Path::new("/tmp/.env"))
            );
            assert_eq!(d.period, 0.5);
            assert_eq!(d.chain, [kms_core::Chain::BTC, kms_core::Chain::ETH]);
            assert_eq!(
                d.external_url.as_deref(),
                Some("https://approve.example/tx")
            );
            assert_eq!(d.external_url_method, ExternalUrlMethod::Post);
            assert_eq!(d.external_url_timeout, 3.0);
            assert!(d.run_once);
            assert_eq!(d.wallets, Some(vec!["a".to_string(), "b".to_string()]));
            assert_eq!(
                d.transaction_ids,
                Some(vec!["t1".to_string(), "t2".to_string()])
            );
            assert_eq!(d.log_format, LogFormat::Json);
            assert_eq!(d.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        }
    }

    #[test]
    fn daemon_refuses_mainnet_without_approval_and_bad_values() {
        let parse =
            |args: &[&str]| parse_from(std::iter::once("tatum-kms").chain(args.iter().copied()));
        let err = parse(&["daemon"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--externalUrl"), "{err}");
        assert!(parse(&["--testnet", "daemon"]).is_ok());
        assert!(parse(&["daemon", "--testnet"]).is_ok());
        assert!(parse(&["daemon", "--externalUrl", "http://a"]).is_ok());
        for bad in [
            &["daemon", "--testnet", "--period", "0"][..],
            &["daemon", "--testnet", "--period", "x"],
            &["daemon", "--testnet", "--chain", "BNB"],
            &["daemon", "--testnet", "--externalUrlMethod", "PUT"],
            &["daemon", "--testnet", "--log-format", "xml"],
        ] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
        let bnb = parse(&["daemon", "--testnet", "--chain", "BNB"]).unwrap_err();
        assert!(bnb.to_string().contains("shut down"), "{bnb}");
    }

    #[test]
    fn the_command_tree_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn chain_arguments_list_every_chain_and_keep_the_originals_message() {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd
            .find_subcommand_mut("generatewallet")
            .unwrap()
            .render_long_help()
            .to_string();
        for chain in Chain::ALL {
            assert!(
                help.contains(chain.as_str()),
                "{chain} missing from:\n{help}"
            );
        }
        let parsed = parse_from(["tatum-kms", "generatewallet", "btc"]).unwrap();
        assert!(matches!(
            parsed.command,
            Some(Command::GenerateWallet { chain: Chain::BTC })
        ));

        let unknown = parse_error(parse_from(["tatum-kms", "generatewallet", "FOO"]).unwrap_err());
        assert!(
            matches!(&unknown, CliError::Failure(m) if m == "Unsupported blockchain."),
            "{unknown}"
        );
        assert_eq!(unknown.exit_code(), 1);
        let bnb = parse_error(parse_from(["tatum-kms", "generatewallet", "BNB"]).unwrap_err());
        assert!(
            matches!(&bnb, CliError::Failure(m) if m.contains("shut down")),
            "{bnb}"
        );
        // Other mistakes keep clap's message and exit code 2.
        let other = parse_error(parse_from(["tatum-kms", "getaddress", "id", "x"]).unwrap_err());
        assert!(matches!(&other, CliError::Clap(_)));
        assert_eq!(other.exit_code(), 2);
    }

    #[test]
    fn batch_counts_are_whole_numbers_up_to_the_cap() {
        assert_eq!(parse_count("1000000"), Ok(MAX_BATCH));
        assert!(parse_count("1000001")
            .unwrap_err()
            .contains("at most 1000000"));
        assert!(parse_count("100000000000000").is_err());
        assert!(parse_count("ten").unwrap_err().contains("whole number"));
    }
}
