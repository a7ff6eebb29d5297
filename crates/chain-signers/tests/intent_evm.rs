//! What the EVM family's and VET's transactions do (`Signer::intent`), for
//! every signing vector of those chains (expected values worked out by hand
//! from each vector's `pendingTransaction` and recorded node answers), for
//! token transfers, contract calls and creations built here, and refusals of
//! what the decoder cannot show faithfully.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use kms_chain_signers::{signer, Prepared, SignInput, SignerError};
use kms_core::{Chain, Intent, Network, PendingTransaction, Transfer};
use kms_test_support::replay::Replay;
use secrecy::SecretString;
use serde_json::{json, Value};

const RECIPIENT: &str = "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee";
/// The key of the ETH and BSC vectors, and of the transactions built here.
const KEY: &str = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";
const KEY_ADDRESS: &str = "0x95f70a07007b327fcdf4deb412114432e3ca2636";

fn native(to: &str, amount: &str) -> Transfer {
    Transfer {
        to: to.into(),
        amount: amount.into(),
        asset: None,
    }
}

fn token(to: &str, amount: &str, contract: &str) -> Transfer {
    Transfer {
        to: to.into(),
        amount: amount.into(),
        asset: Some(contract.into()),
    }
}

struct Expected {
    chain_id: &'static str,
    sender: &'static str,
    transfers: Vec<Transfer>,
    fee: &'static str,
    nonce: &'static str,
    memo: Option<&'static str>,
}

impl Expected {
    fn intent(self, chain: Chain, network: Network) -> Intent {
        let mut intent = Intent::new(chain, network);
        intent.chain_id = Some(self.chain_id.into());
        intent.senders = vec![self.sender.into()];
        intent.transfers = self.transfers;
        intent.fee = Some(self.fee.into());
        intent.nonce = Some(self.nonce.into());
        intent.memo = self.memo.map(str::to_string);
        intent
    }
}

/// Each vector's intent, read off its `pendingTransaction` (and, where the
/// transaction leaves a field to the node, the recorded answer).
fn expected_for_vector(name: &str) -> Expected {
    match name {
        // gasPrice 35 gwei × gas 21000; chain id 1 answered by eth_chainId.
        "eth-mainnet-native-legacy-full" => Expected {
            chain_id: "1",
            sender: KEY_ADDRESS,
            transfers: vec![native(RECIPIENT, "1230000000000000000")],
            fee: "735000000000000",
            nonce: "12",
            memo: None,
        },
        // 50 gwei × 21000; chain id 0x89 from the node.
        "matic-mainnet-native" => Expected {
            chain_id: "137",
            sender: "0x33f2c3395b1a7c93d16ecb89fd30eaa67c2bd721",
            transfers: vec![native(RECIPIENT, "2000000000000000000")],
            fee: "1050000000000000",
            nonce: "44",
            memo: None,
        },
        // 5 gwei × 21000; chain id 0x38 from the node.
        "bsc-mainnet-native" => Expected {
            chain_id: "56",
            sender: KEY_ADDRESS,
            transfers: vec![native(RECIPIENT, "100000000000000000")],
            fee: "105000000000000",
            nonce: "2",
            memo: None,
        },
        // 250 gwei × 21000; chain id 0x2019 from klay_chainID.
        "klay-mainnet-native" => Expected {
            chain_id: "8217",
            sender: "0x2165ac6e7a953199383ad7afe553a5e364ac26a0",
            transfers: vec![native(RECIPIENT, "1000000000000000000")],
            fee: "5250000000000000",
            nonce: "5",
            memo: None,
        },
        // XDC replaces the JSON's gas 99999 with the node's estimate 0x5208
        // (21000): 0.25 gwei × 21000. Addresses in XDC's own writing.
        "xdc-mainnet-native" => Expected {
            chain_id: "50",
            sender: "xdc424ef285db6d6ce10b9e9fb582b949847f7bca66",
            transfers: vec![native(
                "xdc18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee",
                "1000000000000000000",
            )],
            fee: "5250000000000",
            nonce: "8",
            memo: None,
        },
        // 100 gwei × 21000; chain id 0x63564c40 from the node.
        "one-mainnet-native" => Expected {
            chain_id: "1666600000",
            sender: "0x4a0f64499b2a059082325aa38d754018ffa46d7a",
            transfers: vec![native(RECIPIENT, "1000000000000000000")],
            fee: "2100000000000000",
            nonce: "1",
            memo: None,
        },
        // Every field given (hex): gasPrice 0x1dcd6500 = 0.5 gwei × gasLimit
        // 0x5208; value 0xde0b6b3a7640000 = 1 CELO.
        "celo-mainnet-native" => Expected {
            chain_id: "42220",
            sender: "0x119a4e29cc4b77372e6a0be2358c8ceaf25ffc22",
            transfers: vec![native(RECIPIENT, "1000000000000000000")],
            fee: "10500000000000",
            nonce: "3",
            memo: None,
        },
        // Chain tag 0x4a (last byte of the genesis id); gas 5000 + 16000
        // (the simulation used none); the fee is that gas, in gas units.
        "vet-mainnet-native" => Expected {
            chain_id: "74",
            sender: "0xc31eff257b1e390a112e4fffb5f542c7656daf0b",
            transfers: vec![native(RECIPIENT, "1000000000000000000")],
            fee: "21000",
            nonce: "12345",
            memo: None,
        },
        other => panic!("no expected intent written for vector {other}"),
    }
}

