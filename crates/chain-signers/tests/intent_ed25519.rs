//! What the ed25519 chains' transactions do (`Signer::intent`), decoded
//! after `prepare` from what `sign` signs: each signing vector's intent is
//! compared with the one read by hand from its pendingTransaction (the
//! expected values below are written out, not computed by the decoder), and
//! operations the decoders do not know are refused.

use kms_chain_signers::{signer, Prepared, SignInput, SignerError};
use kms_core::{Chain, Intent, Network, PendingTransaction, Transfer};
use kms_test_support::replay::Replay;
use kms_test_support::vectors::{signing_vector, SigningVector};
use secrecy::SecretString;
use serde_json::{json, Value};

fn input<'a>(
    v: &SigningVector,
    pending: &'a PendingTransaction,
    keys: &'a [SecretString],
) -> SignInput<'a> {
    SignInput {
        pending,
        network: if v.testnet() {
            Network::Testnet
        } else {
            Network::Mainnet
        },
        keys,
        mnemonic: None,
    }
}

/// The vector's intent after `prepare` with its recorded requests; `sign`
/// must also succeed on the same prepared values.
async fn vector_intent(v: &SigningVector) -> (Intent, Prepared) {
    let pending = v.pending();
    let keys = v.keys();
    let input = input(v, &pending, &keys);
    let s = signer(v.chain());
    let prepared = s
        .prepare(&input, &Replay::new(v.sdk_requests()))
        .await
        .unwrap();
    s.sign(&input, &prepared).unwrap();
    (s.intent(&input, &prepared).unwrap(), prepared)
}

/// The intent of `v` with its serializedTransaction replaced.
fn intent_of(
    v: &SigningVector,
    serialized: &str,
    prepared: &Prepared,
) -> Result<Intent, SignerError> {
    let mut pending = v.pending();
    pending.serialized_transaction = serialized.to_string();
    let keys = v.keys();
    signer(v.chain()).intent(&input(v, &pending, &keys), prepared)
}

fn transfer(to: &str, amount: &str, asset: Option<&str>) -> Transfer {
    Transfer {
        to: to.into(),
        amount: amount.into(),
        asset: asset.map(String::from),
    }
}

fn pending_json(v: &SigningVector) -> serde_json::Map<String, Value> {
    serde_json::from_str(v.pending().serialized_transaction.as_str()).unwrap()
}

// ---------------------------------------------------------------- XRP

#[tokio::test]
async fn xrp_payment_vector() {
    let v = signing_vector("xrp-payment-ed25519");
    let (intent, _) = vector_intent(&v).await;
    // {"TransactionType":"Payment","Account":"rGVC…","Destination":"rPT1…",
    //  "Amount":"1000000","Fee":"12","Sequence":42,"Flags":2147483648,
    //  "DestinationTag":12345}
    assert_eq!(
        intent,
        Intent {
            chain: Chain::XRP,
            network: Network::Mainnet,
            chain_id: None,
            senders: vec!["rGVCddjtEYJTSAry5XyJC15rLUtbdB7jU7".into()],
            transfers: vec![transfer(
                "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe",
                "1000000",
                None
            )],
            fee: Some("12".into()),
            fee_asset: None,
            nonce: Some("42".into()),
            memo: Some("Flags 2147483648; DestinationTag 12345".into()),
        }
    );
}

#[tokio::test]
async fn xrp_issued_currency_trust_set_and_account_set() {
    let v = signing_vector("xrp-payment-ed25519");
    let issuer = "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe";
    let mut tx = pending_json(&v);
    tx.insert(
        "Amount".into(),
        json!({"currency": "USD", "issuer": issuer, "value": "12.5"}),
    );
    tx.remove("DestinationTag");
    tx.insert("Flags".into(), json!(0));
    let intent = intent_of(&v, &Value::Object(tx).to_string(), &Prepared::default()).unwrap();
    assert_eq!(
        intent.transfers,
        vec![transfer(issuer, "12.5", Some(&format!("USD.{issuer}")))]
    );
    assert_eq!(intent.memo, None);

    let trust = json!({
        "TransactionType": "TrustSet", "Account": "rGVCddjtEYJTSAry5XyJC15rLUtbdB7jU7",
        "LimitAmount": {"currency": "USD", "issuer": issuer, "value": "1000"},
        "Fee": "12", "Sequence": 7,
    });
    let intent = intent_of(&v, &trust.to_string(), &Prepared::default()).unwrap();
    assert!(intent.transfers.is_empty());
    assert_eq!(intent.fee.as_deref(), Some("12"));
    assert_eq!(intent.nonce.as_deref(), Some("7"));
    assert_eq!(
        intent.memo.as_deref(),
        Some(format!("TrustSet limit 1000 USD.{issuer}").as_str())
    );

    let account_set = json!({
        "TransactionType": "AccountSet", "Account": "rGVCddjtEYJTSAry5XyJC15rLUtbdB7jU7",
        "SetFlag": 8, "Fee": "10", "Sequence": 8,
    });
    let intent = intent_of(&v, &account_set.to_string(), &Prepared::default()).unwrap();
    assert!(intent.transfers.is_empty());
    assert_eq!(intent.memo.as_deref(), Some("AccountSet; SetFlag 8"));
}

