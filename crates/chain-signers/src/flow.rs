//! FLOW.
//!
//! # Derivation
//! `m/44'/539'/0'/0` on both networks. The original's "address" is not a
//! Flow address (accounts are created on chain) but the uncompressed public
//! key without its `04` prefix (128 hex digits); its private keys are hex of
//! a big number, without leading zeros. Both are reproduced because users'
//! stored data and the Tatum API depend on them.
//!
//! # Signing
//! Two kinds of `serializedTransaction` are signed.
//!
//! **The original's requests**, `{"type": <FlowTxType>, "body": {...}}`,
//! which the Tatum API sends: `flowSignKMSTransaction` of `@tatumio/tatum`
//! 1.37.68 built the Cadence transaction itself, had Tatum's API provide
//! and sign as proposer and payer, and sent it through a Flow access node.
//! So does this signer, in its three steps (see [`tatum`]): `prepare` gets
//! Tatum's keys, the reference block and the sequence number; `sign`
//! signs the payload with the wallet's key; `submit` gets Tatum's
//! signatures, sends the transaction, waits until it is sealed and reports
//! it with `POST /v3/flow/broadcast`. The scripts are Cadence 1.0 versions
//! of the original's ([`cadence`]).
//!
//! **A fully built transaction**, for signing without Tatum's co-signers
//! (e.g. offline):
//!
//! `serializedTransaction` accepted here:
//! ```json
//! {
//!   "signer": {"address": "f8d6e0586b0a20c7", "key_index": "0"},
//!   "transaction": {
//!     "script": "<base64 Cadence>",
//!     "arguments": ["<base64 JSON-Cadence value>", ...],
//!     "reference_block_id": "<64 hex>",
//!     "gas_limit": "9999",
//!     "proposal_key": {"address": "...", "key_index": "0", "sequence_number": "12"},
//!     "payer": "...",
//!     "authorizers": ["..."],
//!     "payload_signatures": [{"address": "...", "key_index": "0", "signature": "<base64>"}],
//!     "envelope_signatures": []
//!   }
//! }
//! ```
//! `transaction` is the body of the Flow Access REST API's `POST
//! /v1/transactions`; integers may be JSON numbers or decimal strings,
//! addresses 16 hex digits with or without `0x`, the signature lists
//! optional. The wallet's key signs as `signer`: the *envelope* when
//! `signer.address` is the payer (every other proposer/authorizer must have
//! signed the payload already, since the envelope covers their
//! signatures), otherwise the *payload* (the signer must then be the
//! proposer or an authorizer).
//!
//! The signed message is the domain tag `"FLOW-V0.0-transaction"`
//! right-padded with zeros to 32 bytes, followed by the RLP of the payload
//! `[script, [arguments], reference_block_id, gas_limit,
//! proposer_address, proposer_key_index, proposer_sequence_number, payer,
//! [authorizers]]` or of the envelope `[payload, [[signer_index, key_index,
//! signature], ...]]` (signer index: position in the list of proposer,
//! payer, authorizers without repeats; sorted by signer then key index).
//! The signature is ECDSA secp256k1 over SHA3-256 of that message, 64 bytes
//! `r ‖ s` (low S), the key registered with hash algorithm SHA3_256.
//!
//! `txData` is the same REST transaction body with the new signature added
//! (signature lists in canonical order, addresses without `0x`, integers as
//! strings), ready to `POST /v1/transactions` to an access node.
//!
//! # Intent
//! A Cadence script cannot be decoded in general, so the intent claims no
//! transfer: it names the script by SHA3-256 with its arguments in the
//! memo, the authorizers and payer as senders, and the proposal key's
//! sequence number as nonce (see `decode_intent`).

use async_trait::async_trait;
use base64::Engine;
use bitcoin::secp256k1::{Message, PublicKey, SecretKey};
use kms_core::{Chain, Intent, Network, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};

use crate::secp_account::AccountChain;
use crate::secp_hd::{secp, secret_from_unpadded_hex};
use crate::{
    Account, ChainApi, Fate, Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer,
    SignerError, Submitted, XpubAddresses,
};

mod cadence;
mod tatum;

fn public_key_hex(key: &PublicKey) -> String {
    hex::encode(&key.serialize_uncompressed()[1..])
}