const FAMILY: [Chain; 9] = [
    Chain::ETH,
    Chain::MATIC,
    Chain::BSC,
    Chain::CELO,
    Chain::KLAY,
    Chain::ONE,
    Chain::XDC,
    Chain::KCS,
    Chain::VET,
];

#[tokio::test]
async fn every_vector_intent_is_what_its_pending_transaction_says() {
    let file = kms_test_support::vectors::signing();
    let mut checked = Vec::new();
    for v in file.of_chains(&FAMILY) {
        let (pending, keys) = (v.pending(), v.keys());
        let network = Network::from_testnet(v.testnet());
        let input = SignInput {
            pending: &pending,
            network,
            keys: &keys,
            mnemonic: None,
        };
        let api = Replay::new(v.sdk_requests());
        let s = signer(v.chain());
        let prepared = s
            .prepare(&input, &api)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        let intent = s
            .intent(&input, &prepared)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        assert_eq!(
            intent,
            expected_for_vector(v.name()).intent(v.chain(), network),
            "{}",
            v.name()
        );
        // And the same completed transaction still signs to the vector;
        // except CELO's, Celo's legacy RLP, which the L2 refuses (celo_l2.rs
        // shows the same payment signed the way it accepts).
        if v.chain() != Chain::CELO {
            assert_eq!(
                s.sign(&input, &prepared).unwrap().tx_data,
                v.expected_tx_data(),
                "{}",
                v.name()
            );
        }
        checked.push(v.name().to_string());
    }
    assert_eq!(checked.len(), 8, "{checked:?}");
}

fn pending(chain: Chain, tx: &Value) -> PendingTransaction {
    serde_json::from_value(json!({
        "id": "x", "chain": chain.as_str(), "hashes": ["h"],
        "serializedTransaction": tx.to_string()
    }))
    .unwrap()
}

fn keys() -> [SecretString; 1] {
    [SecretString::from(KEY.to_string())]
}

/// The intent of a transaction that needs nothing from the network.
fn offline_intent(chain: Chain, tx: &Value) -> Result<Intent, SignerError> {
    let pending = pending(chain, tx);
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    signer(chain).intent(&input, &Prepared::default())
}

/// Signs the same transaction and reads the signed bytes back with alloy:
/// recipient, value, calldata, nonce, gas and chain id must be what the
/// intent was computed from.
fn assert_signed_matches(chain: Chain, tx: &Value, intent: &Intent) {
    let pending = pending(chain, tx);
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let raw = signer(chain)
        .sign(&input, &Prepared::default())
        .unwrap()
        .tx_data;
    let bytes = hex::decode(raw.trim_start_matches("0x")).unwrap();
    let signed = TxEnvelope::decode_2718(&mut bytes.as_slice()).unwrap();
    assert_eq!(
        signed.chain_id().map(|id| id.to_string()),
        intent.chain_id,
        "{chain}"
    );
    assert_eq!(Some(signed.nonce().to_string()), intent.nonce, "{chain}");
    let fee_per_gas = signed.gas_price().unwrap_or(signed.max_fee_per_gas());
    assert_eq!(
        Some((u128::from(signed.gas_limit()) * fee_per_gas).to_string()),
        intent.fee,
        "{chain}"
    );
    let selector = signed.input().get(..4).map(hex::encode);
    // A type-2 transaction's memo ends with its max fees.
    let memo = match signed.max_priority_fee_per_gas() {
        Some(tip) => {
            let fees = format!(
                "maxFeePerGas {}, maxPriorityFeePerGas {tip}",
                signed.max_fee_per_gas()
            );
            let memo = intent.memo.as_deref().unwrap_or_default();
            let rest = memo
                .strip_suffix(&fees)
                .unwrap_or_else(|| panic!("{chain}: memo '{memo}' lacks '{fees}'"));
            let rest = rest.strip_suffix("; ").unwrap_or(rest);
            (!rest.is_empty()).then(|| rest.to_string())
        }
        None => intent.memo.clone(),
    };
    match (&memo, signed.to()) {
        (Some(memo), Some(_)) => {
            assert_eq!(memo, &format!("contract call 0x{}", selector.unwrap()))
        }
        (Some(memo), None) => assert_eq!(memo, "contract creation"),
        (None, to) => {
            let to = to.expect("a payment has a recipient");
            let first = &intent.transfers[0];
            match &first.asset {
                None => {
                    assert_eq!(first.amount, signed.value().to_string(), "{chain}");
                    assert!(first.to.ends_with(&hex::encode(to)), "{chain}");
                }
                Some(contract) => {
                    // Token transfer without coins: the contract is the recipient.
                    assert!(signed.value().is_zero());
                    assert!(contract.ends_with(&hex::encode(to)));
                    assert_eq!(selector.as_deref(), Some("a9059cbb"));
                }
            }
        }
    }
}

