//! EVM transactions as the Tatum API hands them over (web3 `TransactionConfig`
//! JSON, or ethers-style for CELO), completed from the network where the
//! original completed them, and signed as legacy EIP-155 RLP, or as EIP-1559
//! (type 2) when the JSON carries `maxFeePerGas` (the original failed there);
//! CELO with a fee currency as CIP-64 ([`celo`]).

use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use async_trait::async_trait;
use k256::ecdsa::SigningKey;
use kms_core::api::rpc_result;
use kms_core::{ApiRequest, Chain, ChainApi, Intent, Service};
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use super::{celo, intent};
use crate::secp_account::TxSigning;
use crate::{Prepared, SignInput, SignedTx, SignerError};

/// Where a chain's SDK filled missing fields from, and its quirks.
pub(crate) struct EvmSigning {
    pub chain: Chain,
    /// JSON-RPC endpoint of the chain, with `{apiKey}`.
    pub rpc: &'static str,
    /// `GET {count}{checksumAddress}` answers the nonce (ETH, BSC, XDC);
    /// elsewhere `eth_getTransactionCount`.
    pub count: Option<&'static str>,
    /// `GET /v3/blockchain/fee/{CHAIN}` → `.medium` for a missing gas price;
    /// elsewhere `eth_gasPrice`.
    pub fee: Option<&'static str>,
    /// JSON-RPC method prefix: `eth` or `klay`.
    pub rpc_prefix: &'static str,
    /// XDC's SDK replaces `gas` with the node's estimate even when present.
    pub always_estimate_gas: bool,
    /// CELO: ethers-style fields, `gasLimit` missing or "0" = estimate +
    /// 100000, `feeCurrency` (CIP-64).
    pub celo: bool,
}

/// The transaction as parsed from its JSON; `None` where the JSON had a
/// value JavaScript would treat as missing (absent, null, 0, "").
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub nonce: Option<u64>,
    pub gas_price: Option<u128>,
    pub gas: Option<u64>,
    pub chain_id: Option<u64>,
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
    pub max_fee_per_gas: Option<u128>,
    pub max_priority_fee_per_gas: Option<u128>,
}

fn bad(chain: Chain, reason: impl Into<String>) -> SignerError {
    SignerError::tx(chain, reason)
}

/// A quantity as web3 and ethers accept it: a JSON number, a decimal string
/// or a `0x` hex string. JavaScript-falsy values are `None`.
pub(crate) fn quantity(
    chain: Chain,
    name: &str,
    value: Option<&Value>,
) -> Result<Option<U256>, SignerError> {
    let parsed = match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                U256::from(u)
            } else {
                return Err(bad(
                    chain,
                    format!("{name} must be a whole, non-negative number"),
                ));
            }
        }
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => {
            let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some("") => Ok(U256::ZERO),
                Some(hex) => U256::from_str_radix(hex, 16),
                None => U256::from_str_radix(s, 10),
            };
            parsed.map_err(|_| bad(chain, format!("{name} '{s}' is not a number")))?
        }
        Some(_) => {
            return Err(bad(
                chain,
                format!("{name} must be a number or a numeric string"),
            ))
        }
    };
    // JavaScript's `!tx.nonce` treats a numeric 0 as missing; so did the SDK.
    if parsed.is_zero() && matches!(value, Some(Value::Number(_))) {
        return Ok(None);
    }
    Ok(Some(parsed))
}

fn narrow<T: TryFrom<U256>>(
    chain: Chain,
    name: &str,
    v: Option<U256>,
) -> Result<Option<T>, SignerError> {
    v.map(|v| T::try_from(v).map_err(|_| bad(chain, format!("{name} is too large"))))
        .transpose()
}