fn unpadded_hex(key: &SecretKey) -> String {
    let full = zeroize::Zeroizing::new(hex::encode(key.secret_bytes()));
    let trimmed = full.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// Derivation is the secp256k1 account-chain scheme with FLOW's encodings.
static DERIVATION: AccountChain = AccountChain {
    chain: Chain::FLOW,
    coin_mainnet: 539,
    coin_testnet: 539,
    xpub_first: false,
    address: public_key_hex,
    key_text: unpadded_hex,
    parse_key: secret_from_unpadded_hex,
    signing: None,
};

pub(crate) struct Flow;

pub(crate) static FLOW: Flow = Flow;

#[async_trait]
impl Signer for Flow {
    fn chain(&self) -> Chain {
        Chain::FLOW
    }

    fn mnemonic_wallets(&self) -> Option<&dyn MnemonicWallets> {
        Some(self)
    }

    fn xpub_addresses(&self) -> Option<&dyn XpubAddresses> {
        Some(self)
    }

    fn generate_wallet(
        &self,
        network: Network,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        DERIVATION.generate_wallet(network, mnemonic)
    }

    fn address_from_private_key(
        &self,
        network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        DERIVATION.address_from_private_key(network, key)
    }

    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        let serialized = &input.pending.serialized_transaction;
        if tatum::is_tatum_request(serialized) {
            tatum::prepare(input.network, serialized, api).await
        } else {
            // A fully built transaction needs nothing from the network.
            Ok(Prepared::default())
        }
    }

    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        let serialized = &input.pending.serialized_transaction;
        if tatum::is_tatum_request(serialized) {
            tatum::intent(input.network, serialized, prepared)
        } else {
            decode_intent(input.network, serialized)
        }
    }

    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let key = match input.keys {
            [key] => secret_from_unpadded_hex(Chain::FLOW, key.expose_secret())?,
            [] => {
                return Err(SignerError::MissingKey {
                    chain: Chain::FLOW,
                    reason: "no private key was found for this transaction".into(),
                })
            }
            _ => {
                return Err(SignerError::MissingKey {
                    chain: Chain::FLOW,
                    reason: "a FLOW transaction is signed by one key".into(),
                })
            }
        };
        let serialized = &input.pending.serialized_transaction;
        let signed = if tatum::is_tatum_request(serialized) {
            tatum::sign(input.network, &input.pending.id, serialized, prepared, &key)
        } else {
            sign_request(serialized, &key).map(SignedTx::plain)
        };
        let mut key = key;
        key.non_secure_erase();
        signed
    }

    async fn submit(&self, signed: SignedTx, api: &dyn ChainApi) -> Result<Submitted, SignerError> {
        if tatum::is_tatum_signed(&signed.tx_data) {
            tatum::submit(signed, api).await
        } else {
            // A fully built transaction goes to the broadcast endpoint as it is.
            Ok(Submitted::TxData(signed.tx_data))
        }
    }

    /// The original's requests only (their facts name Tatum's proposal
    /// key); a fully built transaction's fate is not known here.
    async fn fate(
        &self,
        _signed: &SignedTx,
        prepared: &Prepared,
        api: &dyn ChainApi,
    ) -> Result<Fate, SignerError> {
        if prepared.0.contains_key("proposer") {
            tatum::earlier_fate(prepared, api).await
        } else {
            Ok(Fate::Unknown)
        }
    }

    async fn release(&self, prepared: &Prepared, api: &dyn ChainApi) -> Result<(), SignerError> {
        // Only the original's requests reserve a proposal key in `prepare`.
        if prepared.0.contains_key("proposer") {
            tatum::release(prepared, api).await
        } else {
            Ok(())
        }
    }
}

impl MnemonicWallets for Flow {
    fn account(
        &self,
        network: Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        DERIVATION.account(network, mnemonic)
    }
}

impl XpubAddresses for Flow {
    fn address_from_xpub(
        &self,
        network: Network,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        DERIVATION.address_from_xpub(network, xpub, index)
    }
}

fn bad(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::FLOW, reason)
}

/// The domain tag of transaction signatures, zero-padded to 32 bytes.
fn transaction_domain_tag() -> [u8; 32] {
    let mut tag = [0u8; 32];
    let text = b"FLOW-V0.0-transaction";
    tag[..text.len()].copy_from_slice(text);
    tag
}

