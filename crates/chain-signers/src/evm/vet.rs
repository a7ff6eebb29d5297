//! VeChain: thorify built the transaction against a VeChain node (not the
//! Tatum API): chain tag = last byte of the genesis block id, block ref =
//! first 8 bytes of the best block id, expiration 720 blocks, gas estimated
//! by simulating the clause; then RLP `[chainTag, blockRef, expiration,
//! clauses, gasPriceCoef, gas, dependsOn, nonce, reserved]`, signed with
//! secp256k1 over its BLAKE2b-256, the 65-byte r ‖ s ‖ recovery-id
//! signature appended as the last list item.

use alloy_primitives::{Address, Bytes, U256};
use alloy_rlp::{Encodable, Header};
use async_trait::async_trait;
use bitcoin::secp256k1::{Message, PublicKey};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use kms_core::{ApiRequest, Chain, ChainApi, Intent, Service};
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use super::intent;
use super::tx::quantity;
use crate::secp_account::{eth_address_bytes, TxSigning};
use crate::secp_hd::{secp, secret_from_hex};
use crate::{Prepared, SignInput, SignedTx, SignerError};

pub(crate) struct VetSigning;
pub(crate) static VET_SIGNING: VetSigning = VetSigning;

/// thorify's default lifetime of a transaction, in blocks.
const EXPIRATION: u64 = 720;
/// VeChain's intrinsic gas: per transaction, per clause with a recipient,
/// per clause creating a contract, per zero and non-zero data byte.
const TX_GAS: u64 = 5_000;
const CLAUSE_GAS: u64 = 16_000;
const CREATION_CLAUSE_GAS: u64 = 48_000;
const ZERO_BYTE_GAS: u64 = 4;
const NONZERO_BYTE_GAS: u64 = 68;
/// What thorify adds on top of the simulated gas when the clause ran code.
const VM_INVOCATION_GAS: u64 = 15_000;

fn bad(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::VET, reason)
}

/// The one clause of a thorify transaction.
struct Clause {
    to: Option<Address>,
    value: U256,
    data: Bytes,
}

struct VetTx {
    clause: Clause,
    gas_price_coef: u64,
    nonce: u64,
}

fn parse(text: &str) -> Result<VetTx, SignerError> {
    let json: Map<String, Value> = serde_json::from_str(text)
        .map_err(|e| bad(format!("serializedTransaction is not a JSON object: {e}")))?;
    let to = match json
        .get("to")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(
            s.parse::<Address>()
                .map_err(|_| bad(format!("to '{s}' is not an address")))?,
        ),
        None => None,
    };
    let value = quantity(Chain::VET, "value", json.get("value"))?.unwrap_or(U256::ZERO);
    let data = match json.get("data").and_then(Value::as_str) {
        None | Some("") | Some("0x") => Bytes::new(),
        Some(s) => s.parse::<Bytes>().map_err(|_| bad("data is not 0x hex"))?,
    };
    let small = |name: &str| -> Result<Option<u64>, SignerError> {
        quantity(Chain::VET, name, json.get(name))?
            .map(|v| u64::try_from(v).map_err(|_| bad(format!("{name} is too large"))))
            .transpose()
    };
    let gas_price_coef = small("gasPriceCoef")?.unwrap_or(0);
    if gas_price_coef > 255 {
        return Err(bad("gasPriceCoef must be 0..255"));
    }
    Ok(VetTx {
        clause: Clause { to, value, data },
        gas_price_coef,
        // thorify draws a random nonce when none is given; a signer that
        // must be repeatable asks for one. (0 is a nonce here, not "missing".)
        nonce: match json.get("nonce") {
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| bad("nonce must be a whole number"))?,
            _ => small("nonce")?.ok_or_else(|| bad("nonce is missing"))?,
        },
    })
}

