//! Key derivation, wallet generation and signing, one module per chain.
//!
//! Everything here is pure computation. The few facts a signature needs from
//! the network (an EVM nonce, a Solana blockhash, an Elrond network config)
//! are fetched in a separate [`Signer::prepare`] step through the [`ChainApi`]
//! trait, which `kms-tatum-client` implements and tests fake with recorded
//! answers. [`OfflineApi`] refuses every call, which is what `signpending`
//! uses by default.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod mnemonic;

mod ed25519;
mod evm;
mod flow;
mod secp_account;
mod secp_hd;
mod tron;
mod utxo;

use async_trait::async_trait;
use kms_core::{Chain, Intent, Network, PendingTransaction, WalletEntry};
use secrecy::SecretString;

pub use error::SignerError;
pub use kms_core::api::{self, ApiError, ApiRequest, ChainApi, HttpMethod, OfflineApi, Service};
pub use mnemonic::Mnemonic;

/// The largest derivation index the original accepts (2^31 − 1): indices are
/// non-hardened children, so the top bit is not ours to use.
pub const MAX_INDEX: u32 = 0x7fff_ffff;

/// Key material derived once from a mnemonic for one chain and network (the
/// account-level node), from which keys and addresses at any index are one
/// child derivation away. Daemons cache these so a busy signer does not rerun
/// PBKDF2 and the hardened path per transaction. Implementations zeroize
/// their key material on drop and never print it.
pub trait Account: Send + Sync {
    /// The private key at `index`, in the chain's text format (WIF, `0x` hex, ...).
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError>;
    /// The address at `index`, as `generateAddressFromXPub` would give it.
    fn address(&self, index: u32) -> Result<String, SignerError>;
}

/// What a chain needs to sign one pending transaction.
pub struct SignInput<'a> {
    /// The transaction.
    pub pending: &'a PendingTransaction,
    /// The network the daemon (or `signpending`) serves: some chains pick
    /// the network passphrase or address version from it.
    pub network: Network,
    /// The resolved keys, in the text format the original hands its SDK
    /// (WIF for UTXO chains, `0x` hex for EVM, secrets for XRP/XLM/ALGO, ...).
    /// UTXO chains get every collected key, de-duplicated, in order of first
    /// appearance; account chains get one.
    pub keys: &'a [SecretString],
    /// Off-chain withdrawals (BTC, LTC, DOGE, BCH) derive their keys from the
    /// first wallet's mnemonic at each `withdrawalResponses[i].address.derivationKey`.
    pub mnemonic: Option<&'a Mnemonic>,
}

/// Facts fetched from the network by [`Signer::prepare`], chain-specific.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prepared(pub serde_json::Map<String, serde_json::Value>);

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    /// What goes in `{"txData": ...}` of the broadcast request.
    pub tx_data: String,
    /// Solana only: the wire transaction (base64) that must first be sent
    /// through the node gateway; `tx_data` is then its id (first signature,
    /// base58), which is what the original posts to `/v3/solana/broadcast`.
    pub node_submission: Option<String>,
}

impl SignedTx {
    /// A transaction that goes to the broadcast endpoint as it is.
    pub fn plain(tx_data: impl Into<String>) -> Self {
        Self {
            tx_data: tx_data.into(),
            node_submission: None,
        }
    }
}

/// What [`Signer::submit`] did with a signed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Nothing final yet: this `txData` goes to the chain's broadcast
    /// endpoint (or the off-chain one), which completes the transaction.
    TxData(String),
    /// The chain's own flow already sent the transaction and reported it to
    /// the Tatum API (FLOW: `POST /v3/flow/broadcast`); the generic broadcast
    /// must not be called again. Holds the transaction's id on chain.
    Broadcast {
        /// The id of the transaction on chain.
        tx_id: String,
    },
}

/// Chains whose wallets are BIP39 mnemonics: every chain but XRP, XLM and
/// ALGO, whose wallets are single keys.
pub trait MnemonicWallets: Send + Sync {
    /// The account-level key material of `mnemonic` on this chain.
    fn account(
        &self,
        network: Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError>;
}

/// Chains whose mnemonic wallets keep an extended public key from which
/// addresses are derived without the mnemonic: every mnemonic chain but SOL,
/// whose wallets store their address.
pub trait XpubAddresses: Send + Sync {
    /// `generateAddressFromXPub(chain, testnet, xpub, index)`.
    fn address_from_xpub(
        &self,
        network: Network,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError>;
}

/// One blockchain's wallets, keys and signatures.
#[async_trait]
pub trait Signer: Send + Sync {
    /// The chain.
    fn chain(&self) -> Chain;

    /// Key derivation from a mnemonic; `None` for single-key chains.
    fn mnemonic_wallets(&self) -> Option<&dyn MnemonicWallets> {
        None
    }

    /// Addresses from an extended public key; `None` where wallets have none.
    fn xpub_addresses(&self) -> Option<&dyn XpubAddresses> {
        None
    }

