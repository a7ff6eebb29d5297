//! Cardano. Wallets are `{mnemonic, xpub}` on the Icarus master key
//! (PBKDF2-HMAC-SHA512 of the mnemonic's entropy, 4096 rounds, clamped) with
//! Cardano's BIP32-Ed25519 (the `ed25519-bip32` crate, derivation scheme V2),
//! account m/1852'/1815'/0'. The original's "xpub" is two extended public
//! keys, the payment chain …/0 then the stake key …/2/0, each public key ‖
//! chain code (256 hex in all); private key at i = the extended secret ‖
//! public key ‖ chain code of …/0/i (128 bytes, 256 hex); address at i = the Shelley base address of payment key
//! …/0/i and stake key …/2/0.

use async_trait::async_trait;
use bech32::{Bech32, Hrp};
use blake2::digest::consts::U28;
use blake2::{Blake2b, Digest};
use ed25519_bip32::{DerivationScheme, XPrv, XPub, XPRV_SIZE};
use kms_core::{ApiRequest, Chain, ChainApi, Intent, Network, Service, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::ada_tx;
use crate::mnemonic::GivenOrFresh;
use crate::{
    Account, Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer, SignerError,
    Submitted, XpubAddresses, MAX_INDEX,
};

pub(crate) struct Ada;
pub(crate) static ADA: Ada = Ada;

const HARDENED: u32 = 0x8000_0000;

/// (`XPrv` zeroes itself on drop.)
fn account_xprv(mnemonic: &Mnemonic) -> XPrv {
    let entropy = mnemonic.entropy();
    let mut bytes = Zeroizing::new([0u8; XPRV_SIZE]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(b"", &entropy, 4096, bytes.as_mut());
    let master = XPrv::normalize_bytes_force3rd(*bytes);
    master
        .derive(DerivationScheme::V2, 1852 | HARDENED)
        .derive(DerivationScheme::V2, 1815 | HARDENED)
        .derive(DerivationScheme::V2, HARDENED)
}

fn soft(index: u32) -> Result<u32, SignerError> {
    if index > MAX_INDEX {
        return Err(SignerError::InvalidIndex(index.to_string()));
    }
    Ok(index)
}

fn key_hash(public: &[u8]) -> [u8; 28] {
    Blake2b::<U28>::digest(public).into()
}

fn base_address(testnet: bool, payment: &XPub, stake: &XPub) -> String {
    let mut data = Vec::with_capacity(57);
    // Header: base address, key hash / key hash, network 1 (mainnet) or 0.
    data.push(if testnet { 0x00 } else { 0x01 });
    data.extend_from_slice(&key_hash(payment.public_key_slice()));
    data.extend_from_slice(&key_hash(stake.public_key_slice()));
    let hrp = Hrp::parse_unchecked(if testnet { "addr_test" } else { "addr" });
    bech32::encode::<Bech32>(hrp, &data).expect("57 bytes fit a bech32 string")
}

fn derive_pub(key: &XPub, index: u32) -> Result<XPub, SignerError> {
    key.derive(DerivationScheme::V2, index)
        .map_err(|e| SignerError::InvalidXpub {
            chain: Chain::ADA,
            reason: format!("{e:?}"),
        })
}

/// The payment chain …/0 and the stake key …/2/0 of an account.
fn chains(account: &XPub) -> Result<(XPub, XPub), SignerError> {
    Ok((
        derive_pub(account, 0)?,
        derive_pub(&derive_pub(account, 2)?, 0)?,
    ))
}

fn address_at(
    testnet: bool,
    payment_chain: &XPub,
    stake: &XPub,
    index: u32,
) -> Result<String, SignerError> {
    let payment = derive_pub(payment_chain, soft(index)?)?;
    Ok(base_address(testnet, &payment, stake))
}

struct AdaAccount {
    testnet: bool,
    xprv: XPrv,
}

impl Account for AdaAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        let key = self
            .xprv
            .derive(DerivationScheme::V2, 0)
            .derive(DerivationScheme::V2, soft(index)?);
        let mut bytes = Zeroizing::new(Vec::with_capacity(128));
        bytes.extend_from_slice(key.extended_secret_key_slice());
        bytes.extend_from_slice(key.public().public_key_slice());
        bytes.extend_from_slice(key.chain_code_slice());
        Ok(SecretString::from(hex::encode(&bytes[..])))
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        let (payment, stake) = chains(&self.xprv.public())?;
        address_at(self.testnet, &payment, &stake, index)
    }
}

