//! Which stored keys sign a pending transaction, as the original chose them
//! (CHAINS.md §2, `processTransaction` in the original's `signatures.ts`).
//!
//! * every `hashes[i]` names a wallet, taken as stored;
//! * every `signatures[j]` names a mnemonic wallet whose key at
//!   `signatures[j].index` is derived (a private-key wallet is taken as stored);
//! * account chains sign with the first of those wallets: the key derived at
//!   the transaction's `index` for a mnemonic wallet when `index` is set, else
//!   the wallet's `privateKey`;
//! * XRP, XLM, ALGO sign with the first wallet's `secret` (else its `privateKey`);
//! * UTXO chains sign with the `privateKey` of every wallet, de-duplicated, in
//!   order of first appearance; their off-chain withdrawals with the first
//!   wallet's mnemonic (keys derived per input by the signer);
//! * SOL and ADA sign with every wallet's `privateKey`.
//!
//! One deliberate difference: VET derives a mnemonic wallet's key with the
//! VET path; the original asked for a BNB key there and always failed.
//!
//! Derivation (PBKDF2 and the hardened part of the path) runs once per
//! wallet, chain and network for the life of a [`KeySelector`]; the cached
//! key material is zeroized when dropped.
//!
//! This is the one place that decides which stored key signs what.

use std::collections::HashMap;
use std::sync::Arc;

use kms_chain_signers::{signer, Account, Mnemonic, SignInput, SignerError};
use kms_core::{Chain, Network, PendingTransaction, SignatureId, WalletChainError, WalletEntry};
use kms_vault::Wallets;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

const DOCS: &str = "see docs: https://apidoc.tatum.io/";

/// Why no key could be chosen. Names signatureIds and the transaction,
/// never key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The transaction names a wallet the store does not hold.
    #[error("No such wallet for signatureId '{0}'.")]
    NoWallet(SignatureId),
    /// `hashes` and `signatures` are both empty.
    #[error("transaction {tx} names no wallet: its hashes and signatures are empty")]
    NoWallets {
        /// The pending transaction's id.
        tx: String,
    },
    /// The original's text (`validatePrivateKeyWasFound`).
    #[error("Private key was not found. Wallet {ids} is private key based, but KMS transaction {tx} requires mnemonic based, since tx was requested with index param. Please use mnemonic based wallet and signatureId ({DOCS})")]
    NeedsMnemonicWallet {
        /// The wallets named, comma-separated.
        ids: String,
        /// The pending transaction's id.
        tx: String,
    },
    /// The original's text (`validatePrivateKeyWasFound`).
    #[error("Private key was not found. Wallet {ids} is mnemonic based, but KMS transaction {tx} requires private key based, since tx was requested without index param. Please use another private key based wallet id or specify 'index' parameter for this mnemonic based wallet during request call ({DOCS})")]
    NeedsPrivateKeyWallet {
        /// The wallets named, comma-separated.
        ids: String,
        /// The pending transaction's id.
        tx: String,
    },
    /// The original's text (`getPrivateKeys`).
    #[error("Wallets with requested private keys were not found. Most likely mnemonic-based wallet was used without index parameter ({DOCS})")]
    NoPrivateKeys,
    /// An off-chain withdrawal names a wallet without a mnemonic.
    #[error("transaction {tx} is an off-chain withdrawal, which is signed with a mnemonic; wallet '{id}' holds none (use a mnemonic-based wallet)")]
    NeedsMnemonic {
        /// The pending transaction's id.
        tx: String,
        /// The wallet.
        id: SignatureId,
    },
    /// A wallet that must give a key has none.
    #[error("transaction {tx}: wallet '{id}' holds no privateKey")]
    WalletWithoutKey {
        /// The pending transaction's id.
        tx: String,
        /// The wallet.
        id: SignatureId,
    },
    /// A key at an index was asked of a wallet without a mnemonic.
    #[error("wallet '{id}' holds no mnemonic to derive a key from")]
    NotMnemonicWallet {
        /// The wallet.
        id: SignatureId,
    },
    /// A mnemonic wallet of a chain whose wallets are single keys.
    #[error("wallet '{id}': {chain} keys are not derived from a mnemonic")]
    NoDerivation {
        /// The wallet.
        id: SignatureId,
        /// Its chain.
        chain: Chain,
    },
    /// The wallet's `chain` field names no chain we serve.
    #[error("wallet '{id}': {source}")]
    WalletChain {
        /// The wallet.
        id: SignatureId,
        /// What is wrong with the field.
        #[source]
        source: WalletChainError,
    },
    /// Deriving or parsing a wallet's key failed.
    #[error("wallet '{id}': {source}")]
    Wallet {
        /// The wallet.
        id: SignatureId,
        /// Why.
        #[source]
        source: SignerError,
    },
}

