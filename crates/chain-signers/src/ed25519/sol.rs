//! Solana. Wallets are `{mnemonic, address, privateKey}`: the key at
//! m/44'/501'/0'/0' (SLIP-0010), the private key as base58 of the 64-byte
//! secret key (seed ‖ public key), the address as base58 of the public key.
//! The original's `index` does not apply to SOL wallets; `getprivatekey`
//! at index i answers m/44'/501'/i'/0', the common wallets' convention, so
//! index 0 is the stored key.

use async_trait::async_trait;
use base64::Engine;
use kms_core::api::rpc_result;
use kms_core::{ApiRequest, Chain, ChainApi, Intent, Network, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use zeroize::Zeroizing;

use super::{sol_message, Slip10Node};
use crate::mnemonic::GivenOrFresh;
use crate::{
    Account, Fate, Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer, SignerError,
    Submitted,
};

pub(crate) struct Sol;
pub(crate) static SOL: Sol = Sol;

fn key_at(mnemonic: &Mnemonic, account: u32) -> Result<Slip10Node, SignerError> {
    Slip10Node::path(mnemonic.seed(), &[44, 501, account, 0])
}

fn encode(node: &Slip10Node) -> (String, SecretString) {
    let signing = node.signing_key();
    let mut secret = Zeroizing::new([0u8; 64]);
    secret.copy_from_slice(&signing.to_keypair_bytes());
    let address = bs58::encode(signing.verifying_key().as_bytes()).into_string();
    (
        address,
        SecretString::from(bs58::encode(&secret[..]).into_string()),
    )
}

/// A Solana secret key as the SDK accepts it: 128 hex characters or base58,
/// of the 64-byte seed ‖ public key.
pub(crate) fn parse_secret(text: &str) -> Result<ed25519_dalek::SigningKey, SignerError> {
    let text = text.trim();
    let bytes = Zeroizing::new(if text.len() == 128 {
        hex::decode(text)
            .map_err(|_| SignerError::key(Chain::SOL, "128 characters but not hexadecimal"))?
    } else {
        bs58::decode(text)
            .into_vec()
            .map_err(|_| SignerError::key(Chain::SOL, "not base58"))?
    });
    let pair: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| SignerError::key(Chain::SOL, "expected a 64-byte secret key"))?;
    ed25519_dalek::SigningKey::from_keypair_bytes(&pair)
        .map_err(|_| SignerError::key(Chain::SOL, "its public half does not match its seed"))
}

struct SolAccount {
    mnemonic_seed: Zeroizing<[u8; 64]>,
}

impl Account for SolAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        let node = Slip10Node::path(self.mnemonic_seed.as_ref(), &[44, 501, index, 0])?;
        Ok(encode(&node).1)
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        let node = Slip10Node::path(self.mnemonic_seed.as_ref(), &[44, 501, index, 0])?;
        Ok(encode(&node).0)
    }
}

#[async_trait]
impl Signer for Sol {
    fn chain(&self) -> Chain {
        Chain::SOL
    }

    fn mnemonic_wallets(&self) -> Option<&dyn MnemonicWallets> {
        Some(self)
    }

    fn generate_wallet(
        &self,
        _network: Network,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let mnemonic = &*GivenOrFresh::new(mnemonic);
        let (address, private_key) = encode(&key_at(mnemonic, 0)?);
        Ok(WalletEntry::new()
            .with("mnemonic", mnemonic.phrase())
            .with("address", address)
            .with("privateKey", private_key.expose_secret()))
    }

    fn address_from_private_key(
        &self,
        _network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let signing = parse_secret(key.expose_secret())?;
        Ok(bs58::encode(signing.verifying_key().as_bytes()).into_string())
    }

