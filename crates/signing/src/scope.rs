//! Which wallets may sign: the Tatum API chooses the pending transactions,
//! so it must not also choose the keys. A daemon asks the API for the
//! transactions of one chain's wallets on one network; whatever comes back
//! may name only those wallets, and must be of that chain. A transaction
//! for another chain, another network, or naming a wallet that was not
//! asked about, is refused before any key is touched.

use std::collections::HashSet;

use kms_core::{Chain, Network, PendingTransaction, SignatureId};
use kms_vault::Vault;

/// The wallets one request was about.
#[derive(Clone, Debug)]
pub struct Scope {
    chain: Chain,
    network: Network,
    ids: HashSet<SignatureId>,
    /// For a scope over a whole store: every id it holds, so a wallet it
    /// does not hold at all gets the original's message.
    store_ids: Option<HashSet<SignatureId>>,
}

/// Why a pending transaction is outside its [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The original's message for a wallet the store does not hold.
    #[error("No such wallet for signatureId '{0}'.")]
    NoWallet(SignatureId),
    /// The answer for one chain held a transaction of another.
    #[error("refused: it is a {found} transaction in the answer for {asked}")]
    OtherChain {
        /// The chain that was asked for.
        asked: Chain,
        /// The chain the transaction names.
        found: Chain,
    },
    /// It names a wallet that was not asked about (another network, a
    /// wallet filtered out, or none of the store's).
    #[error("refused: it names wallet '{id}', which is not one of the {chain} {network} wallets asked about")]
    UnaskedWallet {
        /// The wallet.
        id: SignatureId,
        /// The chain asked for.
        chain: Chain,
        /// The network served.
        network: Network,
    },
    /// The pending transaction's id is not of the shape the API issues.
    #[error("refused: '{}' is not a pending transaction id (letters, digits and '-', at most {MAX_ID_LEN})", .0.escape_debug())]
    BadId(String),
}

/// The longest pending-transaction id accepted. The Tatum API issues UUIDs
/// (36 characters) and 24-hex object ids.
pub const MAX_ID_LEN: usize = 64;

/// Whether `id` has the shape of an id the API issues: ASCII letters,
/// digits and `-`, 1 to [`MAX_ID_LEN`] characters. Checked before anything
/// else is done with a transaction: the id goes into URLs and logs.
pub fn is_pending_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Scope {
    /// The wallets of `chain` on `network` that a request named.
    pub fn new(
        chain: Chain,
        network: Network,
        ids: impl IntoIterator<Item = SignatureId>,
    ) -> Scope {
        Scope {
            chain,
            network,
            ids: ids.into_iter().collect(),
            store_ids: None,
        }
    }

    /// Every wallet of `store` stored for `chain` on `network`: the scope of
    /// a transaction signed by hand (`signpending`, an embedder).
    pub fn whole_store(vault: &Vault, chain: Chain, network: Network) -> Scope {
        let mut scope = Scope::new(chain, network, vault.ids_for(chain, network));
        scope.store_ids = Some(
            vault
                .wallets()
                .0
                .keys()
                .map(|id| SignatureId::new(id.as_str()))
                .collect(),
        );
        scope
    }

    /// The chain asked for.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// The network served.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Accepts `pending` only if its id has the API's shape, it is of the
    /// chain asked for, and every wallet it names was asked about.
    pub fn admit(&self, pending: &PendingTransaction) -> Result<(), ScopeError> {
        if !is_pending_id(&pending.id) {
            return Err(ScopeError::BadId(pending.id.clone()));
        }
        if pending.chain != self.chain {
            return Err(ScopeError::OtherChain {
                asked: self.chain,
                found: pending.chain,
            });
        }
        let named = pending
            .hashes
            .iter()
            .chain(pending.signatures.iter().flatten().map(|s| &s.id));
        for id in named {
            if !self.ids.contains(id) {
                if self.store_ids.as_ref().is_some_and(|all| !all.contains(id)) {
                    return Err(ScopeError::NoWallet(id.clone()));
                }
                return Err(ScopeError::UnaskedWallet {
                    id: id.clone(),
                    chain: self.chain,
                    network: self.network,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_core::SignatureRef;

    fn pending(id: &str, chain: Chain, hashes: &[&str]) -> PendingTransaction {
        serde_json::from_value(serde_json::json!({
            "id": id, "chain": chain, "serializedTransaction": "{}", "hashes": hashes,
        }))
        .unwrap()
    }

    #[test]
    fn only_the_chain_and_wallets_asked_about_are_admitted() {
        let scope = Scope::new(Chain::ETH, Network::Testnet, ["a".into(), "b".into()]);
        let ok = pending(
            "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f60",
            Chain::ETH,
            &["a", "b"],
        );
        assert_eq!(scope.admit(&ok), Ok(()));

        let other_chain = pending("x1", Chain::SOL, &["a"]);
        assert_eq!(
            scope.admit(&other_chain),
            Err(ScopeError::OtherChain {
                asked: Chain::ETH,
                found: Chain::SOL
            })
        );
        let unasked = pending("x2", Chain::ETH, &["a", "mainnet-wallet"]);
        assert!(matches!(
            scope.admit(&unasked),
            Err(ScopeError::UnaskedWallet { id, .. }) if id == "mainnet-wallet"
        ));
        let mut in_signatures = pending("x3", Chain::ETH, &[]);
        in_signatures.signatures = Some(vec![SignatureRef {
            id: "c".into(),
            index: 0,
        }]);
        assert!(matches!(
            scope.admit(&in_signatures),
            Err(ScopeError::UnaskedWallet { id, .. }) if id == "c"
        ));
    }

    #[test]
    fn ids_have_the_apis_shape() {
        for good in [
            "7f0b3a52-6c1e-4a5e-9a3e-1b2c3d4e5f60",
            "5f1a2b3c4d5e6f7a8b9c0d1e",
            "a",
        ] {
            assert!(is_pending_id(good), "{good}");
        }
        for bad in [
            "",
            "../healthz",
            "%2e%2e",
            "a/b",
            "a b",
            "a\nb",
            "é",
            &"a".repeat(65),
        ] {
            assert!(!is_pending_id(bad), "{bad:?}");
        }
        let scope = Scope::new(Chain::ETH, Network::Mainnet, ["a".into()]);
        assert!(matches!(
            scope.admit(&pending("../healthz", Chain::ETH, &["a"])),
            Err(ScopeError::BadId(id)) if id == "../healthz"
        ));
    }
}
