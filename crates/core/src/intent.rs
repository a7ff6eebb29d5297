use serde::Serialize;

use crate::{Chain, Network};

/// What a transaction does, decoded from the bytes or fields that will be
/// signed (not from what the API says about them): what the approver and
/// the local policy judge. Amounts and fees are in the chain's base units
/// (satoshi, wei, lamports, drops, stroops, microalgos...), as decimal
/// strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// The chain.
    pub chain: Chain,
    /// The network the signature is for.
    pub network: Network,
    /// The chain id, network passphrase or genesis the transaction is bound
    /// to, where it carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    /// The accounts or addresses that pay (UTXO: the addresses of the
    /// inputs, where known).
    pub senders: Vec<String>,
    /// Every payment, in order.
    pub transfers: Vec<Transfer>,
    /// The fee, or the fee cap (EVM: gas limit × max fee per gas), in base
    /// units of `fee_asset` (or of the chain's coin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// The token the fee is paid in (CELO's fee currency); `None` for the
    /// chain's coin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_asset: Option<String>,
    /// Nonce or sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Memo, tag or note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
}

/// One payment of an [`Intent`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// The recipient.
    pub to: String,
    /// The amount, in the base units of `asset` (or of the chain's coin).
    pub amount: String,
    /// The token contract, asset code or mint; `None` for the chain's own coin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
}

impl Intent {
    /// An intent with nothing in it yet.
    pub fn new(chain: Chain, network: Network) -> Intent {
        Intent {
            chain,
            network,
            chain_id: None,
            senders: Vec::new(),
            transfers: Vec::new(),
            fee: None,
            fee_asset: None,
            nonce: None,
            memo: None,
        }
    }
}
