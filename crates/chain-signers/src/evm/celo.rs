//! Celo's legacy transaction: Ethereum's legacy fields plus `feeCurrency`,
//! `gatewayFeeRecipient` and `gatewayFee` (empty here, as the SDK sends
//! them), signed with EIP-155 over
//! `rlp([nonce, gasPrice, gas, feeCurrency, gatewayFeeRecipient, gatewayFee, to, value, data, chainId, 0, 0])`.

use alloy_primitives::{keccak256, Address, Bytes, U256};
use alloy_rlp::{Encodable, Header};
use k256::ecdsa::SigningKey;
use kms_core::Chain;

use super::tx::sign_hash;
use crate::SignerError;

fn rlp_list(items: &[&dyn Encodable]) -> Vec<u8> {
    let payload: usize = items.iter().map(|i| i.length()).sum();
    let mut out = Vec::with_capacity(payload + 9);
    Header {
        list: true,
        payload_length: payload,
    }
    .encode(&mut out);
    for item in items {
        item.encode(&mut out);
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_legacy(
    signer: &SigningKey,
    chain_id: u64,
    nonce: u64,
    gas_price: u128,
    gas: u64,
    to: Option<Address>,
    value: U256,
    data: &Bytes,
) -> Result<Vec<u8>, SignerError> {
    let empty: &[u8] = &[];
    let to_bytes: Vec<u8> = to.map(|a| a.to_vec()).unwrap_or_default();
    let to_item: &[u8] = &to_bytes;
    let zero = 0u8;
    let unsigned = rlp_list(&[
        &nonce, &gas_price, &gas, &empty, &empty, &zero, &to_item, &value, data, &chain_id, &zero,
        &zero,
    ]);
    let sig = sign_hash(Chain::CELO, signer, &keccak256(&unsigned))?;
    let v = chain_id * 2 + 35 + u64::from(sig.v());
    Ok(rlp_list(&[
        &nonce,
        &gas_price,
        &gas,
        &empty,
        &empty,
        &zero,
        &to_item,
        &value,
        data,
        &v,
        &sig.r(),
        &sig.s(),
    ]))
}