impl Fields {
    pub(crate) fn parse(
        chain: Chain,
        text: &str,
        celo: bool,
    ) -> Result<(Map<String, Value>, Fields), SignerError> {
        let json: Map<String, Value> = serde_json::from_str(text).map_err(|e| {
            bad(
                chain,
                format!("serializedTransaction is not a JSON object: {e}"),
            )
        })?;
        let q = |name: &str| quantity(chain, name, json.get(name));
        let gas_key = if celo { "gasLimit" } else { "gas" };
        let to = match json.get("to") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => {
                let hex = s
                    .strip_prefix("xdc")
                    .map(|h| format!("0x{h}"))
                    .unwrap_or_else(|| s.clone());
                Some(
                    hex.parse::<Address>()
                        .map_err(|_| bad(chain, format!("to '{s}' is not an address")))?,
                )
            }
            Some(_) => return Err(bad(chain, "to must be an address string")),
        };
        let data = match json.get("data") {
            None | Some(Value::Null) => Bytes::new(),
            Some(Value::String(s)) => {
                let hex = s.strip_prefix("0x").unwrap_or(s);
                Bytes::from(hex::decode(hex).map_err(|_| bad(chain, "data is not hex"))?)
            }
            Some(_) => return Err(bad(chain, "data must be a hex string")),
        };
        let fields = Fields {
            nonce: narrow(chain, "nonce", q("nonce")?)?,
            gas_price: narrow(chain, "gasPrice", q("gasPrice")?)?,
            gas: narrow(chain, gas_key, q(gas_key)?)?,
            chain_id: narrow(chain, "chainId", q("chainId")?)?,
            to,
            value: q("value")?.unwrap_or_default(),
            data,
            max_fee_per_gas: narrow(chain, "maxFeePerGas", q("maxFeePerGas")?)?,
            max_priority_fee_per_gas: narrow(
                chain,
                "maxPriorityFeePerGas",
                q("maxPriorityFeePerGas")?,
            )?,
        };
        let mut fields = fields;
        if celo && fields.gas == Some(0) {
            // The CELO SDK estimates a gasLimit of "0" as if it were missing.
            fields.gas = None;
        }
        Ok((json, fields))
    }

    fn is_1559(&self) -> bool {
        self.max_fee_per_gas.is_some() || self.max_priority_fee_per_gas.is_some()
    }
}

/// The sender's secp256k1 key, from its hex text (`SigningKey` zeroizes its
/// scalar on drop).
pub(crate) fn signer_of(chain: Chain, input: &SignInput<'_>) -> Result<SigningKey, SignerError> {
    let key = input.keys.first().ok_or_else(|| SignerError::MissingKey {
        chain,
        reason: "no private key was resolved for this transaction".into(),
    })?;
    let text = key.expose_secret().trim();
    let hex_part = zeroize::Zeroizing::new(text.strip_prefix("0x").unwrap_or(text).to_string());
    let bytes = zeroize::Zeroizing::new(
        hex::decode(hex_part.as_str()).map_err(|_| SignerError::key(chain, "not hexadecimal"))?,
    );
    SigningKey::from_slice(&bytes).map_err(|_| SignerError::key(chain, "not a valid secp256k1 key"))
}

/// Ethereum's recoverable ECDSA over a 32-byte hash: RFC 6979 nonce, low `s`,
/// and the y parity of `R`. This is exactly what alloy's `PrivateKeySigner`
/// does (`sign_prehash_recoverable`, then the same conversion), without the
/// signer crates it would pull in for this one call.
pub(crate) fn sign_hash(
    chain: Chain,
    key: &SigningKey,
    hash: &B256,
) -> Result<Signature, SignerError> {
    let recoverable = key
        .sign_prehash_recoverable(hash.as_slice())
        .map_err(|e| SignerError::key(chain, e.to_string()))?;
    Ok(Signature::from(recoverable))
}

fn hex_quantity(v: impl Into<U256>) -> String {
    format!("{:#x}", v.into())
}

fn as_u64(chain: Chain, what: &str, v: &Value) -> Result<u64, SignerError> {
    let q = quantity(chain, what, Some(v))?.unwrap_or_default();
    u64::try_from(q).map_err(|_| bad(chain, format!("{what} from the network is too large")))
}

