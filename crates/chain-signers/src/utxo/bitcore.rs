//! bitcore-lib's `Transaction` JSON, the pending-transaction format of BTC,
//! LTC and DOGE, and what the SDK does with it: `new Transaction(json)`
//! (with bitcore's consistency checks), `sign(key)` for every key (each key
//! signs every input whose previous output it can spend, SIGHASH_ALL), then
//! `serialize()`.
//!
//! Accepted: `{hash?, version, inputs: [{prevTxId, outputIndex,
//! sequenceNumber?, script: "", output: {satoshis, script}}], outputs:
//! [{satoshis, script}], nLockTime, changeScript?, changeIndex?, fee?}`
//! (scripts in hex; other fields, such as `scriptString`, are ignored).
//! Stricter than the SDK, which would hand out a half-signed transaction
//! for the network to reject: every input must be signed, every key must
//! sign something, and outputs may not exceed inputs.

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::script::Instruction;
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use kms_core::{Chain, Intent};
use serde::Deserialize;

use super::{push_unique, Payee, Profile, SpendingKey};
use crate::secp_hd::secp;
use crate::{SignInput, SignerError};

/// What a chain's bitcore flavour supports and checks.
#[derive(Clone, Copy)]
pub(super) struct Rules {
    /// P2WPKH and P2SH-P2WPKH inputs (bitcore-lib and bitcore-lib-ltc).
    pub segwit: bool,
    /// bitcore's default serialization checks, where the SDK runs them.
    pub checks: Option<Checks>,
}

/// The constants of bitcore's `getSerializationError` (fees and dust).
#[derive(Clone, Copy)]
pub(super) struct Checks {
    pub dust: u64,
    pub fee_per_kb: u64,
    pub fee_security_margin: u64,
}