#[derive(Deserialize)]
struct Request {
    signer: SignerRef,
    transaction: RestTransaction,
}

#[derive(Deserialize)]
struct SignerRef {
    address: String,
    key_index: Uint,
}

/// The Flow Access REST API's transaction body.
#[derive(Deserialize, Serialize)]
struct RestTransaction {
    script: String,
    arguments: Vec<String>,
    reference_block_id: String,
    gas_limit: Uint,
    proposal_key: RestProposalKey,
    payer: String,
    authorizers: Vec<String>,
    #[serde(default)]
    payload_signatures: Vec<RestSignature>,
    #[serde(default)]
    envelope_signatures: Vec<RestSignature>,
}

#[derive(Deserialize, Serialize)]
struct RestProposalKey {
    address: String,
    key_index: Uint,
    sequence_number: Uint,
}

#[derive(Deserialize, Serialize, Clone)]
struct RestSignature {
    address: String,
    key_index: Uint,
    signature: String,
}

/// A uint64 written as a JSON number or a decimal string (the REST API's
/// way); written back as a string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Uint(u64);

impl<'de> Deserialize<'de> for Uint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Number(u64),
            Decimal(String),
        }
        match Text::deserialize(d)? {
            Text::Number(n) => Ok(Uint(n)),
            Text::Decimal(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse()
                .map(Uint)
                .map_err(|_| serde::de::Error::custom("integer out of uint64 range")),
            Text::Decimal(_) => Err(serde::de::Error::custom(
                "expected a uint64 (a number or a decimal string)",
            )),
        }
    }
}

impl Serialize for Uint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

type Address = [u8; 8];

fn parse_address(what: &str, text: &str) -> Result<Address, SignerError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 16 {
        return Err(bad(format!(
            "{what}: a Flow address is up to 16 hex digits"
        )));
    }
    let bytes = hex::decode(format!("{digits:0>16}"))
        .map_err(|_| bad(format!("{what}: a Flow address is hexadecimal")))?;
    let mut address = [0u8; 8];
    address.copy_from_slice(&bytes);
    Ok(address)
}

fn parse_base64(what: &str, text: &str) -> Result<Vec<u8>, SignerError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| bad(format!("{what} is not base64")))
}

/// A signature already on the transaction, or ours.
struct Signature {
    address: Address,
    key_index: u64,
    signature: Vec<u8>,
}

impl Signature {
    fn parse(what: &str, rest: &RestSignature) -> Result<Signature, SignerError> {
        Ok(Signature {
            address: parse_address(what, &rest.address)?,
            key_index: rest.key_index.0,
            signature: parse_base64(&format!("{what}.signature"), &rest.signature)?,
        })
    }

    fn to_rest(&self) -> RestSignature {
        RestSignature {
            address: hex::encode(self.address),
            key_index: Uint(self.key_index),
            signature: base64::engine::general_purpose::STANDARD.encode(&self.signature),
        }
    }
}

/// A transaction with every field decoded.
struct Transaction {
    script: Vec<u8>,
    arguments: Vec<Vec<u8>>,
    reference_block_id: [u8; 32],
    gas_limit: u64,
    proposer: Address,
    proposer_key_index: u64,
    proposer_sequence_number: u64,
    payer: Address,
    authorizers: Vec<Address>,
    payload_signatures: Vec<Signature>,
    envelope_signatures: Vec<Signature>,
}