impl EvmSigning {
    /// CELO's fee currency (see [`celo::fee_currency`]); other chains have
    /// none, whatever their JSON says.
    fn fee_currency(
        &self,
        input: &SignInput<'_>,
        json: &Map<String, Value>,
    ) -> Result<Option<Address>, SignerError> {
        if !self.celo {
            return Ok(None);
        }
        celo::refuse_gateway_fee(json)?;
        celo::fee_currency(input.network, json.get("feeCurrency"))
    }

    async fn rpc(
        &self,
        api: &dyn ChainApi,
        method: &str,
        params: Value,
    ) -> Result<Value, SignerError> {
        let method = format!("{}_{}", self.rpc_prefix, method);
        let answer = api
            .call(ApiRequest::json_rpc(self.rpc, &method, params))
            .await?;
        Ok(rpc_result(self.rpc, answer)?)
    }
}

/// How the signed transaction prices its gas.
pub(crate) enum FeeTerms {
    /// Legacy (EIP-155): one price per unit of gas.
    Legacy { gas_price: u128 },
    /// EIP-1559 (type 2, or CELO's CIP-64): a cap per unit of gas and a tip
    /// within it.
    Eip1559 {
        max_fee_per_gas: u128,
        max_priority_fee_per_gas: u128,
    },
}

/// The pending transaction completed with what `prepare` fetched: exactly
/// the fields `sign` signs and `intent` shows, built in one place so the two
/// cannot disagree.
pub(crate) struct Completed {
    pub chain_id: u64,
    /// CELO's fee token; `None`: the chain's coin.
    pub fee_currency: Option<Address>,
    pub nonce: u64,
    pub gas: u64,
    pub fee: FeeTerms,
    /// `None`: a contract creation.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
}

