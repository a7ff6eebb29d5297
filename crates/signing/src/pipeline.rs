//! The one way a pending transaction is signed, for `signpending`, the
//! daemon and embedders alike: choose the keys ([`KeySelector`]), let the
//! chain fetch what it needs from the network ([`prepare`]), sign
//! ([`PreparedTransaction::sign`]), and hand it to the network where the
//! chain needs more than the broadcast endpoint ([`submit`]).
//!
//! The stages are separate so a caller can put a check between them (the
//! daemon asks the approver before it signs).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use kms_chain_signers::{signer, ChainApi, OfflineApi, Prepared, SignedTx, SignerError, Submitted};
use kms_core::{Intent, Network, PendingTransaction};
use kms_vault::Wallets;

use crate::keys::{KeyError, KeySelector, SigningKeys};
use crate::scope::{Scope, ScopeError};

/// Why a pending transaction was not signed. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// It is not a transaction of the chain, network and wallets asked about.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// No key could be chosen for it.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The chain's signer refused it, or a network fact could not be fetched.
    #[error(transparent)]
    Signer(#[from] SignerError),
}

/// A transaction with its keys chosen and its network facts fetched: only
/// the signature is left. Holds the keys until [`PreparedTransaction::sign`]
/// consumes it.
pub struct PreparedTransaction<'p> {
    pending: &'p PendingTransaction,
    network: Network,
    keys: SigningKeys,
    facts: Prepared,
}

impl PreparedTransaction<'_> {
    /// The transaction being signed.
    pub fn pending(&self) -> &PendingTransaction {
        self.pending
    }

    /// What [`prepare`] fetched from the network (nonce, fee, blockhash...).
    pub fn facts(&self) -> &Prepared {
        &self.facts
    }

    /// What the transaction does, decoded from what [`Self::sign`] will sign.
    pub fn intent(&self) -> Result<Intent, SignError> {
        let input = self.keys.sign_input(self.pending, self.network);
        Ok(signer(self.pending.chain).intent(&input, &self.facts)?)
    }

    /// Signs, and forgets the keys. Pure: no network.
    pub fn sign(self) -> Result<SignedTx, SignError> {
        let input = self.keys.sign_input(self.pending, self.network);
        Ok(signer(self.pending.chain).sign(&input, &self.facts)?)
    }
}

/// Admits `pending` to `scope`, chooses its keys from `wallets` and fetches
/// through `api` what its chain needs before signing.
pub async fn prepare<'p>(
    selector: &mut KeySelector,
    wallets: &Wallets,
    scope: &Scope,
    pending: &'p PendingTransaction,
    api: &dyn ChainApi,
) -> Result<PreparedTransaction<'p>, SignError> {
    let keys = admit(selector, wallets, scope, pending)?;
    prepare_with(keys, scope.network(), pending, api).await
}

/// The first, synchronous half of [`prepare`]: admits `pending` to `scope`
/// and chooses its keys. Split off so that a caller sharing one selector
/// between concurrent transactions holds its lock only for this.
pub fn admit(
    selector: &mut KeySelector,
    wallets: &Wallets,
    scope: &Scope,
    pending: &PendingTransaction,
) -> Result<SigningKeys, SignError> {
    scope.admit(pending)?;
    Ok(selector.resolve(wallets, pending)?)
}

/// The second half of [`prepare`]: fetches what `pending`'s chain needs
/// before `keys` sign it on `network`.
pub async fn prepare_with<'p>(
    keys: SigningKeys,
    network: Network,
    pending: &'p PendingTransaction,
    api: &dyn ChainApi,
) -> Result<PreparedTransaction<'p>, SignError> {
    let facts = {
        let input = keys.sign_input(pending, network);
        signer(pending.chain).prepare(&input, api).await?
    };
    Ok(PreparedTransaction {
        pending,
        network,
        keys,
        facts,
    })
}

/// Signs without the network: a transaction whose chain would need a
/// network fact (a nonce, a blockhash) fails with an error naming it.
/// Synchronous: no async runtime is started.
pub fn sign_offline(
    selector: &mut KeySelector,
    wallets: &Wallets,
    scope: &Scope,
    pending: &PendingTransaction,
) -> Result<SignedTx, SignError> {
    let prepared = ready(prepare(selector, wallets, scope, pending, &OfflineApi))?;
    prepared.sign()
}

/// `sha256:` and the hex SHA-256 of what leaves the KMS for `signed`: the
/// wire transaction where the chain sends one to a node first (SOL), else
/// the `txData` for the broadcast endpoint. What an approval is bound to.
pub fn digest(signed: &SignedTx) -> String {
    use sha2::{Digest, Sha256};
    let bytes = signed
        .node_submission
        .as_deref()
        .unwrap_or(&signed.tx_data)
        .as_bytes();
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Hands a signed transaction to the network where its chain needs more
/// than the broadcast endpoint (SOL: send and wait for confirmation; FLOW:
/// Tatum's co-signatures, the access node and `/v3/flow/broadcast`), and
/// returns the `txData` for the broadcast endpoint, or says the chain's own
/// step broadcast it already ([`Submitted::Broadcast`]).
pub async fn submit(
    pending: &PendingTransaction,
    signed: SignedTx,
    api: &dyn ChainApi,
) -> Result<Submitted, SignError> {
    Ok(signer(pending.chain).submit(signed, api).await?)
}

/// Gives back what [`prepare`] reserved at the network for a transaction
/// that will not be submitted: FLOW's proposal key at Tatum, which stays
/// locked otherwise. `facts` are [`PreparedTransaction::facts`].
pub async fn release(
    pending: &PendingTransaction,
    facts: &Prepared,
    api: &dyn ChainApi,
) -> Result<(), SignError> {
    Ok(signer(pending.chain).release(facts, api).await?)
}

/// The output of a future that never waits: [`OfflineApi`] answers every
/// request at once, so `prepare` against it completes in one poll. A
/// signer that awaited something else would be a bug, and is reported
/// rather than spun on.
fn ready<T>(future: impl Future<Output = Result<T, SignError>>) -> Result<T, SignError> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => Err(SignError::Signer(SignerError::Api(
            kms_core::ApiError::Offline {
                what: "a network step".into(),
            },
        ))),
    }
}