impl Transaction {
    fn parse(rest: &RestTransaction) -> Result<Transaction, SignerError> {
        let block = hex::decode(rest.reference_block_id.trim_start_matches("0x"))
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| bad("reference_block_id is not 32 bytes of hex"))?;
        let signatures = |list: &[RestSignature], name: &str| {
            list.iter()
                .enumerate()
                .map(|(i, s)| Signature::parse(&format!("{name}[{i}]"), s))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Transaction {
            script: parse_base64("script", &rest.script)?,
            arguments: rest
                .arguments
                .iter()
                .enumerate()
                .map(|(i, a)| parse_base64(&format!("arguments[{i}]"), a))
                .collect::<Result<_, _>>()?,
            reference_block_id: block,
            gas_limit: rest.gas_limit.0,
            proposer: parse_address("proposal_key.address", &rest.proposal_key.address)?,
            proposer_key_index: rest.proposal_key.key_index.0,
            proposer_sequence_number: rest.proposal_key.sequence_number.0,
            payer: parse_address("payer", &rest.payer)?,
            authorizers: rest
                .authorizers
                .iter()
                .enumerate()
                .map(|(i, a)| parse_address(&format!("authorizers[{i}]"), a))
                .collect::<Result<_, _>>()?,
            payload_signatures: signatures(&rest.payload_signatures, "payload_signatures")?,
            envelope_signatures: signatures(&rest.envelope_signatures, "envelope_signatures")?,
        })
    }

    /// Proposer, payer, authorizers, each once, in that order: a
    /// signature's signer index is its address's position here.
    fn signers(&self) -> Vec<Address> {
        let mut signers = Vec::with_capacity(2 + self.authorizers.len());
        for address in [self.proposer, self.payer].iter().chain(&self.authorizers) {
            if !signers.contains(address) {
                signers.push(*address);
            }
        }
        signers
    }

    fn signer_index(&self, address: &Address) -> Result<u64, SignerError> {
        self.signers()
            .iter()
            .position(|a| a == address)
            .map(|i| i as u64)
            .ok_or_else(|| {
                bad(format!(
                    "{} signed but is not the proposer, the payer or an authorizer",
                    hex::encode(address)
                ))
            })
    }

    /// Orders both signature lists as the envelope encodes them: by signer
    /// index, then key index. Refuses signatures from strangers.
    fn sort_signatures(&mut self) -> Result<(), SignerError> {
        let signers = self.signers();
        let position = |a: &Address| signers.iter().position(|s| s == a);
        for list in [&mut self.payload_signatures, &mut self.envelope_signatures] {
            if let Some(stranger) = list.iter().find(|s| position(&s.address).is_none()) {
                return Err(bad(format!(
                    "{} signed but is not the proposer, the payer or an authorizer",
                    hex::encode(stranger.address)
                )));
            }
            list.sort_by_key(|s| (position(&s.address), s.key_index));
        }
        Ok(())
    }

    fn payload_rlp(&self) -> Vec<u8> {
        rlp_list(&[
            alloy_rlp::encode(&self.script[..]),
            rlp_list(
                &self
                    .arguments
                    .iter()
                    .map(|a| alloy_rlp::encode(&a[..]))
                    .collect::<Vec<_>>(),
            ),
            alloy_rlp::encode(&self.reference_block_id[..]),
            alloy_rlp::encode(self.gas_limit),
            alloy_rlp::encode(&self.proposer[..]),
            alloy_rlp::encode(self.proposer_key_index),
            alloy_rlp::encode(self.proposer_sequence_number),
            alloy_rlp::encode(&self.payer[..]),
            rlp_list(
                &self
                    .authorizers
                    .iter()
                    .map(|a| alloy_rlp::encode(&a[..]))
                    .collect::<Vec<_>>(),
            ),
        ])
    }

    /// Expects the payload signatures sorted (`sort_signatures`).
    fn envelope_rlp(&self) -> Result<Vec<u8>, SignerError> {
        let signatures = self
            .payload_signatures
            .iter()
            .map(|s| {
                Ok(rlp_list(&[
                    alloy_rlp::encode(self.signer_index(&s.address)?),
                    alloy_rlp::encode(s.key_index),
                    alloy_rlp::encode(&s.signature[..]),
                ]))
            })
            .collect::<Result<Vec<_>, SignerError>>()?;
        Ok(rlp_list(&[self.payload_rlp(), rlp_list(&signatures)]))
    }

    /// The transaction's id: SHA3-256 of the RLP of `[payload, payload
    /// signatures, envelope signatures]` (flow-go-sdk's `Transaction.ID`).
    /// Expects both signature lists sorted (`sort_signatures`).
    fn id(&self) -> Result<[u8; 32], SignerError> {
        let signatures = |list: &[Signature]| {
            list.iter()
                .map(|s| {
                    Ok(rlp_list(&[
                        alloy_rlp::encode(self.signer_index(&s.address)?),
                        alloy_rlp::encode(s.key_index),
                        alloy_rlp::encode(&s.signature[..]),
                    ]))
                })
                .collect::<Result<Vec<_>, SignerError>>()
        };
        let canonical = rlp_list(&[
            self.payload_rlp(),
            rlp_list(&signatures(&self.payload_signatures)?),
            rlp_list(&signatures(&self.envelope_signatures)?),
        ]);
        Ok(Sha3_256::digest(&canonical).into())
    }

    fn to_rest(&self) -> RestTransaction {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        RestTransaction {
            script: b64(&self.script),
            arguments: self.arguments.iter().map(|a| b64(a)).collect(),
            reference_block_id: hex::encode(self.reference_block_id),
            gas_limit: Uint(self.gas_limit),
            proposal_key: RestProposalKey {
                address: hex::encode(self.proposer),
                key_index: Uint(self.proposer_key_index),
                sequence_number: Uint(self.proposer_sequence_number),
            },
            payer: hex::encode(self.payer),
            authorizers: self.authorizers.iter().map(hex::encode).collect(),
            payload_signatures: self
                .payload_signatures
                .iter()
                .map(Signature::to_rest)
                .collect(),
            envelope_signatures: self
                .envelope_signatures
                .iter()
                .map(Signature::to_rest)
                .collect(),
        }
    }
}