    /// A new wallet as the original's `generateWallet` returns it, fields in
    /// the original's order, without `chain`/`testnet` (the caller appends
    /// them). `mnemonic` is `None` for a fresh one; chains whose wallets are
    /// not mnemonic-based (XRP, XLM, ALGO) ignore it.
    fn generate_wallet(
        &self,
        network: Network,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError>;

    /// The address a stored private key (or secret) controls, as the
    /// original SDK's `generateAddressFromPrivatekey` formed it. Also the
    /// validation of a key before `storemanagedprivatekey` stores it.
    fn address_from_private_key(
        &self,
        network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError>;

    /// The address `getaddress` answers for a private-key wallet: the one
    /// the chain's wallets use for that key, so it is the address
    /// `generatemanagedprivatekeybatch` printed for it. The same as
    /// [`Signer::address_from_private_key`] except where the SDK formed a
    /// key's address differently from its wallets' (BTC: P2PKH there,
    /// native segwit here).
    fn wallet_address_of_key(
        &self,
        network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        self.address_from_private_key(network, key)
    }

    /// Fetches what `sign` will need from the network. Most chains need
    /// nothing when the transaction is complete.
    async fn prepare(
        &self,
        _input: &SignInput<'_>,
        _api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        Ok(Prepared::default())
    }

    /// What the transaction does, decoded from what [`Signer::sign`] will
    /// sign (the pending transaction completed with `prepared`): chain id,
    /// senders, each recipient and amount, fee, nonce, memo. An operation
    /// this chain's decoder does not know is an error: it is not signed.
    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        Err(SignerError::unsupported(
            input.pending.chain,
            "decoding what the transaction does",
        ))
    }

    /// Signs. Pure: same input, same output.
    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError>;

    /// Hands a signed transaction to the network where the chain needs more
    /// than the broadcast endpoint (Solana: `sendTransaction` through the
    /// node gateway, then wait for confirmation; FLOW: Tatum's co-signatures,
    /// the access node, and FLOW's own broadcast endpoint). Returns the
    /// `txData` to post to the broadcast endpoint, or says the transaction
    /// was broadcast already.
    async fn submit(
        &self,
        signed: SignedTx,
        _api: &dyn ChainApi,
    ) -> Result<Submitted, SignerError> {
        Ok(Submitted::TxData(signed.tx_data))
    }

    /// Gives back what [`Signer::prepare`] reserved at the network when the
    /// prepared transaction will not be submitted (refused, rejected by the
    /// approver, or only printed by `signpending`). FLOW: Tatum's proposal
    /// key, which is locked for this transaction until released. Most chains
    /// reserve nothing.
    async fn release(&self, _prepared: &Prepared, _api: &dyn ChainApi) -> Result<(), SignerError> {
        Ok(())
    }

    /// What became of a transaction signed earlier with `prepared` and
    /// perhaps sent: asked before it is signed again, which is only safe
    /// when it can never land. Most chains cannot tell (a nonce or an input
    /// spent twice protects them, and the same bytes are sent again):
    /// [`Fate::Unknown`].
    async fn fate(
        &self,
        _signed: &SignedTx,
        _prepared: &Prepared,
        _api: &dyn ChainApi,
    ) -> Result<Fate, SignerError> {
        Ok(Fate::Unknown)
    }
}

/// What became of a transaction signed earlier ([`Signer::fate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Nothing is known: send the same bytes again.
    Unknown,
    /// The network has it: do not sign again.
    Landed,
    /// It can never land (a SOL blockhash past its last valid height, and
    /// the node never saw it): signing anew cannot pay twice.
    Expired {
        /// How that was established, for the audit trail.
        evidence: String,
    },
}

/// The signer of `chain`.
pub fn signer(chain: Chain) -> &'static dyn Signer {
    match chain {
        Chain::BTC => &utxo::BTC,
        Chain::LTC => &utxo::LTC,
        Chain::DOGE => &utxo::DOGE,
        Chain::BCH => &utxo::BCH,
        Chain::ETH => &evm::ETH,
        Chain::MATIC => &evm::MATIC,
        Chain::BSC => &evm::BSC,
        Chain::CELO => &evm::CELO,
        Chain::KLAY => &evm::KLAY,
        Chain::ONE => &evm::ONE,
        Chain::XDC => &evm::XDC,
        Chain::KCS => &evm::KCS,
        Chain::VET => &evm::VET,
        Chain::TRON => &tron::TRON,
        Chain::FLOW => &flow::FLOW,
        Chain::EGLD => &ed25519::EGLD,
        Chain::SOL => &ed25519::SOL,
        Chain::XRP => &ed25519::XRP,
        Chain::XLM => &ed25519::XLM,
        Chain::ALGO => &ed25519::ALGO,
        Chain::ADA => &ed25519::ADA,
    }
}

/// Checks an index the user typed against the range the original accepts.
pub fn parse_index(text: &str) -> Result<u32, SignerError> {
    let value: u64 = text
        .trim()
        .parse()
        .map_err(|_| SignerError::InvalidIndex(text.to_string()))?;
    if value > MAX_INDEX as u64 {
        return Err(SignerError::InvalidIndex(text.to_string()));
    }
    Ok(value as u32)
}