#[async_trait]
impl Signer for Ada {
    fn chain(&self) -> Chain {
        Chain::ADA
    }

    fn mnemonic_wallets(&self) -> Option<&dyn MnemonicWallets> {
        Some(self)
    }

    fn xpub_addresses(&self) -> Option<&dyn XpubAddresses> {
        Some(self)
    }

    fn generate_wallet(
        &self,
        _network: Network,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let mnemonic = &*GivenOrFresh::new(mnemonic);
        let (payment, stake) = chains(&account_xprv(mnemonic).public())?;
        let xpub = format!(
            "{}{}",
            hex::encode(payment.as_ref()),
            hex::encode(stake.as_ref())
        );
        Ok(WalletEntry::new()
            .with("mnemonic", mnemonic.phrase())
            .with("xpub", xpub))
    }

    fn address_from_private_key(
        &self,
        network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let testnet = network.is_testnet();
        // A stored key is a payment key alone: the enterprise address (no stake part) is its honest answer.
        let xprv = xprv_of(key)?;
        let mut data = Vec::with_capacity(29);
        data.push(if testnet { 0x60 } else { 0x61 });
        data.extend_from_slice(&key_hash(xprv.public().public_key_slice()));
        let hrp = Hrp::parse_unchecked(if testnet { "addr_test" } else { "addr" });
        Ok(bech32::encode::<Bech32>(hrp, &data).expect("29 bytes fit a bech32 string"))
    }

