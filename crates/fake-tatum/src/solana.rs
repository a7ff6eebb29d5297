//! A simulated Solana node behind the Tatum node gateway
//! (`POST /v3/blockchain/node/SOL/{apiKey}`): a fresh blockhash on every
//! `getLatestBlockhash`, valid for 150 blocks; `sendTransaction` lands a
//! transaction whose blockhash is still valid (unless told to drop it);
//! `getTransaction`, `getSignatureStatuses` and `isBlockhashValid` answer
//! from what landed. Block height moves only when a test says so.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How many blocks a blockhash stays valid, as on Solana.
const VALID_FOR: u64 = 150;

#[derive(Default)]
pub(crate) struct SolanaNode {
    height: u64,
    counter: u64,
    /// Blockhash (base58) → last valid block height.
    blockhashes: HashMap<String, u64>,
    /// Signature (base58) → wire transaction (base64) of what landed.
    landed: HashMap<String, String>,
    /// Every accepted `sendTransaction`: (signature, wire).
    sends: Vec<(String, String)>,
    /// The next this many accepted sends never land.
    drop_next: u32,
}

/// What the simulated node saw, for assertions.
#[derive(Clone, Debug, Default)]
pub struct SolanaView {
    /// Every accepted `sendTransaction`: (first signature, wire base64).
    pub sends: Vec<(String, String)>,
    /// The signatures of the transactions that landed.
    pub landed: Vec<String>,
    /// Blockhashes handed out.
    pub blockhashes_issued: u64,
}

impl SolanaNode {
    pub(crate) fn new() -> SolanaNode {
        SolanaNode {
            height: 1_000,
            ..Default::default()
        }
    }

    pub(crate) fn advance(&mut self, blocks: u64) {
        self.height += blocks;
    }

    pub(crate) fn drop_next(&mut self, sends: u32) {
        self.drop_next = sends;
    }

    pub(crate) fn view(&self) -> SolanaView {
        let mut landed: Vec<String> = self.landed.keys().cloned().collect();
        landed.sort();
        SolanaView {
            sends: self.sends.clone(),
            landed,
            blockhashes_issued: self.counter,
        }
    }

    fn valid(&self, blockhash: &str) -> bool {
        self.blockhashes
            .get(blockhash)
            .is_some_and(|last| self.height <= *last)
    }

    /// The JSON-RPC answer to `request`.
    pub(crate) fn answer(&mut self, request: &Value) -> Value {
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let params = &request["params"];
        let context = json!({"slot": self.height + 50_000_000});
        let result = match request["method"].as_str().unwrap_or_default() {
            "getLatestBlockhash" => {
                self.counter += 1;
                let hash = Sha256::digest(format!("fake blockhash {}", self.counter));
                let blockhash = bs58::encode(hash).into_string();
                let last = self.height + VALID_FOR;
                self.blockhashes.insert(blockhash.clone(), last);
                Ok(
                    json!({"context": context, "value": {"blockhash": blockhash, "lastValidBlockHeight": last}}),
                )
            }
            "isBlockhashValid" => {
                let valid = params[0].as_str().is_some_and(|b| self.valid(b));
                Ok(json!({"context": context, "value": valid}))
            }
            "getBlockHeight" => Ok(json!(self.height)),
            "sendTransaction" => self.send(params[0].as_str().unwrap_or_default()),
            "getTransaction" => Ok(match params[0].as_str().and_then(|s| self.landed.get(s)) {
                Some(_) => json!({"slot": self.height, "meta": {"err": null, "fee": 5000}}),
                None => Value::Null,
            }),
            "getSignatureStatuses" => {
                let statuses: Vec<Value> = params[0]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| match s.as_str().and_then(|s| self.landed.get(s)) {
                        Some(_) => json!({"slot": self.height, "confirmations": null, "err": null, "confirmationStatus": "finalized"}),
                        None => Value::Null,
                    })
                    .collect();
                Ok(json!({"context": context, "value": statuses}))
            }
            other => Err(json!({"code": -32601, "message": format!("Method not found: {other}")})),
        };
        match result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
        }
    }

    fn send(&mut self, wire_base64: &str) -> Result<Value, Value> {
        let invalid =
            |why: &str| json!({"code": -32602, "message": format!("invalid transaction: {why}")});
        let wire = base64::engine::general_purpose::STANDARD
            .decode(wire_base64)
            .map_err(|_| invalid("not base64"))?;
        let (signature, blockhash) = parse_wire(&wire).ok_or_else(|| invalid("cannot parse"))?;
        if !self.valid(&blockhash) {
            return Err(
                json!({"code": -32002, "message": "Transaction simulation failed: Blockhash not found"}),
            );
        }
        self.sends.push((signature.clone(), wire_base64.to_owned()));
        if self.drop_next > 0 {
            self.drop_next -= 1;
        } else {
            self.landed
                .insert(signature.clone(), wire_base64.to_owned());
        }
        Ok(json!(signature))
    }
}

/// The first signature (base58) and the recent blockhash (base58) of a
/// legacy wire transaction: signatures, then the message (header, account
/// keys, blockhash...). Counts below 128 only (one compact-u16 byte).
fn parse_wire(wire: &[u8]) -> Option<(String, String)> {
    let signatures = *wire.first()? as usize;
    if signatures == 0 || signatures >= 128 {
        return None;
    }
    let first = wire.get(1..65)?;
    let message = wire.get(1 + 64 * signatures..)?;
    let keys = *message.get(3)? as usize;
    if keys >= 128 {
        return None;
    }
    let start = 4 + 32 * keys;
    let blockhash = message.get(start..start + 32)?;
    Some((
        bs58::encode(first).into_string(),
        bs58::encode(blockhash).into_string(),
    ))
}
