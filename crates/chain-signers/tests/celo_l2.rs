//! CELO since its move to an Ethereum L2 (26 March 2025): Ethereum legacy
//! and EIP-1559 transactions, CIP-64 when a fee currency is set, never the
//! Celo legacy RLP the original (and the CELO vector) produced. Checked
//! against the vector's payment, against eth-account and the `rlp` package
//! (independent decoders), and for what `prepare` asks the node.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, Bytes, U256};
use alloy_rlp::{Decodable, Header};
use kms_chain_signers::{signer, Prepared, SignInput, SignerError};
use kms_core::{Chain, Network, PendingTransaction};
use kms_test_support::replay::Replay;
use secrecy::SecretString;
use serde_json::{json, Value};

const RECIPIENT: &str = "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee";
const KEY: &str = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";
const KEY_ADDRESS: &str = "0x95f70a07007b327fcdf4deb412114432e3ca2636";
/// cUSD (USDm) on Celo mainnet and on Celo Sepolia.
const CUSD_MAINNET: &str = "0x765de816845861e75a25fca122bb6898b8b1282a";
const CUSD_CELO_SEPOLIA: &str = "0xde9e4c3ce781b4ba68120d6261cbad65ce0ab00b";
/// The CELO token's own contract, which Tatum's v2 SDK names for CELO fees.
const CELO_TOKEN: &str = "0x471EcE3750Da237f93B8E339c536989b8978a438";

fn pending(tx: &Value) -> PendingTransaction {
    serde_json::from_value(json!({
        "id": "x", "chain": "CELO", "hashes": ["h"], "serializedTransaction": tx.to_string()
    }))
    .unwrap()
}

fn keys() -> [SecretString; 1] {
    [SecretString::from(KEY.to_string())]
}

fn sign(tx: &Value, network: Network) -> Result<String, SignerError> {
    let pending = pending(tx);
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network,
        keys: &keys,
        mnemonic: None,
    };
    Ok(signer(Chain::CELO)
        .sign(&input, &Prepared::default())?
        .tx_data)
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.trim_start_matches("0x")).unwrap()
}

/// The items of an RLP list, each as its encoded bytes.
fn rlp_items(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let header = Header::decode(&mut bytes).unwrap();
    assert!(header.list);
    let mut payload = &bytes[..header.payload_length];
    let mut items = Vec::new();
    while !payload.is_empty() {
        let start = payload;
        let item = Header::decode(&mut payload).unwrap();
        payload = &payload[item.payload_length..];
        items.push(start[..start.len() - payload.len()].to_vec());
    }
    items
}

/// The original's output for the CELO vector is Celo's legacy RLP, which the
/// L2 refuses; the same pending transaction now signs to an Ethereum legacy
/// EIP-155 transaction for chain 42220 making the same payment (the vector
/// file stays as recorded: it is what the original did).
#[tokio::test]
async fn the_celo_vector_now_signs_the_same_payment_as_an_ethereum_legacy_transaction() {
    let file = kms_test_support::vectors::signing();
    let v = file.vector("celo-mainnet-native");
    let (pending, keys) = (v.pending(), v.keys());
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let s = signer(Chain::CELO);
    let api = Replay::new(v.sdk_requests());
    let prepared = s.prepare(&input, &api).await.unwrap();
    let tx_data = s.sign(&input, &prepared).unwrap().tx_data;
    // What the CLI and daemon tests expect for this vector now.
    assert_eq!(tx_data, v.expected_tx_data_today());
    let ours = unhex(&tx_data);
    let original = unhex(v.expected_tx_data());
    assert_ne!(ours, original);

    // The original: rlp([nonce, gasPrice, gas, feeCurrency,
    // gatewayFeeRecipient, gatewayFee, to, value, data, v, r, s]).
    let old = rlp_items(&original);
    assert_eq!(old.len(), 12, "the vector is Celo's legacy RLP");
    // Ours: rlp([nonce, gasPrice, gas, to, value, data, v, r, s]), no
    // Celo-only fields, with the original's six transaction fields.
    let new = rlp_items(&ours);
    assert_eq!(new.len(), 9, "an Ethereum legacy transaction");
    for (ours_at, original_at) in [(0, 0), (1, 1), (2, 2), (3, 6), (4, 7), (5, 8)] {
        assert_eq!(new[ours_at], old[original_at], "field {ours_at}");
    }

    let TxEnvelope::Legacy(signed) = TxEnvelope::decode_2718(&mut ours.as_slice()).unwrap() else {
        panic!("not a legacy transaction");
    };
    assert_eq!(signed.tx().chain_id, Some(42_220));
    assert_eq!(signed.nonce(), 3);
    assert_eq!(signed.gas_limit(), 0x5208);
    assert_eq!(signed.gas_price(), Some(0x1dcd6500));
    assert_eq!(signed.to(), Some(RECIPIENT.parse::<Address>().unwrap()));
    assert_eq!(signed.value(), U256::from(1_000_000_000_000_000_000u128));
    assert_eq!(signed.input(), &Bytes::new());
    let sender = signed
        .signature()
        .recover_address_from_prehash(&signed.signature_hash())
        .unwrap();
    assert_eq!(
        sender,
        "0x119a4e29cc4b77372e6a0be2358c8ceaf25ffc22"
            .parse::<Address>()
            .unwrap()
    );
}