/// An RLP list of already encoded items.
fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload_length = items.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(payload_length + 9);
    alloy_rlp::Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// ECDSA secp256k1 over SHA3-256 of the domain-tagged message: `r ‖ s`.
fn sign_message(key: &SecretKey, rlp: &[u8]) -> Vec<u8> {
    let mut hasher = Sha3_256::new();
    hasher.update(transaction_domain_tag());
    hasher.update(rlp);
    let digest: [u8; 32] = hasher.finalize().into();
    secp()
        .sign_ecdsa(&Message::from_digest(digest), key)
        .serialize_compact()
        .to_vec()
}

/// A signing request, checked as far as it can be without the key: the
/// transaction (signature lists sorted), who signs with which key, and
/// whether that is the envelope (payer) or the payload. `sign` and `intent`
/// both start here, so the intent describes exactly what gets signed.
struct CheckedRequest {
    tx: Transaction,
    signer: Address,
    key_index: u64,
    signs_envelope: bool,
}

fn check_request(serialized: &str) -> Result<CheckedRequest, SignerError> {
    let value: serde_json::Value = serde_json::from_str(serialized)
        .map_err(|e| bad(format!("serializedTransaction is not JSON: {e}")))?;
    let request: Request = serde_json::from_value(value)
        .map_err(|e| bad(format!("not a FLOW signing request: {e}")))?;
    let mut tx = Transaction::parse(&request.transaction)?;
    let signer = parse_address("signer.address", &request.signer.address)?;
    let key_index = request.signer.key_index.0;
    tx.sort_signatures()?;

    let signs_envelope = signer == tx.payer;
    if !signs_envelope && signer != tx.proposer && !tx.authorizers.contains(&signer) {
        return Err(bad(format!(
            "the signer {} is not the proposer, the payer or an authorizer",
            hex::encode(signer)
        )));
    }
    let list = if signs_envelope {
        &tx.envelope_signatures
    } else {
        &tx.payload_signatures
    };
    if list
        .iter()
        .any(|s| s.address == signer && s.key_index == key_index)
    {
        return Err(bad(format!(
            "{} key {key_index} has signed already",
            hex::encode(signer)
        )));
    }
    if signs_envelope {
        // The payer signs last: its signature covers every payload signature.
        let mut owing: Vec<Address> = vec![tx.proposer];
        owing.extend(&tx.authorizers);
        if let Some(missing) = owing
            .iter()
            .find(|a| **a != tx.payer && !tx.payload_signatures.iter().any(|s| s.address == **a))
        {
            return Err(bad(format!(
                "{} has not signed the payload yet; the payer signs the envelope last",
                hex::encode(missing)
            )));
        }
    }
    Ok(CheckedRequest {
        tx,
        signer,
        key_index,
        signs_envelope,
    })
}