/// The keys for one transaction, ready for [`kms_chain_signers::Signer::sign`].
/// Dropped (and zeroized) as soon as the transaction is signed.
pub struct SigningKeys {
    /// The keys in the text format the chain's signer takes, in order.
    pub keys: Vec<SecretString>,
    /// UTXO off-chain withdrawals: the mnemonic the signer derives per input.
    pub mnemonic: Option<Arc<Mnemonic>>,
}

impl SigningKeys {
    /// What the chain's signer takes.
    pub fn sign_input<'a>(
        &'a self,
        pending: &'a PendingTransaction,
        network: Network,
    ) -> SignInput<'a> {
        SignInput {
            pending,
            network,
            keys: &self.keys,
            mnemonic: self.mnemonic.as_deref(),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct AccountId {
    signature_id: SignatureId,
    chain: Chain,
    network: Network,
}

/// A cached value and the phrase it was derived from: a store rewritten with
/// another mnemonic under the same id is derived again, not served stale.
struct Cached<T> {
    phrase: Zeroizing<String>,
    value: T,
}

/// Chooses the stored keys that sign a pending transaction, and keeps what
/// it derived for the life of the selector (a daemon keeps one for its
/// life, so a busy signer does not rerun PBKDF2 per transaction).
#[derive(Default)]
pub struct KeySelector {
    accounts: HashMap<AccountId, Cached<Box<dyn Account>>>,
    mnemonics: HashMap<SignatureId, Cached<Arc<Mnemonic>>>,
}

/// One wallet the transaction names, with the key derived for it when it
/// came from `signatures`.
struct Collected<'w> {
    id: &'w SignatureId,
    wallet: &'w WalletEntry,
    derived: Option<SecretString>,
}

impl Collected<'_> {
    fn private_key(&self) -> Option<SecretString> {
        self.derived.clone().or_else(|| {
            self.wallet
                .private_key()
                .map(|k| SecretString::from(k.to_string()))
        })
    }
}

impl KeySelector {
    /// A selector that has derived nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The key of the mnemonic wallet `id` at `index`, derived on `chain`
    /// for the wallet's network.
    pub fn key_at(
        &mut self,
        id: &SignatureId,
        wallet: &WalletEntry,
        chain: Chain,
        index: u32,
    ) -> Result<SecretString, KeyError> {
        let phrase = wallet
            .mnemonic()
            .ok_or_else(|| KeyError::NotMnemonicWallet { id: id.clone() })?;
        let account = self.account(id, phrase, chain, wallet.network())?;
        account
            .private_key(index)
            .map_err(|source| KeyError::Wallet {
                id: id.clone(),
                source,
            })
    }