#[tokio::test]
async fn xrp_unknown_transaction_type_is_refused() {
    let v = signing_vector("xrp-payment-ed25519");
    let mut tx = pending_json(&v);
    tx.insert("TransactionType".into(), json!("OfferCreate"));
    let err = intent_of(&v, &Value::Object(tx).to_string(), &Prepared::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::InvalidTransaction {
                chain: Chain::XRP,
                ..
            }
        ),
        "{err}"
    );
}

// ---------------------------------------------------------------- XLM

#[tokio::test]
async fn xlm_payment_vector() {
    let v = signing_vector("xlm-mainnet-payment");
    let (intent, _) = vector_intent(&v).await;
    // The envelope, read field by field: source key b849a159…, fee 100,
    // sequence 0x1cbe991a15, time bounds, memo text "oracle", one Payment
    // of 0x07735940 stroops of the native asset to key 199c6b64….
    assert_eq!(
        intent,
        Intent {
            chain: Chain::XLM,
            network: Network::Mainnet,
            chain_id: Some("Public Global Stellar Network ; September 2015".into()),
            senders: vec!["GC4ETIKZTBUSFM4VHZCBSGJFTFGHSPI3CSBR54FSVKLW43LKSKQ7LXDY".into()],
            transfers: vec![transfer(
                "GAMZY23EAFY4OFITZFU2GVNUAFPYSZVO6L5IASYHFYJNS2D74WLGHDQ2",
                "125000000",
                None
            )],
            fee: Some("100".into()),
            fee_asset: None,
            nonce: Some("123456789013".into()),
            memo: Some("oracle".into()),
        }
    );
}

/// The vector's envelope with its operations replaced.
fn xlm_with_operations(v: &SigningVector, bodies: Vec<stellar_xdr::OperationBody>) -> String {
    use stellar_xdr::{Limits, ReadXdr, TransactionEnvelope, WriteXdr};
    let mut envelope = TransactionEnvelope::from_xdr_base64(
        v.pending().serialized_transaction.as_bytes(),
        Limits::none(),
    )
    .unwrap();
    let TransactionEnvelope::Tx(v1) = &mut envelope else {
        panic!("the vector is a v1 envelope")
    };
    v1.tx.operations = bodies
        .into_iter()
        .map(|body| stellar_xdr::Operation {
            source_account: None,
            body,
        })
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    envelope.to_xdr_base64(Limits::none()).unwrap()
}

#[tokio::test]
async fn xlm_credit_payment_and_create_account() {
    use stellar_xdr::{
        AccountId, AlphaNum4, Asset, AssetCode4, CreateAccountOp, MuxedAccount, OperationBody,
        PaymentOp, PublicKey, Uint256,
    };
    let v = signing_vector("xlm-mainnet-payment");
    let key = |byte: u8| Uint256([byte; 32]);
    let account = |byte: u8| AccountId(PublicKey::PublicKeyTypeEd25519(key(byte)));
    let text = xlm_with_operations(
        &v,
        vec![
            OperationBody::Payment(PaymentOp {
                destination: MuxedAccount::Ed25519(key(1)),
                asset: Asset::CreditAlphanum4(AlphaNum4 {
                    asset_code: AssetCode4(*b"USDC"),
                    issuer: account(2),
                }),
                amount: 55,
            }),
            OperationBody::CreateAccount(CreateAccountOp {
                destination: account(3),
                starting_balance: 10_000_000,
            }),
        ],
    );
    let intent = intent_of(&v, &text, &Prepared::default()).unwrap();
    assert_eq!(
        intent.transfers,
        vec![
            transfer(
                &account(1).to_string(),
                "55",
                Some(&format!("USDC:{}", account(2)))
            ),
            transfer(&account(3).to_string(), "10000000", None),
        ]
    );
    // Strkeys of 32 bytes of 0x01 and 0x03, as stellar-base writes them.
    assert!(intent.transfers[0].to.starts_with('G') && intent.transfers[0].to.len() == 56);
}

