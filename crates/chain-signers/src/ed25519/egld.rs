//! MultiversX (Elrond). Wallets are `{mnemonic}` only; keys at
//! m/44'/508'/0'/0'/i' (testnet m/44'/1'/0'/0'/i'), SLIP-0010, every level
//! hardened; private keys as 64 hex (the ed25519 seed); addresses as bech32
//! `erd1…` of the public key. The original's `generateAddressFromXPub(EGLD)`
//! takes the mnemonic in place of an xpub; so does ours.

use async_trait::async_trait;
use base64::Engine;
use bech32::{Bech32, Hrp};
use kms_core::{ApiRequest, Chain, ChainApi, Intent, Network, Service, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use zeroize::Zeroizing;

use super::Slip10Node;
use crate::{
    Account, Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer, SignerError,
    XpubAddresses,
};

pub(crate) struct Egld;
pub(crate) static EGLD: Egld = Egld;

fn coin(testnet: bool) -> u32 {
    if testnet {
        1
    } else {
        508
    }
}

pub(crate) fn address(public: &[u8; 32]) -> String {
    bech32::encode::<Bech32>(Hrp::parse_unchecked("erd"), public)
        .expect("32 bytes fit a bech32 string")
}

struct EgldAccount {
    account: Slip10Node,
}

impl EgldAccount {
    fn node(&self, index: u32) -> Result<Slip10Node, SignerError> {
        self.account.hardened(index)
    }
}

impl Account for EgldAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        Ok(SecretString::from(hex::encode(self.node(index)?.secret())))
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        Ok(address(
            self.node(index)?.signing_key().verifying_key().as_bytes(),
        ))
    }
}

fn account(testnet: bool, mnemonic: &Mnemonic) -> Result<EgldAccount, SignerError> {
    Ok(EgldAccount {
        account: Slip10Node::path(mnemonic.seed(), &[44, coin(testnet), 0, 0])?,
    })
}

#[async_trait]
impl Signer for Egld {
    fn chain(&self) -> Chain {
        Chain::EGLD
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
        let phrase = match mnemonic {
            Some(m) => m.phrase().to_string(),
            None => Mnemonic::generate().phrase().to_string(),
        };
        Ok(WalletEntry::new().with("mnemonic", Zeroizing::new(phrase).as_str()))
    }

    fn address_from_private_key(
        &self,
        _network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        Ok(address(signing_key(key)?.verifying_key().as_bytes()))
    }

    /// What erdjs fetched through the Tatum API's Elrond gateway: the
    /// network config (gas price, chain id, version), the sender's nonce,
    /// and the gas the transaction costs. The JSON's own gasPrice and
    /// gasLimit were ignored by the original, and are here.
    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        let tx = EgldTx::parse(&input.pending.serialized_transaction)?;
        let sender = match &tx.from {
            Some(from) => from.clone(),
            None => address(first_key(input)?.verifying_key().as_bytes()),
        };
        let config_path = format!("{GATEWAY}/network/config");
        let config = api
            .call(ApiRequest::get(Service::Tatum, &config_path))
            .await?;
        let config = &config["data"]["config"];
        let gas_price = config["erd_min_gas_price"]
            .as_u64()
            .unwrap_or(1_000_000_000);
        let chain_id = config["erd_chain_id"]
            .as_str()
            .ok_or_else(|| network(&config_path, "no erd_chain_id"))?
            .to_string();
        let version = config["erd_min_transaction_version"].as_u64().unwrap_or(1);
        let nonce_path = format!("{GATEWAY}/address/{sender}/nonce");
        let nonce = api
            .call(ApiRequest::get(Service::Tatum, &nonce_path))
            .await?["data"]["nonce"]
            .as_u64()
            .ok_or_else(|| network(&nonce_path, "no data.nonce"))?;
        let mut fields = json!({
            "nonce": nonce,
            "value": tx.value,
            "receiver": tx.to,
            "sender": sender,
            "gasPrice": gas_price,
            "gasLimit": 0,
        });
        if let Some(data) = &tx.data {
            fields["data"] = json!(base64::engine::general_purpose::STANDARD.encode(data));
        }
        fields["chainID"] = json!(chain_id);
        fields["version"] = json!(version);
        let cost_path = format!("{GATEWAY}/transaction/cost");
        let gas_limit = api
            .call(ApiRequest::post(Service::Tatum, &cost_path, fields.clone()))
            .await?["data"]["txGasUnits"]
            .as_u64()
            .ok_or_else(|| network(&cost_path, "no data.txGasUnits"))?;
        fields["gasLimit"] = json!(gas_limit);
        let serde_json::Value::Object(map) = fields else {
            unreachable!("built as an object")
        };
        Ok(Prepared(map))
    }

    /// ed25519 over the UTF-8 of `JSON.stringify` of the transaction in
    /// erdjs' field order; the output is that object with `signature` (hex).
    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let mut tx = completed(input, prepared)?;
        let key = first_key(input)?;
        if tx["sender"].as_str() != Some(address(key.verifying_key().as_bytes()).as_str()) {
            return Err(SignerError::tx(
                Chain::EGLD,
                "from is not the address of the stored key",
            ));
        }
        let payload = serde_json::to_string(&tx).expect("a JSON map serializes");
        let signature = ed25519_dalek::Signer::sign(&key, payload.as_bytes());
        tx.insert("signature".into(), json!(hex::encode(signature.to_bytes())));
        Ok(SignedTx::plain(
            serde_json::to_string(&tx).expect("a JSON map serializes"),
        ))
    }

    /// Decoded from the transaction `sign` signs: the prepared fields.
    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        let tx = completed(input, prepared)?;
        intent_of(&tx, input.network)
    }
}

