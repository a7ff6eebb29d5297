//! CELO since its move to an Ethereum L2 (block 31,056,500, 26 March 2025).
//!
//! The original signed Celo's legacy transaction (Ethereum's legacy fields
//! plus `feeCurrency`, `gatewayFeeRecipient` and `gatewayFee`); the L2 no
//! longer accepts it ("Transaction Types On Celo L2",
//! <https://docs.celo.org/specs/transaction-types>). What is signed now:
//!
//! * no fee currency: Ethereum's legacy EIP-155 transaction, or EIP-1559
//!   (type 2) when the JSON carries `maxFeePerGas`/`maxPriorityFeePerGas`,
//!   both with alloy's types, as for the other EVM chains;
//! * a fee currency: CIP-64 (type `0x7b`), EIP-1559's fields followed by
//!   `feeCurrency`, the one Celo type the L2 accepts. alloy has no CIP-64
//!   type, so [`TxCip64`] wraps alloy's [`TxEip1559`] and adds the address.
//!
//! `feeCurrency` in the JSON is what Tatum's SDKs put there: the fee token's
//! contract address (absent for CELO; the v2 SDK's contract calls name the
//! CELO token contract itself), or, accepted here too, the token name of
//! Tatum's API bodies (`CELO`, `CUSD`, `CEUR`).

use alloy_consensus::transaction::RlpEcdsaEncodableTx;
use alloy_consensus::TxEip1559;
use alloy_primitives::{address, keccak256, Address, Signature, B256};
use alloy_rlp::{Encodable, Header};
use kms_core::{Chain, Network};
use serde_json::Value;

use crate::SignerError;

/// CIP-64's EIP-2718 type byte (123).
pub(crate) const CIP64_TX_TYPE: u8 = 0x7b;

/// The CELO token's own contract (GoldToken) on mainnet and on Alfajores, as
/// Tatum's v2 SDK names it for fees in CELO: paying with the token contract
/// of the native coin is paying in the native coin, which the L2 wants as
/// no `feeCurrency` (the token is not on its fee-currency allowlist).
const CELO_TOKEN: [Address; 2] = [
    address!("471EcE3750Da237f93B8E339c536989b8978a438"),
    address!("F194afDf50B03e69Bd7D057c1Aa9e10c9954E4C9"),
];

/// cUSD (now called USDm) and cEUR (EURm), 18-decimal tokens allowlisted as
/// fee currencies by their own address (no adapter), on Celo mainnet and on
/// Celo Sepolia (Tatum's SDK had Alfajores' addresses; Alfajores is retired).
/// Sources: <https://docs.celo.org/tooling/contracts/stablecoin-contracts>,
/// <https://docs.celo.org/tooling/contracts/fee-currencies>.
const CUSD_MAINNET: Address = address!("765DE816845861e75A25fCA122bb6898B8B1282a");
const CEUR_MAINNET: Address = address!("D8763CBa276a3738E6DE85b4b3bF5FDed6D6cA73");
const CUSD_CELO_SEPOLIA: Address = address!("dE9e4C3ce781b4bA68120d6261cbad65ce0aB00b");
const CEUR_CELO_SEPOLIA: Address = address!("A99dC247d6b7B2E3ab48a1fEE101b83cD6aCd82a");

/// The fee currency the JSON asks for; `None` for CELO itself.
pub(crate) fn fee_currency(
    network: Network,
    value: Option<&Value>,
) -> Result<Option<Address>, SignerError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(SignerError::tx(
                Chain::CELO,
                "feeCurrency must be a token name or contract address",
            ))
        }
    };
    let named = match (text.to_ascii_uppercase().as_str(), network) {
        ("CELO", _) => return Ok(None),
        ("CUSD", Network::Mainnet) => Some(CUSD_MAINNET),
        ("CUSD", Network::Testnet) => Some(CUSD_CELO_SEPOLIA),
        ("CEUR", Network::Mainnet) => Some(CEUR_MAINNET),
        ("CEUR", Network::Testnet) => Some(CEUR_CELO_SEPOLIA),
        _ => None,
    };
    if named.is_some() {
        return Ok(named);
    }
    let address = text.parse::<Address>().map_err(|_| {
        SignerError::tx(
            Chain::CELO,
            format!("feeCurrency '{text}' is neither CELO, CUSD, CEUR nor a contract address"),
        )
    })?;
    Ok((!CELO_TOKEN.contains(&address)).then_some(address))
}

/// Refuses the legacy transaction's gateway fee: the L2 has none, and a
/// transaction asking to pay one cannot be signed as asked.
pub(crate) fn refuse_gateway_fee(json: &serde_json::Map<String, Value>) -> Result<(), SignerError> {
    for name in ["gatewayFee", "gatewayFeeRecipient"] {
        let set = match json.get(name) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !(s.is_empty() || s == "0" || s == "0x" || s == "0x0"),
            Some(Value::Number(n)) => n.as_u64() != Some(0),
            Some(_) => true,
        };
        if set {
            return Err(SignerError::tx(
                Chain::CELO,
                format!("{name} is set, but Celo has had no gateway fees since its move to an L2"),
            ));
        }
    }
    Ok(())
}

/// A CIP-64 transaction: `rlp([chainId, nonce, maxPriorityFeePerGas,
/// maxFeePerGas, gas, to, value, data, accessList, feeCurrency])`, the first
/// nine encoded by alloy's EIP-1559 type, signed over
/// `keccak256(0x7b || rlp(fields))` and sent as
/// `0x7b || rlp(fields ++ [yParity, r, s])`
/// (<https://github.com/celo-org/celo-proposals/blob/master/CIPs/cip-0064.md>).
pub(crate) struct TxCip64 {
    pub inner: TxEip1559,
    pub fee_currency: Address,
}

impl TxCip64 {
    fn fields_length(&self) -> usize {
        self.inner.rlp_encoded_fields_length() + self.fee_currency.length()
    }

    fn encode_fields(&self, out: &mut Vec<u8>) {
        self.inner.rlp_encode_fields(out);
        self.fee_currency.encode(out);
    }

    /// The hash the sender signs.
    pub(crate) fn signature_hash(&self) -> B256 {
        let mut out = vec![CIP64_TX_TYPE];
        Header {
            list: true,
            payload_length: self.fields_length(),
        }
        .encode(&mut out);
        self.encode_fields(&mut out);
        keccak256(&out)
    }

    /// The signed transaction as broadcast.
    pub(crate) fn encoded_signed(&self, signature: &Signature) -> Vec<u8> {
        let mut out = vec![CIP64_TX_TYPE];
        Header {
            list: true,
            payload_length: self.fields_length() + signature.v().length() + signature.rlp_rs_len(),
        }
        .encode(&mut out);
        self.encode_fields(&mut out);
        signature.write_rlp_vrs(&mut out, signature.v());
        out
    }
}