/// What a FLOW transaction does, as far as it can be known without running
/// its Cadence script. A script can move anything its authorizers own, so
/// no transfer is claimed: `transfers` stays empty and the memo names the
/// script by its SHA3-256 (for comparison with known templates) with its
/// JSON-Cadence arguments and the gas limit, for the approver to judge.
/// Senders: the authorizers (whose accounts the script acts for), then the
/// payer (who pays the fee), each once. Nonce: the proposal key's sequence
/// number. No fee is given: Flow charges by execution effort, in FLOW, and
/// the gas limit is not an amount of it.
fn decode_intent(network: Network, serialized: &str) -> Result<Intent, SignerError> {
    let CheckedRequest { tx, .. } = check_request(serialized)?;
    let mut intent = Intent::new(Chain::FLOW, network);
    for address in tx.authorizers.iter().chain([&tx.payer]) {
        let text = format!("0x{}", hex::encode(address));
        if !intent.senders.contains(&text) {
            intent.senders.push(text);
        }
    }
    intent.nonce = Some(tx.proposer_sequence_number.to_string());
    let arguments = tx
        .arguments
        .iter()
        .enumerate()
        .map(|(i, argument)| {
            // Re-serialized compactly: the node rejects an argument that is
            // not JSON-Cadence, and the memo should not carry raw bytes.
            serde_json::from_slice::<serde_json::Value>(argument)
                .map(|value| value.to_string())
                .map_err(|_| bad(format!("arguments[{i}] is not a JSON-Cadence value")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    intent.memo = Some(format!(
        "Cadence script sha3-256:{}, arguments [{}], gas limit {}",
        hex::encode(Sha3_256::digest(&tx.script)),
        arguments.join(", "),
        tx.gas_limit
    ));
    Ok(intent)
}

/// Signs the request in `serialized` (see the module docs) with `key`;
/// returns the REST transaction body with the signature added.
fn sign_request(serialized: &str, key: &SecretKey) -> Result<String, SignerError> {
    let CheckedRequest {
        mut tx,
        signer,
        key_index,
        signs_envelope,
    } = check_request(serialized)?;
    let signature = if signs_envelope {
        sign_message(key, &tx.envelope_rlp()?)
    } else {
        sign_message(key, &tx.payload_rlp())
    };
    let ours = Signature {
        address: signer,
        key_index,
        signature,
    };
    if signs_envelope {
        tx.envelope_signatures.push(ours);
    } else {
        tx.payload_signatures.push(ours);
    }
    tx.sort_signatures()?;
    serde_json::to_string(&tx.to_rest()).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "complete tx" case of @onflow/sdk's encode tests (encode.test.js):
    /// the domain-tagged payload and envelope messages of a known transaction.
    #[test]
    fn encodes_like_the_flow_sdk() {
        let hex_sig = "f7225388c1d69d57e6251c9fda50cbbf9e05131e5adb81e5aa0422402f048162";
        let one = parse_address("t", "01").unwrap();
        let mut tx = Transaction {
            script: br#"transaction { execute { log("Hello, World!") } }"#.to_vec(),
            arguments: vec![],
            reference_block_id: hex::decode(
                "f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b",
            )
            .unwrap()
            .try_into()
            .unwrap(),
            gas_limit: 42,
            proposer: one,
            proposer_key_index: 4,
            proposer_sequence_number: 10,
            payer: one,
            authorizers: vec![one],
            payload_signatures: vec![Signature {
                address: one,
                key_index: 4,
                signature: hex::decode(hex_sig).unwrap(),
            }],
            envelope_signatures: vec![],
        };
        tx.sort_signatures().unwrap();
        let tag = hex::encode(transaction_domain_tag());
        assert_eq!(
            format!("{tag}{}", hex::encode(tx.payload_rlp())),
            "464c4f572d56302e302d7472616e73616374696f6e0000000000000000000000f872b07472616e73616374696f6e207b2065786563757465207b206c6f67282248656c6c6f2c20576f726c64212229207d207dc0a0f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b2a880000000000000001040a880000000000000001c9880000000000000001"
        );
        assert_eq!(
            format!("{tag}{}", hex::encode(tx.envelope_rlp().unwrap())),
            "464c4f572d56302e302d7472616e73616374696f6e0000000000000000000000f899f872b07472616e73616374696f6e207b2065786563757465207b206c6f67282248656c6c6f2c20576f726c64212229207d207dc0a0f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b2a880000000000000001040a880000000000000001c9880000000000000001e4e38004a0f7225388c1d69d57e6251c9fda50cbbf9e05131e5adb81e5aa0422402f048162"
        );
    }
}