/// The transaction as erdjs signs it, in its field order: what `prepare`
/// fetched and built from the pending JSON (which must still parse).
fn completed(
    input: &SignInput<'_>,
    prepared: &Prepared,
) -> Result<serde_json::Map<String, serde_json::Value>, SignerError> {
    EgldTx::parse(&input.pending.serialized_transaction)?;
    let mut tx = serde_json::Map::new();
    for name in [
        "nonce", "value", "receiver", "sender", "gasPrice", "gasLimit", "data", "chainID",
        "version",
    ] {
        match prepared.0.get(name) {
            Some(v) => {
                tx.insert(name.to_string(), v.clone());
            }
            None if name == "data" => {}
            None => {
                return Err(network(
                    "the Elrond gateway",
                    &format!("{name} was not fetched"),
                ))
            }
        }
    }
    // Pinned per network: mainnet "1"; testnet "T" or devnet "D". Another
    // id, whoever answered it, is another network's transaction.
    let chain_id = tx
        .get("chainID")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let allowed: &[&str] = match input.network {
        kms_core::Network::Mainnet => &["1"],
        kms_core::Network::Testnet => &["T", "D"],
    };
    if !allowed.contains(&chain_id) {
        return Err(SignerError::tx(
            Chain::EGLD,
            format!(
                "chain id '{}' is not EGLD {} (expected {}); refused",
                chain_id.escape_debug(),
                input.network,
                allowed.join(" or ")
            ),
        ));
    }
    Ok(tx)
}

/// What a completed transaction does: `value` (10^-18 EGLD) to `receiver`,
/// fee gasLimit × gasPrice; `data` is shown as text in the memo, and an
/// `ESDTTransfer@token@amount` in it is also reported as the token transfer
/// it is.
fn intent_of(
    tx: &serde_json::Map<String, serde_json::Value>,
    network_: Network,
) -> Result<Intent, SignerError> {
    let bad = |reason: &str| SignerError::tx(Chain::EGLD, reason);
    let text = |name: &str| {
        tx.get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad(&format!("{name} is not text")))
    };
    let uint = |name: &str| {
        tx.get(name)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad(&format!("{name} is not a whole number")))
    };
    let receiver = text("receiver")?.to_string();
    let mut intent = Intent::new(Chain::EGLD, network_);
    intent.chain_id = Some(text("chainID")?.to_string());
    intent.senders.push(text("sender")?.to_string());
    intent.nonce = Some(uint("nonce")?.to_string());
    intent.fee = Some((u128::from(uint("gasLimit")?) * u128::from(uint("gasPrice")?)).to_string());
    intent.transfers.push(Transfer {
        to: receiver.clone(),
        amount: text("value")?.to_string(),
        asset: None,
    });
    if tx.contains_key("data") {
        let data = base64::engine::general_purpose::STANDARD
            .decode(text("data")?)
            .map_err(|_| bad("data is not base64"))?;
        let data = String::from_utf8_lossy(&data).into_owned();
        let parts: Vec<&str> = data.split('@').collect();
        if parts[0] == "ESDTTransfer" {
            let [_, token, amount] = parts[..] else {
                return Err(bad("ESDTTransfer takes a token and an amount"));
            };
            let token = hex::decode(token)
                .ok()
                .and_then(|t| String::from_utf8(t).ok())
                .ok_or_else(|| bad("ESDTTransfer: the token is not hex text"))?;
            let amount = u128::from_str_radix(if amount.is_empty() { "0" } else { amount }, 16)
                .map_err(|_| bad("ESDTTransfer: the amount is not a hex number below 2^128"))?;
            intent.transfers.push(Transfer {
                to: receiver,
                amount: amount.to_string(),
                asset: Some(token),
            });
        }
        intent.memo = Some(data);
    }
    Ok(intent)
}