    fn account(
        &mut self,
        id: &SignatureId,
        phrase: &str,
        chain: Chain,
        network: Network,
    ) -> Result<&dyn Account, KeyError> {
        let key = AccountId {
            signature_id: id.clone(),
            chain,
            network,
        };
        let fresh = self
            .accounts
            .get(&key)
            .is_some_and(|c| c.phrase.as_str() == phrase);
        if !fresh {
            let derivation =
                signer(chain)
                    .mnemonic_wallets()
                    .ok_or_else(|| KeyError::NoDerivation {
                        id: id.clone(),
                        chain,
                    })?;
            let mnemonic = self.mnemonic(id, phrase)?;
            let account =
                derivation
                    .account(network, &mnemonic)
                    .map_err(|source| KeyError::Wallet {
                        id: id.clone(),
                        source,
                    })?;
            tracing::debug!(signature_id = %id, %chain, %network, "derived a wallet's account key");
            self.accounts.insert(
                key.clone(),
                Cached {
                    phrase: Zeroizing::new(phrase.to_string()),
                    value: account,
                },
            );
        }
        Ok(self.accounts[&key].value.as_ref())
    }

    fn mnemonic(&mut self, id: &SignatureId, phrase: &str) -> Result<Arc<Mnemonic>, KeyError> {
        if let Some(c) = self
            .mnemonics
            .get(id)
            .filter(|c| c.phrase.as_str() == phrase)
        {
            return Ok(c.value.clone());
        }
        let mnemonic = Arc::new(Mnemonic::parse(phrase).map_err(|source| KeyError::Wallet {
            id: id.clone(),
            source,
        })?);
        self.mnemonics.insert(
            id.clone(),
            Cached {
                phrase: Zeroizing::new(phrase.to_string()),
                value: mnemonic.clone(),
            },
        );
        Ok(mnemonic)
    }

    /// The keys that sign `pending`, from `wallets`.
    pub fn resolve(
        &mut self,
        wallets: &Wallets,
        pending: &PendingTransaction,
    ) -> Result<SigningKeys, KeyError> {
        let chain = pending.chain;
        let collected = self.collect(wallets, pending)?;
        let tx = || pending.id.clone();
        let first = collected
            .first()
            .ok_or_else(|| KeyError::NoWallets { tx: tx() })?;
        let offchain = pending.withdrawal_id.is_some();

        let (keys, mnemonic) = match chain {
            chain if chain.is_utxo() && offchain => {
                let phrase = first
                    .wallet
                    .mnemonic()
                    .ok_or_else(|| KeyError::NeedsMnemonic {
                        tx: tx(),
                        id: first.id.clone(),
                    })?;
                (Vec::new(), Some(self.mnemonic(first.id, phrase)?))
            }
            chain if chain.is_utxo() => (utxo_keys(&collected, pending)?, None),
            Chain::XRP | Chain::XLM | Chain::ALGO => {
                let key = first
                    .wallet
                    .secret()
                    .map(|s| SecretString::from(s.to_string()))
                    .or_else(|| first.private_key())
                    .ok_or_else(|| KeyError::WalletWithoutKey {
                        tx: tx(),
                        id: first.id.clone(),
                    })?;
                (vec![key], None)
            }
            Chain::SOL => (every_private_key(&collected, pending)?, None),
            Chain::ADA if offchain => {
                // The original signs an ADA withdrawal with the keys of its
                // `signatures` only.
                let from_signatures: Vec<_> = collected
                    .into_iter()
                    .filter(|c| c.derived.is_some())
                    .collect();
                (every_private_key(&from_signatures, pending)?, None)
            }
            Chain::ADA => (every_private_key(&collected, pending)?, None),
            Chain::BTC
            | Chain::LTC
            | Chain::DOGE
            | Chain::BCH
            | Chain::ETH
            | Chain::MATIC
            | Chain::BSC
            | Chain::CELO
            | Chain::KLAY
            | Chain::ONE
            | Chain::XDC
            | Chain::KCS
            | Chain::VET
            | Chain::TRON
            | Chain::FLOW
            | Chain::EGLD => {
                let key = match (first.wallet.mnemonic(), pending.index) {
                    (Some(_), Some(index)) => {
                        Some(self.key_at(first.id, first.wallet, chain, index)?)
                    }
                    _ => first.private_key(),
                };
                let key = key.ok_or_else(|| {
                    let ids = signature_ids(pending);
                    if pending.index.is_some() {
                        KeyError::NeedsMnemonicWallet { ids, tx: tx() }
                    } else {
                        KeyError::NeedsPrivateKeyWallet { ids, tx: tx() }
                    }
                })?;
                (vec![key], None)
            }
        };
        Ok(SigningKeys { keys, mnemonic })
    }

