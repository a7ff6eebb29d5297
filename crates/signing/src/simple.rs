//! The shortest way to sign: open a `wallet.dat`, sign pending
//! transactions, offline or with the facts a chain needs fetched from the
//! network.
//!
//! ```no_run
//! use kms_signing::{Network, WalletSigner, PendingTransaction};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let password = secrecy::SecretString::from(std::env::var("TATUM_KMS_PASSWORD")?);
//! let mut signer = WalletSigner::open("wallet.dat".as_ref(), &password, Network::Testnet)?;
//! let pending = PendingTransaction::from_json(&std::fs::read_to_string("pending.json")?)?;
//! println!("{}", signer.sign(&pending)?.tx_data);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::path::Path;

use kms_chain_signers::{ChainApi, SignedTx};
use kms_core::{Chain, Network, PendingTransaction};
use kms_vault::{KdfParams, Vault, VaultError};
use secrecy::SecretString;

use crate::keys::KeySelector;
use crate::pipeline::{self, SignError};
use crate::scope::Scope;

/// Why [`WalletSigner`] could not open the store or sign.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be opened (wrong password, damaged file...).
    #[error(transparent)]
    Store(#[from] VaultError),
    /// The transaction could not be signed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// A store opened for signing, with the keys it derived kept for the next
/// transaction. Nothing is broadcast: the caller sends what it returns.
pub struct WalletSigner {
    vault: Vault,
    keys: KeySelector,
    network: Network,
    /// Each chain's scope, made at its first transaction: the store does
    /// not change under a signer, so its wallets are scanned once per chain.
    scopes: HashMap<Chain, Scope>,
}

impl WalletSigner {
    /// Opens the store at `path` (runs the password's KDF once) to sign
    /// transactions of `network`.
    pub fn open(
        path: &Path,
        password: &SecretString,
        network: Network,
    ) -> Result<WalletSigner, Error> {
        Ok(WalletSigner {
            vault: Vault::open(path, password, KdfParams::default())?,
            keys: KeySelector::new(),
            network,
            scopes: HashMap::new(),
        })
    }

    /// Signs `pending` with the keys it names, which must be wallets of its
    /// chain on the signer's network. A chain that needs a fact from the
    /// network (a nonce, a blockhash) that the transaction does not carry
    /// fails with an error naming it.
    pub fn sign(&mut self, pending: &PendingTransaction) -> Result<SignedTx, Error> {
        let scope = self
            .scopes
            .entry(pending.chain)
            .or_insert_with(|| Scope::whole_store(&self.vault, pending.chain, self.network));
        Ok(pipeline::sign_offline(
            &mut self.keys,
            self.vault.wallets(),
            scope,
            pending,
        )?)
    }

    /// Signs `pending`, fetching through `api` what its chain needs first
    /// (an EVM nonce and gas price, a SOL blockhash...). For SOL the result's
    /// `node_submission` is the wire transaction to send to a node. A FLOW
    /// `{type, body}` request comes back with the wallet's signature only:
    /// [`pipeline::submit`](crate::pipeline::submit) adds Tatum's, sends and
    /// reports it; until then Tatum's proposal key stays locked for it.
    pub async fn sign_online(
        &mut self,
        pending: &PendingTransaction,
        api: &dyn ChainApi,
    ) -> Result<SignedTx, Error> {
        let scope = self
            .scopes
            .entry(pending.chain)
            .or_insert_with(|| Scope::whole_store(&self.vault, pending.chain, self.network));
        let prepared =
            pipeline::prepare(&mut self.keys, self.vault.wallets(), scope, pending, api).await?;
        Ok(prepared.sign()?)
    }
}