#[tokio::test]
async fn xlm_other_operations_are_refused() {
    use stellar_xdr::{BumpSequenceOp, OperationBody, SequenceNumber};
    let v = signing_vector("xlm-mainnet-payment");
    let text = xlm_with_operations(
        &v,
        vec![OperationBody::BumpSequence(BumpSequenceOp {
            bump_to: SequenceNumber(1 << 40),
        })],
    );
    let err = intent_of(&v, &text, &Prepared::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            SignerError::Unsupported { chain: Chain::XLM, what } if what.contains("BumpSequence")
        ),
        "{err}"
    );
}

// ---------------------------------------------------------------- ALGO

#[tokio::test]
async fn algo_payment_vector() {
    let v = signing_vector("algo-mainnet-payment");
    let (intent, _) = vector_intent(&v).await;
    // from/to publicKey bytes as addresses, amount 1234567 microAlgos, flat
    // fee 1000, rounds 30000000..30001000, note "oracle note",
    // genesis "mainnet-v1.0" with hash c061c4d8….
    assert_eq!(
        intent,
        Intent {
            chain: Chain::ALGO,
            network: Network::Mainnet,
            chain_id: Some("mainnet-v1.0/wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=".into()),
            senders: vec!["NYPRQJKMBKX6DFEB3OSECO7D3B3CCRW6F3NTUBLR6OARZMURJPW365QYQA".into()],
            transfers: vec![transfer(
                "5XGSSPS6EZBQBFF67GFGB72Q65ASHIOG6TSKHM3ARYHV6F6YDDE2GSHRXU",
                "1234567",
                None
            )],
            fee: Some("1000".into()),
            fee_asset: None,
            nonce: None,
            memo: Some("valid rounds 30000000..30001000; note oracle note".into()),
        }
    );
}

#[tokio::test]
async fn algo_asset_transfer_and_refusals() {
    let v = signing_vector("algo-mainnet-payment");
    let mut tx = pending_json(&v);
    tx.insert("type".into(), json!("axfer"));
    tx.insert("assetIndex".into(), json!(31566704));
    tx.insert("amount".into(), json!(250));
    let intent = intent_of(
        &v,
        &Value::Object(tx.clone()).to_string(),
        &Prepared::default(),
    )
    .unwrap();
    assert_eq!(
        intent.transfers,
        vec![transfer(
            "5XGSSPS6EZBQBFF67GFGB72Q65ASHIOG6TSKHM3ARYHV6F6YDDE2GSHRXU",
            "250",
            Some("31566704")
        )]
    );

    // Closing sends an unstated remainder: refused.
    let mut closing = tx.clone();
    closing.insert("closeRemainderTo".into(), pending_json(&v)["to"].clone());
    let err = intent_of(
        &v,
        &Value::Object(closing).to_string(),
        &Prepared::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, SignerError::InvalidTransaction { chain: Chain::ALGO, reason } if reason.contains("closeRemainderTo")),
        "{err}"
    );

    let mut keyreg = tx;
    keyreg.insert("type".into(), json!("keyreg"));
    let err = intent_of(&v, &Value::Object(keyreg).to_string(), &Prepared::default()).unwrap_err();
    assert!(
        matches!(&err, SignerError::InvalidTransaction { chain: Chain::ALGO, reason } if reason.contains("keyreg")),
        "{err}"
    );
}

// ---------------------------------------------------------------- EGLD

#[tokio::test]
async fn egld_transfer_vector() {
    let v = signing_vector("egld-mainnet-transfer");
    let (intent, _) = vector_intent(&v).await;
    // value "0.5" EGLD = 5×10^17; nonce 42, gas price 10^9 and chain id "1"
    // from the node, gas limit 50000 from transaction/cost.
    assert_eq!(
        intent,
        Intent {
            chain: Chain::EGLD,
            network: Network::Mainnet,
            chain_id: Some("1".into()),
            senders: vec!["erd1aswk8e45vkdt3fecsfd825ttja6jytcgy9yfk5d7ymghthce7cassumvpp".into()],
            transfers: vec![transfer(
                "erd16zarpflkn858w27m7fdamep8y9slgde0gjxkw530jjczxrkl3vws404458",
                "500000000000000000",
                None
            )],
            fee: Some("50000000000000".into()),
            fee_asset: None,
            nonce: Some("42".into()),
            memo: None,
        }
    );
}

