//! What an EVM call (or a VeChain clause, which has the same `to`, `value`
//! and `data`) does, as the approver and the policy see it: a native value
//! to its recipient, an ERC-20 (or VIP-180, the same ABI) `transfer`
//! decoded from the calldata, any other call shown as the native value to
//! the contract with its selector in the memo, a contract creation as the
//! value to the address the new contract will have.

use alloy_primitives::{Address, U256};
use kms_core::{Chain, Transfer};

use crate::SignerError;

/// `transfer(address,uint256)`: keccak256 of the signature, first 4 bytes.
const ERC20_TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// The selector and its two 32-byte words, nothing more.
const ERC20_TRANSFER_LEN: usize = 4 + 32 + 32;

/// One call's payments and, where it is not a plain payment, what the memo
/// says about it.
pub(crate) struct Call {
    pub transfers: Vec<Transfer>,
    pub memo: Option<String>,
}

/// An address as the chain writes it: XDC with its `xdc` prefix, the others
/// `0x` and lowercase (as their wallets and the vectors write them).
pub(crate) fn address_text(chain: Chain, address: &Address) -> String {
    let hex = hex::encode(address.as_slice());
    if chain == Chain::XDC {
        format!("xdc{hex}")
    } else {
        format!("0x{hex}")
    }
}

fn native(chain: Chain, to: &Address, value: U256) -> Transfer {
    Transfer {
        to: address_text(chain, to),
        amount: value.to_string(),
        asset: None,
    }
}

/// Decodes one call. `created` is the address a creation (`to` = none)
/// deploys to, which the caller derives from the sender and nonce.
pub(crate) fn decode_call(
    chain: Chain,
    to: Option<&Address>,
    value: U256,
    data: &[u8],
    created: impl FnOnce() -> Option<Address>,
) -> Result<Call, SignerError> {
    let Some(to) = to else {
        // A deployment: the value goes to the new contract. Where its address
        // cannot be known (VeChain derives it from the transaction id), a
        // value is refused rather than shown without a recipient.
        let transfers = match created() {
            Some(address) => vec![native(chain, &address, value)],
            None if value.is_zero() => Vec::new(),
            None => return Err(SignerError::tx(
                chain,
                "a contract creation that sends value to an address not known before it is mined",
            )),
        };
        return Ok(Call {
            transfers,
            memo: Some("contract creation".into()),
        });
    };
    if data.is_empty() {
        return Ok(Call {
            transfers: vec![native(chain, to, value)],
            memo: None,
        });
    }
    if data.starts_with(&ERC20_TRANSFER) {
        let mut transfers = Vec::new();
        // A token transfer carrying coins too is odd (transfer is not
        // payable) but the coins would still leave: shown, not hidden.
        if !value.is_zero() {
            transfers.push(native(chain, to, value));
        }
        transfers.push(erc20_transfer(chain, to, data)?);
        return Ok(Call {
            transfers,
            memo: None,
        });
    }
    // Any other call is legitimate (Tatum builds contract calls) but must be
    // visible: the coins sent to the contract, and which function is called.
    let selector = &data[..data.len().min(4)];
    Ok(Call {
        transfers: vec![native(chain, to, value)],
        memo: Some(format!("contract call 0x{}", hex::encode(selector))),
    })
}

/// `transfer(recipient, amount)` to the token contract `token`. Calldata that
/// is not exactly the selector and two words, or a recipient word with bits
/// above the 20 address bytes, is refused: a token contract could read it
/// otherwise than shown here.
fn erc20_transfer(chain: Chain, token: &Address, data: &[u8]) -> Result<Transfer, SignerError> {
    if data.len() != ERC20_TRANSFER_LEN {
        return Err(SignerError::tx(
            chain,
            format!(
                "token transfer calldata is {} bytes, expected {ERC20_TRANSFER_LEN}",
                data.len()
            ),
        ));
    }
    let recipient_word = &data[4..36];
    if recipient_word[..12].iter().any(|&b| b != 0) {
        return Err(SignerError::tx(
            chain,
            "token transfer recipient is not a 20-byte address",
        ));
    }
    let recipient = Address::from_slice(&recipient_word[12..]);
    let amount = U256::from_be_slice(&data[36..68]);
    Ok(Transfer {
        to: address_text(chain, &recipient),
        amount: amount.to_string(),
        asset: Some(address_text(chain, token)),
    })
}