const USDT: &str = "0xdac17f958d2ee523a2206206994597c13d831ec7";

/// `transfer(recipient, amount)` calldata.
fn erc20_transfer(recipient: &str, amount_hex_word: &str) -> String {
    format!(
        "0xa9059cbb000000000000000000000000{}{amount_hex_word}",
        recipient.trim_start_matches("0x")
    )
}

/// 1 000 000 (1 USDT of 6 decimals) as a 32-byte word.
const ONE_MILLION_WORD: &str = "00000000000000000000000000000000000000000000000000000000000f4240";

#[test]
fn an_erc20_transfer_is_the_token_amount_to_the_calldata_recipient() {
    let tx = json!({"to": USDT, "value": "0", "gas": 60000, "gasPrice": "20000000000",
        "nonce": 7, "chainId": 1, "data": erc20_transfer(RECIPIENT, ONE_MILLION_WORD)});
    let intent = offline_intent(Chain::ETH, &tx).unwrap();
    let expected = Expected {
        chain_id: "1",
        sender: KEY_ADDRESS,
        transfers: vec![token(RECIPIENT, "1000000", USDT)],
        // 60000 × 20 gwei
        fee: "1200000000000000",
        nonce: "7",
        memo: None,
    };
    assert_eq!(intent, expected.intent(Chain::ETH, Network::Mainnet));
    assert_signed_matches(Chain::ETH, &tx, &intent);
}

#[test]
fn an_xdc_token_transfer_writes_every_address_the_xdc_way() {
    let tx = json!({"to": "xdcdac17f958d2ee523a2206206994597c13d831ec7", "gas": 60000,
        "gasPrice": "250000000", "nonce": 3, "chainId": 50,
        "data": erc20_transfer(RECIPIENT, ONE_MILLION_WORD)});
    let pending = pending(Chain::XDC, &tx);
    let keys = [SecretString::from(
        "0xfec73f89256ac60fcbc30e95d7ddee14c50cedf72475cb7878915d36d483e1e4".to_string(),
    )];
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    // What XDC's prepare fetches even when the JSON has a gas: the estimate.
    let prepared = Prepared(json!({"gas": 52000}).as_object().unwrap().clone());
    let intent = signer(Chain::XDC).intent(&input, &prepared).unwrap();
    let expected = Expected {
        chain_id: "50",
        sender: "xdc424ef285db6d6ce10b9e9fb582b949847f7bca66",
        transfers: vec![token(
            "xdc18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee",
            "1000000",
            "xdcdac17f958d2ee523a2206206994597c13d831ec7",
        )],
        // The fetched gas, not the JSON's: 52000 × 0.25 gwei.
        fee: "13000000000000",
        nonce: "3",
        memo: None,
    };
    assert_eq!(intent, expected.intent(Chain::XDC, Network::Mainnet));
}

