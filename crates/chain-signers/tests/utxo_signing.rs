//! BTC, LTC, DOGE and BCH signing against signing.json (outputs of
//! the original SDK), byte for byte, plus what the SDK would have done
//! wrong or silently: unsigned inputs, idle keys, altered transactions,
//! malformed input, BCH's de-duplicated keys.

use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput, SignerError};
use kms_core::Network;
use kms_core::{Chain, PendingTransaction};
use kms_test_support::vectors::{SigningFile, SigningVector};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

const UTXO: [Chain; 4] = [Chain::BTC, Chain::LTC, Chain::DOGE, Chain::BCH];

fn vectors() -> (SigningFile, Mnemonic) {
    let file = kms_test_support::vectors::signing();
    let mnemonic = Mnemonic::parse(&file.mnemonic).unwrap();
    (file, mnemonic)
}

fn sign(
    chain: Chain,
    pending: &PendingTransaction,
    keys: &[SecretString],
    mnemonic: Option<&Mnemonic>,
) -> Result<String, SignerError> {
    let input = SignInput {
        pending,
        network: Network::Mainnet,
        keys,
        mnemonic,
    };
    signer(chain)
        .sign(&input, &Prepared::default())
        .map(|s| s.tx_data)
}

#[test]
fn every_utxo_signing_vector_is_reproduced() {
    let (file, mnemonic) = vectors();
    let mut names = Vec::new();
    for v in file.of_chains(&UTXO) {
        let chain = v.chain();
        let pending = v.pending();
        let offchain = pending.withdrawal_id.is_some();
        let keys = if offchain { vec![] } else { v.keys() };
        let signed = sign(chain, &pending, &keys, offchain.then_some(&mnemonic))
            .unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        assert_eq!(signed, v.expected_tx_data(), "{}", v.name());
        names.push(v.name().to_string());
    }
    assert_eq!(
        names.len(),
        5,
        "BTC x2 (one off-chain), LTC, DOGE, BCH: {names:?}"
    );
}

/// The WIFs in the vectors are the keys the mnemonic gives at their index:
/// an Account hands out exactly what the SDK signed with.
#[test]
fn vector_keys_are_the_accounts_keys() {
    let (file, mnemonic) = vectors();
    for v in file.of_chains(&UTXO) {
        let account = signer(v.chain())
            .mnemonic_wallets()
            .unwrap()
            .account(Network::Mainnet, &mnemonic)
            .unwrap();
        for k in v["signingKeys"].as_array().unwrap() {
            let (Some(wif), Some(index)) = (k["privateKey"].as_str(), k["index"].as_u64()) else {
                continue;
            };
            assert_eq!(
                account.private_key(index as u32).unwrap().expose_secret(),
                wif
            );
            assert_eq!(
                account.address(index as u32).unwrap(),
                k["xpubAddress"].as_str().unwrap()
            );
        }
    }
}