    /// As the original's SDK (v2, Rosetta): the Tatum API sends Rosetta
    /// `operations`; the Cardano node behind the Tatum API's gateway builds
    /// the transaction (`construction/preprocess`, `/metadata`, `/payloads`).
    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        let operations = operations(&input.pending.serialized_transaction)?;
        let network = json!({
            "blockchain": "cardano",
            "network": if input.network.is_testnet() { "preprod" } else { "mainnet" },
        });
        let call = |step: &'static str, body: Value| async move {
            let path = format!("{ROSETTA}/{step}");
            let answer = api
                .call(ApiRequest::post(Service::Tatum, &path, body))
                .await?;
            match answer {
                Value::Object(map) => Ok(map),
                _ => Err(network_error(&format!("{path} did not answer an object"))),
            }
        };
        let mut body = json!({
            "network_identifier": network,
            "operations": operations,
            "metadata": {"relative_ttl": 1000},
        });
        let preprocess = call("construction/preprocess", body.clone()).await?;
        let mut metadata_body = json!({"network_identifier": network});
        for (k, v) in preprocess {
            metadata_body[k] = v;
        }
        let metadata = call("construction/metadata", metadata_body).await?;
        body.as_object_mut().expect("an object").remove("metadata");
        for (k, v) in metadata {
            body[k] = v;
        }
        let payloads = call("construction/payloads", body).await?;
        let mut facts = serde_json::Map::new();
        facts.insert("network_identifier".into(), network);
        for name in ["unsigned_transaction", "payloads"] {
            let value = payloads.get(name).cloned().ok_or_else(|| {
                network_error(&format!("construction/payloads answered no {name}"))
            })?;
            facts.insert(name.into(), value);
        }
        Ok(Prepared(facts))
    }

    /// Signs every payload with the stored key whose payment key hash is in
    /// the payload's address, once the payload is known to be the hash of a
    /// transaction body that does what the operations say (see `ada_tx`).
    /// The result, until [`Signer::submit`] has the node combine it, is the
    /// Rosetta `construction/combine` request.
    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let (_, payloads) = checked(input, prepared)?;
        let mut keys = Vec::new();
        for key in input.keys {
            let xprv = xprv_of(key)?;
            let hash = key_hash(xprv.public().public_key_slice());
            keys.push((hash, xprv));
        }
        let mut signatures = Vec::new();
        for (payload, address, message) in payloads {
            let wanted = payment_key_hash(&address)?;
            let (_, xprv) = keys.iter().find(|(h, _)| *h == wanted).ok_or_else(|| {
                SignerError::tx(
                    Chain::ADA,
                    format!("the transaction spends from {address}, whose key is not among the wallets named"),
                )
            })?;
            let signature: ed25519_bip32::Signature<Vec<u8>> = xprv.sign(&message);
            signatures.push(json!({
                "signing_payload": payload,
                "public_key": {
                    "hex_bytes": hex::encode(xprv.public().public_key_slice()),
                    "curve_type": "edwards25519",
                },
                "signature_type": "ed25519",
                "hex_bytes": hex::encode(signature.as_ref()),
            }));
        }
        let combine = json!({
            "network_identifier": prepared.0.get("network_identifier"),
            "unsigned_transaction": prepared.0.get("unsigned_transaction"),
            "signatures": signatures,
        });
        Ok(SignedTx {
            tx_data: combine.to_string(),
            node_submission: Some(combine.to_string()),
        })
    }

    /// Decoded from the body whose hash `sign` signs, after the same checks:
    /// each output (address, lovelace; native tokens are refused before),
    /// the fee, the spending addresses of the signing payloads.
    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        let (body, payloads) = checked(input, prepared)?;
        let mut intent = Intent::new(Chain::ADA, input.network);
        intent.chain_id = prepared.0["network_identifier"]["network"]
            .as_str()
            .map(String::from);
        for (_, address, _) in payloads {
            if !intent.senders.contains(&address) {
                intent.senders.push(address);
            }
        }
        intent.transfers = body
            .outputs
            .into_iter()
            .map(|(to, lovelace)| Transfer {
                to,
                amount: lovelace.to_string(),
                asset: None,
            })
            .collect();
        intent.fee = body.fee.map(|f| f.to_string());
        intent.memo = body.ttl.map(|slot| format!("valid until slot {slot}"));
        Ok(intent)
    }

    /// `construction/combine`: the node puts the signatures into the
    /// transaction; its `signed_transaction` is what is broadcast.
    async fn submit(&self, signed: SignedTx, api: &dyn ChainApi) -> Result<Submitted, SignerError> {
        let Some(body) = signed.node_submission else {
            return Ok(Submitted::TxData(signed.tx_data));
        };
        let body: Value = serde_json::from_str(&body).expect("built as JSON by sign");
        let path = format!("{ROSETTA}/construction/combine");
        let answer = api
            .call(ApiRequest::post(Service::Tatum, &path, body))
            .await?;
        answer["signed_transaction"]
            .as_str()
            .map(|signed| Submitted::TxData(signed.to_string()))
            .ok_or_else(|| network_error("construction/combine answered no signed_transaction"))
    }
}

impl MnemonicWallets for Ada {
    fn account(
        &self,
        network: Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        let testnet = network.is_testnet();
        Ok(Box::new(AdaAccount {
            testnet,
            xprv: account_xprv(mnemonic),
        }))
    }
}

impl XpubAddresses for Ada {
    fn address_from_xpub(
        &self,
        network: Network,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        let testnet = network.is_testnet();
        let bad = |reason: &str| SignerError::InvalidXpub {
            chain: Chain::ADA,
            reason: reason.into(),
        };
        let bytes = hex::decode(xpub.trim()).map_err(|_| bad("not hexadecimal"))?;
        let (payment, stake) =
            match bytes.len() {
                // The original's shape: payment chain ‖ stake key.
                128 => (
                    XPub::from_slice(&bytes[..64]).map_err(|_| bad("bad payment key"))?,
                    XPub::from_slice(&bytes[64..]).map_err(|_| bad("bad stake key"))?,
                ),
                // An account-level key, as other Cardano wallets export it.
                64 => chains(&XPub::from_slice(&bytes).map_err(|_| bad("bad account key"))?)?,
                _ => return Err(bad(
                    "expected 128 bytes (payment and stake extended keys) or 64 (an account key)",
                )),
            };
        address_at(testnet, &payment, &stake, index)
    }
}