#[tokio::test]
async fn egld_data_is_shown_and_esdt_transfers_decoded() {
    use base64::Engine;
    let v = signing_vector("egld-mainnet-transfer");
    let (_, prepared) = vector_intent(&v).await;
    let with_data = |data: &str| {
        let mut p = prepared.clone();
        p.0.insert(
            "data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(data)),
        );
        p
    };
    let text = v.pending().serialized_transaction;
    let receiver = "erd16zarpflkn858w27m7fdamep8y9slgde0gjxkw530jjczxrkl3vws404458";
    // "WEGLD-bd4d79" in hex, 1000 = 0x03e8.
    let esdt = "ESDTTransfer@5745474c442d626434643739@03e8";
    let intent = intent_of(&v, &text, &with_data(esdt)).unwrap();
    assert_eq!(
        intent.transfers,
        vec![
            transfer(receiver, "500000000000000000", None),
            transfer(receiver, "1000", Some("WEGLD-bd4d79")),
        ]
    );
    assert_eq!(intent.memo.as_deref(), Some(esdt));

    let intent = intent_of(&v, &text, &with_data("thanks")).unwrap();
    assert_eq!(intent.transfers.len(), 1);
    assert_eq!(intent.memo.as_deref(), Some("thanks"));

    let err = intent_of(&v, &text, &with_data("ESDTTransfer@zz@01")).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::InvalidTransaction {
                chain: Chain::EGLD,
                ..
            }
        ),
        "{err}"
    );
}

// ---------------------------------------------------------------- SOL

const SOL_PAYER: &str = "Fbam52LaTeTZqPCdm98ob5ZmMBmkWNXhbPFvwMpNDNqw";

#[tokio::test]
async fn sol_transfer_vector() {
    let v = signing_vector("sol-mainnet-transfer");
    let (intent, _) = vector_intent(&v).await;
    // txData: one signer, accounts [Fbam52…, 2m7vbv…, System Program], one
    // instruction: program 2, accounts [0, 1], data 02000000 ‖ e0aebb00…
    // (Transfer of 0xbbaee0 = 12300000 lamports). One signature: 5000.
    assert_eq!(
        intent,
        Intent {
            chain: Chain::SOL,
            network: Network::Mainnet,
            chain_id: None,
            senders: vec![SOL_PAYER.into()],
            transfers: vec![transfer(
                "2m7vbvWwFpahMwdgxQsLeyDzfmxz9DAe62TnQGBqR8rV",
                "12300000",
                None
            )],
            fee: Some("5000".into()),
            fee_asset: None,
            nonce: None,
            memo: None,
        }
    );
}

/// A legacy message paid by the vector's key (the only signer), with
/// `others` as the following read-write accounts, then `readonly` accounts,
/// and instructions of (program index, account indexes, data).
fn sol_message(others: &[[u8; 32]], readonly: &[[u8; 32]], ixs: &[(u8, &[u8], Vec<u8>)]) -> String {
    let payer: [u8; 32] = bs58::decode(SOL_PAYER)
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    let mut m = vec![
        1,
        0,
        readonly.len() as u8,
        (1 + others.len() + readonly.len()) as u8,
    ];
    m.extend_from_slice(&payer);
    for k in others.iter().chain(readonly) {
        m.extend_from_slice(k);
    }
    m.extend_from_slice(&[0; 32]);
    m.push(ixs.len() as u8);
    for (program, accounts, data) in ixs {
        m.push(*program);
        m.push(accounts.len() as u8);
        m.extend_from_slice(accounts);
        m.push(data.len() as u8);
        m.extend_from_slice(data);
    }
    json!({ "txData": hex::encode(m) }).to_string()
}

fn key(text: &str) -> [u8; 32] {
    bs58::decode(text).into_vec().unwrap().try_into().unwrap()
}