    /// The wallets of `hashes`, then those of `signatures` with their keys
    /// derived (`getWallet` / `getWalletForSignature` in the original).
    fn collect<'w>(
        &mut self,
        wallets: &'w Wallets,
        pending: &'w PendingTransaction,
    ) -> Result<Vec<Collected<'w>>, KeyError> {
        let lookup = |id: &'w SignatureId| {
            wallets
                .get(id.as_str())
                .map(|wallet| (id, wallet))
                .ok_or_else(|| KeyError::NoWallet(id.clone()))
        };
        let mut collected = Vec::new();
        for id in &pending.hashes {
            let (id, wallet) = lookup(id)?;
            collected.push(Collected {
                id,
                wallet,
                derived: None,
            });
        }
        for signature in pending.signatures.iter().flatten() {
            let (id, wallet) = lookup(&signature.id)?;
            if wallet.mnemonic().is_some() {
                // As the original: derived on the wallet's own chain.
                let chain = wallet.chain().map_err(|source| KeyError::WalletChain {
                    id: id.clone(),
                    source,
                })?;
                let key = self.key_at(id, wallet, chain, signature.index)?;
                collected.push(Collected {
                    id,
                    wallet,
                    derived: Some(key),
                });
            } else if wallet.private_key().is_some() {
                collected.push(Collected {
                    id,
                    wallet,
                    derived: None,
                });
            } else {
                tracing::warn!(
                    signature_id = %id,
                    tx = %pending.id,
                    "a wallet in signatures holds neither a mnemonic nor a privateKey; it is skipped, as the original did"
                );
            }
        }
        Ok(collected)
    }
}