    /// The blockhash the original's SDK fetched before signing.
    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        SolTx::parse(&input.pending.serialized_transaction)?;
        let answer = api
            .call(ApiRequest::json_rpc(
                NODE,
                "getLatestBlockhash",
                json!([{"commitment": "finalized"}]),
            ))
            .await?;
        let result = rpc_result(NODE, answer)?;
        let blockhash = result["value"]["blockhash"]
            .as_str()
            .ok_or_else(|| network("getLatestBlockhash answered no value.blockhash"))?;
        let mut facts = serde_json::Map::new();
        facts.insert("blockhash".into(), json!(blockhash));
        // Not signed over; kept so that the audit trail says until when
        // the transaction could land.
        if let Some(height) = result["value"]["lastValidBlockHeight"].as_u64() {
            facts.insert("lastValidBlockHeight".into(), json!(height));
        }
        Ok(Prepared(facts))
    }

    /// The Tatum API sends `{"txData": <hex of a legacy message>, "mintPK"?}`.
    /// As web3.js: the message compiled again with the fresh blockhash, signed
    /// by every required signer (the wallets' keys and `mintPK`). `tx_data` is
    /// the first signature (the transaction id), `node_submission` the wire
    /// transaction (base64) that [`Signer::submit`] sends.
    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        let Compiled {
            keys,
            message,
            required,
            ..
        } = compiled(input, prepared)?;
        let mut signatures = Vec::with_capacity(required.len());
        for signer in &required {
            let key = keys
                .iter()
                .find(|k| k.verifying_key().as_bytes() == signer)
                .ok_or_else(|| {
                    SignerError::tx(
                        Chain::SOL,
                        format!(
                            "the message needs a signature of {}, which no stored key holds",
                            sol_message::base58(signer)
                        ),
                    )
                })?;
            signatures.push(ed25519_dalek::Signer::sign(key, &message).to_bytes());
        }
        Ok(SignedTx {
            tx_data: sol_message::base58(&signatures[0]),
            node_submission: Some(
                base64::engine::general_purpose::STANDARD
                    .encode(sol_message::wire(&signatures, &message)),
            ),
        })
    }

    /// As the original's SDK: `sendTransaction` through the Tatum API's node
    /// gateway, then `getTransaction` until the node has it confirmed; the
    /// id the node answered is what is posted to `/v3/solana/broadcast`.
    /// Decoded from the message `sign` signs: the same parsed instructions,
    /// compiled with the same keys and blockhash.
    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        let Compiled { tx, required, .. } = compiled(input, prepared)?;
        let mut intent = Intent::new(Chain::SOL, input.network);
        intent
            .senders
            .push(sol_message::base58(tx.message.fee_payer()));
        // Solana's base fee: 5000 lamports per signature.
        intent.fee = Some((LAMPORTS_PER_SIGNATURE * required.len() as u64).to_string());
        let mut notes = Vec::new();
        for (index, ix) in tx.message.instructions().enumerate() {
            decode_instruction(index, ix, &mut intent, &mut notes)?;
        }
        intent.memo = (!notes.is_empty()).then(|| notes.join("; "));
        Ok(intent)
    }

    async fn submit(&self, signed: SignedTx, api: &dyn ChainApi) -> Result<Submitted, SignerError> {
        let Some(wire) = signed.node_submission else {
            return Ok(Submitted::TxData(signed.tx_data));
        };
        let answer = api
            .call(ApiRequest::json_rpc(
                NODE,
                "sendTransaction",
                json!([wire, {"encoding": "base64", "preflightCommitment": "confirmed"}]),
            ))
            .await?;
        let tx_id = rpc_result(NODE, answer)?
            .as_str()
            .ok_or_else(|| network("sendTransaction answered no transaction id"))?
            .to_string();
        for attempt in 1..=CONFIRM_POLLS {
            let answer = api
                .call(ApiRequest::json_rpc(
                    NODE,
                    "getTransaction",
                    json!([tx_id, {"commitment": "confirmed"}]),
                ))
                .await?;
            let result = rpc_result(NODE, answer)?;
            if !result.is_null() {
                return match result["meta"]["err"].clone() {
                    serde_json::Value::Null => Ok(Submitted::TxData(tx_id)),
                    err => Err(network(&format!(
                        "transaction {tx_id} failed on chain: {err}"
                    ))),
                };
            }
            if attempt < CONFIRM_POLLS {
                tokio::time::sleep(std::time::Duration::from_secs(attempt as u64)).await;
            }
        }
        Err(network(&format!(
            "transaction {tx_id} was sent but not confirmed after {CONFIRM_POLLS} checks"
        )))
    }

    /// A Solana transaction lands only while its blockhash is valid. So,
    /// in this order: is the blockhash still valid for the finalized bank
    /// (then it may yet land: send the same bytes again)? If not, no block
    /// to come can take it, and the node's full signature history says
    /// whether an earlier one did. Checked in the other order, it could
    /// land between the two questions.
    async fn fate(
        &self,
        signed: &SignedTx,
        prepared: &Prepared,
        api: &dyn ChainApi,
    ) -> Result<Fate, SignerError> {
        let blockhash = prepared
            .0
            .get("blockhash")
            .and_then(|b| b.as_str())
            .ok_or_else(|| network("the earlier signature's blockhash is not recorded"))?;
        let answer = api
            .call(ApiRequest::json_rpc(
                NODE,
                "isBlockhashValid",
                json!([blockhash, {"commitment": "finalized"}]),
            ))
            .await?;
        let valid = rpc_result(NODE, answer)?["value"]
            .as_bool()
            .ok_or_else(|| network("isBlockhashValid answered no value"))?;
        if valid {
            return Ok(Fate::Unknown);
        }
        let answer = api
            .call(ApiRequest::json_rpc(
                NODE,
                "getSignatureStatuses",
                json!([[signed.tx_data], {"searchTransactionHistory": true}]),
            ))
            .await?;
        let statuses = rpc_result(NODE, answer)?;
        match statuses["value"].get(0) {
            Some(serde_json::Value::Null) => Ok(Fate::Expired {
                evidence: format!(
                    "blockhash {blockhash} is no longer valid for the finalized bank and the node has no transaction {}",
                    signed.tx_data
                ),
            }),
            Some(_) => Ok(Fate::Landed),
            None => Err(network("getSignatureStatuses answered no status")),
        }
    }
}