#[tokio::test]
async fn sol_token_transfers_and_account_creation() {
    let v = signing_vector("sol-mainnet-transfer");
    let (_, prepared) = vector_intent(&v).await;
    let (source, destination, mint, owner) = ([1; 32], [2; 32], [3; 32], [4; 32]);
    let b58 = |k: [u8; 32]| bs58::encode(k).into_string();
    let token = key("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    let ata = key("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
    let mut checked = vec![12];
    checked.extend_from_slice(&1_500_000u64.to_le_bytes());
    checked.push(6);
    let mut plain = vec![3];
    plain.extend_from_slice(&42u64.to_le_bytes());
    // Accounts: 0 payer, 1 source, 2 destination, 3 mint, 4 owner,
    // 5 system, 6 token program, 7 associated token program.
    let text = sol_message(
        &[source, destination],
        &[mint, owner, [0; 32], token, ata],
        &[
            (7, &[0, 2, 4, 3, 5, 6], vec![]),
            (6, &[1, 3, 2, 0], checked),
            (6, &[1, 2, 0], plain),
        ],
    );
    let intent = intent_of(&v, &text, &prepared).unwrap();
    assert_eq!(intent.senders, vec![SOL_PAYER.to_string()]);
    assert_eq!(
        intent.transfers,
        vec![
            transfer(&b58(destination), "1500000", Some(&b58(mint))),
            transfer(&b58(destination), "42", Some(&b58(source))),
        ]
    );
    assert_eq!(intent.fee.as_deref(), Some("5000"));
    assert_eq!(
        intent.memo,
        Some(format!(
            "creates token account {} of mint {} for {}",
            b58(destination),
            b58(mint),
            b58(owner)
        ))
    );
}

#[tokio::test]
async fn sol_unknown_instructions_are_refused() {
    let v = signing_vector("sol-mainnet-transfer");
    let (_, prepared) = vector_intent(&v).await;
    // The vector's message with its System Transfer (2) made an Assign (1).
    let text = v
        .pending()
        .serialized_transaction
        .replace("0c02000000e0aebb0000000000", "0c01000000e0aebb0000000000");
    assert_ne!(text, v.pending().serialized_transaction);
    let err = intent_of(&v, &text, &prepared).unwrap_err();
    assert!(
        matches!(&err, SignerError::Unsupported { chain: Chain::SOL, what } if what.contains("instruction 0")),
        "{err}"
    );
    // A program it does not know at all.
    let text = sol_message(&[], &[[9; 32]], &[(1, &[0], vec![0])]);
    let err = intent_of(&v, &text, &prepared).unwrap_err();
    assert!(
        matches!(&err, SignerError::Unsupported { chain: Chain::SOL, what } if what.contains(&bs58::encode([9u8; 32]).into_string())),
        "{err}"
    );
}

// ---------------------------------------------------------------- ADA

/// ADA has no signing vector (the node builds the transaction): a payment
/// from an address of the signing mnemonic to a fixed enterprise address
/// plus change, with what `prepare` keeps of the Rosetta node's answers.
struct AdaCase {
    spender: String,
    recipient: &'static str,
    operations: Value,
}

fn ada_case() -> AdaCase {
    let mnemonic =
        kms_chain_signers::Mnemonic::parse(&kms_test_support::vectors::signing().mnemonic).unwrap();
    let spender = signer(Chain::ADA)
        .mnemonic_wallets()
        .unwrap()
        .account(Network::Mainnet, &mnemonic)
        .unwrap()
        .address(3)
        .unwrap();
    let recipient = "addr1vx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzers66hrl8";
    let ada = |v: &str| json!({"value": v, "currency": {"symbol": "ADA", "decimals": 6}});
    let operations = json!([
        {"operation_identifier": {"index": 0}, "type": "input",
         "account": {"address": spender}, "amount": ada("-5000000"),
         "coin_change": {"coin_identifier": {"identifier": format!("{}:1", "ab".repeat(32))},
                         "coin_action": "coin_spent"}},
        {"operation_identifier": {"index": 1}, "type": "output",
         "account": {"address": recipient}, "amount": ada("1500000")},
        {"operation_identifier": {"index": 2}, "type": "output",
         "account": {"address": spender}, "amount": ada("3330000")},
    ]);
    AdaCase {
        spender,
        recipient,
        operations,
    }
}

fn ada_body(case: &AdaCase, extra: Vec<(ciborium::Value, ciborium::Value)>) -> Vec<u8> {
    use ciborium::Value as Cbor;
    let int = |n: u64| Cbor::Integer(n.into());
    let address = |a: &str| Cbor::Bytes(bech32::decode(a).unwrap().1);
    let mut fields = vec![
        (
            int(0),
            Cbor::Array(vec![Cbor::Array(vec![Cbor::Bytes(vec![0xab; 32]), int(1)])]),
        ),
        (
            int(1),
            Cbor::Array(vec![
                Cbor::Array(vec![address(case.recipient), int(1_500_000)]),
                Cbor::Array(vec![address(&case.spender), int(3_330_000)]),
            ]),
        ),
        (int(2), int(170_000)),
        (int(3), int(123_456)),
    ];
    fields.extend(extra);
    let mut out = Vec::new();
    ciborium::into_writer(&Cbor::Map(fields), &mut out).unwrap();
    out
}

/// What `prepare` keeps: the network, `unsigned_transaction` (hex of CBOR
/// [body hex, extra]) and a payload per spending address (the body's hash).
fn ada_prepared(case: &AdaCase, body: &[u8]) -> Prepared {
    use blake2::{digest::consts::U32, Blake2b, Digest};
    let mut outer = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Array(vec![
            ciborium::Value::Text(hex::encode(body)),
            ciborium::Value::Map(vec![]),
        ]),
        &mut outer,
    )
    .unwrap();
    let Value::Object(map) = json!({
        "network_identifier": {"blockchain": "cardano", "network": "mainnet"},
        "unsigned_transaction": hex::encode(outer),
        "payloads": [{
            "account_identifier": {"address": case.spender},
            "hex_bytes": hex::encode(Blake2b::<U32>::digest(body)),
            "signature_type": "ed25519",
        }],
    }) else {
        unreachable!()
    };
    Prepared(map)
}