/// JavaScript's largest exact integer: bitcore holds satoshis in JS numbers.
const MAX_SATOSHIS: u64 = (1 << 53) - 1;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TxJson {
    #[serde(default)]
    hash: Option<String>,
    version: i32,
    inputs: Vec<InputJson>,
    outputs: Vec<OutputJson>,
    #[serde(rename = "nLockTime")]
    n_lock_time: u32,
    #[serde(default)]
    change_script: Option<String>,
    #[serde(default)]
    change_index: Option<u64>,
    #[serde(default)]
    fee: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputJson {
    prev_tx_id: String,
    output_index: u32,
    #[serde(default = "final_sequence")]
    sequence_number: u32,
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    output: Option<OutputJson>,
}

#[derive(Deserialize)]
struct OutputJson {
    satoshis: u64,
    script: String,
}

fn final_sequence() -> u32 {
    u32::MAX
}

/// A parsed, unsigned bitcore transaction.
struct Unsigned {
    tx: Transaction,
    /// The output each input spends, in input order.
    spent: Vec<TxOut>,
    /// Whether `changeScript` was set (bitcore's fee estimate allows for a
    /// change output then).
    has_change_script: bool,
    /// The `fee` field, if it was set (bitcore ignores 0).
    fee: Option<u64>,
}

impl Unsigned {
    fn parse(chain: Chain, text: &str) -> Result<Unsigned, SignerError> {
        let bad = |reason: String| SignerError::tx(chain, reason);
        let json: TxJson = serde_json::from_str(text)
            .map_err(|e| bad(format!("not a bitcore transaction: {e}")))?;
        if json.inputs.is_empty() {
            return Err(bad("it has no inputs".into()));
        }
        if json.outputs.is_empty() {
            return Err(bad("it has no outputs".into()));
        }
        let mut inputs = Vec::with_capacity(json.inputs.len());
        let mut spent = Vec::with_capacity(json.inputs.len());
        for (i, input) in json.inputs.iter().enumerate() {
            let txid: Txid = input
                .prev_tx_id
                .parse()
                .map_err(|_| bad(format!("input {i}: prevTxId is not 64 hex digits")))?;
            if input.script.as_deref().is_some_and(|s| !s.is_empty()) {
                return Err(bad(format!(
                    "input {i} already has a script; a pending transaction is unsigned"
                )));
            }
            let output = input.output.as_ref().ok_or_else(|| {
                bad(format!(
                    "input {i} does not say which output it spends (output.script, output.satoshis)"
                ))
            })?;
            spent.push(tx_out(chain, &format!("input {i}'s output"), output)?);
            inputs.push(TxIn {
                previous_output: OutPoint::new(txid, input.output_index),
                script_sig: ScriptBuf::new(),
                sequence: Sequence(input.sequence_number),
                witness: Witness::new(),
            });
        }
        let outputs = json
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| tx_out(chain, &format!("output {i}"), o))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = Transaction {
            version: Version(json.version),
            lock_time: LockTime::from_consensus(json.n_lock_time),
            input: inputs,
            output: outputs,
        };

        // bitcore's constructor checks (`_checkConsistency`); it reads
        // `changeIndex`, `changeScript` and `fee` only when truthy.
        let has_change_script = json.change_script.as_deref().is_some_and(|s| !s.is_empty());
        if let Some(index) = json.change_index.filter(|&i| i != 0) {
            let Some(text) = json.change_script.as_deref().filter(|s| !s.is_empty()) else {
                return Err(bad("changeIndex is set but changeScript is not".into()));
            };
            let output = usize::try_from(index)
                .ok()
                .and_then(|i| tx.output.get(i))
                .ok_or_else(|| bad(format!("changeIndex {index} points past the outputs")))?;
            // A script we cannot read (an opcode name outside the standard
            // templates) is left unchecked rather than refused.
            if let Some(script) = parse_bitcore_script(text) {
                if script != output.script_pubkey {
                    return Err(bad(format!(
                        "output {index}, the change output, does not pay changeScript"
                    )));
                }
            }
        }
        if let Some(hash) = json.hash.as_deref().filter(|h| !h.is_empty()) {
            if tx.compute_txid().to_string() != hash.to_ascii_lowercase() {
                return Err(bad(
                    "its hash does not match its inputs and outputs (the transaction was altered)"
                        .into(),
                ));
            }
        }
        let input_total = sum(spent.iter().map(|o| o.value.to_sat()));
        let output_total = sum(tx.output.iter().map(|o| o.value.to_sat()));
        if output_total > input_total {
            return Err(bad(format!(
                "its outputs ({output_total} satoshis) exceed its inputs ({input_total} satoshis)"
            )));
        }
        Ok(Unsigned {
            tx,
            spent,
            has_change_script,
            fee: json.fee.filter(|&f| f != 0),
        })
    }

    /// Inputs minus outputs (checked non-negative when parsed).
    fn unspent(&self) -> u64 {
        sum(self.spent.iter().map(|o| o.value.to_sat()))
            - sum(self.tx.output.iter().map(|o| o.value.to_sat()))
    }
}

/// Amounts are at most 2^53 − 1 each, so a sum of them cannot overflow u64
/// for any transaction that fits in memory.
fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0u64, u64::saturating_add)
}

fn tx_out(chain: Chain, what: &str, output: &OutputJson) -> Result<TxOut, SignerError> {
    if output.satoshis > MAX_SATOSHIS {
        return Err(SignerError::tx(
            chain,
            format!("{what}: {} satoshis is out of range", output.satoshis),
        ));
    }
    let script = hex::decode(&output.script)
        .map_err(|_| SignerError::tx(chain, format!("{what}: script is not hex")))?;
    Ok(TxOut {
        value: Amount::from_sat(output.satoshis),
        script_pubkey: ScriptBuf::from_bytes(script),
    })
}

/// A script written as bitcore writes it (`OP_DUP OP_HASH160 20 0x…
/// OP_EQUALVERIFY OP_CHECKSIG`) or as hex. `None` when it uses anything
/// outside the standard output templates.
fn parse_bitcore_script(text: &str) -> Option<ScriptBuf> {
    if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(text).ok().map(ScriptBuf::from_bytes);
    }
    // Standard output scripts push at most 75 bytes, so no OP_PUSHDATA.
    let mut bytes = Vec::new();
    let mut tokens = text.split(' ');
    while let Some(token) = tokens.next() {
        if let Some(op) = standard_opcode(token) {
            bytes.push(op);
            continue;
        }
        let len: u8 = token.parse().ok().filter(|&n| (1..0x4c).contains(&n))?;
        let pushed = hex::decode(tokens.next()?.strip_prefix("0x")?).ok()?;
        if pushed.len() != usize::from(len) {
            return None;
        }
        bytes.push(len);
        bytes.extend_from_slice(&pushed);
    }
    Some(ScriptBuf::from_bytes(bytes))
}