#[test]
fn eip1559_fee_is_gas_times_the_max_fee_and_kcs_is_decoded_too() {
    let tx = json!({"to": RECIPIENT, "value": "1230000000000000000", "gas": 21000, "nonce": 12,
        "chainId": 1, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "2000000000"});
    let intent = offline_intent(Chain::ETH, &tx).unwrap();
    let expected = Expected {
        chain_id: "1",
        sender: KEY_ADDRESS,
        transfers: vec![native(RECIPIENT, "1230000000000000000")],
        // 21000 × 30 gwei (the cap), not the tip; both shown.
        fee: "630000000000000",
        nonce: "12",
        memo: Some("maxFeePerGas 30000000000, maxPriorityFeePerGas 2000000000"),
    };
    assert_eq!(intent, expected.intent(Chain::ETH, Network::Mainnet));
    assert_signed_matches(Chain::ETH, &tx, &intent);

    let tx = json!({"to": RECIPIENT, "value": "5", "gas": 21000, "nonce": 4, "chainId": 321,
        "gasPrice": "1000000000"});
    let intent = offline_intent(Chain::KCS, &tx).unwrap();
    let expected = Expected {
        chain_id: "321",
        sender: KEY_ADDRESS,
        transfers: vec![native(RECIPIENT, "5")],
        fee: "21000000000000",
        nonce: "4",
        memo: None,
    };
    assert_eq!(intent, expected.intent(Chain::KCS, Network::Mainnet));
    assert_signed_matches(Chain::KCS, &tx, &intent);
}

#[test]
fn another_contract_call_shows_the_value_to_the_contract_and_its_selector() {
    // approve(spender, amount): allowed, but shown for what it is.
    let data = format!(
        "0x095ea7b3000000000000000000000000{}{ONE_MILLION_WORD}",
        &RECIPIENT[2..]
    );
    let tx = json!({"to": USDT, "value": "7", "gas": 50000, "gasPrice": "1", "nonce": 1,
        "chainId": 56, "data": data});
    let intent = offline_intent(Chain::BSC, &tx).unwrap();
    let expected = Expected {
        chain_id: "56",
        sender: KEY_ADDRESS,
        transfers: vec![native(USDT, "7")],
        fee: "50000",
        nonce: "1",
        memo: Some("contract call 0x095ea7b3"),
    };
    assert_eq!(intent, expected.intent(Chain::BSC, Network::Mainnet));
    assert_signed_matches(Chain::BSC, &tx, &intent);
}

#[test]
fn a_token_transfer_carrying_coins_shows_both() {
    let tx = json!({"to": USDT, "value": "9", "gas": 60000, "gasPrice": "2", "nonce": 1,
        "chainId": 137, "data": erc20_transfer(RECIPIENT, ONE_MILLION_WORD)});
    let intent = offline_intent(Chain::MATIC, &tx).unwrap();
    assert_eq!(
        intent.transfers,
        vec![native(USDT, "9"), token(RECIPIENT, "1000000", USDT)]
    );
}

#[test]
fn a_contract_creation_sends_its_value_to_the_address_the_contract_gets() {
    let tx = json!({"value": "100", "gas": 500000, "gasPrice": "1", "nonce": 0,
        "chainId": 1, "data": "0x6080604052"});
    let intent = offline_intent(Chain::ETH, &tx).unwrap();
    // keccak256(rlp([sender, 0]))[12..], computed with eth_utils and pyrlp.
    let created = "0xe6d15a3bc509cf41be06e2c15c55ad8187335874";
    let expected = Expected {
        chain_id: "1",
        sender: KEY_ADDRESS,
        transfers: vec![native(created, "100")],
        fee: "500000",
        nonce: "0",
        memo: Some("contract creation"),
    };
    assert_eq!(intent, expected.intent(Chain::ETH, Network::Mainnet));
    assert_signed_matches(Chain::ETH, &tx, &intent);
}

#[test]
fn token_transfer_calldata_the_decoder_cannot_show_faithfully_is_refused() {
    let good = erc20_transfer(RECIPIENT, ONE_MILLION_WORD);
    let dirty_recipient = good.replacen(
        "a9059cbb000000000000000000000000",
        "a9059cbb000000000000000000000001",
        1,
    );
    for data in [
        // Trailing bytes a contract could read otherwise.
        format!("{good}00"),
        // Truncated amount.
        good[..good.len() - 2].to_string(),
        // Bits above the 20 address bytes.
        dirty_recipient,
    ] {
        let tx = json!({"to": USDT, "gas": 60000, "gasPrice": "1", "nonce": 1, "chainId": 1,
            "data": data});
        let err = offline_intent(Chain::ETH, &tx).unwrap_err();
        assert!(
            matches!(
                err,
                SignerError::InvalidTransaction {
                    chain: Chain::ETH,
                    ..
                }
            ),
            "{data}: {err:?}"
        );
    }
}

