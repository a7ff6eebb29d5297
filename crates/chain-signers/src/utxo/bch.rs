//! Bitcoin Cash. Derivation: BCH testnet wallets use the mainnet path
//! (`m/44'/145'/0'/0`) as the SDK does; addresses are lowercase CashAddr.
//!
//! Pending transactions: `"<unsigned tx hex>:<JSON array of the inputs'
//! amounts in satoshis>"`. Every input spends a P2PKH output of its key and
//! is signed with a BCH Schnorr signature over the BIP143-style digest with
//! SIGHASH_ALL|FORKID (0x41); scriptSig `<sig ‖ 0x41> <pubkey>`.
//!
//! Which key signs which input: the format carries no previous-output
//! scripts, so a key cannot be matched to its inputs. The SDK signs input
//! `i` with key `i`; tatum-kms de-duplicates the keys first, which leaves
//! inputs unsigned whenever one wallet owns several of them (a bug of the
//! original). Here:
//! * as many keys as inputs: key `i` signs input `i` (the SDK's rule);
//! * one key: it signs every input (all inputs belong to that wallet);
//! * otherwise the assignment is ambiguous and signing is refused;
//! * off-chain withdrawals: each response's key signs the input spending
//!   the response's `vIn`/`vInIndex` (the SDK uses the response's position,
//!   which agrees while the pool entry `vIn: "-1"` comes last).

use bitcoin::hashes::{sha256d, Hash};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{Amount, ScriptBuf, Transaction};
use kms_core::{Chain, Intent};

use super::{
    cashaddr, push_unique, schnorr, AddressStyle, Network, Profile, ScriptAddresses, Signing,
    SpendingKey,
};
use crate::secp_hd::{TPUB, XPUB};
use crate::{SignInput, SignerError};

pub(crate) static BCH: Profile = Profile {
    chain: Chain::BCH,
    mainnet: Network {
        coin: 145,
        xpub_version: XPUB,
        xpub_address: AddressStyle::CashAddr {
            prefix: "bitcoincash",
        },
        key_address: AddressStyle::CashAddr {
            prefix: "bitcoincash",
        },
        wif_version: 0x80,
        script_addresses: ScriptAddresses::CashAddr {
            prefix: "bitcoincash",
        },
    },
    testnet: Network {
        coin: 145,
        xpub_version: TPUB,
        xpub_address: AddressStyle::CashAddr { prefix: "bchtest" },
        key_address: AddressStyle::CashAddr { prefix: "bchtest" },
        wif_version: 0xef,
        script_addresses: ScriptAddresses::CashAddr { prefix: "bchtest" },
    },
    signing: Signing::BitcoinCash,
};

/// SIGHASH_ALL | SIGHASH_FORKID, fork id 0.
const SIGHASH_ALL_FORKID: u32 = 0x41;

/// What a pending BCH transaction does. The format carries no input
/// scripts, but each input is signed as the P2PKH output of the key
/// [`assign_keys`] gives it (a signature for any other script is invalid),
/// so those keys' addresses are the senders; the fee is the input amounts
/// minus the outputs.
pub(super) fn intent(profile: &Profile, input: &SignInput<'_>) -> Result<Intent, SignerError> {
    let (tx, amounts) = parse(profile.chain, &input.pending.serialized_transaction)?;
    let (keys, plan) = assign_keys(profile, input, &tx)?;
    let ScriptAddresses::CashAddr { prefix } =
        profile.network(input.network.is_testnet()).script_addresses
    else {
        return Err(SignerError::tx(
            profile.chain,
            "this network's addresses are not CashAddr",
        ));
    };
    let mut senders = Vec::new();
    for &key_index in &plan {
        push_unique(
            &mut senders,
            cashaddr::encode_p2pkh(prefix, &keys[key_index].pubkey_hash),
        );
    }
    let fee = unspent(profile.chain, &tx, &amounts)?;
    profile.describe(input.network, senders, &tx.output, fee)
}

/// Input amounts minus outputs; outputs above the inputs are refused (the
/// network would reject the transaction).
fn unspent(chain: Chain, tx: &Transaction, amounts: &[u64]) -> Result<u64, SignerError> {
    let inputs = amounts
        .iter()
        .try_fold(0u64, |total, &a| total.checked_add(a))
        .ok_or_else(|| SignerError::tx(chain, "its input amounts overflow"))?;
    let outputs = tx
        .output
        .iter()
        .try_fold(0u64, |total, o| total.checked_add(o.value.to_sat()))
        .ok_or_else(|| SignerError::tx(chain, "its outputs overflow"))?;
    inputs.checked_sub(outputs).ok_or_else(|| {
        SignerError::tx(
            chain,
            format!("its outputs ({outputs} satoshis) exceed its inputs ({inputs} satoshis)"),
        )
    })
}

