//! What BTC, LTC, DOGE, BCH, TRON and FLOW transactions do, decoded before
//! signing: every signing vector's intent against the values read by hand
//! from its `pendingTransaction` (addresses worked out from the scripts and
//! hashes independently of the crate), and the refusals of what the
//! decoders do not understand. FLOW has no signing vector: its intent is
//! checked on a built transaction.

use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput, SignerError};
use kms_core::{Chain, Intent, Network, PendingTransaction, Transfer};
use kms_test_support::replay::Replay;
use kms_test_support::vectors::SigningVector;
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn mnemonic() -> Mnemonic {
    Mnemonic::parse(&kms_test_support::vectors::signing().mnemonic).unwrap()
}

/// The keys the daemon resolves: WIFs/hex for ordinary transactions, the
/// mnemonic for off-chain withdrawals.
fn keys_of(v: &SigningVector, pending: &PendingTransaction) -> Vec<SecretString> {
    if pending.withdrawal_id.is_some() {
        vec![]
    } else {
        v.keys()
    }
}

fn intent_of(
    chain: Chain,
    pending: &PendingTransaction,
    keys: &[SecretString],
) -> Result<Intent, SignerError> {
    let mnemonic = mnemonic();
    let input = SignInput {
        pending,
        network: Network::Mainnet,
        keys,
        mnemonic: pending.withdrawal_id.is_some().then_some(&mnemonic),
    };
    signer(chain).intent(&input, &Prepared::default())
}

fn pay(to: &str, amount: u64) -> Transfer {
    Transfer {
        to: to.into(),
        amount: amount.to_string(),
        asset: None,
    }
}

fn intent(chain: Chain, senders: &[&str], transfers: Vec<Transfer>, fee: Option<u64>) -> Intent {
    let mut intent = Intent::new(chain, Network::Mainnet);
    intent.senders = senders.iter().map(|s| s.to_string()).collect();
    intent.transfers = transfers;
    intent.fee = fee.map(|f| f.to_string());
    intent
}

/// Read by hand from each vector's pendingTransaction.
fn expected(name: &str) -> Intent {
    // BTC P2WPKH key hashes: 259a8eff… (index 0), 31cb021b… (index 5),
    // ba9c861b… (index 1), e8df018c… (an outside recipient).
    const BTC_0: &str = "bc1qykdgal799j46lmfhyyjwzxwaxms94xhqxk5j8q";
    const BTC_5: &str = "bc1qx89syxlkzyyavpkn3n9wvtn68g6j3hjpec74sn";
    const BTC_1: &str = "bc1qh2wgvxma29d6fcz8ew5e3hnen55s5xqx2jw67e";
    const BTC_OUTSIDE: &str = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";
    // LTC P2PKH 5508bc2b… (index 0), 1dd66ccb… (index 1).
    const LTC_0: &str = "LSyaASSbYrhJxQaEZLerXkD48Kst2PyWSM";
    const LTC_1: &str = "LMwijHVPWTZgtcQ7P75424jK8L8nhbFe6h";
    // DOGE P2PKH 889ac161… (index 0), 650c78c7… (index 1).
    const DOGE_0: &str = "DHbPpwW6YT1bPaxXmLWRYC1XT6XVb3hwZS";
    const DOGE_1: &str = "DEMPjBvdpj7uhmkuVy7zf63MTwKqvZeMSa";
    // BCH key hash 1f7dd171… (index 0; legacy 13sWfwksnRsZCiB84cbtuB1N9upZG1zjfv).
    const BCH_0: &str = "bitcoincash:qq0hm5t3t9t2d6gdxruvacxn33dt8dsxqqnk4f9q4p";
    match name {
        // 150000 in; 100000 out to index 5, 48500 change; fee 1500.
        "btc-mainnet-p2wpkh-1in-2out" => intent(
            Chain::BTC,
            &[BTC_0],
            vec![pay(BTC_5, 100_000), pay(BTC_0, 48_500)],
            Some(1_500),
        ),
        // 100000 + 50000 in; 120000 + 20000 out; fee 10000.
        "btc-mainnet-offchain-withdrawal" => intent(
            Chain::BTC,
            &[BTC_1, BTC_5],
            vec![pay(BTC_OUTSIDE, 120_000), pay(BTC_0, 20_000)],
            Some(10_000),
        ),
        // 500000 + 250000 in; 600000 + 140000 out; fee 10000.
        "ltc-mainnet-p2pkh-2in" => intent(
            Chain::LTC,
            &[LTC_0, LTC_1],
            vec![pay(LTC_1, 600_000), pay(LTC_0, 140_000)],
            Some(10_000),
        ),
        // 10 + 5 DOGE in; 12 + 2 out; fee 1 DOGE.
        "doge-mainnet-p2pkh-2in" => intent(
            Chain::DOGE,
            &[DOGE_0, DOGE_1],
            vec![pay(DOGE_1, 1_200_000_000), pay(DOGE_0, 200_000_000)],
            Some(100_000_000),
        ),
        // [100000] in; one output of 0x015f90 = 90000 back to the key.
        "bch-mainnet-1in" => intent(Chain::BCH, &[BCH_0], vec![pay(BCH_0, 90_000)], Some(10_000)),
        // TransferContract 415df020… → 41a7bfed…, 1500000 sun, no fee_limit.
        "tron-mainnet-trx-transfer" => intent(
            Chain::TRON,
            &["TJXuW9PkvAng5jwkAvrrevS3f9fMmR6XgL"],
            vec![pay("TRGBmYaaVyq4ZxrvRj2ZZ5XpQJJVozqSaY", 1_500_000)],
            None,
        ),
        other => panic!("no expected intent written for vector {other}"),
    }
}