/// bitcore's names of the opcodes standard output scripts use.
fn standard_opcode(name: &str) -> Option<u8> {
    Some(match name {
        "OP_0" | "OP_FALSE" => 0x00,
        "OP_1NEGATE" => 0x4f,
        "OP_TRUE" => 0x51,
        "OP_RETURN" => 0x6a,
        "OP_DUP" => 0x76,
        "OP_EQUAL" => 0x87,
        "OP_EQUALVERIFY" => 0x88,
        "OP_HASH160" => 0xa9,
        "OP_CHECKSIG" => 0xac,
        "OP_CHECKMULTISIG" => 0xae,
        _ => {
            let n: u8 = name.strip_prefix("OP_")?.parse().ok()?;
            if (1..=16).contains(&n) {
                0x50 + n
            } else {
                return None;
            }
        }
    })
}

/// How an input's previous output is spent by a key.
enum Spend {
    P2pkh,
    P2wpkh,
    /// P2WPKH inside P2SH: the scriptSig pushes this redeem script
    /// (`OP_0 <20-byte key hash>`).
    P2shP2wpkh([u8; 22]),
}

/// Whether `key` can spend `script`, and how.
fn spend_by(script: &bitcoin::Script, key: &SpendingKey, segwit: bool) -> Option<Spend> {
    let bytes = script.as_bytes();
    if script.is_p2pkh() {
        return (bytes[3..23] == key.pubkey_hash).then_some(Spend::P2pkh);
    }
    if !segwit || !key.public.compressed {
        return None;
    }
    if script.is_p2wpkh() {
        return (bytes[2..22] == key.pubkey_hash).then_some(Spend::P2wpkh);
    }
    if script.is_p2sh() {
        let mut redeem = [0u8; 22];
        redeem[1] = 0x14;
        redeem[2..].copy_from_slice(&key.pubkey_hash);
        let redeem_script = bitcoin::Script::from_bytes(&redeem);
        return (ScriptBuf::new_p2sh(&redeem_script.script_hash()) == *script)
            .then_some(Spend::P2shP2wpkh(redeem));
    }
    None
}

fn signable(script: &bitcoin::Script, segwit: bool) -> bool {
    script.is_p2pkh() || (segwit && (script.is_p2wpkh() || script.is_p2sh()))
}

/// The pending transaction as [`sign`] will sign it: parsed, every input of
/// a kind this chain signs, and bitcore's checks passed where the SDK runs
/// them. [`intent`] reads the same value, so the two cannot disagree.
fn checked_unsigned(
    profile: &Profile,
    rules: Rules,
    input: &SignInput<'_>,
) -> Result<Unsigned, SignerError> {
    let chain = profile.chain;
    let unsigned = Unsigned::parse(chain, &input.pending.serialized_transaction)?;
    for (i, out) in unsigned.spent.iter().enumerate() {
        if !signable(&out.script_pubkey, rules.segwit) {
            let kinds = if rules.segwit {
                "P2PKH, P2WPKH and P2SH-P2WPKH"
            } else {
                "P2PKH"
            };
            return Err(SignerError::tx(
                chain,
                format!("input {i} spends a script this signer does not sign (only {kinds})"),
            ));
        }
    }
    // The SDK serializes off-chain withdrawals without the checks.
    if let (Some(checks), None) = (rules.checks, &input.pending.withdrawal_id) {
        bitcore_default_checks(chain, &checks, &unsigned)?;
    }
    Ok(unsigned)
}