/// Signs a pending BCH transaction; returns its hex.
pub(super) fn sign(profile: &Profile, input: &SignInput<'_>) -> Result<String, SignerError> {
    let chain = profile.chain;
    let (mut tx, amounts) = parse(chain, &input.pending.serialized_transaction)?;
    // Refused for signing as for the intent: the network would reject it.
    unspent(chain, &tx, &amounts)?;
    let (keys, plan) = assign_keys(profile, input, &tx)?;

    let mut script_sigs = Vec::with_capacity(plan.len());
    {
        let mut cache = SighashCache::new(&tx);
        for (i, &key_index) in plan.iter().enumerate() {
            let key = &keys[key_index];
            let script_code = ScriptBuf::new_p2pkh(&key.public.pubkey_hash());
            let digest = forkid_digest(&mut cache, i, &script_code, amounts[i])
                .map_err(|e| SignerError::tx(chain, format!("input {i}: {e}")))?;
            let mut signature = schnorr::sign(&key.secret, &digest).to_vec();
            signature.push(SIGHASH_ALL_FORKID as u8);
            let signature = bitcoin::script::PushBytesBuf::try_from(signature)
                .map_err(|_| SignerError::tx(chain, "signature too long for a push"))?;
            script_sigs.push(
                bitcoin::script::Builder::new()
                    .push_slice(signature)
                    .push_key(&key.public)
                    .into_script(),
            );
        }
    }
    for (txin, script_sig) in tx.input.iter_mut().zip(script_sigs) {
        txin.script_sig = script_sig;
    }
    Ok(bitcoin::consensus::encode::serialize_hex(&tx))
}

/// The BCH signature digest (BIP143's algorithm with the FORKID hash type).
/// With SIGHASH_ALL its preimage is BIP143's for SIGHASH_ALL except for the
/// trailing 4-byte hash type, so rust-bitcoin writes it and we patch that.
fn forkid_digest(
    cache: &mut SighashCache<&Transaction>,
    index: usize,
    script_code: &bitcoin::Script,
    amount: u64,
) -> Result<[u8; 32], String> {
    let mut preimage = Vec::with_capacity(256);
    cache
        .segwit_v0_encode_signing_data_to(
            &mut preimage,
            index,
            script_code,
            Amount::from_sat(amount),
            EcdsaSighashType::All,
        )
        .map_err(|e| e.to_string())?;
    let tail = preimage.len() - 4;
    preimage[tail..].copy_from_slice(&SIGHASH_ALL_FORKID.to_le_bytes());
    Ok(sha256d::Hash::hash(&preimage).to_byte_array())
}

/// Splits `hex:amounts` into the unsigned transaction and one amount per input.
fn parse(chain: Chain, text: &str) -> Result<(Transaction, Vec<u64>), SignerError> {
    let bad = |reason: String| SignerError::tx(chain, reason);
    let (tx_hex, amounts) = text.split_once(':').ok_or_else(|| {
        bad("expected \"<unsigned transaction hex>:<JSON array of input amounts>\"".into())
    })?;
    let bytes = hex::decode(tx_hex.trim()).map_err(|_| bad("the transaction is not hex".into()))?;
    let tx: Transaction = bitcoin::consensus::deserialize(&bytes)
        .map_err(|e| bad(format!("not a transaction: {e}")))?;
    let amounts: Vec<u64> = serde_json::from_str(amounts).map_err(|e| {
        bad(format!(
            "the input amounts are not a JSON array of whole satoshis: {e}"
        ))
    })?;
    if tx.input.is_empty() {
        return Err(bad("it has no inputs".into()));
    }
    if amounts.len() != tx.input.len() {
        return Err(bad(format!(
            "{} input amounts for {} inputs",
            amounts.len(),
            tx.input.len()
        )));
    }
    if let Some(&too_big) = amounts
        .iter()
        .find(|&&a| a > bitcoin::Amount::MAX_MONEY.to_sat())
    {
        return Err(bad(format!("input amount {too_big} is out of range")));
    }
    for (i, txin) in tx.input.iter().enumerate() {
        if !txin.script_sig.is_empty() || !txin.witness.is_empty() {
            return Err(bad(format!(
                "input {i} already has a script; a pending transaction is unsigned"
            )));
        }
    }
    Ok((tx, amounts))
}

/// The keys, and which of them signs each input, in input order (see the
/// module docs).
fn assign_keys(
    profile: &Profile,
    input: &SignInput<'_>,
    tx: &Transaction,
) -> Result<(Vec<SpendingKey>, Vec<usize>), SignerError> {
    let chain = profile.chain;
    let inputs = tx.input.len();
    if input.pending.withdrawal_id.is_some() {
        let mut keys = Vec::new();
        let mut by_input: Vec<Option<usize>> = vec![None; inputs];
        for (spent, key) in profile.withdrawal_keys(input)? {
            let index = tx
                .input
                .iter()
                .position(|txin| {
                    txin.previous_output.txid == spent.txid
                        && txin.previous_output.vout == spent.vout
                })
                .ok_or_else(|| {
                    SignerError::tx(
                        chain,
                        format!(
                            "withdrawalResponses[{}] spends {}:{}, which is not an input",
                            spent.position, spent.txid, spent.vout
                        ),
                    )
                })?;
            by_input[index] = Some(keys.len());
            keys.push(key);
        }
        let plan = by_input
            .into_iter()
            .enumerate()
            .map(|(i, key)| {
                key.ok_or_else(|| SignerError::MissingKey {
                    chain,
                    reason: format!("no withdrawal response spends input {i}"),
                })
            })
            .collect::<Result<_, _>>()?;
        return Ok((keys, plan));
    }
    let keys = profile.signing_keys(input)?;
    match keys.len() {
        n if n == inputs => Ok((keys, (0..inputs).collect())),
        1 => Ok((keys, vec![0; inputs])),
        n => Err(SignerError::MissingKey {
            chain,
            reason: format!(
                "{n} distinct keys for {inputs} inputs: a BCH pending transaction does not say \
                 which key spends which input, so each input needs its own key in input order \
                 (or one key for all)"
            ),
        }),
    }
}