/// A stored private key: 128 bytes (extended secret ‖ public key ‖ chain
/// code, the original's shape) or 96 (extended secret ‖ chain code).
fn xprv_of(key: &SecretString) -> Result<XPrv, SignerError> {
    let bytes = Zeroizing::new(
        hex::decode(key.expose_secret().trim())
            .map_err(|_| SignerError::key(Chain::ADA, "not hexadecimal"))?,
    );
    let xprv = match bytes.len() {
        128 => {
            let mut xprv = Zeroizing::new([0u8; XPRV_SIZE]);
            xprv[..64].copy_from_slice(&bytes[..64]);
            xprv[64..].copy_from_slice(&bytes[96..]);
            let key = XPrv::from_bytes_verified(*xprv)
                .map_err(|_| SignerError::key(Chain::ADA, "not a valid extended private key"))?;
            if key.public().public_key_slice() != &bytes[64..96] {
                return Err(SignerError::key(
                    Chain::ADA,
                    "its public key does not match its secret",
                ));
            }
            key
        }
        96 => XPrv::from_slice_verified(&bytes)
            .map_err(|_| SignerError::key(Chain::ADA, "not a valid extended private key"))?,
        _ => {
            return Err(SignerError::key(
                Chain::ADA,
                "expected 128 bytes (256 hexadecimal characters)",
            ))
        }
    };
    Ok(xprv)
}

/// The Tatum API's gateway to a Cardano Rosetta node.
const ROSETTA: &str = "/v3/blockchain/node/ADA/{apiKey}";

fn network_error(reason: &str) -> SignerError {
    SignerError::Network {
        chain: Chain::ADA,
        reason: reason.to_string(),
    }
}

/// A signing payload of `construction/payloads`: the payload as the node
/// wrote it, the address that must sign, the message (the body's hash).
type Payload<'p> = (&'p Value, String, Vec<u8>);

/// The node's transaction body, checked against the operations, and each
/// signing payload (payload, address, message) once its message is known to
/// be that body's hash: what `sign` signs and `intent` describes.
fn checked<'p>(
    input: &SignInput<'_>,
    prepared: &'p Prepared,
) -> Result<(ada_tx::CheckedBody, Vec<Payload<'p>>), SignerError> {
    let operations = operations(&input.pending.serialized_transaction)?;
    let unsigned = prepared
        .0
        .get("unsigned_transaction")
        .and_then(Value::as_str)
        .ok_or_else(|| network_error("no unsigned transaction was fetched"))?;
    let body = ada_tx::checked_body(unsigned, &operations)?;
    let payloads = prepared
        .0
        .get("payloads")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| network_error("no signing payloads were fetched"))?;
    let mut checked = Vec::new();
    for payload in payloads {
        let address = payload["account_identifier"]["address"]
            .as_str()
            .ok_or_else(|| network_error("a payload names no address"))?;
        let message = payload["hex_bytes"]
            .as_str()
            .and_then(|h| hex::decode(h).ok())
            .ok_or_else(|| network_error("a payload's hex_bytes is not hex"))?;
        if message != body.hash {
            return Err(network_error(&format!(
                "construction/payloads asks to sign {} for {address}, which is not the hash of the transaction it built",
                hex::encode(&message)
            )));
        }
        checked.push((payload, address.to_string(), message));
    }
    Ok((body, checked))
}

/// The Rosetta operations the Tatum API sends: inputs (UTXOs by
/// `coin_identifier`) and outputs (address, lovelace).
fn operations(text: &str) -> Result<Value, SignerError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        SignerError::tx(
            Chain::ADA,
            format!("serializedTransaction is not JSON: {e}"),
        )
    })?;
    ada_tx::operation_parts(&value)?;
    Ok(value)
}

/// The payment key hash inside a Shelley (base or enterprise) address.
fn payment_key_hash(address: &str) -> Result<[u8; 28], SignerError> {
    let (_, data) = bech32::decode(address).map_err(|_| {
        SignerError::tx(Chain::ADA, format!("'{address}' is not a Shelley address"))
    })?;
    let header = data.first().copied().unwrap_or(0xff) >> 4;
    // Types 0–3 (base) and 6 (enterprise) whose payment part is a key hash.
    if data.len() < 29 || !matches!(header, 0 | 2 | 6) {
        return Err(SignerError::tx(
            Chain::ADA,
            format!("'{address}' is not paid to a key"),
        ));
    }
    Ok(data[1..29].try_into().expect("28 bytes"))
}