const CHAINS: [Chain; 5] = [Chain::BTC, Chain::LTC, Chain::DOGE, Chain::BCH, Chain::TRON];

#[tokio::test]
async fn every_vector_intent_is_what_the_pending_transaction_says() {
    let file = kms_test_support::vectors::signing();
    let mnemonic = mnemonic();
    let mut names = Vec::new();
    for v in file.of_chains(&CHAINS) {
        let pending = v.pending();
        let keys = keys_of(v, &pending);
        let input = SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &keys,
            mnemonic: pending.withdrawal_id.is_some().then_some(&mnemonic),
        };
        let api = Replay::new(v.sdk_requests());
        let s = signer(v.chain());
        let prepared = s.prepare(&input, &api).await.unwrap();
        let intent = s
            .intent(&input, &prepared)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        assert_eq!(intent, expected(v.name()), "{}", v.name());
        // The same input, prepared once, is what gets signed.
        let signed = s.sign(&input, &prepared).unwrap();
        assert_eq!(signed.tx_data, v.expected_tx_data(), "{}", v.name());
        names.push(v.name().to_string());
    }
    assert_eq!(names.len(), 6, "BTC x2, LTC, DOGE, BCH, TRON: {names:?}");
}

/// A vector's bitcore JSON, edited (its `hash` dropped, so the edit is not
/// refused as an alteration before the decoder sees it).
fn bitcore_edited(
    name: &str,
    edit: impl FnOnce(&mut Value),
) -> (PendingTransaction, Vec<SecretString>) {
    let v = kms_test_support::vectors::signing_vector(name);
    let mut pending = v.pending();
    let mut tx: Value = serde_json::from_str(&pending.serialized_transaction).unwrap();
    tx.as_object_mut().unwrap().remove("hash");
    edit(&mut tx);
    pending.serialized_transaction = tx.to_string();
    let keys = keys_of(&v, &pending);
    (pending, keys)
}

fn reason(e: SignerError) -> String {
    match e {
        SignerError::InvalidTransaction { reason, .. } => reason,
        other => panic!("expected InvalidTransaction, got {other:?}"),
    }
}

#[test]
fn an_op_return_output_without_value_is_the_memo() {
    let (pending, keys) = bitcore_edited("btc-mainnet-p2wpkh-1in-2out", |tx| {
        // OP_RETURN PUSH5 "hello"
        tx["outputs"]
            .as_array_mut()
            .unwrap()
            .push(json!({"satoshis": 0, "script": "6a0568656c6c6f"}));
    });
    let got = intent_of(Chain::BTC, &pending, &keys).unwrap();
    let mut want = expected("btc-mainnet-p2wpkh-1in-2out");
    want.memo = Some("OP_RETURN 0x68656c6c6f".into());
    assert_eq!(got, want);
}

#[test]
fn an_op_return_output_that_burns_coins_is_refused() {
    let (pending, keys) = bitcore_edited("btc-mainnet-p2wpkh-1in-2out", |tx| {
        // Output 0, the payment (output 1 is the change bitcore checks).
        tx["outputs"][0] = json!({"satoshis": 100_000, "script": "6a0568656c6c6f"});
    });
    let e = intent_of(Chain::BTC, &pending, &keys).unwrap_err();
    assert!(reason(e).contains("output 0 burns 100000 satoshis"));
}