#[test]
fn a_chain_id_sign_would_refuse_is_refused_by_intent_too() {
    // BSC's chain id on ETH; ETH mainnet's on the testnet.
    let tx = json!({"to": RECIPIENT, "value": "1", "gas": 21000, "gasPrice": "1", "nonce": 1,
        "chainId": 56});
    let err = offline_intent(Chain::ETH, &tx).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    let pending = pending(
        Chain::ETH,
        &json!({"to": RECIPIENT, "value": "1", "gas": 21000,
        "gasPrice": "1", "nonce": 1, "chainId": 1}),
    );
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Testnet,
        keys: &keys,
        mnemonic: None,
    };
    let err = signer(Chain::ETH)
        .intent(&input, &Prepared::default())
        .unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
}

/// VET's vector with another clause, completed with the vector's recorded
/// node facts (chain tag 0x4a, best block, and a gas the test chooses).
fn vet_intent(tx: &Value, gas: u64) -> Result<Intent, SignerError> {
    let v = kms_test_support::vectors::signing_vector("vet-mainnet-native");
    let pending = pending(Chain::VET, tx);
    let keys = v.keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let prepared = Prepared(
        json!({"gas": gas, "chainTag": 74, "blockRef": "01312d0033333333"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let intent = signer(Chain::VET).intent(&input, &prepared);
    if intent.is_ok() {
        // What is decoded is also signable from the same completion.
        signer(Chain::VET).sign(&input, &prepared).unwrap();
    }
    intent
}

#[test]
fn a_vip180_transfer_is_decoded_like_erc20() {
    let vtho = "0x0000000000000000000000000000456e65726779";
    let tx = json!({"to": vtho, "value": "0", "gasPriceCoef": 0, "nonce": 9,
        "data": erc20_transfer(RECIPIENT, ONE_MILLION_WORD)});
    let intent = vet_intent(&tx, 51_000).unwrap();
    let expected = Expected {
        chain_id: "74",
        sender: "0xc31eff257b1e390a112e4fffb5f542c7656daf0b",
        transfers: vec![token(RECIPIENT, "1000000", vtho)],
        fee: "51000",
        nonce: "9",
        memo: None,
    };
    assert_eq!(intent, expected.intent(Chain::VET, Network::Mainnet));
}

#[test]
fn a_vet_creation_sending_value_is_refused_and_one_sending_none_is_shown() {
    let err = vet_intent(
        &json!({"value": "1", "nonce": 1, "data": "0x6080604052"}),
        100_000,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::InvalidTransaction {
                chain: Chain::VET,
                ..
            }
        ),
        "{err:?}"
    );
    let intent = vet_intent(&json!({"nonce": 1, "data": "0x6080604052"}), 100_000).unwrap();
    assert_eq!(intent.transfers, vec![]);
    assert_eq!(intent.memo.as_deref(), Some("contract creation"));
}

#[test]
fn a_malformed_vip180_transfer_is_refused() {
    let tx = json!({"to": USDT, "nonce": 1,
        "data": format!("{}00", erc20_transfer(RECIPIENT, ONE_MILLION_WORD))});
    let err = vet_intent(&tx, 60_000).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::InvalidTransaction {
                chain: Chain::VET,
                ..
            }
        ),
        "{err:?}"
    );
}

/// VET's chain tag is pinned per network: the testnet's tag (0x27) on a
/// mainnet signature is refused, by the intent and by the signer alike.
#[test]
fn a_vet_chain_tag_of_the_other_network_is_refused() {
    let v = kms_test_support::vectors::signing_vector("vet-mainnet-native");
    let tx: Value = serde_json::from_str(&v.pending().serialized_transaction).unwrap();
    let pending = pending(Chain::VET, &tx);
    let keys = v.keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let facts = |tag: u64| {
        Prepared(
            json!({"gas": 21000, "chainTag": tag, "blockRef": "01312d0033333333"})
                .as_object()
                .unwrap()
                .clone(),
        )
    };
    assert!(signer(Chain::VET).sign(&input, &facts(0x4a)).is_ok());
    for result in [
        signer(Chain::VET).intent(&input, &facts(0x27)).map(drop),
        signer(Chain::VET).sign(&input, &facts(0x27)).map(drop),
    ] {
        assert!(
            matches!(&result, Err(SignerError::InvalidTransaction { reason, .. }) if reason.contains("chain tag 39 is not VET mainnet")),
            "{result:?}"
        );
    }
}