fn ada_intent(operations: &Value, prepared: &Prepared) -> Result<Intent, SignerError> {
    let pending: PendingTransaction = serde_json::from_value(json!({
        "id": "p-1", "chain": "ADA", "hashes": ["w"],
        "serializedTransaction": operations.to_string(),
    }))
    .unwrap();
    signer(Chain::ADA).intent(
        &SignInput {
            pending: &pending,
            network: Network::Mainnet,
            keys: &[],
            mnemonic: None,
        },
        prepared,
    )
}

#[test]
fn ada_outputs_fee_and_spender() {
    let case = ada_case();
    let prepared = ada_prepared(&case, &ada_body(&case, vec![]));
    let intent = ada_intent(&case.operations, &prepared).unwrap();
    assert_eq!(
        intent,
        Intent {
            chain: Chain::ADA,
            network: Network::Mainnet,
            chain_id: Some("mainnet".into()),
            senders: vec![case.spender.clone()],
            transfers: vec![
                transfer(case.recipient, "1500000", None),
                transfer(&case.spender, "3330000", None),
            ],
            fee: Some("170000".into()),
            fee_asset: None,
            nonce: None,
            memo: Some("valid until slot 123456".into()),
        }
    );
}

#[test]
fn ada_unknown_operations_and_body_fields_are_refused() {
    let case = ada_case();
    let prepared = ada_prepared(&case, &ada_body(&case, vec![]));
    let mut staking = case.operations.clone();
    staking[0]["type"] = json!("stakeKeyRegistration");
    let err = ada_intent(&staking, &prepared).unwrap_err();
    assert!(
        matches!(&err, SignerError::InvalidTransaction { chain: Chain::ADA, reason } if reason.contains("stakeKeyRegistration")),
        "{err}"
    );
    // A body that also mints (field 9) is not what the operations say.
    let minting = ada_body(
        &case,
        vec![(
            ciborium::Value::Integer(9.into()),
            ciborium::Value::Map(vec![]),
        )],
    );
    let err = ada_intent(&case.operations, &ada_prepared(&case, &minting)).unwrap_err();
    assert!(
        matches!(&err, SignerError::Network { chain: Chain::ADA, reason } if reason.contains("minting")),
        "{err}"
    );
}

/// EGLD's chain id is pinned per network: a devnet id answered for a
/// mainnet signature is refused.
#[tokio::test]
async fn egld_chain_id_of_another_network_is_refused() {
    let v = signing_vector("egld-mainnet-transfer");
    let (_, prepared) = vector_intent(&v).await;
    let text = v.pending().serialized_transaction;
    let mut devnet = prepared.clone();
    devnet.0.insert("chainID".into(), json!("D"));
    let err = intent_of(&v, &text, &devnet).unwrap_err();
    assert!(
        matches!(&err, SignerError::InvalidTransaction { reason, .. } if reason.contains("chain id 'D' is not EGLD mainnet")),
        "{err}"
    );
    assert!(intent_of(&v, &text, &prepared).is_ok());
}