/// What a pending BTC/LTC/DOGE transaction does: the addresses of the
/// outputs its inputs spend, every output, inputs − outputs as the fee.
pub(super) fn intent(
    profile: &Profile,
    rules: Rules,
    input: &SignInput<'_>,
) -> Result<Intent, SignerError> {
    let unsigned = checked_unsigned(profile, rules, input)?;
    let style = profile.network(input.network.is_testnet()).script_addresses;
    let mut senders = Vec::new();
    for (i, spent) in unsigned.spent.iter().enumerate() {
        match style.payee(profile.chain, &spent.script_pubkey)? {
            Payee::Address(address) => push_unique(&mut senders, address),
            // `checked_unsigned` admits only key-spendable inputs.
            Payee::Data(_) => {
                return Err(SignerError::tx(
                    profile.chain,
                    format!("input {i} spends an OP_RETURN output"),
                ))
            }
        }
    }
    profile.describe(
        input.network,
        senders,
        &unsigned.tx.output,
        unsigned.unspent(),
    )
}

/// Signs a pending BTC/LTC/DOGE transaction; returns its hex.
pub(super) fn sign(
    profile: &Profile,
    rules: Rules,
    input: &SignInput<'_>,
) -> Result<String, SignerError> {
    let chain = profile.chain;
    let mut unsigned = checked_unsigned(profile, rules, input)?;
    let keys = profile.signing_keys(input)?;

    // Which key spends each input: the first that can.
    let mut plan = Vec::with_capacity(unsigned.spent.len());
    for (i, out) in unsigned.spent.iter().enumerate() {
        let found = keys
            .iter()
            .find_map(|k| spend_by(&out.script_pubkey, k, rules.segwit).map(|s| (k, s)));
        let Some(found) = found else {
            return Err(SignerError::MissingKey {
                chain,
                reason: format!(
                    "input {i} (spending {}) is not spendable by any of the {} key(s) given",
                    unsigned.tx.input[i].previous_output,
                    keys.len()
                ),
            });
        };
        plan.push(found);
    }
    for key in &keys {
        if !plan.iter().any(|(k, _)| k.pubkey_hash == key.pubkey_hash) {
            return Err(SignerError::MissingKey {
                chain,
                reason: format!("{} spends none of the inputs", key.label),
            });
        }
    }

    // Legacy and BIP143 digests cover no input scripts, so all signatures
    // are computed on the unsigned transaction, then put in place.
    let mut unlocks = Vec::with_capacity(plan.len());
    {
        let mut cache = SighashCache::new(&unsigned.tx);
        for (i, (key, spend)) in plan.iter().enumerate() {
            let out = &unsigned.spent[i];
            let failed = |e: String| SignerError::tx(chain, format!("input {i}: {e}"));
            let digest = match spend {
                Spend::P2pkh => cache
                    .legacy_signature_hash(i, &out.script_pubkey, EcdsaSighashType::All.to_u32())
                    .map_err(|e| failed(e.to_string()))?
                    .to_byte_array(),
                Spend::P2wpkh => cache
                    .p2wpkh_signature_hash(i, &out.script_pubkey, out.value, EcdsaSighashType::All)
                    .map_err(|e| failed(e.to_string()))?
                    .to_byte_array(),
                Spend::P2shP2wpkh(redeem) => cache
                    .p2wpkh_signature_hash(
                        i,
                        bitcoin::Script::from_bytes(redeem),
                        out.value,
                        EcdsaSighashType::All,
                    )
                    .map_err(|e| failed(e.to_string()))?
                    .to_byte_array(),
            };
            let signature = bitcoin::ecdsa::Signature {
                signature: secp().sign_ecdsa(&Message::from_digest(digest), &key.secret),
                sighash_type: EcdsaSighashType::All,
            };
            unlocks.push(unlock(spend, signature, &key.public));
        }
    }
    for (txin, (script_sig, witness)) in unsigned.tx.input.iter_mut().zip(unlocks) {
        txin.script_sig = script_sig;
        txin.witness = witness;
    }
    // Segwit serialization (marker 00 01) exactly when a witness exists.
    Ok(bitcoin::consensus::encode::serialize_hex(&unsigned.tx))
}