#[test]
fn key_order_does_not_matter_for_bitcore_chains() {
    let (file, _) = vectors();
    for name in ["ltc-mainnet-p2pkh-2in", "doge-mainnet-p2pkh-2in"] {
        let v = file.vector(name);
        let mut keys = v.keys();
        keys.reverse();
        assert_eq!(
            sign(v.chain(), &v.pending(), &keys, None).unwrap(),
            v["expectedTxData"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn an_input_no_key_can_spend_is_named() {
    let (file, _) = vectors();
    let v = file.vector("ltc-mainnet-p2pkh-2in");
    let keys = v.keys();
    let err = sign(Chain::LTC, &v.pending(), &keys[..1], None).unwrap_err();
    assert!(matches!(err, SignerError::MissingKey { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("input 1"), "{text}");
    assert!(!text.contains(keys[0].expose_secret()), "{text}");
}

#[test]
fn a_key_that_spends_nothing_is_named() {
    let (file, _) = vectors();
    let v = file.vector("btc-mainnet-p2wpkh-1in-2out");
    let mut keys = v.keys();
    // Another key of the same account (index 9), which owns no input.
    let (_, mnemonic) = vectors();
    let stranger = signer(Chain::BTC)
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap()
        .private_key(9)
        .unwrap();
    keys.push(stranger);
    let err = sign(Chain::BTC, &v.pending(), &keys, None).unwrap_err();
    assert!(matches!(err, SignerError::MissingKey { .. }), "{err}");
    assert!(err.to_string().contains("key 2"), "{err}");
}

fn with_tx(v: &SigningVector, edit: impl FnOnce(&mut Value)) -> PendingTransaction {
    let mut p = v.pending();
    let mut tx: Value = serde_json::from_str(&p.serialized_transaction).unwrap();
    edit(&mut tx);
    p.serialized_transaction = tx.to_string();
    p
}

#[test]
fn malformed_transactions_are_refused_without_panicking() {
    let (file, _) = vectors();
    let v = file.vector("btc-mainnet-p2wpkh-1in-2out");
    let keys = v.keys();
    let cases: Vec<(&str, PendingTransaction)> = vec![
        ("not json", {
            let mut p = v.pending();
            p.serialized_transaction = "{\"inputs\": [".into();
            p
        }),
        (
            "satoshis as text",
            with_tx(v, |t| t["outputs"][0]["satoshis"] = json!("x")),
        ),
        (
            "negative satoshis",
            with_tx(v, |t| t["outputs"][0]["satoshis"] = json!(-1)),
        ),
        (
            "fractional satoshis",
            with_tx(v, |t| t["outputs"][0]["satoshis"] = json!(1.5)),
        ),
        (
            "satoshis past 2^53",
            with_tx(v, |t| {
                t["inputs"][0]["output"]["satoshis"] = json!(1u64 << 60)
            }),
        ),
        (
            "output index past u32",
            with_tx(v, |t| t["inputs"][0]["outputIndex"] = json!(1u64 << 40)),
        ),
        (
            "short prevTxId",
            with_tx(v, |t| t["inputs"][0]["prevTxId"] = json!("abcd")),
        ),
        (
            "script not hex",
            with_tx(v, |t| t["outputs"][1]["script"] = json!("zz")),
        ),
        ("no inputs", with_tx(v, |t| t["inputs"] = json!([]))),
        (
            "no spent output",
            with_tx(v, |t| t["inputs"][0]["output"] = Value::Null),
        ),
        (
            "already signed",
            with_tx(v, |t| t["inputs"][0]["script"] = json!("00")),
        ),
        (
            "altered amount",
            with_tx(v, |t| t["outputs"][0]["satoshis"] = json!(100001)),
        ),
        (
            "outputs exceed inputs",
            with_tx(v, |t| {
                t["outputs"][0]["satoshis"] = json!(200000);
                t.as_object_mut().unwrap().remove("hash");
            }),
        ),
        (
            "change index past outputs",
            with_tx(v, |t| t["changeIndex"] = json!(5)),
        ),
        (
            "change script elsewhere",
            with_tx(v, |t| {
                t["changeScript"] = json!("OP_0 20 0x31cb021bf61109d606d38ccae62e7a3a3528de41");
            }),
        ),
        (
            "unsupported input script",
            with_tx(v, |t| {
                t["inputs"][0]["output"]["script"] = json!("51");
                t.as_object_mut().unwrap().remove("hash");
            }),
        ),
    ];
    for (what, p) in cases {
        let err = sign(Chain::BTC, &p, &keys, None).expect_err(what);
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{what}: {err}"
        );
    }
    // A transaction for another chain.
    let mut p = v.pending();
    p.chain = Chain::LTC;
    let err = sign(Chain::BTC, &p, &keys, None).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    // Keys that are not WIFs of the chain.
    let ltc = file.vector("ltc-mainnet-p2pkh-2in");
    let err = sign(Chain::BTC, &v.pending(), &ltc.keys(), None).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidPrivateKey { .. }),
        "{err}"
    );
    let err = sign(Chain::BTC, &v.pending(), &[], None).unwrap_err();
    assert!(matches!(err, SignerError::MissingKey { .. }), "{err:?}");
}

/// bitcore-lib-doge's default serialization checks, which the SDK runs for
/// DOGE: the fee field, fee bounds around its estimate, dust outputs.
#[test]
fn doge_keeps_bitcores_fee_and_dust_checks() {
    let (file, _) = vectors();
    let v = file.vector("doge-mainnet-p2pkh-2in");
    let keys = v.keys();
    let unhashed = |edit: &dyn Fn(&mut Value)| {
        with_tx(v, |t| {
            edit(t);
            t.as_object_mut().unwrap().remove("hash");
        })
    };
    let expect_refusal = |p: &PendingTransaction, needle: &str| {
        let err = sign(Chain::DOGE, p, &keys, None).unwrap_err();
        assert!(
            matches!(err, SignerError::InvalidTransaction { .. }),
            "{err}"
        );
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    };
    // The fee field must equal inputs - outputs.
    expect_refusal(&unhashed(&|t| t["fee"] = json!(99_000_000)), "fee field");
    // Fee 13 DOGE: above 15 x the estimate (0.442 DOGE with change room).
    expect_refusal(
        &unhashed(&|t| {
            t["outputs"][0]["satoshis"] = json!(100_000_000);
            t["outputs"][1]["satoshis"] = json!(100_000_000);
            t["fee"] = json!(1_300_000_000);
        }),
        "too large",
    );
    // 0.01 DOGE fee: below the estimate / 15.
    expect_refusal(
        &unhashed(&|t| {
            t["outputs"][1]["satoshis"] = json!(299_000_000);
            t["fee"] = json!(1_000_000);
        }),
        "too small",
    );
    // An output under 1 DOGE is dust for bitcore-lib-doge.
    expect_refusal(
        &unhashed(&|t| {
            t["outputs"][1]["satoshis"] = json!(99_999_999);
            t["fee"] = json!(200_000_001);
        }),
        "dust",
    );
    // An OP_RETURN output is not dust.
    let with_data = unhashed(&|t| {
        t["outputs"][1]["satoshis"] = json!(200_000_000);
        t["outputs"]
            .as_array_mut()
            .unwrap()
            .push(json!({"satoshis": 0, "script": "6a0568656c6c6f"}));
    });
    sign(Chain::DOGE, &with_data, &keys, None).unwrap();
    // BTC serializes without these checks (the SDK's serialize(true)).
    let btc = file.vector("btc-mainnet-p2wpkh-1in-2out");
    let dusty = with_tx(btc, |t| {
        t["outputs"][1]["satoshis"] = json!(100);
        t.as_object_mut().unwrap().remove("hash");
        t.as_object_mut().unwrap().remove("fee");
    });
    sign(Chain::BTC, &dusty, &btc.keys(), None).unwrap();
}

/// Off-chain withdrawals for LTC, DOGE and BCH (the SDK's variants were not
/// exercised by the vectors): the on-chain vectors' transactions, with
/// withdrawal responses pointing at the same keys' derivation indices, must
/// give the same signed transactions.
#[test]
fn offchain_withdrawals_sign_with_the_mnemonic_keys() {
    let (file, mnemonic) = vectors();
    for name in [
        "ltc-mainnet-p2pkh-2in",
        "doge-mainnet-p2pkh-2in",
        "bch-mainnet-1in",
    ] {
        let v = file.vector(name);
        let chain = v.chain();
        let mut p = v.pending();
        let outpoints: Vec<(String, u64)> = if chain == Chain::BCH {
            vec![(
                "e26d607c0dd048ddb016b2a430d141a37db07087e9bbf00094a8d4708df6db10".into(),
                0,
            )]
        } else {
            let tx: Value = serde_json::from_str(&p.serialized_transaction).unwrap();
            tx["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["prevTxId"].as_str().unwrap().to_string(),
                        i["outputIndex"].as_u64().unwrap(),
                    )
                })
                .collect()
        };
        let indices: Vec<u64> = v["signingKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["index"].as_u64().unwrap())
            .collect();
        let mut responses: Vec<Value> = outpoints
            .iter()
            .zip(&indices)
            .map(|((txid, vout), index)| {
                json!({"vIn": txid, "vInIndex": vout, "amount": "1", "address": {"derivationKey": index}})
            })
            .collect();
        // The pool entry first: the SDK's BCH variant would misplace keys;
        // matching by outpoint does not.
        responses.insert(
            0,
            json!({"vIn": "-1", "vInIndex": null, "amount": "0.1", "address": null}),
        );
        p.withdrawal_id = Some("w".into());
        p.withdrawal_responses = Some(Value::Array(responses));
        let signed =
            sign(chain, &p, &[], Some(&mnemonic)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signed, v["expectedTxData"].as_str().unwrap(), "{name}");
        // Without the mnemonic there is nothing to sign with.
        assert!(matches!(
            sign(chain, &p, &[], None),
            Err(SignerError::MissingKey { .. })
        ));
    }
}

#[test]
fn offchain_withdrawal_without_responses_is_refused() {
    let (file, mnemonic) = vectors();
    let v = file.vector("btc-mainnet-offchain-withdrawal");
    let mut p = v.pending();
    p.withdrawal_responses = None;
    let err = sign(Chain::BTC, &p, &[], Some(&mnemonic)).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err:?}"
    );
    let mut p = v.pending();
    p.withdrawal_responses = Some(json!([{"vIn": "zz", "vInIndex": 0}]));
    let err = sign(Chain::BTC, &p, &[], Some(&mnemonic)).unwrap_err();
    assert!(
        matches!(err, SignerError::InvalidTransaction { .. }),
        "{err}"
    );
}