/// The original's `getPrivateKeys`: the `privateKey` of every wallet that
/// has one, de-duplicated, in order of first appearance.
fn utxo_keys(
    collected: &[Collected<'_>],
    pending: &PendingTransaction,
) -> Result<Vec<SecretString>, KeyError> {
    let mut keys: Vec<SecretString> = Vec::new();
    for c in collected {
        match c.private_key() {
            Some(key) => {
                if !keys
                    .iter()
                    .any(|k| k.expose_secret() == key.expose_secret())
                {
                    keys.push(key);
                }
            }
            None => tracing::warn!(
                signature_id = %c.id,
                tx = %pending.id,
                "a mnemonic wallet in hashes has no key without an index; it signs nothing"
            ),
        }
    }
    if keys.is_empty() {
        return Err(KeyError::NoPrivateKeys);
    }
    Ok(keys)
}

/// SOL and ADA: every wallet's `privateKey`, in order.
fn every_private_key(
    collected: &[Collected<'_>],
    pending: &PendingTransaction,
) -> Result<Vec<SecretString>, KeyError> {
    if collected.is_empty() {
        return Err(KeyError::NoWallets {
            tx: pending.id.clone(),
        });
    }
    collected
        .iter()
        .map(|c| {
            c.private_key().ok_or_else(|| KeyError::WalletWithoutKey {
                tx: pending.id.clone(),
                id: c.id.clone(),
            })
        })
        .collect()
}

/// `hashes` then `signatures[].id`, comma-separated, as the original logs them.
fn signature_ids(pending: &PendingTransaction) -> String {
    pending
        .hashes
        .iter()
        .chain(pending.signatures.iter().flatten().map(|s| &s.id))
        .map(SignatureId::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_core::SignatureRef;

    const MN: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn vector(chain: &str, testnet: bool) -> serde_json::Value {
        let file = kms_test_support::load_vectors("derivation.json");
        file["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| {
                v["chain"] == chain
                    && v["testnet"] == testnet
                    && v["mnemonicIndex"] == 0
                    && v.get("variant").is_none()
            })
            .unwrap()
            .clone()
    }

    fn mnemonic_wallet(chain: &str, testnet: bool) -> WalletEntry {
        WalletEntry::new()
            .with("mnemonic", MN)
            .with("chain", chain)
            .with("testnet", testnet)
    }

    fn key_wallet(chain: &str, key: &serde_json::Value) -> WalletEntry {
        WalletEntry::new()
            .with("privateKey", key.clone())
            .with("chain", chain)
            .with("testnet", false)
    }

    fn store(entries: Vec<(&str, WalletEntry)>) -> Wallets {
        let mut w = Wallets::default();
        for (id, e) in entries.into_iter().rev() {
            w.insert_first(id.to_string(), e);
        }
        w
    }

    fn pending(chain: &str, hashes: &[&str]) -> PendingTransaction {
        let chain: Chain = chain.parse().unwrap();
        serde_json::from_value(serde_json::json!({
            "id": "tx", "chain": chain, "serializedTransaction": "{}",
            "hashes": hashes,
        }))
        .unwrap()
    }

    fn s(v: &serde_json::Value) -> &str {
        v.as_str().unwrap()
    }

    fn exposed(keys: &SigningKeys) -> Vec<String> {
        keys.keys
            .iter()
            .map(|k| k.expose_secret().to_string())
            .collect()
    }

    #[test]
    fn utxo_keys_are_deduplicated_in_order_and_signatures_derive() {
        let v = vector("BTC", false);
        let k = &v["privateKeys"];
        let wallets = store(vec![
            ("a", key_wallet("BTC", &k["1"])),
            ("b", key_wallet("BTC", &k["1"])),
            ("c", mnemonic_wallet("BTC", false)),
        ]);
        let mut tx = pending("BTC", &["a", "b", "c"]);
        tx.signatures = Some(vec![SignatureRef {
            id: SignatureId::from("c"),
            index: 7,
        }]);
        let keys = KeySelector::new().resolve(&wallets, &tx).unwrap();
        assert_eq!(exposed(&keys), [s(&k["1"]), s(&k["7"])]);

        // Only a mnemonic wallet, no index: the original's message.
        let err = KeySelector::new()
            .resolve(&wallets, &pending("BTC", &["c"]))
            .err()
            .unwrap();
        assert!(err
            .to_string()
            .starts_with("Wallets with requested private keys were not found."));
    }

    #[test]
    fn account_chains_derive_at_the_index_or_take_the_stored_key() {
        let v = vector("ETH", false);
        let wallets = store(vec![
            ("mn", mnemonic_wallet("ETH", false)),
            ("pk", key_wallet("ETH", &v["privateKeys"]["1"])),
            (
                "secret",
                WalletEntry::new().with("secret", "x").with("chain", "ETH"),
            ),
        ]);
        let mut cache = KeySelector::new();
        let mut tx = pending("ETH", &["mn"]);
        tx.index = Some(7);
        assert_eq!(
            exposed(&cache.resolve(&wallets, &tx).unwrap()),
            [s(&v["privateKeys"]["7"])]
        );
        // A private-key wallet answers with its key, index or not (as the original).
        tx.hashes = vec![SignatureId::from("pk")];
        assert_eq!(
            exposed(&cache.resolve(&wallets, &tx).unwrap()),
            [s(&v["privateKeys"]["1"])]
        );

        tx.hashes = vec![SignatureId::from("secret")];
        let err = cache.resolve(&wallets, &tx).err().unwrap().to_string();
        assert!(err.contains("Wallet secret is private key based, but KMS transaction tx requires mnemonic based"), "{err}");
        tx.index = None;
        tx.hashes = vec![SignatureId::from("mn")];
        let err = cache.resolve(&wallets, &tx).err().unwrap().to_string();
        assert!(
            err.contains(
                "Wallet mn is mnemonic based, but KMS transaction tx requires private key based"
            ),
            "{err}"
        );
        assert!(!err.contains("abandon"));
    }

    /// The original derived VET keys on the BNB path and failed; ours uses VET's.
    #[test]
    fn vet_mnemonic_signing_derives_on_the_vet_path() {
        for testnet in [false, true] {
            let v = vector("VET", testnet);
            let wallets = store(vec![("mn", mnemonic_wallet("VET", testnet))]);
            let mut tx = pending("VET", &["mn"]);
            tx.index = Some(7);
            let keys = KeySelector::new().resolve(&wallets, &tx).unwrap();
            assert_eq!(exposed(&keys), [s(&v["privateKeys"]["7"])]);
        }
    }

    #[test]
    fn secret_chains_sol_and_withdrawals() {
        let wallets = store(vec![
            (
                "xrp",
                WalletEntry::new()
                    .with("address", "r1")
                    .with("secret", "sEdSecret")
                    .with("chain", "XRP"),
            ),
            (
                "sol1",
                WalletEntry::new()
                    .with("mnemonic", MN)
                    .with("privateKey", "k1")
                    .with("chain", "SOL"),
            ),
            (
                "sol2",
                WalletEntry::new()
                    .with("privateKey", "k2")
                    .with("chain", "SOL"),
            ),
            ("mn", mnemonic_wallet("BTC", false)),
        ]);
        let mut cache = KeySelector::new();
        assert_eq!(
            exposed(&cache.resolve(&wallets, &pending("XRP", &["xrp"])).unwrap()),
            ["sEdSecret"]
        );
        assert_eq!(
            exposed(
                &cache
                    .resolve(&wallets, &pending("SOL", &["sol1", "sol2"]))
                    .unwrap()
            ),
            ["k1", "k2"]
        );
        let mut tx = pending("BTC", &["mn"]);
        tx.withdrawal_id = Some("w".into());
        let keys = cache.resolve(&wallets, &tx).unwrap();
        assert!(keys.keys.is_empty());
        assert_eq!(keys.mnemonic.unwrap().phrase(), MN);
        tx.hashes = vec![SignatureId::from("sol2")];
        assert!(matches!(
            cache.resolve(&wallets, &tx),
            Err(KeyError::NeedsMnemonic { .. })
        ));
        assert!(matches!(
            cache.resolve(&wallets, &pending("ETH", &["nope"])),
            Err(KeyError::NoWallet(id)) if id == "nope"
        ));
    }

    #[test]
    fn accounts_are_derived_once_per_wallet_and_rederived_when_the_mnemonic_changes() {
        let v = vector("ETH", false);
        let mut cache = KeySelector::new();
        let mut tx = pending("ETH", &["mn"]);
        let wallets = store(vec![("mn", mnemonic_wallet("ETH", false))]);
        for index in 0..5 {
            tx.index = Some(index);
            cache.resolve(&wallets, &tx).unwrap();
        }
        assert_eq!(cache.accounts.len(), 1);
        assert_eq!(cache.mnemonics.len(), 1);

        let other = "legal winner thank year wave sausage worth useful legal winner thank yellow";
        let replaced = store(vec![(
            "mn",
            WalletEntry::new()
                .with("mnemonic", other)
                .with("chain", "ETH")
                .with("testnet", false),
        )]);
        tx.index = Some(7);
        let key = exposed(&cache.resolve(&replaced, &tx).unwrap());
        assert_ne!(key, [s(&v["privateKeys"]["7"])]);
        assert_eq!(cache.accounts.len(), 1);
    }
}