#[test]
fn an_output_script_of_no_address_type_is_refused() {
    // Bare OP_TRUE, a P2PK, and a 1-of-1 bare multisig: payable, but no
    // address names them.
    let p2pk = format!("21{}ac", "02".repeat(33));
    let multisig = format!("5121{}51ae", "03".repeat(33));
    for script in ["51", p2pk.as_str(), multisig.as_str()] {
        let (pending, keys) = bitcore_edited("btc-mainnet-p2wpkh-1in-2out", |tx| {
            tx["outputs"][0]["script"] = json!(script);
        });
        let e = intent_of(Chain::BTC, &pending, &keys).unwrap_err();
        assert!(reason(e).contains("no known address type"), "{script}");
    }
}

#[test]
fn p2sh_and_taproot_outputs_are_named() {
    let (pending, keys) = bitcore_edited("ltc-mainnet-p2pkh-2in", |tx| {
        // The payment to a P2SH of hash 1dd66ccb…, and 5000 of the 10000
        // fee to a v1 witness program of 32 zero bytes (output 1 is the
        // change bitcore checks against changeScript, so it stays).
        tx["outputs"][0]["script"] = json!("a9141dd66ccbb332900282338573f833c1c96bed1f2387");
        tx["outputs"]
            .as_array_mut()
            .unwrap()
            .push(json!({"satoshis": 5_000, "script": format!("5120{}", "00".repeat(32))}));
    });
    let got = intent_of(Chain::LTC, &pending, &keys).unwrap();
    // Worked out by hand: base58check(0x32 ‖ hash), bech32m("ltc", 1, 0^32).
    let mut want = expected("ltc-mainnet-p2pkh-2in");
    want.transfers = vec![
        pay("MAcvhW5xvpVSXUgHRwjgzKGtPLeg6Z2NqZ", 600_000),
        pay("LSyaASSbYrhJxQaEZLerXkD48Kst2PyWSM", 140_000),
        pay(
            "ltc1pqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqzywff7",
            5_000,
        ),
    ];
    want.fee = Some("5000".into());
    assert_eq!(got, want);
}

#[test]
fn segwit_outputs_on_dogecoin_are_refused() {
    let (pending, keys) = bitcore_edited("doge-mainnet-p2pkh-2in", |tx| {
        tx["outputs"][0]["script"] = json!("0014650c78c7e41ce74ba2dc11f0639e2b292c505bb6");
    });
    let e = intent_of(Chain::DOGE, &pending, &keys).unwrap_err();
    assert!(reason(e).contains("no known address type"));
}