/// BCH with one wallet owning two inputs: the original's de-duplicated keys
/// leave input 1 unsigned; here the one key signs both. The result is
/// checked by an independent implementation (Python: the BIP143/FORKID
/// digest and BCH Schnorr verification on the `ecdsa` library's curve).
#[test]
fn bch_one_key_signs_every_input_and_verifies_independently() {
    let (file, _) = vectors();
    let v = file.vector("bch-mainnet-1in");
    let keys = v.keys();
    let mut p = v.pending();
    // Two inputs from the same key: the vector's, plus a second outpoint.
    let (hex_tx, _) = p.serialized_transaction.split_once(':').unwrap();
    let mut tx = hex::decode(hex_tx).unwrap();
    // version(4) | n_inputs(1) | input0(32+4+1+4) | outputs...
    assert_eq!(tx[4], 1);
    tx[4] = 2;
    let mut second = vec![0x42u8; 32];
    second.extend_from_slice(&[3, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    let at = 5 + 41;
    tx.splice(at..at, second);
    p.serialized_transaction = format!("{}:[100000,250000]", hex::encode(&tx));
    let signed = sign(Chain::BCH, &p, &keys, None).unwrap();

    // Two different keys for two inputs would be positional; three keys for
    // two inputs are refused.
    let stranger = signer(Chain::BCH)
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &vectors().1)
        .unwrap()
        .private_key(4)
        .unwrap();
    let three = [keys[0].clone(), stranger.clone(), stranger];
    assert!(matches!(
        sign(Chain::BCH, &p, &three, None),
        Err(SignerError::MissingKey { .. })
    ));

    let Some(python) = kms_test_support::python() else {
        return;
    };
    let out = kms_test_support::run_python(
        &python,
        BCH_VERIFY,
        &json!({"tx": signed, "amounts": [100000, 250000]}),
    );
    assert_eq!(out["valid"], json!([true, true]), "{out}");
}

/// Parses a signed BCH transaction, recomputes each input's FORKID digest
/// (BIP143 with hash type 0x41) and verifies its Schnorr signature per the
/// 2019-05-15 spec with plain curve arithmetic from `ecdsa`.
const BCH_VERIFY: &str = r#"
import sys, json, hashlib
from ecdsa import SECP256k1
from ecdsa.ellipticcurve import Point
d = json.load(sys.stdin)
raw = bytes.fromhex(d["tx"]); amounts = d["amounts"]
pos = 0
def take(n):
    global pos
    out = raw[pos:pos+n]; pos += n; return out
def varint():
    b = take(1)[0]
    if b < 0xfd: return b
    return int.from_bytes(take({0xfd: 2, 0xfe: 4, 0xff: 8}[b]), "little")
version = take(4)
inputs = []
for _ in range(varint()):
    outpoint = take(36); script = take(varint()); seq = take(4)
    inputs.append((outpoint, script, seq))
outputs = b""
n_out = varint()
start = pos
for _ in range(n_out):
    take(8); take(varint())
outputs = raw[start:pos]
locktime = take(4)
assert pos == len(raw)
h = lambda b: hashlib.sha256(hashlib.sha256(b).digest()).digest()
hash_prevouts = h(b"".join(i[0] for i in inputs))
hash_sequence = h(b"".join(i[2] for i in inputs))
hash_outputs = h(outputs)
curve = SECP256k1.curve; G = SECP256k1.generator; n = SECP256k1.order; p = curve.p()
valid = []
for idx, (outpoint, script, seq) in enumerate(inputs):
    sig_len = script[0]; sig = script[1:1+sig_len]; rest = script[1+sig_len:]
    pub = rest[1:1+rest[0]]
    assert sig_len == 65 and sig[64] == 0x41
    h160 = hashlib.new("ripemd160", hashlib.sha256(pub).digest()).digest()
    script_code = bytes([25, 0x76, 0xa9, 20]) + h160 + bytes([0x88, 0xac])
    preimage = (version + hash_prevouts + hash_sequence + outpoint + script_code
        + amounts[idx].to_bytes(8, "little") + seq + hash_outputs + locktime
        + (0x41).to_bytes(4, "little"))
    m = h(preimage)
    x = int.from_bytes(pub[1:], "big")
    y = pow(x * x * x + 7, (p + 1) // 4, p)
    if y % 2 != pub[0] % 2: y = p - y
    P = Point(curve, x, y)
    r = int.from_bytes(sig[:32], "big"); s = int.from_bytes(sig[32:64], "big")
    e = int.from_bytes(hashlib.sha256(sig[:32] + pub + m).digest(), "big") % n
    R = G * s + P * (n - e)
    valid.append(R.x() == r and pow(R.y(), (p - 1) // 2, p) == 1)
print(json.dumps({"valid": valid}))
"#;

/// BTC inputs of all three kinds the signer spends (P2PKH, P2WPKH,
/// P2SH-P2WPKH), from three keys of one account, checked independently: a
/// Python script parses the segwit serialization, recomputes the legacy and
/// BIP143 digests, checks each script or witness commits to the key's hash,
/// and verifies the DER signatures with the `ecdsa` library.
#[test]
fn btc_mixed_input_kinds_verify_independently() {
    use bitcoin::hashes::Hash;
    let (_, mnemonic) = vectors();
    let account = signer(Chain::BTC)
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap();
    let keys: Vec<SecretString> = [3, 4, 5].map(|i| account.private_key(i).unwrap()).to_vec();
    let hash_of = |wif: &SecretString| {
        let key = bitcoin::PrivateKey::from_wif(wif.expose_secret()).unwrap();
        let public = key.public_key(&bitcoin::secp256k1::Secp256k1::new());
        public.pubkey_hash().to_byte_array()
    };
    let p2pkh = format!("76a914{}88ac", hex::encode(hash_of(&keys[0])));
    let p2wpkh = format!("0014{}", hex::encode(hash_of(&keys[1])));
    let redeem = hex::decode(format!("0014{}", hex::encode(hash_of(&keys[2])))).unwrap();
    let p2sh = format!(
        "a914{}87",
        hex::encode(bitcoin::hashes::hash160::Hash::hash(&redeem).to_byte_array())
    );
    let input = |txid: &str, vout: u32, sats: u64, script: &str| {
        json!({"prevTxId": txid, "outputIndex": vout, "sequenceNumber": 4294967293u32,
               "script": "", "output": {"satoshis": sats, "script": script}})
    };
    let tx = json!({
        "version": 2,
        "inputs": [
            input(&"11".repeat(32), 0, 70_000, &p2pkh),
            input(&"22".repeat(32), 5, 80_000, &p2wpkh),
            input(&"33".repeat(32), 1, 90_000, &p2sh),
        ],
        "outputs": [{"satoshis": 230_000, "script": "001431cb021bf61109d606d38ccae62e7a3a3528de41"}],
        "nLockTime": 840_000
    });
    let mut p = vectors().0.vector("btc-mainnet-p2wpkh-1in-2out").pending();
    p.serialized_transaction = tx.to_string();
    let mut shuffled = keys.clone();
    shuffled.rotate_left(1);
    let signed = sign(Chain::BTC, &p, &shuffled, None).unwrap();

    let Some(python) = kms_test_support::python() else {
        return;
    };
    let out = kms_test_support::run_python(
        &python,
        BTC_VERIFY,
        &json!({"tx": signed, "spent": [[70_000, p2pkh], [80_000, p2wpkh], [90_000, p2sh]]}),
    );
    assert_eq!(out["valid"], json!([true, true, true]), "{out}");
}

const BTC_VERIFY: &str = r#"
import sys, json, hashlib
from ecdsa import VerifyingKey, SECP256k1, BadSignatureError
from ecdsa.util import sigdecode_der
d = json.load(sys.stdin)
raw = bytes.fromhex(d["tx"]); spent = d["spent"]
pos = 0
def take(n):
    global pos
    out = raw[pos:pos+n]; pos += n; return out
def varint():
    b = take(1)[0]
    if b < 0xfd: return b
    return int.from_bytes(take({0xfd: 2, 0xfe: 4, 0xff: 8}[b]), "little")
def ser_varint(n):
    assert n < 0xfd
    return bytes([n])
version = take(4)
assert take(2) == b"\x00\x01"
inputs = []
for _ in range(varint()):
    inputs.append([take(36), take(varint()), take(4)])
start = pos
n_out = varint()
first_output = pos
for _ in range(n_out):
    take(8); take(varint())
outputs_ser = raw[start:pos]          # with the count: legacy serialization
outputs_only = raw[first_output:pos]  # without: BIP143's hashOutputs
witnesses = []
for _ in inputs:
    witnesses.append([take(varint()) for _ in range(varint())])
locktime = take(4)
assert pos == len(raw)
h = lambda b: hashlib.sha256(hashlib.sha256(b).digest()).digest()
h160 = lambda b: hashlib.new("ripemd160", hashlib.sha256(b).digest()).digest()
def pushes(script):
    out, i = [], 0
    while i < len(script):
        n = script[i]; out.append(script[i+1:i+1+n]); i += 1 + n
    return out
def legacy_digest(idx, script_code):
    s = version + ser_varint(len(inputs))
    for j, (outpoint, _, seq) in enumerate(inputs):
        sc = script_code if j == idx else b""
        s += outpoint + ser_varint(len(sc)) + sc + seq
    return h(s + outputs_ser + locktime + (1).to_bytes(4, "little"))
def bip143_digest(idx, keyhash, amount):
    code = bytes([25, 0x76, 0xa9, 20]) + keyhash + bytes([0x88, 0xac])
    return h(version + h(b"".join(i[0] for i in inputs)) + h(b"".join(i[2] for i in inputs))
        + inputs[idx][0] + code + amount.to_bytes(8, "little") + inputs[idx][2]
        + h(outputs_only) + locktime + (1).to_bytes(4, "little"))
def verified(pub, sig, digest):
    assert sig[-1] == 1
    try:
        return VerifyingKey.from_string(pub, curve=SECP256k1).verify_digest(sig[:-1], digest, sigdecode=sigdecode_der)
    except BadSignatureError:
        return False
valid = []
for idx, ((outpoint, script_sig, seq), witness, (amount, spk)) in enumerate(zip(inputs, witnesses, spent)):
    spk = bytes.fromhex(spk)
    if spk[:3] == b"\x76\xa9\x14":
        sig, pub = pushes(script_sig)
        valid.append(not witness and h160(pub) == spk[3:23] and verified(pub, sig, legacy_digest(idx, spk)))
    elif spk[:2] == b"\x00\x14":
        sig, pub = witness
        valid.append(not script_sig and h160(pub) == spk[2:] and verified(pub, sig, bip143_digest(idx, h160(pub), amount)))
    else:
        (redeem,) = pushes(script_sig)
        sig, pub = witness
        valid.append(spk == b"\xa9\x14" + h160(redeem) + b"\x87" and redeem == b"\x00\x14" + h160(pub)
            and verified(pub, sig, bip143_digest(idx, h160(pub), amount)))
print(json.dumps({"valid": valid}))
"#;
