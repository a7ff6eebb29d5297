//! TRON: Ethereum-style key hashing, base58check addresses with version 0x41,
//! keys as 64 hex without `0x`, the same path on both networks.
//!
//! # Signing
//! The Tatum API sends TronWeb's transaction JSON (`{visible, txID,
//! raw_data, raw_data_hex}`); the signature is over `txID` = SHA-256 of the
//! raw data, 65 bytes r ‖ s ‖ v with v = 27/28, written as TronWeb writes it
//! (lowercase r ‖ s, uppercase v). The output is the same JSON with
//! `"signature": [...]` appended.
//!
//! # Intent
//! Only `raw_data_hex` is signed, so the intent is decoded from it (the
//! protobuf `Transaction.raw`), never from the `raw_data` JSON beside it.
//! Exactly one contract, of one of two kinds:
//! * `TransferContract`: TRX from `owner_address` to `to_address`, `amount`
//!   in sun;
//! * `TriggerSmartContract` whose data is TRC-20 `transfer(address,uint256)`:
//!   the token amount to the recipient, asset = the contract's address (and
//!   any `call_value` as a TRX transfer to the contract).
//!
//! Every other contract, call or field that could change what the
//! transaction does (authorities, scripts, TRC-10 tokens attached to a
//! call, a permission id) is refused. The fee is `fee_limit` where set
//! (sun); the memo is the `data` field.

use alloy_primitives::U256;
use async_trait::async_trait;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Message, PublicKey};
use kms_core::{Chain, Intent, Network, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};

use crate::secp_account::{eth_address_bytes, hex_plain, AccountChain};
use crate::secp_hd::{secp, secret_from_hex};
use crate::{
    Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer, SignerError, XpubAddresses,
};

fn address(key: &PublicKey) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(0x41);
    payload.extend_from_slice(&eth_address_bytes(key));
    bitcoin::base58::encode_check(&payload)
}

/// Derivation is the secp256k1 account-chain scheme with TRON's encodings.
static DERIVATION: AccountChain = AccountChain {
    chain: Chain::TRON,
    coin_mainnet: 195,
    coin_testnet: 195,
    xpub_first: false,
    address,
    key_text: hex_plain,
    parse_key: secret_from_hex,
    signing: None,
};

pub(crate) struct Tron;

pub(crate) static TRON: Tron = Tron;

fn bad(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::TRON, reason)
}

/// The pending transaction's JSON text and the raw data its signature
/// covers, after the checks both `sign` and `intent` rely on: `txID` is the
/// SHA-256 of `raw_data_hex`, and there is no signature yet.
struct Pending<'a> {
    text: &'a str,
    raw: Vec<u8>,
    digest: [u8; 32],
}

impl<'a> Pending<'a> {
    fn parse(input: &'a SignInput<'_>) -> Result<Pending<'a>, SignerError> {
        let text = input.pending.serialized_transaction.trim();
        let tx: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        let field = |name: &str| {
            tx.get(name)
                .and_then(|v| v.as_str())
                .ok_or_else(|| bad(format!("{name} is missing")))
        };
        let raw =
            hex::decode(field("raw_data_hex")?).map_err(|_| bad("raw_data_hex is not hex"))?;
        let tx_id = field("txID")?;
        let digest = sha256::Hash::hash(&raw).to_byte_array();
        // The API computed txID; we sign only what we can see is the raw data.
        if !hex::encode(digest).eq_ignore_ascii_case(tx_id) {
            return Err(bad("txID is not the SHA-256 of raw_data_hex"));
        }
        if tx.contains_key("signature") {
            return Err(bad("the transaction is already signed"));
        }
        Ok(Pending { text, raw, digest })
    }
}

#[async_trait]
impl Signer for Tron {
    fn chain(&self) -> Chain {
        Chain::TRON
    }

    fn mnemonic_wallets(&self) -> Option<&dyn MnemonicWallets> {
        Some(&DERIVATION)
    }

    fn xpub_addresses(&self) -> Option<&dyn XpubAddresses> {
        Some(&DERIVATION)
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

    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        let pending = Pending::parse(input)?;
        decode_raw(input.network, &pending.raw)
    }

    fn sign(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let pending = Pending::parse(input)?;
        let key = input.keys.first().ok_or_else(|| SignerError::MissingKey {
            chain: Chain::TRON,
            reason: "no private key was resolved for this transaction".into(),
        })?;
        let secret = secret_from_hex(Chain::TRON, key.expose_secret())?;
        let message = Message::from_digest(pending.digest);
        let (recovery, compact) = secp()
            .sign_ecdsa_recoverable(&message, &secret)
            .serialize_compact();
        let v = 27 + recovery.to_i32() as u8;
        let signature = format!("{}{v:02X}", hex::encode(compact));
        // Append to the text as received: re-serializing could change number
        // formatting or key order, and the API expects its own JSON back.
        let body = pending
            .text
            .strip_suffix('}')
            .ok_or_else(|| bad("not a JSON object"))?;
        Ok(SignedTx::plain(format!(
            "{body},\"signature\":[\"{signature}\"]}}"
        )))
    }
}