/// The scriptSig and witness that spend an input.
fn unlock(
    spend: &Spend,
    signature: bitcoin::ecdsa::Signature,
    public: &bitcoin::PublicKey,
) -> (ScriptBuf, Witness) {
    match spend {
        Spend::P2pkh => {
            let script = bitcoin::script::Builder::new()
                .push_slice(signature.serialize())
                .push_key(public)
                .into_script();
            (script, Witness::new())
        }
        Spend::P2wpkh => (ScriptBuf::new(), Witness::p2wpkh(&signature, &public.inner)),
        Spend::P2shP2wpkh(redeem) => {
            let script_sig = bitcoin::script::Builder::new()
                .push_slice(redeem)
                .into_script();
            (script_sig, Witness::p2wpkh(&signature, &public.inner))
        }
    }
}

/// bitcore's `getSerializationError` with default options, minus the
/// missing-signature check (signing refuses unsigned inputs already):
/// the `fee` field must equal inputs − outputs, the fee must lie within a
/// factor `fee_security_margin` of bitcore's estimate, and no output may be
/// dust unless it is an OP_RETURN data output.
fn bitcore_default_checks(
    chain: Chain,
    checks: &Checks,
    unsigned: &Unsigned,
) -> Result<(), SignerError> {
    let fail = |reason: String| SignerError::tx(chain, reason);
    let unspent = unsigned.unspent();
    if let Some(fee) = unsigned.fee {
        if fee != unspent {
            return Err(fail(format!(
                "inputs minus outputs is {unspent} but its fee field says {fee}"
            )));
        }
    }
    let estimate = estimated_fee(checks, unsigned, unspent);
    let maximum = checks.fee_security_margin.saturating_mul(estimate);
    if unspent > maximum {
        return Err(fail(if !unsigned.has_change_script {
            format!("the fee ({unspent}) is too large and no change address was provided")
        } else {
            format!("the fee is too large: expected less than {maximum} but got {unspent}")
        }));
    }
    let minimum = estimate.div_ceil(checks.fee_security_margin);
    if unspent < minimum {
        return Err(fail(format!(
            "the fee is too small: expected more than {minimum} but got {unspent}"
        )));
    }
    for (i, output) in unsigned.tx.output.iter().enumerate() {
        if output.value.to_sat() < checks.dust && !is_data_out(&output.script_pubkey) {
            return Err(fail(format!(
                "output {i} ({} satoshis) is dust: below {}",
                output.value.to_sat(),
                checks.dust
            )));
        }
    }
    Ok(())
}

/// bitcore's `_estimateFee` for P2PKH inputs: a size estimate (26 bytes of
/// framing, 36 + 107 per input, script + 9 per output) at `fee_per_kb`,
/// plus room for a change output when there is a change script and the
/// inputs can pay for it.
fn estimated_fee(checks: &Checks, unsigned: &Unsigned, available: u64) -> u64 {
    const MAXIMUM_EXTRA_SIZE: u64 = 4 + 9 + 9 + 4;
    const P2PKH_INPUT: u64 = 32 + 4 + 73 + 34;
    const CHANGE_OUTPUT_MAX_SIZE: u64 = 20 + 4 + 34 + 4;
    let size = MAXIMUM_EXTRA_SIZE
        + P2PKH_INPUT * unsigned.tx.input.len() as u64
        + unsigned
            .tx
            .output
            .iter()
            .map(|o| o.script_pubkey.len() as u64 + 9)
            .sum::<u64>();
    let fee = (size * checks.fee_per_kb).div_ceil(1000);
    let with_change = ((size + CHANGE_OUTPUT_MAX_SIZE) * checks.fee_per_kb).div_ceil(1000);
    if !unsigned.has_change_script || available <= with_change {
        fee
    } else {
        with_change
    }
}

/// bitcore's `isDataOut`: OP_RETURN alone, or followed by one data push of
/// at most 80 bytes.
fn is_data_out(script: &bitcoin::Script) -> bool {
    let mut instructions = script.instructions();
    if !matches!(
        instructions.next(),
        Some(Ok(Instruction::Op(op))) if op == bitcoin::opcodes::all::OP_RETURN
    ) {
        return false;
    }
    match (instructions.next(), instructions.next()) {
        (None, _) => true,
        (Some(Ok(Instruction::PushBytes(data))), None) => {
            script.as_bytes()[1] != 0x00 && data.len() <= 80
        }
        _ => false,
    }
}
