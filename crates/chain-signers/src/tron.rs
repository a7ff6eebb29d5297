//! TRON: Ethereum-style key hashing, base58check addresses with version 0x41,
//! keys as 64 hex without `0x`, the same path on both networks.

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Message, PublicKey};
use kms_core::{Chain, ChainApi};
use secrecy::ExposeSecret;

use crate::secp_account::{eth_address_bytes, hex_plain, AccountChain, TxSigning};
use crate::secp_hd::{secp, secret_from_hex};
use crate::{Prepared, SignInput, SignedTx, SignerError};

fn address(key: &PublicKey) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(0x41);
    payload.extend_from_slice(&eth_address_bytes(key));
    bitcoin::base58::encode_check(&payload)
}

pub(crate) static TRON: AccountChain = AccountChain {
    chain: Chain::TRON,
    coin_mainnet: 195,
    coin_testnet: 195,
    xpub_first: false,
    address,
    key_text: hex_plain,
    parse_key: secret_from_hex,
    signing: Some(&TRON_SIGNING),
};

/// TRON: the Tatum API sends TronWeb's transaction JSON (`{visible, txID,
/// raw_data, raw_data_hex}`); the signature is over `txID` = SHA-256 of the
/// raw data, 65 bytes r ‖ s ‖ v with v = 27/28, written as TronWeb writes it
/// (lowercase r ‖ s, uppercase v). The output is the same JSON with
/// `"signature": [...]` appended.
struct TronSigning;

static TRON_SIGNING: TronSigning = TronSigning;

#[async_trait::async_trait]
impl TxSigning for TronSigning {
    async fn prepare(
        &self,
        _input: &SignInput<'_>,
        _api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        Ok(Prepared::default())
    }

    fn sign(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let text = input.pending.serialized_transaction.trim();
        let tx: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| SignerError::tx(Chain::TRON, format!("not a JSON object: {e}")))?;
        let field = |name: &str| {
            tx.get(name)
                .and_then(|v| v.as_str())
                .ok_or_else(|| SignerError::tx(Chain::TRON, format!("{name} is missing")))
        };
        let raw = hex::decode(field("raw_data_hex")?)
            .map_err(|_| SignerError::tx(Chain::TRON, "raw_data_hex is not hex"))?;
        let tx_id = field("txID")?;
        let digest = sha256::Hash::hash(&raw).to_byte_array();
        // The API computed txID; we sign only what we can see is the raw data.
        if !hex::encode(digest).eq_ignore_ascii_case(tx_id) {
            return Err(SignerError::tx(
                Chain::TRON,
                "txID is not the SHA-256 of raw_data_hex",
            ));
        }
        if tx.contains_key("signature") {
            return Err(SignerError::tx(
                Chain::TRON,
                "the transaction is already signed",
            ));
        }
        let key = input.keys.first().ok_or_else(|| SignerError::MissingKey {
            chain: Chain::TRON,
            reason: "no private key was resolved for this transaction".into(),
        })?;
        let secret = secret_from_hex(Chain::TRON, key.expose_secret())?;
        let message = Message::from_digest(digest);
        let (recovery, compact) = secp()
            .sign_ecdsa_recoverable(&message, &secret)
            .serialize_compact();
        let v = 27 + recovery.to_i32() as u8;
        let signature = format!("{}{v:02X}", hex::encode(compact));
        // Append to the text as received: re-serializing could change number
        // formatting or key order, and the API expects its own JSON back.
        let body = text
            .strip_suffix('}')
            .ok_or_else(|| SignerError::tx(Chain::TRON, "not a JSON object"))?;
        Ok(SignedTx::plain(format!(
            "{body},\"signature\":[\"{signature}\"]}}"
        )))
    }
}