#[test]
fn bch_outputs_above_the_inputs_are_refused_for_intent_and_signing() {
    let v = kms_test_support::vectors::signing_vector("bch-mainnet-1in");
    let mut pending = v.pending();
    let (tx, _) = pending.serialized_transaction.split_once(':').unwrap();
    // The one input is worth 100000; the output pays 90000.
    pending.serialized_transaction = format!("{tx}:[80000]");
    let keys = v.keys();
    let e = intent_of(Chain::BCH, &pending, &keys).unwrap_err();
    assert!(reason(e).contains("exceed its inputs"));
    let input = SignInput {
        pending: &pending,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let e = signer(Chain::BCH)
        .sign(&input, &Prepared::default())
        .unwrap_err();
    assert!(reason(e).contains("exceed its inputs"));
}

#[test]
fn a_transaction_named_for_another_chain_is_refused() {
    let v = kms_test_support::vectors::signing_vector("ltc-mainnet-p2pkh-2in");
    let pending = v.pending();
    let e = intent_of(Chain::BTC, &pending, &v.keys()).unwrap_err();
    assert!(reason(e).contains("for chain 'LTC'"));
}

// TRON: raw data built field by field, the txID its SHA-256.

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn bytes_field(number: u64, data: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
    varint(number << 3, out);
    varint(value, out);
}

/// `Transaction.Contract {type, parameter: Any {type_url, value}}`.
fn contract(kind: u64, type_name: &str, value: &[u8]) -> Vec<u8> {
    let mut any = Vec::new();
    bytes_field(
        1,
        format!("type.googleapis.com/protocol.{type_name}").as_bytes(),
        &mut any,
    );
    bytes_field(2, value, &mut any);
    let mut out = Vec::new();
    varint_field(1, kind, &mut out);
    bytes_field(2, &any, &mut out);
    out
}

/// `Transaction.raw` with the vector's reference block and times, these
/// contracts, and whatever `extra` appends.
fn raw(contracts: &[Vec<u8>], extra: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    bytes_field(1, &hex::decode("a1b2").unwrap(), &mut out);
    bytes_field(4, &hex::decode("5409d1781aa8360b").unwrap(), &mut out);
    varint_field(8, 1_700_000_060_000, &mut out);
    for c in contracts {
        bytes_field(11, c, &mut out);
    }
    varint_field(14, 1_700_000_000_000, &mut out);
    extra(&mut out);
    out
}

fn tron_pending(raw: &[u8]) -> PendingTransaction {
    let v = kms_test_support::vectors::signing_vector("tron-mainnet-trx-transfer");
    let mut pending = v.pending();
    pending.serialized_transaction = json!({
        "visible": false,
        "txID": hex::encode(Sha256::digest(raw)),
        "raw_data": {},
        "raw_data_hex": hex::encode(raw),
    })
    .to_string();
    pending
}

fn tron_intent(raw: &[u8]) -> Result<Intent, SignerError> {
    let v = kms_test_support::vectors::signing_vector("tron-mainnet-trx-transfer");
    intent_of(Chain::TRON, &tron_pending(raw), &v.keys())
}

const OWNER: &str = "415df02040e287f6d89bc41645b53ac726a43eccb3";
/// USDT's contract, TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t.
const USDT: &str = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c";
const RECIPIENT_20: &str = "a7bfedc969aee4f9e57115939d291115f62dff2a";

fn trigger(call_value: u64, data: &[u8], extra: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut value = Vec::new();
    bytes_field(1, &hex::decode(OWNER).unwrap(), &mut value);
    bytes_field(2, &hex::decode(USDT).unwrap(), &mut value);
    if call_value != 0 {
        varint_field(3, call_value, &mut value);
    }
    bytes_field(4, data, &mut value);
    extra(&mut value);
    contract(31, "TriggerSmartContract", &value)
}

fn trc20_transfer_data(amount_hex: &str) -> Vec<u8> {
    hex::decode(format!("a9059cbb{:0>64}{:0>64}", RECIPIENT_20, amount_hex)).unwrap()
}

#[test]
fn a_trc20_transfer_is_decoded_with_its_fee_limit_and_memo() {
    // 0x0f4240 = 1000000 (1 USDT), and a uint256 above u128 to show the
    // amount is not truncated: 2^128 = 340282366920938463463374607431768211456.
    for (amount_hex, amount) in [
        ("0f4240", "1000000"),
        (
            "100000000000000000000000000000000",
            "340282366920938463463374607431768211456",
        ),
    ] {
        let raw = raw(
            &[trigger(0, &trc20_transfer_data(amount_hex), |_| {})],
            |r| {
                bytes_field(10, b"invoice 42", r);
                varint_field(18, 30_000_000, r);
            },
        );
        let got = tron_intent(&raw).unwrap();
        let mut want = intent(
            Chain::TRON,
            &["TJXuW9PkvAng5jwkAvrrevS3f9fMmR6XgL"],
            vec![Transfer {
                to: "TRGBmYaaVyq4ZxrvRj2ZZ5XpQJJVozqSaY".into(),
                amount: amount.into(),
                asset: Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t".into()),
            }],
            Some(30_000_000),
        );
        want.memo = Some("invoice 42".into());
        assert_eq!(got, want);
    }
}

#[test]
fn trx_sent_along_with_a_trc20_transfer_is_reported() {
    let raw = raw(&[trigger(5, &trc20_transfer_data("01"), |_| {})], |_| {});
    let got = tron_intent(&raw).unwrap();
    assert_eq!(
        got.transfers,
        vec![
            pay("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 5),
            Transfer {
                to: "TRGBmYaaVyq4ZxrvRj2ZZ5XpQJJVozqSaY".into(),
                amount: "1".into(),
                asset: Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t".into()),
            },
        ]
    );
}

#[test]
fn other_smart_contract_calls_are_refused() {
    // approve(address,uint256): same shape, another selector.
    let mut approve = trc20_transfer_data("01");
    approve[..4].copy_from_slice(&[0x09, 0x5e, 0xa7, 0xb3]);
    let raw = raw(&[trigger(0, &approve, |_| {})], |_| {});
    let e = tron_intent(&raw).unwrap_err();
    assert!(
        matches!(&e, SignerError::Unsupported { what, .. } if what.contains("0x095ea7b3")),
        "{e:?}"
    );
}

#[test]
fn a_trc10_token_attached_to_a_call_is_refused() {
    let raw = raw(
        &[trigger(0, &trc20_transfer_data("01"), |v| {
            varint_field(5, 1_000, v);
            varint_field(6, 1_002_000, v);
        })],
        |_| {},
    );
    let e = tron_intent(&raw).unwrap_err();
    assert!(reason(e).contains("TriggerSmartContract: field 5"));
}

#[test]
fn other_tron_contract_types_are_refused() {
    // FreezeBalanceV2Contract (54): owner, frozen_balance, resource.
    let mut value = Vec::new();
    bytes_field(1, &hex::decode(OWNER).unwrap(), &mut value);
    varint_field(2, 1_000_000, &mut value);
    let raw = raw(&[contract(54, "FreezeBalanceV2Contract", &value)], |_| {});
    let e = tron_intent(&raw).unwrap_err();
    assert!(
        matches!(&e, SignerError::Unsupported { what, .. } if what.contains("contract type 54")),
        "{e:?}"
    );
}

/// The vector's TransferContract value, to build variants of it.
fn trx_transfer_value() -> Vec<u8> {
    let mut value = Vec::new();
    bytes_field(1, &hex::decode(OWNER).unwrap(), &mut value);
    bytes_field(
        2,
        &hex::decode(format!("41{RECIPIENT_20}")).unwrap(),
        &mut value,
    );
    varint_field(3, 1_500_000, &mut value);
    value
}

#[test]
fn built_raw_data_matches_the_vector() {
    // The builder reproduces the vector's raw data, so the refusals below
    // differ from a signable transaction only by what they add.
    let v = kms_test_support::vectors::signing_vector("tron-mainnet-trx-transfer");
    let tx: Value = serde_json::from_str(&v.pending().serialized_transaction).unwrap();
    let built = raw(
        &[contract(1, "TransferContract", &trx_transfer_value())],
        |_| {},
    );
    assert_eq!(hex::encode(built), tx["raw_data_hex"].as_str().unwrap());
}

#[test]
fn authorities_scripts_and_extra_contracts_are_refused() {
    let transfer = contract(1, "TransferContract", &trx_transfer_value());
    let e = tron_intent(&raw(std::slice::from_ref(&transfer), |r| {
        bytes_field(9, b"x", r)
    }))
    .unwrap_err();
    assert!(reason(e).contains("raw_data: field 9"));
    let e = tron_intent(&raw(std::slice::from_ref(&transfer), |r| {
        bytes_field(12, b"x", r)
    }))
    .unwrap_err();
    assert!(reason(e).contains("raw_data: field 12"));
    let e = tron_intent(&raw(&[transfer.clone(), transfer.clone()], |_| {})).unwrap_err();
    assert!(reason(e).contains("2 contracts"));
    let e = tron_intent(&raw(&[], |_| {})).unwrap_err();
    assert!(reason(e).contains("0 contracts"));
    // A contract whose Any says another type than the contract's.
    let mismatched = contract(1, "TriggerSmartContract", &trx_transfer_value());
    let e = tron_intent(&raw(&[mismatched], |_| {})).unwrap_err();
    assert!(reason(e).contains("carries a parameter of type"));
}

#[test]
fn negative_trx_amounts_are_refused() {
    let mut value = Vec::new();
    bytes_field(1, &hex::decode(OWNER).unwrap(), &mut value);
    bytes_field(
        2,
        &hex::decode(format!("41{RECIPIENT_20}")).unwrap(),
        &mut value,
    );
    // int64 −1 on the wire: ten bytes, all ones.
    varint_field(3, u64::MAX, &mut value);
    let raw = raw(&[contract(1, "TransferContract", &value)], |_| {});
    let e = tron_intent(&raw).unwrap_err();
    assert!(reason(e).contains("amount is negative"));
}

#[test]
fn a_tron_txid_that_is_not_the_raw_data_hash_is_refused() {
    let raw = raw(
        &[contract(1, "TransferContract", &trx_transfer_value())],
        |_| {},
    );
    let mut pending = tron_pending(&raw);
    pending.serialized_transaction = pending
        .serialized_transaction
        .replace(&hex::encode(Sha256::digest(&raw)), &"00".repeat(32));
    let v = kms_test_support::vectors::signing_vector("tron-mainnet-trx-transfer");
    let e = intent_of(Chain::TRON, &pending, &v.keys()).unwrap_err();
    assert!(reason(e).contains("txID is not the SHA-256"));
}

// FLOW: a fully built transaction (the shape `flow_signing.rs` signs).

const FLOW_SCRIPT: &str =
    "transaction(amount: UFix64, to: Address) { prepare(signer: AuthAccount) {} execute {} }";

/// Proposer and authorizer f8d6e0586b0a20c7; `signer` signs, `payer` pays.
fn flow_request(signer: &str, payer: &str, arguments: &[&str]) -> PendingTransaction {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let request = json!({
        "signer": {"address": signer, "key_index": "0"},
        "transaction": {
            "script": b64(FLOW_SCRIPT),
            "arguments": arguments.iter().map(|a| b64(a)).collect::<Vec<_>>(),
            "reference_block_id": "7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7",
            "gas_limit": "9999",
            "proposal_key": {"address": "f8d6e0586b0a20c7", "key_index": 0, "sequence_number": "1234567"},
            "payer": payer,
            "authorizers": ["f8d6e0586b0a20c7"],
        }
    });
    serde_json::from_value(json!({
        "id": "5e68c66581f4d0dc8a4e5b55",
        "chain": "FLOW",
        "serializedTransaction": request.to_string(),
        "hashes": ["a5f04c8b-0bd4-4c2c-b0a2-bba1d4f1b4b4"],
    }))
    .unwrap()
}

#[test]
fn a_flow_intent_names_the_script_arguments_signers_and_sequence_number() {
    let pending = flow_request(
        "f8d6e0586b0a20c7",
        "0x01cf0e2f2f715450",
        &[
            r#"{"type": "UFix64", "value": "1.50000000"}"#,
            r#"{"type":"Address","value":"0x01cf0e2f2f715450"}"#,
        ],
    );
    let got = intent_of(Chain::FLOW, &pending, &[]).unwrap();
    let mut want = Intent::new(Chain::FLOW, Network::Mainnet);
    // The authorizer, then the payer.
    want.senders = vec!["0xf8d6e0586b0a20c7".into(), "0x01cf0e2f2f715450".into()];
    want.nonce = Some("1234567".into());
    // SHA3-256 of FLOW_SCRIPT, computed with Python's hashlib.sha3_256.
    want.memo = Some(
        "Cadence script sha3-256:b8044a21fbdcbdbfd40284a74abb754f209cface3e0bf612162ecc58e2761581, \
         arguments [{\"type\":\"UFix64\",\"value\":\"1.50000000\"}, \
         {\"type\":\"Address\",\"value\":\"0x01cf0e2f2f715450\"}], gas limit 9999"
            .into(),
    );
    assert_eq!(got, want);
}

#[test]
fn flow_requests_sign_would_refuse_have_no_intent() {
    const USER: &str = "f8d6e0586b0a20c7";
    const PAYER: &str = "01cf0e2f2f715450";
    // An argument that is not JSON-Cadence.
    let e = intent_of(Chain::FLOW, &flow_request(USER, PAYER, &["not json"]), &[]).unwrap_err();
    assert!(reason(e).contains("arguments[0] is not a JSON-Cadence value"));
    // The payer signs the envelope last, and the authorizer has not signed
    // the payload yet.
    let e = intent_of(Chain::FLOW, &flow_request(PAYER, PAYER, &[]), &[]).unwrap_err();
    assert!(reason(e).contains("has not signed the payload yet"));
    // A signer with no role in the transaction.
    let e = intent_of(Chain::FLOW, &flow_request("0a", PAYER, &[]), &[]).unwrap_err();
    assert!(reason(e).contains("is not the proposer, the payer or an authorizer"));
    // The original's {"type", "body"} request without the account that
    // authorizes it.
    let mut pending = flow_request(USER, PAYER, &[]);
    pending.serialized_transaction = json!({"type": 0, "body": {}}).to_string();
    let e = intent_of(Chain::FLOW, &pending, &[]).unwrap_err();
    assert!(
        matches!(
            e,
            SignerError::InvalidTransaction {
                chain: Chain::FLOW,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(reason(e).contains("body.account is required"));
}
