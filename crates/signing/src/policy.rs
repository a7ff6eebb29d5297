//! A local policy, fail-closed whatever the approver answers: which chains
//! and networks may be signed for, the largest fee and amount, the only
//! destinations, how many transactions per hour a wallet may sign. Judged
//! on the [`Intent`] decoded from what will be signed, never on what the
//! API says about it.
//!
//! ```toml
//! # Chains not listed here are not signed at all.
//! [chains.ETH]
//! networks = ["mainnet"]
//! max_fee = "2000000000000000"            # wei: gas limit × max gas price
//! max_amount = "5000000000000000000"      # wei, per transfer
//! destinations = ["0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee"]
//! max_per_hour_per_wallet = 20
//!
//! [chains.BTC]
//! networks = ["mainnet", "testnet"]
//! max_amount = "100000000"                # satoshi
//! ```

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use kms_core::{Chain, Intent, Network, PendingTransaction, SignatureId};
use serde::Deserialize;

/// The policy file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    chains: HashMap<String, ChainFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainFile {
    networks: Vec<String>,
    max_fee: Option<String>,
    max_amount: Option<String>,
    destinations: Option<Vec<String>>,
    max_per_hour_per_wallet: Option<u32>,
}

/// One chain's rules.
#[derive(Debug, Clone)]
struct Rules {
    networks: Vec<Network>,
    max_fee: Option<u128>,
    max_amount: Option<u128>,
    destinations: Option<Vec<String>>,
    max_per_hour_per_wallet: Option<u32>,
}

/// A loaded policy, with the signing history its rate limit needs.
#[derive(Debug)]
pub struct Policy {
    rules: HashMap<Chain, Rules>,
    /// When each (chain, wallet) signed, within the last hour.
    signed: HashMap<(Chain, SignatureId), VecDeque<Instant>>,
}

/// Why a policy file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    /// It cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a policy.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, naming the key.
        reason: String,
    },
}

/// Why the policy refuses a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by the local policy: {0}")]
pub struct Violation(pub String);

const HOUR: Duration = Duration::from_secs(3600);

