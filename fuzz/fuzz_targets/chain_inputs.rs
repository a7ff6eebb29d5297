//! Shared by the `serialized_tx` and `intent` targets: valid keys of every
//! chain, plausible network facts, and the pending transaction a fuzz input
//! stands for (first byte: the chain and flags; the rest: the text).

use std::sync::OnceLock;

use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput};
use kms_core::{Chain, Network, PendingTransaction};
use secrecy::SecretString;
use serde_json::json;

const MNEMONIC: &str = "evidence attack report captain near hawk project victory common village grass hungry wrestle begin typical torch that slow clown spend dentist tilt rib spray";

pub struct Setup {
    pub runtime: tokio::runtime::Runtime,
    pub keys: Vec<(Chain, SecretString)>,
    pub mnemonic: Mnemonic,
}

pub fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let mnemonic = Mnemonic::parse(MNEMONIC).unwrap();
        let keys = Chain::ALL
            .iter()
            .map(|&chain| {
                let s = signer(chain);
                let key = match s.mnemonic_wallets() {
                    Some(derivation) => derivation
                        .account(Network::Mainnet, &mnemonic)
                        .unwrap()
                        .private_key(0)
                        .unwrap(),
                    None => {
                        let w = s.generate_wallet(Network::Mainnet, Some(&mnemonic)).unwrap();
                        let text = w
                            .get("secret")
                            .or_else(|| w.get("privateKey"))
                            .and_then(|v| v.as_str())
                            .unwrap()
                            .to_string();
                        SecretString::from(text)
                    }
                };
                (chain, key)
            })
            .collect();
        Setup {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            keys,
            mnemonic,
        }
    })
}

pub fn facts() -> Prepared {
    let json = json!({
        "nonce": 1, "gasPrice": "1000000000", "gas": 21000, "chainId": 1,
        "blockhash": "J85sBqpxD2mjiHy8BE17oT7Y6q3HdFLVKrNaWCsNwCt3",
        "chainTag": 74, "blockRef": "01312d0033333333",
        "value": "0", "receiver": "erd1aswk8e45vkdt3fecsfd825ttja6jytcgy9yfk5d7ymghthce7cassumvpp",
        "sender": "erd1aswk8e45vkdt3fecsfd825ttja6jytcgy9yfk5d7ymghthce7cassumvpp",
        "gasLimit": 50000, "chainID": "1", "version": 1,
        "unsigned_transaction": "00", "payloads": [],
        "network_identifier": {"blockchain": "cardano", "network": "mainnet"},
    });
    match json {
        serde_json::Value::Object(map) => Prepared(map),
        _ => unreachable!(),
    }
}


/// The pending transaction `data` stands for, and its chain's key; `None`
/// for inputs that are not one.
pub fn pending(data: &[u8]) -> Option<(PendingTransaction, SecretString, u8)> {
    let (&pick, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let (chain, key) = &setup().keys[pick as usize % setup().keys.len()];
    let pending = PendingTransaction {
        id: "fuzz".into(),
        chain: *chain,
        serialized_transaction: text.to_string(),
        hashes: vec!["w".into()],
        index: None,
        signatures: None,
        withdrawal_id: (pick & 0x80 != 0).then(|| "w1".to_string()),
        withdrawal_responses: None,
        tx_id: None,
        extra: Default::default(),
    };
    Some((pending, key.clone(), pick))
}

/// What the chain's signer takes for `pending`.
pub fn input<'a>(pending: &'a PendingTransaction, keys: &'a [SecretString], pick: u8) -> SignInput<'a> {
    SignInput {
        pending,
        network: Network::from_testnet(pick & 0x40 != 0),
        keys,
        mnemonic: Some(&setup().mnemonic),
    }
}