impl MnemonicWallets for Egld {
    fn account(
        &self,
        network: Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        let testnet = network.is_testnet();
        Ok(Box::new(account(testnet, mnemonic)?))
    }
}

impl XpubAddresses for Egld {
    fn address_from_xpub(
        &self,
        network: Network,
        mnemonic: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        let testnet = network.is_testnet();
        account(testnet, &Mnemonic::parse(mnemonic)?)?.address(index)
    }
}

/// The Tatum API's Elrond gateway.
const GATEWAY: &str = "/v3/egld/node/{apiKey}";

fn network(path: &str, reason: &str) -> SignerError {
    SignerError::Network {
        chain: Chain::EGLD,
        reason: format!("{path}: {reason}"),
    }
}

fn signing_key(key: &SecretString) -> Result<ed25519_dalek::SigningKey, SignerError> {
    let bytes = Zeroizing::new(
        hex::decode(key.expose_secret().trim())
            .map_err(|_| SignerError::key(Chain::EGLD, "not hexadecimal"))?,
    );
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| SignerError::key(Chain::EGLD, "expected 64 hexadecimal characters"))?,
    );
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

fn first_key(input: &SignInput<'_>) -> Result<ed25519_dalek::SigningKey, SignerError> {
    let key = input.keys.first().ok_or_else(|| SignerError::MissingKey {
        chain: Chain::EGLD,
        reason: "no private key was resolved for this transaction".into(),
    })?;
    signing_key(key)
}

/// The transaction JSON the Tatum API sends.
struct EgldTx {
    from: Option<String>,
    to: String,
    /// In the smallest unit (10^-18 EGLD), as a decimal string.
    value: String,
    data: Option<String>,
}

impl EgldTx {
    fn parse(text: &str) -> Result<EgldTx, SignerError> {
        let bad = |reason: String| SignerError::tx(Chain::EGLD, reason);
        let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| bad(format!("serializedTransaction is not a JSON object: {e}")))?;
        let text_field = |name: &str| {
            json.get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let to = text_field("to")
            .ok_or_else(|| bad("to is missing".into()))?
            .to_string();
        // The original signed "NaN" when value was missing (ESDT transfers):
        // a transaction the network refuses. No value is 0 EGLD.
        let value = match json.get("value") {
            None | Some(serde_json::Value::Null) => "0".to_string(),
            Some(serde_json::Value::String(s)) => {
                atto(s).ok_or_else(|| bad(format!("value '{s}' is not an EGLD amount")))?
            }
            Some(serde_json::Value::Number(n)) => atto(&n.to_string())
                .ok_or_else(|| bad(format!("value {n} is not an EGLD amount")))?,
            Some(_) => return Err(bad("value must be a decimal string".into())),
        };
        Ok(EgldTx {
            from: text_field("from").map(String::from),
            to,
            value,
            data: text_field("data").map(String::from),
        })
    }
}

/// An EGLD decimal amount in 10^-18 units, as `BigNumber(value) × 1e18`
/// wrote it (negative amounts became 0). `None` for anything else.
fn atto(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('-') {
        return atto(rest).map(|_| "0".to_string());
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() && frac.is_empty()
        || frac.len() > 18
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: u128 = format!("{frac:0<18}").parse().ok()?;
    int.checked_mul(1_000_000_000_000_000_000)?
        .checked_add(frac)
        .map(|v| v.to_string())
}