impl MnemonicWallets for Sol {
    fn account(
        &self,
        _network: Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        Ok(Box::new(SolAccount {
            mnemonic_seed: Zeroizing::new(*mnemonic.seed()),
        }))
    }
}

/// The Tatum API's Solana JSON-RPC gateway.
const NODE: &str = "/v3/blockchain/node/SOL/{apiKey}";
/// How often the original's SDK asked for the sent transaction.
const CONFIRM_POLLS: u32 = 9;

fn network(reason: &str) -> SignerError {
    SignerError::Network {
        chain: Chain::SOL,
        reason: reason.to_string(),
    }
}

/// What the Tatum API sends for SOL.
struct SolTx {
    message: sol_message::Message,
    /// The new mint account's key, for token and NFT deployments.
    mint: Option<SecretString>,
}

impl SolTx {
    fn parse(text: &str) -> Result<SolTx, SignerError> {
        let bad = |reason: String| SignerError::tx(Chain::SOL, reason);
        let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| bad(format!("serializedTransaction is not a JSON object: {e}")))?;
        let hex_message = json
            .get("txData")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("txData is missing".into()))?;
        let bytes = hex::decode(hex_message).map_err(|_| bad("txData is not hex".into()))?;
        Ok(SolTx {
            message: sol_message::Message::parse(&bytes)?,
            mint: json
                .get("mintPK")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_string())),
        })
    }
}

const LAMPORTS_PER_SIGNATURE: u64 = 5000;

/// What `sign` signs: the parsed transaction, the stored keys (and the new
/// mint's), the message compiled with the fetched blockhash, and the public
/// keys that must sign it, in order.
struct Compiled {
    tx: SolTx,
    keys: Vec<ed25519_dalek::SigningKey>,
    message: Vec<u8>,
    required: Vec<[u8; 32]>,
}

fn compiled(input: &SignInput<'_>, prepared: &Prepared) -> Result<Compiled, SignerError> {
    let tx = SolTx::parse(&input.pending.serialized_transaction)?;
    let blockhash: [u8; 32] = prepared
        .0
        .get("blockhash")
        .and_then(|b| b.as_str())
        .and_then(|b| bs58::decode(b).into_vec().ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| network("no recent blockhash was fetched"))?;
    let mut keys = Vec::new();
    for k in input.keys {
        let key = parse_secret(k.expose_secret())?;
        if !keys
            .iter()
            .any(|x: &ed25519_dalek::SigningKey| x.verifying_key() == key.verifying_key())
        {
            keys.push(key);
        }
    }
    if let Some(mint) = &tx.mint {
        keys.push(parse_secret(mint.expose_secret())?);
    }
    let publics: Vec<[u8; 32]> = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
    let (message, required) = tx.message.compile(&blockhash, &publics)?;
    Ok(Compiled {
        tx,
        keys,
        message,
        required,
    })
}