/// One protobuf field value: the two wire types TRON's transaction
/// messages use.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads protobuf fields in order. Fixed-width and group wire types do not
/// occur in the messages decoded here and are refused.
struct Fields<'a> {
    rest: &'a [u8],
    /// The message being read, for errors.
    message: &'static str,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], message: &'static str) -> Self {
        Fields {
            rest: bytes,
            message,
        }
    }

    fn varint(&mut self) -> Result<u64, SignerError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .rest
                .split_first()
                .ok_or_else(|| bad(format!("{}: truncated varint", self.message)))?;
            self.rest = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad(format!(
            "{}: varint longer than 10 bytes",
            self.message
        )))
    }

    fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>, SignerError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, wire_type) = (key >> 3, key & 7);
        let value = match wire_type {
            0 => Wire::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?)
                    .ok()
                    .filter(|&n| n <= self.rest.len())
                    .ok_or_else(|| bad(format!("{}: field {number} overruns", self.message)))?;
                let (bytes, rest) = self.rest.split_at(len);
                self.rest = rest;
                Wire::Bytes(bytes)
            }
            other => {
                return Err(bad(format!(
                    "{}: field {number} has wire type {other}, which this decoder does not read",
                    self.message
                )))
            }
        };
        Ok(Some((number, value)))
    }

    fn unexpected(&self, number: u64) -> SignerError {
        bad(format!(
            "{}: field {number} is not one this decoder understands, so the transaction is not signed",
            self.message
        ))
    }
}

/// An int64 the chain treats as an amount: negative values (encoded as
/// huge varints) are refused.
fn amount(message: &str, field: &str, value: u64) -> Result<u64, SignerError> {
    if value > i64::MAX as u64 {
        return Err(bad(format!("{message}: {field} is negative")));
    }
    Ok(value)
}

/// A 21-byte TRON address (0x41 ‖ 20 bytes) in base58check.
fn tron_address(message: &str, field: &str, bytes: &[u8]) -> Result<String, SignerError> {
    if bytes.len() != 21 || bytes[0] != 0x41 {
        return Err(bad(format!(
            "{message}: {field} is not a TRON address (0x41 and 20 bytes)"
        )));
    }
    Ok(bitcoin::base58::encode_check(bytes))
}

/// `ContractType` numbers of the two contracts decoded.
const TRANSFER_CONTRACT: u64 = 1;
const TRIGGER_SMART_CONTRACT: u64 = 31;

/// `Transaction.raw`: reference block, expiration and timestamp are read
/// past (they bound when the transaction is valid, not what it does).
fn decode_raw(network: Network, raw: &[u8]) -> Result<Intent, SignerError> {
    let mut intent = Intent::new(Chain::TRON, network);
    let mut contracts = Vec::new();
    let mut fields = Fields::new(raw, "raw_data");
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            // ref_block_bytes, ref_block_hash
            (1 | 4, Wire::Bytes(_)) => {}
            // ref_block_num, expiration, timestamp
            (3 | 8 | 14, Wire::Varint(_)) => {}
            (10, Wire::Bytes(data)) => {
                intent.memo = Some(match std::str::from_utf8(data) {
                    Ok(text) => text.to_string(),
                    Err(_) => format!("0x{}", hex::encode(data)),
                })
            }
            (11, Wire::Bytes(contract)) => contracts.push(contract),
            (18, Wire::Varint(limit)) => {
                intent.fee = Some(amount("raw_data", "fee_limit", limit)?.to_string())
            }
            (number, _) => return Err(fields.unexpected(number)),
        }
    }
    // The chain executes a transaction of exactly one contract.
    let [contract] = contracts[..] else {
        return Err(bad(format!(
            "raw_data has {} contracts; a TRON transaction has exactly one",
            contracts.len()
        )));
    };
    decode_contract(&mut intent, contract)?;
    Ok(intent)
}

/// `Transaction.Contract`: its type and its `google.protobuf.Any` parameter.
fn decode_contract(intent: &mut Intent, bytes: &[u8]) -> Result<(), SignerError> {
    let mut kind = None;
    let mut parameter = None;
    let mut fields = Fields::new(bytes, "contract");
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Wire::Varint(n)) => kind = Some(n),
            (2, Wire::Bytes(any)) => parameter = Some(any),
            // Permission_id 0 is the owner permission, the default.
            (5, Wire::Varint(0)) => {}
            (number, _) => return Err(fields.unexpected(number)),
        }
    }
    let (kind, parameter) = kind
        .zip(parameter)
        .ok_or_else(|| bad("contract: type or parameter is missing"))?;
    let (type_url, value) = decode_any(parameter)?;
    let expected = match kind {
        TRANSFER_CONTRACT => "type.googleapis.com/protocol.TransferContract",
        TRIGGER_SMART_CONTRACT => "type.googleapis.com/protocol.TriggerSmartContract",
        other => {
            return Err(SignerError::unsupported(
                Chain::TRON,
                format!("contract type {other} ({type_url})"),
            ))
        }
    };
    if type_url != expected {
        return Err(bad(format!(
            "contract type {kind} carries a parameter of type {type_url}"
        )));
    }
    if kind == TRANSFER_CONTRACT {
        decode_transfer(intent, value)
    } else {
        decode_trigger(intent, value)
    }
}

