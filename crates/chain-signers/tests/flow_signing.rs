//! FLOW: every derivation.json entry (the "address" is the public key, the
//! private keys unpadded hex), and local signing of fully built transactions
//! checked by an independent implementation: a Python script rebuilds the
//! payload or envelope RLP with the `rlp` package and verifies our signature
//! with the `ecdsa` library over SHA3-256 of the domain-tagged message.

use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput, SignerError};
use kms_core::Network;
use kms_core::{Chain, PendingTransaction};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

#[test]
fn every_flow_derivation_vector_is_reproduced() {
    let file = kms_test_support::vectors::derivation();
    let flow = signer(Chain::FLOW);
    let mut checked = 0;
    for v in file.of_chains(&[Chain::FLOW]) {
        let testnet = v.testnet();
        let mnemonic = Mnemonic::parse(&v.mnemonic).unwrap();
        let wallet = flow
            .generate_wallet(Network::from_testnet(testnet), Some(&mnemonic))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&wallet).unwrap(),
            serde_json::to_string(&v["wallet"]).unwrap()
        );
        let xpub = v["wallet"]["xpub"].as_str().unwrap();
        let account = flow
            .mnemonic_wallets()
            .unwrap()
            .account(Network::from_testnet(testnet), &mnemonic)
            .unwrap();
        for (index, expected) in v["addresses"].as_object().unwrap() {
            let index: u32 = index.parse().unwrap();
            assert_eq!(
                &flow
                    .xpub_addresses()
                    .unwrap()
                    .address_from_xpub(Network::from_testnet(testnet), xpub, index)
                    .unwrap(),
                expected
            );
            assert_eq!(&account.address(index).unwrap(), expected);
            assert_eq!(expected.as_str().unwrap().len(), 128);
        }
        for (index, expected) in v["privateKeys"].as_object().unwrap() {
            let key = account.private_key(index.parse().unwrap()).unwrap();
            assert_eq!(key.expose_secret(), expected.as_str().unwrap());
            // The original threw "Unsupported blockchain."; ours answers the
            // public key, as the xpub does for that index.
            assert_eq!(
                flow.address_from_private_key(Network::from_testnet(testnet), &key)
                    .unwrap(),
                v["addresses"][index].as_str().unwrap_or(
                    &flow
                        .xpub_addresses()
                        .unwrap()
                        .address_from_xpub(
                            Network::from_testnet(testnet),
                            xpub,
                            index.parse().unwrap()
                        )
                        .unwrap()
                )
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 2);
    for (mnemonic, example) in file.flow_unpadded_key_examples() {
        let mnemonic = Mnemonic::parse(&mnemonic).unwrap();
        let account = flow
            .mnemonic_wallets()
            .unwrap()
            .account(Network::Mainnet, &mnemonic)
            .unwrap();
        let index = example["index"].as_u64().unwrap() as u32;
        let key = account.private_key(index).unwrap();
        assert_eq!(key.expose_secret(), example["privateKey"].as_str().unwrap());
        assert_eq!(key.expose_secret().len(), 63);
        assert_eq!(
            flow.address_from_private_key(Network::Mainnet, &key)
                .unwrap(),
            example["publicKey"].as_str().unwrap()
        );
    }
}

/// The 63-hex-digit key of the quirk example and its public key.
fn quirk_key() -> (SecretString, String) {
    let (_, example) = kms_test_support::vectors::derivation()
        .flow_unpadded_key_examples()
        .remove(0);
    (
        SecretString::from(example["privateKey"].as_str().unwrap().to_string()),
        example["publicKey"].as_str().unwrap().to_string(),
    )
}

fn pending(serialized: &Value) -> PendingTransaction {
    serde_json::from_value(json!({
        "id": "5e68c66581f4d0dc8a4e5b55",
        "chain": "FLOW",
        "serializedTransaction": serialized.to_string(),
        "hashes": ["a5f04c8b-0bd4-4c2c-b0a2-bba1d4f1b4b4"],
    }))
    .unwrap()
}

fn sign(serialized: &Value, keys: &[SecretString]) -> Result<Value, SignerError> {
    let p = pending(serialized);
    let input = SignInput {
        pending: &p,
        network: Network::Mainnet,
        keys,
        mnemonic: None,
    };
    let signed = signer(Chain::FLOW).sign(&input, &Prepared::default())?;
    Ok(serde_json::from_str(&signed.tx_data).unwrap())
}