fn intrinsic_gas(clause: &Clause) -> u64 {
    let data: u64 = clause
        .data
        .iter()
        .map(|&b| {
            if b == 0 {
                ZERO_BYTE_GAS
            } else {
                NONZERO_BYTE_GAS
            }
        })
        .sum();
    let per_clause = if clause.to.is_some() {
        CLAUSE_GAS
    } else {
        CREATION_CLAUSE_GAS
    };
    TX_GAS + per_clause + data
}

fn hex_field<'a>(answer: &'a Value, name: &str, path: &str) -> Result<&'a str, SignerError> {
    answer
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| SignerError::Network {
            chain: Chain::VET,
            reason: format!("{path}: the answer has no {name}"),
        })
}

fn block_id(answer: &Value, path: &str) -> Result<[u8; 32], SignerError> {
    let id = hex_field(answer, "id", path)?;
    let bytes = hex::decode(id.trim_start_matches("0x")).map_err(|_| SignerError::Network {
        chain: Chain::VET,
        reason: format!("{path}: block id is not hex"),
    })?;
    bytes.try_into().map_err(|_| SignerError::Network {
        chain: Chain::VET,
        reason: format!("{path}: block id is not 32 bytes"),
    })
}

fn sender(input: &SignInput<'_>) -> Result<(bitcoin::secp256k1::SecretKey, Address), SignerError> {
    let key = input.keys.first().ok_or_else(|| SignerError::MissingKey {
        chain: Chain::VET,
        reason: "no private key was resolved for this transaction".into(),
    })?;
    let secret = secret_from_hex(Chain::VET, key.expose_secret())?;
    let public = PublicKey::from_secret_key(secp(), &secret);
    Ok((secret, Address::from(eth_address_bytes(&public))))
}

/// The transaction completed with what `prepare` fetched: exactly what
/// `sign` signs and `intent` shows, built in one place.
struct Completed {
    body: VetTx,
    chain_tag: u64,
    block_ref: u64,
    gas: u64,
}

fn complete(input: &SignInput<'_>, prepared: &Prepared) -> Result<Completed, SignerError> {
    let body = parse(&input.pending.serialized_transaction)?;
    let fact = |name: &str| {
        prepared.0.get(name).ok_or_else(|| SignerError::Network {
            chain: Chain::VET,
            reason: format!("{name} was not fetched from the VeChain node"),
        })
    };
    let chain_tag = fact("chainTag")?.as_u64().unwrap_or_default();
    // Pinned per network: the last byte of the genesis block id (mainnet
    // 0x4a, testnet 0x27). Another one is another chain's transaction.
    let expected: u64 = match input.network {
        kms_core::Network::Mainnet => 0x4a,
        kms_core::Network::Testnet => 0x27,
    };
    if chain_tag != expected {
        return Err(SignerError::tx(
            Chain::VET,
            format!(
                "chain tag {chain_tag} is not VET {} (expected {expected}); refused",
                input.network
            ),
        ));
    }
    let block_ref_hex = fact("blockRef")?.as_str().unwrap_or_default();
    let block_ref = u64::from_str_radix(block_ref_hex, 16).map_err(|_| bad("bad blockRef"))?;
    // thorify always estimated gas, whatever the JSON said.
    let gas = fact("gas")?.as_u64().unwrap_or_default();
    Ok(Completed {
        body,
        chain_tag,
        block_ref,
        gas,
    })
}

#[async_trait]
impl TxSigning for VetSigning {
    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        let tx = parse(&input.pending.serialized_transaction)?;
        let (_, from) = sender(input)?;
        let mut facts = Map::new();
        // Gas is always estimated, as thorify did: simulate the clause.
        let path = "/accounts/*?revision=best";
        let clause = json!({
            "to": tx.clause.to.map(|a| format!("{a:#x}")),
            "value": format!("{:#x}", tx.clause.value),
            "data": format!("{}", tx.clause.data),
        });
        let answer = api
            .call(ApiRequest::post(
                Service::VetNode,
                path,
                json!({"clauses": [clause], "caller": format!("{from:#x}")}),
            ))
            .await?;
        let outcome = answer.get(0).ok_or_else(|| SignerError::Network {
            chain: Chain::VET,
            reason: format!("{path}: expected one clause outcome"),
        })?;
        if outcome.get("reverted").and_then(Value::as_bool) == Some(true) {
            return Err(SignerError::Network {
                chain: Chain::VET,
                reason: format!(
                    "the node's simulation reverted: {}",
                    outcome.get("vmError").and_then(Value::as_str).unwrap_or("")
                ),
            });
        }
        let used = outcome.get("gasUsed").and_then(Value::as_u64).unwrap_or(0);
        let vm = if used > 0 {
            used + VM_INVOCATION_GAS
        } else {
            0
        };
        facts.insert("gas".into(), json!(intrinsic_gas(&tx.clause) + vm));