/// `google.protobuf.Any`: type URL and value.
fn decode_any(bytes: &[u8]) -> Result<(&str, &[u8]), SignerError> {
    let (mut type_url, mut value) = (None, &[][..]);
    let mut fields = Fields::new(bytes, "contract parameter");
    while let Some((number, wire)) = fields.next_field()? {
        match (number, wire) {
            (1, Wire::Bytes(url)) => {
                type_url = Some(
                    std::str::from_utf8(url)
                        .map_err(|_| bad("contract parameter: type_url is not text"))?,
                )
            }
            (2, Wire::Bytes(v)) => value = v,
            (number, _) => return Err(fields.unexpected(number)),
        }
    }
    let type_url = type_url.ok_or_else(|| bad("contract parameter: type_url is missing"))?;
    Ok((type_url, value))
}

/// `TransferContract {owner_address = 1; to_address = 2; amount = 3}`.
fn decode_transfer(intent: &mut Intent, bytes: &[u8]) -> Result<(), SignerError> {
    const MESSAGE: &str = "TransferContract";
    let (mut owner, mut to, mut sun) = (None, None, 0);
    let mut fields = Fields::new(bytes, MESSAGE);
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Wire::Bytes(b)) => owner = Some(tron_address(MESSAGE, "owner_address", b)?),
            (2, Wire::Bytes(b)) => to = Some(tron_address(MESSAGE, "to_address", b)?),
            (3, Wire::Varint(n)) => sun = amount(MESSAGE, "amount", n)?,
            (number, _) => return Err(fields.unexpected(number)),
        }
    }
    let (owner, to) = owner
        .zip(to)
        .ok_or_else(|| bad("TransferContract: owner_address or to_address is missing"))?;
    intent.senders.push(owner);
    intent.transfers.push(Transfer {
        to,
        amount: sun.to_string(),
        asset: None,
    });
    Ok(())
}

/// The selector of `transfer(address,uint256)`.
const TRC20_TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];

/// `TriggerSmartContract {owner_address = 1; contract_address = 2;
/// call_value = 3; data = 4; call_token_value = 5; token_id = 6}`, accepted
/// only as a TRC-20 `transfer`.
fn decode_trigger(intent: &mut Intent, bytes: &[u8]) -> Result<(), SignerError> {
    const MESSAGE: &str = "TriggerSmartContract";
    let (mut owner, mut contract, mut call_value, mut data) = (None, None, 0, &[][..]);
    let mut fields = Fields::new(bytes, MESSAGE);
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Wire::Bytes(b)) => owner = Some(tron_address(MESSAGE, "owner_address", b)?),
            (2, Wire::Bytes(b)) => contract = Some(tron_address(MESSAGE, "contract_address", b)?),
            (3, Wire::Varint(n)) => call_value = amount(MESSAGE, "call_value", n)?,
            (4, Wire::Bytes(b)) => data = b,
            // A TRC-10 token sent along with the call would be a payment
            // this decoder does not report.
            (5 | 6, Wire::Varint(0)) => {}
            (number, _) => return Err(fields.unexpected(number)),
        }
    }
    let (owner, contract) = owner
        .zip(contract)
        .ok_or_else(|| bad("TriggerSmartContract: owner_address or contract_address is missing"))?;
    // transfer(address,uint256): selector, then two 32-byte words.
    if data.len() != 4 + 32 + 32 || data[..4] != TRC20_TRANSFER {
        let selector = data.get(..4).map(hex::encode).unwrap_or_default();
        return Err(SignerError::unsupported(
            Chain::TRON,
            format!(
                "smart contract call 0x{selector} (only TRC-20 transfer(address,uint256) is decoded)"
            ),
        ));
    }
    let (recipient_word, amount_word) = (&data[4..36], &data[36..68]);
    // ABI addresses are 20 bytes right-aligned; dirty upper bytes are
    // refused rather than guessed at.
    if recipient_word[..12].iter().any(|&b| b != 0) {
        return Err(bad(
            "TRC-20 transfer: the recipient word is not a 20-byte address",
        ));
    }
    let mut recipient = [0x41u8; 21];
    recipient[1..].copy_from_slice(&recipient_word[12..]);
    intent.senders.push(owner);
    if call_value != 0 {
        intent.transfers.push(Transfer {
            to: contract.clone(),
            amount: call_value.to_string(),
            asset: None,
        });
    }
    intent.transfers.push(Transfer {
        to: bitcoin::base58::encode_check(&recipient),
        amount: U256::from_be_slice(amount_word).to_string(),
        asset: Some(contract),
    });
    Ok(())
}