const USER: &str = "f8d6e0586b0a20c7";
const SERVICE: &str = "0x01cf0e2f2f715450";

/// A transfer-like transaction: proposer `proposer`, payer `payer`, one
/// authorizer `USER`, two arguments.
fn transaction(proposer: &str, payer: &str) -> Value {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    json!({
        "script": b64("transaction(amount: UFix64, to: Address) { prepare(signer: AuthAccount) {} execute {} }"),
        "arguments": [
            b64(r#"{"type":"UFix64","value":"1.50000000"}"#),
            b64(r#"{"type":"Address","value":"0x01cf0e2f2f715450"}"#),
        ],
        "reference_block_id": "7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7",
        "gas_limit": "9999",
        "proposal_key": {"address": proposer, "key_index": 3, "sequence_number": "1234567"},
        "payer": payer,
        "authorizers": [USER],
    })
}

/// Rebuilds the signed message from the REST body and verifies every
/// signature made by `public_key`.
const FLOW_VERIFY: &str = r#"
import sys, json, base64, hashlib, rlp
from ecdsa import VerifyingKey, SECP256k1, BadSignatureError
from ecdsa.util import sigdecode_string
d = json.load(sys.stdin)
tx = d["tx"]
vk = VerifyingKey.from_string(bytes.fromhex(d["public_key"]), curve=SECP256k1)
addr = lambda a: bytes.fromhex(a.removeprefix("0x").rjust(16, "0"))
b64 = base64.b64decode
payload = [
    b64(tx["script"]),
    [b64(a) for a in tx["arguments"]],
    bytes.fromhex(tx["reference_block_id"]),
    int(tx["gas_limit"]),
    addr(tx["proposal_key"]["address"]),
    int(tx["proposal_key"]["key_index"]),
    int(tx["proposal_key"]["sequence_number"]),
    addr(tx["payer"]),
    [addr(a) for a in tx["authorizers"]],
]
signers = []
for a in [tx["proposal_key"]["address"], tx["payer"]] + tx["authorizers"]:
    if addr(a) not in signers:
        signers.append(addr(a))
payload_sigs = sorted(
    [signers.index(addr(s["address"])), int(s["key_index"]), b64(s["signature"])]
    for s in tx.get("payload_signatures", [])
)
envelope = [payload, payload_sigs]
tag = b"FLOW-V0.0-transaction".ljust(32, b"\0")
def verified(message, sig):
    try:
        return vk.verify_digest(sig, hashlib.sha3_256(tag + rlp.encode(message)).digest(), sigdecode=sigdecode_string)
    except BadSignatureError:
        return False
result = {"payload": [], "envelope": []}
for kind, message in (("payload", payload), ("envelope", envelope)):
    for s in tx.get(kind + "_signatures", []):
        if addr(s["address"]) == addr(d["signer"]):
            result[kind].append(verified(message, b64(s["signature"])))
print(json.dumps(result))
"#;

fn verify(tx: &Value, public_key: &str) -> Option<Value> {
    let python = kms_test_support::python()?;
    Some(kms_test_support::run_python(
        &python,
        FLOW_VERIFY,
        &json!({"tx": tx, "public_key": public_key, "signer": USER}),
    ))
}

#[test]
fn an_authorizer_signs_the_payload() {
    let (key, public) = quirk_key();
    let request = json!({
        "signer": {"address": format!("0x{USER}"), "key_index": 0},
        "transaction": transaction(USER, SERVICE),
    });
    let signed = sign(&request, &[key]).unwrap();
    assert_eq!(signed["payload_signatures"].as_array().unwrap().len(), 1);
    assert_eq!(signed["envelope_signatures"], json!([]));
    assert_eq!(signed["payer"], "01cf0e2f2f715450");
    assert_eq!(signed["gas_limit"], "9999");
    if let Some(result) = verify(&signed, &public) {
        assert_eq!(result, json!({"payload": [true], "envelope": []}));
    }
}

#[test]
fn the_payer_signs_the_envelope_over_earlier_payload_signatures() {
    let (key, public) = quirk_key();
    let mut tx = transaction(SERVICE, USER);
    // The proposer (Tatum's service account) has signed the payload; its
    // signature is just bytes to us, but the envelope must cover them.
    tx["payload_signatures"] = json!([{
        "address": SERVICE,
        "key_index": "3",
        "signature": "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8BI0VniQ=="
    }]);
    let request = json!({"signer": {"address": USER, "key_index": "2"}, "transaction": tx});
    let signed = sign(&request, std::slice::from_ref(&key)).unwrap();
    assert_eq!(signed["envelope_signatures"][0]["key_index"], "2");
    if let Some(result) = verify(&signed, &public) {
        assert_eq!(result, json!({"payload": [], "envelope": [true]}));
    }
    // Another payload signature changes the envelope: the old signature no
    // longer verifies (the check can fail).
    let mut altered = signed.clone();
    altered["payload_signatures"][0]["signature"] = json!("AAAA");
    if let Some(result) = verify(&altered, &public) {
        assert_eq!(result, json!({"payload": [], "envelope": [false]}));
    }

    // Without the proposer's payload signature the payer may not sign yet.
    let request = json!({"signer": {"address": USER, "key_index": 2}, "transaction": transaction(SERVICE, USER)});
    let err = sign(&request, &[key]).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("not signed the payload"), "{err}");
}

#[test]
fn requests_it_cannot_sign_are_refused_with_a_reason() {
    let (key, _) = quirk_key();
    let keys = [key.clone()];
    // The original's shape needs Tatum's keys and an access node's facts,
    // which only an online prepare fetches (flow_tatum.rs signs it so).
    let original = json!({"type": 2, "body": {"account": format!("0x{USER}"), "amount": "1", "to": SERVICE, "currency": "FLOW"}});
    let err = sign(&original, &keys).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Network {
                chain: Chain::FLOW,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("prepare the transaction online"),
        "{err}"
    );

    let good = || json!({"signer": {"address": USER, "key_index": 0}, "transaction": transaction(USER, SERVICE)});
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut stranger = good();
    stranger["signer"]["address"] = json!("0000000000000abc");
    cases.push(("signer not in the transaction", stranger));
    let mut bad_script = good();
    bad_script["transaction"]["script"] = json!("not base64!");
    cases.push(("script not base64", bad_script));
    let mut bad_block = good();
    bad_block["transaction"]["reference_block_id"] = json!("abcd");
    cases.push(("short block id", bad_block));
    let mut bad_address = good();
    bad_address["transaction"]["payer"] = json!("0x0123456789abcdef01");
    cases.push(("long address", bad_address));
    let mut bad_number = good();
    bad_number["transaction"]["gas_limit"] = json!("-1");
    cases.push(("negative gas", bad_number));
    let mut big_number = good();
    big_number["transaction"]["gas_limit"] = json!("18446744073709551616");
    cases.push(("gas past u64", big_number));
    let mut missing = good();
    missing["transaction"]
        .as_object_mut()
        .unwrap()
        .remove("authorizers");
    cases.push(("no authorizers field", missing));
    let mut twice = good();
    twice["transaction"]["payload_signatures"] =
        json!([{"address": USER, "key_index": 0, "signature": "AAAA"}]);
    cases.push(("already signed", twice));
    let mut stranger_sig = good();
    stranger_sig["transaction"]["payload_signatures"] =
        json!([{"address": "0000000000000abc", "key_index": 0, "signature": "AAAA"}]);
    cases.push(("signature from a stranger", stranger_sig));
    cases.push(("not an object", json!([1, 2])));
    for (what, request) in cases {
        let err = sign(&request, &keys).expect_err(what);
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{what}: {err}"
        );
    }
    let p = pending(&good());
    let bad_json = PendingTransaction {
        serialized_transaction: "{".into(),
        ..p
    };
    let input = SignInput {
        pending: &bad_json,
        network: Network::Mainnet,
        keys: &keys,
        mnemonic: None,
    };
    let err = signer(Chain::FLOW)
        .sign(&input, &Prepared::default())
        .unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    // One key signs a FLOW transaction.
    assert!(matches!(
        sign(&good(), &[]),
        Err(SignerError::MissingKey { .. })
    ));
    assert!(matches!(
        sign(&good(), &[key.clone(), key]),
        Err(SignerError::MissingKey { .. })
    ));
    let not_hex = [SecretString::from("xyz".to_string())];
    assert!(matches!(
        sign(&good(), &not_hex),
        Err(SignerError::InvalidPrivateKey { .. })
    ));
}