const SYSTEM_PROGRAM: &str = "11111111111111111111111111111111";
const TOKEN_PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const TOKEN_2022_PROGRAM: &str = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
const ASSOCIATED_TOKEN_PROGRAM: &str = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";

/// One instruction, appended to `intent` (payments) or `notes` (what else it
/// does). Known: System Program transfer; SPL Token (and Token-2022)
/// transfer and transferChecked; creating an associated token account,
/// whose rent the payer funds. Anything else is refused: what it would do
/// with the signers' accounts is not known.
fn decode_instruction(
    index: usize,
    ix: sol_message::InstructionView<'_>,
    intent: &mut Intent,
    notes: &mut Vec<String>,
) -> Result<(), SignerError> {
    let program = sol_message::base58(ix.program);
    let account = |i: usize| ix.accounts.get(i).map(|k| sol_message::base58(&k[..]));
    let malformed = || {
        SignerError::tx(
            Chain::SOL,
            format!("instruction {index} ({program}) is malformed"),
        )
    };
    let u64_at = |at: usize| {
        ix.data
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let add_sender = |intent: &mut Intent, who: String| {
        if !intent.senders.contains(&who) {
            intent.senders.push(who);
        }
    };
    match program.as_str() {
        // SystemInstruction::Transfer = 2 (u32 LE), then the lamports.
        SYSTEM_PROGRAM if ix.data.len() == 12 && ix.data[..4] == [2, 0, 0, 0] => {
            let (Some(from), Some(to)) = (account(0), account(1)) else {
                return Err(malformed());
            };
            add_sender(intent, from);
            intent.transfers.push(Transfer {
                to,
                amount: u64_at(4).ok_or_else(malformed)?.to_string(),
                asset: None,
            });
        }
        // TokenInstruction::Transfer = 3: [source, destination, owner];
        // the mint is not named, so the source token account stands for it.
        TOKEN_PROGRAM | TOKEN_2022_PROGRAM if ix.data.len() == 9 && ix.data[0] == 3 => {
            let (Some(source), Some(destination), Some(owner)) =
                (account(0), account(1), account(2))
            else {
                return Err(malformed());
            };
            add_sender(intent, owner);
            intent.transfers.push(Transfer {
                to: destination,
                amount: u64_at(1).ok_or_else(malformed)?.to_string(),
                asset: Some(source),
            });
        }
        // TokenInstruction::TransferChecked = 12: [source, mint, destination,
        // owner]; amount, then decimals.
        TOKEN_PROGRAM | TOKEN_2022_PROGRAM if ix.data.len() == 10 && ix.data[0] == 12 => {
            let (Some(mint), Some(destination), Some(owner)) = (account(1), account(2), account(3))
            else {
                return Err(malformed());
            };
            add_sender(intent, owner);
            intent.transfers.push(Transfer {
                to: destination,
                amount: u64_at(1).ok_or_else(malformed)?.to_string(),
                asset: Some(mint),
            });
        }
        // Create (no data or 0) or CreateIdempotent (1): [payer, account,
        // owner, mint, ...]; the payer funds the new account's rent.
        ASSOCIATED_TOKEN_PROGRAM
            if ix.data.len() <= 1 && ix.data.first().is_none_or(|d| *d <= 1) =>
        {
            let (Some(payer), Some(created), Some(owner), Some(mint)) =
                (account(0), account(1), account(2), account(3))
            else {
                return Err(malformed());
            };
            add_sender(intent, payer);
            notes.push(format!(
                "creates token account {created} of mint {mint} for {owner}"
            ));
        }
        _ => {
            return Err(SignerError::unsupported(
                Chain::SOL,
                format!(
                    "decoding instruction {index} (program {program}, instruction {:?})",
                    ix.data.first()
                ),
            ))
        }
    }
    Ok(())
}
