//! Flags and commands, spelled as the original spelled them (camelCase),
//! with kebab-case aliases.

use clap::{Args, Parser, Subcommand};

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
    about = "Key management system for Tatum-powered applications: keeps your wallets in an encrypted wallet.dat",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Use the testnet variant of the blockchain (mainnet by default).
    #[arg(long, global = true)]
    pub testnet: bool,
    /// Wallet store file [default: ~/.tatumrc/wallet.dat].
    #[arg(long, global = true, value_name = "FILE")]
    pub path: Option<std::path::PathBuf>,
    /// .env file to read variables from [default: ~/.tatumrc/.env].
    #[arg(
        long = "envFile",
        alias = "env-file",
        global = true,
        value_name = "FILE"
    )]
    pub env_file: Option<std::path::PathBuf>,
    /// Tatum API key (else TATUM_API_KEY).
    #[arg(long = "apiKey", alias = "api-key", global = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Take the password from VGS.
    #[arg(long, global = true)]
    pub vgs: bool,
    /// Take the password from Azure Key Vault.
    #[arg(long, global = true)]
    pub azure: bool,
    /// Take the password from AWS Secrets Manager.
    #[arg(long, global = true)]
    pub aws: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a wallet and print it; nothing is stored.
    #[command(
        name = "generatewallet",
        after_help = "Example: tatum-kms generatewallet ETH --testnet"
    )]
    GenerateWallet { chain: String },
    /// Generate a wallet and add it to the store; prints its signatureId.
    #[command(
        name = "generatemanagedwallet",
        after_help = "Example: tatum-kms generatemanagedwallet BTC --testnet"
    )]
    GenerateManagedWallet { chain: String },
    /// Store an existing mnemonic (read without echo, or from stdin).
    #[command(
        name = "storemanagedwallet",
        after_help = "Examples:\n  tatum-kms storemanagedwallet BTC          (asks for the mnemonic)\n  tatum-kms storemanagedwallet BTC < mnemonic.txt"
    )]
    StoreManagedWallet { chain: String },
    /// Store an existing private key (read without echo, or from stdin).
    #[command(
        name = "storemanagedprivatekey",
        after_help = "Example: tatum-kms storemanagedprivatekey ETH < key.txt"
    )]
    StoreManagedPrivateKey { chain: String },
    /// Generate and store COUNT private keys; prints one {signatureId, address} line each.
    #[command(
        name = "generatemanagedprivatekeybatch",
        after_help = "Example: tatum-kms generatemanagedprivatekeybatch ETH 1000 > keys.jsonl"
    )]
    GenerateManagedPrivateKeyBatch { chain: String, count: String },
    /// Print the private key of a stored wallet at a derivation index.
    #[command(
        name = "getprivatekey",
        after_help = "Example: tatum-kms getprivatekey <signatureId> 0"
    )]
    GetPrivateKey {
        #[arg(value_name = "SIGNATURE_ID")]
        id: String,
        #[arg(value_name = "INDEX")]
        index: String,
    },
    /// Print the address of a stored wallet at a derivation index.
    #[command(
        name = "getaddress",
        after_help = "Example: tatum-kms getaddress <signatureId> 0"
    )]
    GetAddress {
        #[arg(value_name = "SIGNATURE_ID")]
        id: String,
        #[arg(value_name = "INDEX")]
        index: String,
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