impl Policy {
    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Policy::parse(&text).map_err(|reason| PolicyFileError::Invalid {
            path: path.display().to_string(),
            reason,
        })
    }

    /// A policy from its TOML text.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut rules = HashMap::new();
        for (name, chain_file) in file.chains {
            let chain: Chain = name
                .parse()
                .map_err(|_| format!("[chains.{name}]: not a chain we serve"))?;
            let amount = |key: &str, value: &Option<String>| -> Result<Option<u128>, String> {
                value
                    .as_deref()
                    .map(|v| {
                        v.trim().parse::<u128>().map_err(|_| {
                            format!(
                                "[chains.{name}] {key}: '{v}' is not a whole number of base units"
                            )
                        })
                    })
                    .transpose()
            };
            let networks = chain_file
                .networks
                .iter()
                .map(|n| match n.as_str() {
                    "mainnet" => Ok(Network::Mainnet),
                    "testnet" => Ok(Network::Testnet),
                    other => Err(format!(
                        "[chains.{name}] networks: '{other}' is neither mainnet nor testnet"
                    )),
                })
                .collect::<Result<_, _>>()?;
            rules.insert(
                chain,
                Rules {
                    networks,
                    max_fee: amount("max_fee", &chain_file.max_fee)?,
                    max_amount: amount("max_amount", &chain_file.max_amount)?,
                    destinations: chain_file.destinations,
                    max_per_hour_per_wallet: chain_file.max_per_hour_per_wallet,
                },
            );
        }
        Ok(Policy {
            rules,
            signed: HashMap::new(),
        })
    }

    /// Judges `pending` on `network` with its decoded `intent` (`None`
    /// where the chain has no decoder: then only the network and rate rules
    /// can be checked, and a rule on fee, amount or destination refuses).
    pub fn check(
        &mut self,
        pending: &PendingTransaction,
        network: Network,
        intent: Option<&Intent>,
    ) -> Result<(), Violation> {
        let chain = pending.chain;
        let refuse = |why: String| Err(Violation(why));
        let Some(rules) = self.rules.get(&chain) else {
            return refuse(format!("{chain} is not in the policy"));
        };
        if !rules.networks.contains(&network) {
            return refuse(format!("{chain} {network} is not allowed"));
        }
        let needs_intent =
            rules.max_fee.is_some() || rules.max_amount.is_some() || rules.destinations.is_some();
        if needs_intent {
            let Some(intent) = intent else {
                return refuse(format!(
                    "{chain} transactions cannot be decoded yet, and the policy limits their fee, amount or destinations"
                ));
            };
            if let Some(max) = rules.max_fee {
                // max_fee counts the chain's coin; a fee in a token (CELO's
                // fee currency) is another unit, not comparable with it.
                if let Some(asset) = &intent.fee_asset {
                    return refuse(format!(
                        "the fee is paid in {asset}, and max_fee limits {chain}'s own coin"
                    ));
                }
                match intent.fee.as_deref().map(str::parse::<u128>) {
                    Some(Ok(fee)) if fee <= max => {}
                    Some(Ok(fee)) => return refuse(format!("fee {fee} is above max_fee {max}")),
                    _ => return refuse("the fee is not known, and the policy limits it".into()),
                }
            }
            for transfer in &intent.transfers {
                if let Some(max) = rules.max_amount {
                    match transfer.amount.parse::<u128>() {
                        Ok(amount) if amount <= max => {}
                        Ok(amount) => {
                            return refuse(format!(
                                "amount {amount} to {} is above max_amount {max}",
                                transfer.to
                            ))
                        }
                        Err(_) => {
                            return refuse(format!("amount '{}' is not a number", transfer.amount))
                        }
                    }
                }
                if let Some(allowed) = &rules.destinations {
                    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&transfer.to)) {
                        return refuse(format!("{} is not an allowed destination", transfer.to));
                    }
                }
            }
        }
        if let Some(max) = rules.max_per_hour_per_wallet {
            let now = Instant::now();
            for id in wallets_of(pending) {
                let recent = self.signed.entry((chain, id.clone())).or_default();
                while recent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > HOUR)
                {
                    recent.pop_front();
                }
                if recent.len() >= max as usize {
                    return refuse(format!(
                        "wallet {id} signed {max} {chain} transactions in the last hour"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The hourly limit per wallet on `chain`, if the policy sets one: the
    /// daemon also counts the signatures the shared ledger holds, so that
    /// replicas do not each get the whole limit.
    pub fn hourly_limit(&self, chain: Chain) -> Option<u32> {
        self.rules.get(&chain)?.max_per_hour_per_wallet
    }

    /// Counts a signature of `pending` against its wallets' hourly limit.
    pub fn record_signed(&mut self, pending: &PendingTransaction) {
        if !self.rules.contains_key(&pending.chain) {
            return;
        }
        let now = Instant::now();
        for id in wallets_of(pending) {
            self.signed
                .entry((pending.chain, id.clone()))
                .or_default()
                .push_back(now);
        }
    }
}

/// The wallets `pending` names: its `hashes`, then its `signatures`' ids.
pub(crate) fn wallets_of(pending: &PendingTransaction) -> impl Iterator<Item = &SignatureId> {
    pending
        .hashes
        .iter()
        .chain(pending.signatures.iter().flatten().map(|s| &s.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_core::Transfer;

    const POLICY: &str = r#"
[chains.ETH]
networks = ["mainnet"]
max_fee = "1000"
max_amount = "500"
destinations = ["0xAbC"]
max_per_hour_per_wallet = 2

[chains.BTC]
networks = ["testnet"]
"#;

    fn pending(chain: &str) -> PendingTransaction {
        serde_json::from_value(serde_json::json!({
            "id": "p1", "chain": chain, "serializedTransaction": "{}", "hashes": ["w1"],
        }))
        .unwrap()
    }

    fn intent(to: &str, amount: &str, fee: &str) -> Intent {
        let mut i = Intent::new(Chain::ETH, Network::Mainnet);
        i.fee = Some(fee.into());
        i.transfers.push(Transfer {
            to: to.into(),
            amount: amount.into(),
            asset: None,
        });
        i
    }

    #[test]
    fn each_rule_refuses_beside_a_transaction_that_passes() {
        let mut p = Policy::parse(POLICY).unwrap();
        let eth = pending("ETH");
        let ok = intent("0xabc", "500", "1000");
        assert_eq!(p.check(&eth, Network::Mainnet, Some(&ok)), Ok(()));
        for (bad, why) in [
            (intent("0xabc", "501", "1000"), "above max_amount"),
            (intent("0xabc", "500", "1001"), "above max_fee"),
            (intent("0xdef", "1", "1"), "not an allowed destination"),
            (
                Intent {
                    fee_asset: Some("0x765de816845861e75a25fca122bb6898b8b1282a".into()),
                    ..intent("0xabc", "1", "1")
                },
                "the fee is paid in 0x765de816845861e75a25fca122bb6898b8b1282a",
            ),
        ] {
            let err = p.check(&eth, Network::Mainnet, Some(&bad)).unwrap_err();
            assert!(err.0.contains(why), "{err}");
        }
        assert!(p
            .check(&eth, Network::Testnet, Some(&ok))
            .unwrap_err()
            .0
            .contains("not allowed"));
        assert!(p
            .check(&eth, Network::Mainnet, None)
            .unwrap_err()
            .0
            .contains("cannot be decoded"));
        assert!(p
            .check(&pending("SOL"), Network::Mainnet, None)
            .unwrap_err()
            .0
            .contains("not in the policy"));
        // BTC has no amount rules: no intent needed.
        assert_eq!(p.check(&pending("BTC"), Network::Testnet, None), Ok(()));
    }

    #[test]
    fn a_wallet_signs_at_most_its_hourly_number() {
        let mut p = Policy::parse(POLICY).unwrap();
        let eth = pending("ETH");
        let ok = intent("0xabc", "1", "1");
        for _ in 0..2 {
            assert_eq!(p.check(&eth, Network::Mainnet, Some(&ok)), Ok(()));
            p.record_signed(&eth);
        }
        let err = p.check(&eth, Network::Mainnet, Some(&ok)).unwrap_err();
        assert!(
            err.0.contains("signed 2 ETH transactions in the last hour"),
            "{err}"
        );
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        for (text, named) in [
            ("[chains.FOO]\nnetworks = []", "chains.FOO"),
            ("[chains.ETH]\nnetworks = [\"main\"]", "'main'"),
            ("[chains.ETH]\nnetworks = []\nmax_fee = \"1e18\"", "max_fee"),
            ("[chains.ETH]\nnetworks = []\nmax_feee = \"1\"", "max_feee"),
        ] {
            let err = Policy::parse(text).unwrap_err();
            assert!(err.contains(named), "{text}: {err}");
        }
    }
}