        let genesis = block_id(
            &api.call(ApiRequest::get(Service::VetNode, "/blocks/0"))
                .await?,
            "/blocks/0",
        )?;
        facts.insert("chainTag".into(), json!(genesis[31]));
        let best = block_id(
            &api.call(ApiRequest::get(Service::VetNode, "/blocks/best"))
                .await?,
            "/blocks/best",
        )?;
        facts.insert("blockRef".into(), json!(hex::encode(&best[..8])));
        Ok(Prepared(facts))
    }

    /// The fee is reported as the gas limit in VeChain gas units, not in a
    /// coin: VeChain charges it in VTHO (the energy token, not VET) at
    /// `gas × baseGasPrice × (1 + gasPriceCoef/255)`, and the base gas price
    /// is an on-chain governance parameter that `prepare` does not fetch.
    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        let tx = complete(input, prepared)?;
        let (_, sender) = sender(input)?;
        let clause = &tx.body.clause;
        // A creation's address derives from the transaction id: not shown,
        // so a creation sending VET is refused by the decoder.
        let call = intent::decode_call(
            Chain::VET,
            clause.to.as_ref(),
            clause.value,
            &clause.data,
            || None,
        )?;
        let mut out = Intent::new(Chain::VET, input.network);
        out.chain_id = Some(tx.chain_tag.to_string());
        out.senders = vec![intent::address_text(Chain::VET, &sender)];
        out.transfers = call.transfers;
        out.fee = Some(tx.gas.to_string());
        out.nonce = Some(tx.body.nonce.to_string());
        out.memo = call.memo;
        Ok(out)
    }

    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let Completed {
            body: tx,
            chain_tag,
            block_ref,
            gas,
        } = complete(input, prepared)?;
        let (secret, _) = sender(input)?;

        let mut clause = Vec::new();
        match &tx.clause.to {
            Some(to) => to.encode(&mut clause),
            None => Bytes::new().encode(&mut clause),
        }
        tx.clause.value.encode(&mut clause);
        tx.clause.data.encode(&mut clause);
        let clause = wrap_list(&clause);
        let clauses = wrap_list(&clause);

        let mut body = Vec::new();
        chain_tag.encode(&mut body);
        block_ref.encode(&mut body);
        EXPIRATION.encode(&mut body);
        body.extend_from_slice(&clauses);
        tx.gas_price_coef.encode(&mut body);
        gas.encode(&mut body);
        Bytes::new().encode(&mut body); // dependsOn: none
        tx.nonce.encode(&mut body);
        body.extend_from_slice(&wrap_list(&[])); // reserved: no features

        let unsigned = wrap_list(&body);
        let digest: [u8; 32] = Blake2b::<U32>::digest(&unsigned).into();
        let (recovery, compact) = secp()
            .sign_ecdsa_recoverable(&Message::from_digest(digest), &secret)
            .serialize_compact();
        let mut signature = compact.to_vec();
        signature.push(recovery.to_i32() as u8);
        Bytes::from(signature).encode(&mut body);
        Ok(SignedTx::plain(format!(
            "0x{}",
            hex::encode(wrap_list(&body))
        )))
    }
}

/// An RLP list around already-encoded items.
fn wrap_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 9);
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out
}