/// The three kinds, decoded by eth-account (legacy, type 2: sender, chain
/// id, fields) and by the `rlp` package per CIP-64 (type 0x7b: fields, and
/// the sender recovered from keccak(0x7b || rlp(unsigned fields))).
#[test]
fn celo_transactions_decode_with_eth_account_and_rlp() {
    let Some(py) = kms_test_support::python() else {
        return;
    };
    let base = json!({"to": RECIPIENT, "value": "1000", "gasLimit": "0x5208", "nonce": 7,
        "chainId": 42220, "data": "0xa9059cbb"});
    let with = |extra: Value| {
        let mut tx = base.clone();
        tx.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        tx
    };
    // (pending JSON, network, expected type, fee currency, max fee, tip)
    let cases = [
        (
            with(json!({"gasPrice": "25000000000"})),
            Network::Mainnet,
            0,
            None,
            25_000_000_000u128,
            25_000_000_000u128,
        ),
        (
            with(json!({"maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "2000000000"})),
            Network::Mainnet,
            2,
            None,
            30_000_000_000,
            2_000_000_000,
        ),
        (
            with(
                json!({"maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "2000000000",
                "feeCurrency": CUSD_MAINNET}),
            ),
            Network::Mainnet,
            0x7b,
            Some(CUSD_MAINNET),
            30_000_000_000,
            2_000_000_000,
        ),
        // A name, and a single gas price: cap and tip both at that price.
        (
            with(json!({"gasPrice": "26000000000", "feeCurrency": "CUSD", "chainId": 11142220})),
            Network::Testnet,
            0x7b,
            Some(CUSD_CELO_SEPOLIA),
            26_000_000_000,
            26_000_000_000,
        ),
    ];
    for (tx, network, kind, fee_currency, max_fee, tip) in cases {
        let raw = sign(&tx, network).unwrap();
        let out = kms_test_support::run_python(
            &py,
            r#"
import json, sys, rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address
raw = bytes.fromhex(json.load(sys.stdin)["raw"][2:])
num = lambda b: int.from_bytes(b, "big")
if raw[0] >= 0xc0:
    f = rlp.decode(raw)
    v = num(f[6])
    out = {"type": 0, "nonce": num(f[0]), "maxFee": num(f[1]), "tip": num(f[1]), "gas": num(f[2]),
           "to": "0x" + f[3].hex(), "value": num(f[4]), "data": "0x" + f[5].hex(),
           "chainId": (v - 35) // 2, "sender": Account.recover_transaction(raw)}
elif raw[0] == 2:
    f = rlp.decode(raw[1:])
    assert len(f) == 12, len(f)
    out = {"type": 2, "chainId": num(f[0]), "nonce": num(f[1]), "tip": num(f[2]), "maxFee": num(f[3]),
           "gas": num(f[4]), "to": "0x" + f[5].hex(), "value": num(f[6]), "data": "0x" + f[7].hex(),
           "accessList": len(f[8]), "sender": Account.recover_transaction(raw)}
elif raw[0] == 0x7b:
    f = rlp.decode(raw[1:])
    # CIP-64: chainId, nonce, tip, maxFee, gas, to, value, data, accessList,
    # feeCurrency, then yParity, r, s.
    assert len(f) == 13, len(f)
    h = keccak(b"\x7b" + rlp.encode(f[:10]))
    sender = Account._recover_hash(h, vrs=(num(f[10]), num(f[11]), num(f[12])))
    out = {"type": 0x7b, "chainId": num(f[0]), "nonce": num(f[1]), "tip": num(f[2]), "maxFee": num(f[3]),
           "gas": num(f[4]), "to": "0x" + f[5].hex(), "value": num(f[6]), "data": "0x" + f[7].hex(),
           "accessList": len(f[8]), "feeCurrency": "0x" + f[9].hex(), "sender": sender}
print(json.dumps(out))
"#,
            &json!({"raw": raw}),
        );
        let name = format!("{tx}");
        assert_eq!(out["type"], kind, "{name}");
        assert_eq!(
            out["sender"].as_str().unwrap().to_lowercase(),
            KEY_ADDRESS,
            "{name}"
        );
        let chain_id = tx["chainId"].as_u64().unwrap();
        assert_eq!(out["chainId"], chain_id, "{name}");
        assert_eq!(out["nonce"], 7, "{name}");
        assert_eq!(out["gas"], 21000, "{name}");
        assert_eq!(out["to"], RECIPIENT, "{name}");
        assert_eq!(out["value"], 1000, "{name}");
        assert_eq!(out["data"], "0xa9059cbb", "{name}");
        assert_eq!(
            out["maxFee"].as_u64().map(u128::from),
            Some(max_fee),
            "{name}"
        );
        assert_eq!(out["tip"].as_u64().map(u128::from), Some(tip), "{name}");
        if kind != 0 {
            assert_eq!(out["accessList"], 0, "{name}");
        }
        assert_eq!(
            out.get("feeCurrency").and_then(Value::as_str),
            fee_currency,
            "{name}"
        );
    }
}

#[test]
fn fee_currency_names_and_the_celo_token_resolve_per_network() {
    let base = json!({"to": RECIPIENT, "value": "1", "gasLimit": 21000, "nonce": 1,
        "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1"});
    let fee_currency_of = |fee: Value, network: Network| {
        let mut tx = base.clone();
        tx["feeCurrency"] = fee;
        tx["chainId"] = json!(match network {
            Network::Mainnet => 42220,
            Network::Testnet => 11142220,
        });
        let raw = unhex(&sign(&tx, network).unwrap());
        match raw[0] {
            0x7b => {
                let items = rlp_items(&raw[1..]);
                let fee_currency = Address::decode(&mut items[9].as_slice()).unwrap();
                Some(format!("{fee_currency:#x}"))
            }
            2 => None,
            other => panic!("type {other}"),
        }
    };
    let cusd_mainnet = Some(CUSD_MAINNET.to_string());
    let cusd_sepolia = Some(CUSD_CELO_SEPOLIA.to_string());
    assert_eq!(
        fee_currency_of(json!("CUSD"), Network::Mainnet),
        cusd_mainnet
    );
    assert_eq!(
        fee_currency_of(json!("cUSD"), Network::Testnet),
        cusd_sepolia
    );
    assert_eq!(
        fee_currency_of(json!("CEUR"), Network::Mainnet),
        Some("0xd8763cba276a3738e6de85b4b3bf5fded6d6ca73".into())
    );
    assert_eq!(
        fee_currency_of(json!("CEUR"), Network::Testnet),
        Some("0xa99dc247d6b7b2e3ab48a1fee101b83cd6acd82a".into())
    );
    // An address is signed as given, whichever network.
    assert_eq!(
        fee_currency_of(json!(CUSD_MAINNET), Network::Mainnet),
        cusd_mainnet
    );
    // CELO, by name or by its token contract, or nothing: the native coin,
    // a plain EIP-1559 transaction.
    for native in [json!("CELO"), json!(CELO_TOKEN), json!(""), Value::Null] {
        assert_eq!(fee_currency_of(native, Network::Mainnet), None);
    }
}

#[test]
fn what_cannot_be_signed_as_asked_is_refused() {
    let ok = json!({"to": RECIPIENT, "value": "1", "gasLimit": 21000, "nonce": 1,
        "gasPrice": "25000000000", "chainId": 42220});
    assert!(sign(&ok, Network::Mainnet).is_ok());
    for (field, value, why) in [
        ("feeCurrency", json!("USDX"), "is neither CELO, CUSD, CEUR"),
        (
            "feeCurrency",
            json!(5),
            "must be a token name or contract address",
        ),
        ("gatewayFee", json!("0x10"), "no gateway fees"),
        ("gatewayFeeRecipient", json!(RECIPIENT), "no gateway fees"),
        // Another network's chain id.
        ("chainId", json!(44787), "is not CELO mainnet"),
    ] {
        let mut bad = ok.clone();
        bad[field] = value;
        let err = sign(&bad, Network::Mainnet).unwrap_err();
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(why), "{field}: {err}");
    }
    // What the SDK wrote for "no gateway fee" is not a gateway fee.
    let mut empty_gateway = ok.clone();
    empty_gateway["gatewayFee"] = json!("0x0");
    empty_gateway["gatewayFeeRecipient"] = json!("");
    assert!(sign(&empty_gateway, Network::Mainnet).is_ok());
}

/// The approver sees the fee token and the max fees; the fee is the cap in
/// that token's units.
#[test]
fn the_intent_shows_the_fee_currency_and_the_max_fees() {
    let tx = json!({"to": RECIPIENT, "value": "5", "gasLimit": 21000, "nonce": 2,
        "chainId": 42220, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "2000000000",
        "feeCurrency": "CUSD"});
    let pending = pending(&tx);
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let intent = signer(Chain::CELO)
        .intent(&input, &Prepared::default())
        .unwrap();
    assert_eq!(intent.fee_asset.as_deref(), Some(CUSD_MAINNET));
    assert_eq!(intent.fee.as_deref(), Some("630000000000000"));
    assert_eq!(
        intent.memo.as_deref(),
        Some("maxFeePerGas 30000000000, maxPriorityFeePerGas 2000000000")
    );
    assert_eq!(intent.chain_id.as_deref(), Some("42220"));
    assert_eq!(intent.senders, vec![KEY_ADDRESS.to_string()]);

    // Without a fee currency: the chain's coin, and no fee asset.
    let mut native = tx.clone();
    native["feeCurrency"] = json!("CELO");
    let pending = self::pending(&native);
    let input = SignInput {
        pending: &pending,
        ..input
    };
    let intent = signer(Chain::CELO)
        .intent(&input, &Prepared::default())
        .unwrap();
    assert_eq!(intent.fee_asset, None);
    assert_eq!(intent.fee.as_deref(), Some("630000000000000"));
}

/// With a fee currency and fields left to the node, `prepare` asks the
/// price in that currency (`eth_gasPrice [token]`) and the estimate with
/// the currency in the call, as the original's wrapper did; the L2 answers
/// both. Replay refuses any other request.
#[tokio::test]
async fn prepare_asks_the_node_in_the_fee_currency() {
    let rpc = "/v3/blockchain/node/CELO/{apiKey}";
    let answer = |result: Value| json!({"jsonrpc": "2.0", "id": 1, "result": result});
    let request = |method: &str, params: Value, result: Value| {
        json!({"method": "POST", "url": rpc,
            "body": {"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            "answer": answer(result)})
    };
    let recorded = json!([
        request(
            "eth_getTransactionCount",
            json!([KEY_ADDRESS, "latest"]),
            json!("0x9")
        ),
        request("eth_gasPrice", json!([CUSD_MAINNET]), json!("0x6fc23ac00")),
        request(
            "eth_estimateGas",
            json!([{"from": KEY_ADDRESS, "to": RECIPIENT, "value": "0x5",
                "gasPrice": "0x6fc23ac00", "nonce": "0x9", "feeCurrency": CUSD_MAINNET}]),
            json!("0x11170")
        ),
        request("eth_chainId", json!([]), json!("0xa4ec")),
    ]);
    let tx = json!({"to": RECIPIENT, "value": "5", "feeCurrency": CUSD_MAINNET});
    let pending = pending(&tx);
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let s = signer(Chain::CELO);
    let api = Replay::new(&recorded);
    let prepared = s.prepare(&input, &api).await.unwrap();
    assert_eq!(api.asked().len(), 4, "{:?}", api.asked());
    let raw = unhex(&s.sign(&input, &prepared).unwrap().tx_data);
    assert_eq!(raw[0], 0x7b);
    let items = rlp_items(&raw[1..]);
    let num = |i: usize| u128::decode(&mut items[i].as_slice()).unwrap();
    assert_eq!(num(0), 42_220);
    assert_eq!(num(1), 9);
    // Cap and tip both the quoted price, in cUSD.
    assert_eq!((num(2), num(3)), (30_000_000_000, 30_000_000_000));
    // The estimate plus the original's margin of 100000.
    assert_eq!(num(4), 0x11170 + 100_000);
}

/// Another chain's JSON carrying a `feeCurrency` is not a CIP-64
/// transaction: only CELO has fee currencies.
#[test]
fn fee_currency_is_only_celos() {
    let tx = json!({"to": RECIPIENT, "value": "1", "gas": 21000, "nonce": 1, "chainId": 1,
        "gasPrice": "1", "feeCurrency": CUSD_MAINNET});
    let pending: PendingTransaction = serde_json::from_value(json!({
        "id": "x", "chain": "ETH", "hashes": ["h"], "serializedTransaction": tx.to_string()
    }))
    .unwrap();
    let keys = keys();
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let raw = signer(Chain::ETH)
        .sign(&input, &Prepared::default())
        .unwrap()
        .tx_data;
    let raw = unhex(&raw);
    assert!(raw[0] >= 0xc0, "a legacy RLP list");
}