impl EvmSigning {
    /// Fills the pending transaction's missing fields from `prepared` (what
    /// was fetched wins, as in the original's SDKs) and refuses a chain id
    /// that is not this chain's on this network.
    pub(crate) fn complete(
        &self,
        input: &SignInput<'_>,
        prepared: &Prepared,
    ) -> Result<Completed, SignerError> {
        let chain = self.chain;
        let (json, f) = Fields::parse(chain, &input.pending.serialized_transaction, self.celo)?;
        let fee_currency = self.fee_currency(input, &json)?;
        let fetched = |name: &str| prepared.0.get(name);
        let need =
            |name: &str| SignerError::tx(chain, format!("{name} is missing and was not fetched"));
        let nonce = match fetched("nonce") {
            Some(v) => as_u64(chain, "nonce", v)?,
            None => f.nonce.unwrap_or(0),
        };
        let gas = match fetched("gas") {
            Some(v) => as_u64(chain, "gas", v)?,
            None => f.gas.ok_or_else(|| need("gas"))?,
        };
        let chain_id = match fetched("chainId") {
            Some(v) => as_u64(chain, "chainId", v)?,
            None => f.chain_id.ok_or_else(|| need("chainId"))?,
        };
        // Pinned: a chain id of another chain or network, given in the
        // transaction or answered by a node, is never signed.
        let allowed = super::chain_ids(chain, input.network);
        if !allowed.contains(&chain_id) {
            return Err(SignerError::tx(
                chain,
                format!(
                    "chain id {chain_id} is not {chain} {} (expected {}); refused",
                    input.network,
                    allowed
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        let fee = if f.is_1559() {
            FeeTerms::Eip1559 {
                max_fee_per_gas: f.max_fee_per_gas.ok_or_else(|| need("maxFeePerGas"))?,
                max_priority_fee_per_gas: f
                    .max_priority_fee_per_gas
                    .ok_or_else(|| need("maxPriorityFeePerGas"))?,
            }
        } else {
            let gas_price = match fetched("gasPrice") {
                Some(v) => {
                    u128::try_from(quantity(chain, "gasPrice", Some(v))?.unwrap_or_default())
                        .map_err(|_| bad(chain, "gasPrice is too large"))?
                }
                None => f.gas_price.ok_or_else(|| need("gasPrice"))?,
            };
            match fee_currency {
                // Celo's legacy transaction, the only one that carried a fee
                // currency with a single gas price, is refused by the L2;
                // CIP-64 with cap and tip both at that price pays exactly
                // what a legacy transaction at that price pays (EIP-1559
                // prices a legacy transaction that way).
                Some(_) => FeeTerms::Eip1559 {
                    max_fee_per_gas: gas_price,
                    max_priority_fee_per_gas: gas_price,
                },
                None => FeeTerms::Legacy { gas_price },
            }
        };
        Ok(Completed {
            chain_id,
            fee_currency,
            nonce,
            gas,
            fee,
            to: f.to,
            value: f.value,
            data: f.data,
        })
    }
}

#[async_trait]
impl TxSigning for EvmSigning {
    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        let chain = self.chain;
        let (json, f) = Fields::parse(chain, &input.pending.serialized_transaction, self.celo)?;
        let fee_currency = self.fee_currency(input, &json)?;
        let address = Address::from_private_key(&signer_of(chain, input)?);
        let mut out = Map::new();

        if f.nonce.is_none() {
            let nonce = match self.count {
                Some(prefix) => {
                    let path = format!("{prefix}{}", address.to_checksum(None));
                    api.call(ApiRequest::get(Service::Tatum, path)).await?
                }
                None => {
                    self.rpc(
                        api,
                        "getTransactionCount",
                        json!([format!("{address:#x}"), "latest"]),
                    )
                    .await?
                }
            };
            out.insert("nonce".into(), json!(as_u64(chain, "nonce", &nonce)?));
        }
        if f.gas_price.is_none() && !f.is_1559() {
            let price = match self.fee {
                Some(fee_chain) => {
                    let fees = api
                        .call(ApiRequest::get(
                            Service::Tatum,
                            format!("/v3/blockchain/fee/{fee_chain}"),
                        ))
                        .await?;
                    fees.get("medium")
                        .cloned()
                        .ok_or_else(|| SignerError::Network {
                            chain,
                            reason: "the fee answer has no 'medium'".into(),
                        })?
                }
                // Celo answers the price in the fee currency's units when
                // asked with its address, as the original's wrapper asked.
                None => match fee_currency {
                    Some(token) => {
                        self.rpc(api, "gasPrice", json!([format!("{token:#x}")]))
                            .await?
                    }
                    None => self.rpc(api, "gasPrice", json!([])).await?,
                },
            };
            let price = quantity(chain, "gasPrice", Some(&price))?.unwrap_or_default();
            out.insert("gasPrice".into(), json!(price.to_string()));
        }
        if f.gas.is_none() || self.always_estimate_gas {
            let nonce = f.nonce.or_else(|| out.get("nonce").and_then(Value::as_u64));
            let gas_price = f.gas_price.map(U256::from).or_else(|| {
                out.get("gasPrice")
                    .and_then(Value::as_str)
                    .and_then(|s| U256::from_str_radix(s, 10).ok())
            });
            // The call object web3 sent with eth_estimateGas (XDC's vector).
            let mut call = Map::new();
            call.insert("from".into(), json!(format!("{address:#x}")));
            if let Some(to) = f.to {
                call.insert("to".into(), json!(format!("{to:#x}")));
            }
            call.insert("value".into(), json!(hex_quantity(f.value)));
            if !f.data.is_empty() {
                call.insert("data".into(), json!(format!("0x{}", hex::encode(&f.data))));
            }
            if let Some(p) = gas_price {
                call.insert("gasPrice".into(), json!(hex_quantity(p)));
            }
            if let Some(g) = f.gas {
                call.insert("gas".into(), json!(hex_quantity(U256::from(g))));
            }
            if let Some(n) = nonce {
                call.insert("nonce".into(), json!(hex_quantity(U256::from(n))));
            }
            // Paying in a token costs more gas (the fee debit and credit
            // calls); Celo's node counts it when told the currency.
            if let Some(token) = fee_currency {
                call.insert("feeCurrency".into(), json!(format!("{token:#x}")));
            }
            let estimate = as_u64(
                chain,
                "gas estimate",
                &self.rpc(api, "estimateGas", json!([call])).await?,
            )?;
            let gas = if self.celo {
                estimate + 100_000
            } else {
                estimate
            };
            out.insert("gas".into(), json!(gas));
        }
        if f.chain_id.is_none() {
            let method = if self.rpc_prefix == "klay" {
                "chainID"
            } else {
                "chainId"
            };
            let id = self.rpc(api, method, json!([])).await?;
            out.insert("chainId".into(), json!(as_u64(chain, "chainId", &id)?));
        }
        Ok(Prepared(out))
    }

    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        let chain = self.chain;
        let tx = self.complete(input, prepared)?;
        let sender = Address::from_private_key(&signer_of(chain, input)?);
        let call = intent::decode_call(chain, tx.to.as_ref(), tx.value, &tx.data, || {
            Some(sender.create(tx.nonce))
        })?;
        let mut memo: Vec<String> = call.memo.into_iter().collect();
        let fee_per_gas = match tx.fee {
            FeeTerms::Legacy { gas_price } => gas_price,
            // The most the sender can pay: every unit of gas at the cap.
            FeeTerms::Eip1559 {
                max_fee_per_gas,
                max_priority_fee_per_gas,
            } => {
                memo.push(format!(
                    "maxFeePerGas {max_fee_per_gas}, maxPriorityFeePerGas {max_priority_fee_per_gas}"
                ));
                max_fee_per_gas
            }
        };
        let mut out = Intent::new(chain, input.network);
        out.chain_id = Some(tx.chain_id.to_string());
        out.senders = vec![intent::address_text(chain, &sender)];
        out.transfers = call.transfers;
        out.fee = Some((U256::from(tx.gas) * U256::from(fee_per_gas)).to_string());
        out.fee_asset = tx
            .fee_currency
            .map(|token| intent::address_text(chain, &token));
        out.nonce = Some(tx.nonce.to_string());
        out.memo = (!memo.is_empty()).then(|| memo.join("; "));
        Ok(out)
    }

    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let chain = self.chain;
        let tx = self.complete(input, prepared)?;
        let signer = signer_of(chain, input)?;
        let to = tx.to.map(TxKind::Call).unwrap_or(TxKind::Create);
        let raw = match tx.fee {
            FeeTerms::Eip1559 {
                max_fee_per_gas,
                max_priority_fee_per_gas,
            } => {
                let eip1559 = TxEip1559 {
                    chain_id: tx.chain_id,
                    nonce: tx.nonce,
                    gas_limit: tx.gas,
                    max_fee_per_gas,
                    max_priority_fee_per_gas,
                    to,
                    value: tx.value,
                    access_list: Default::default(),
                    input: tx.data,
                };
                match tx.fee_currency {
                    Some(fee_currency) => {
                        let unsigned = celo::TxCip64 {
                            inner: eip1559,
                            fee_currency,
                        };
                        let sig = sign_hash(chain, &signer, &unsigned.signature_hash())?;
                        unsigned.encoded_signed(&sig)
                    }
                    None => {
                        let sig = sign_hash(chain, &signer, &eip1559.signature_hash())?;
                        eip1559.into_signed(sig).encoded_2718()
                    }
                }
            }
            FeeTerms::Legacy { gas_price } => {
                let unsigned = TxLegacy {
                    chain_id: Some(tx.chain_id),
                    nonce: tx.nonce,
                    gas_price,
                    gas_limit: tx.gas,
                    to,
                    value: tx.value,
                    input: tx.data,
                };
                let sig = sign_hash(chain, &signer, &unsigned.signature_hash())?;
                unsigned.into_signed(sig).encoded_2718()
            }
        };
        Ok(SignedTx::plain(format!("0x{}", hex::encode(raw))))
    }
}
