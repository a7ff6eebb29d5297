//! The UTXO chains: BTC, LTC, DOGE, BCH. They share BIP44 derivation, WIF
//! keys and most of their signing; each chain's file declares its
//! [`Profile`]: version bytes, address encodings and how its pending
//! transactions are written and signed.
//!
//! * BTC, LTC, DOGE: the pending transaction is bitcore-lib's `Transaction`
//!   JSON ([`bitcore`]); every key signs every input it can spend.
//! * BCH: `"<unsigned tx hex>:<JSON array of input amounts>"`, signed with
//!   BCH Schnorr signatures and the FORKID sighash ([`bch`]).
//!
//! Off-chain withdrawals (`withdrawalId` set) take their keys from the
//! mnemonic at each `withdrawalResponses[i].address.derivationKey`.

mod bch;
mod bitcore;
mod btc;
mod cashaddr;
mod doge;
mod ltc;
mod schnorr;

pub(crate) use bch::BCH;
pub(crate) use btc::BTC;
pub(crate) use doge::DOGE;
pub(crate) use ltc::LTC;

use async_trait::async_trait;
use bitcoin::bip32::Xpub;
use bitcoin::hashes::{hash160, Hash};
use bitcoin::secp256k1::{PublicKey, SecretKey};
use kms_core::{Chain, Intent, Transfer, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::mnemonic::GivenOrFresh;
use crate::secp_hd::{self, AccountKey};
use crate::{
    Account, Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer, SignerError,
    XpubAddresses, MAX_INDEX,
};

/// How a UTXO chain writes its addresses.
#[derive(Clone, Copy)]
enum AddressStyle {
    /// Native segwit v0 with this bech32 prefix (BTC's xpub addresses).
    P2wpkh { hrp: bitcoin::KnownHrp },
    /// Base58check pay-to-pubkey-hash with this version byte.
    P2pkh { version: u8 },
    /// Bitcoin Cash CashAddr P2PKH with this prefix.
    CashAddr { prefix: &'static str },
}

/// One network of a UTXO chain, as the original's SDK configures it.
#[derive(Clone, Copy)]
struct Network {
    coin: u32,
    xpub_version: [u8; 4],
    xpub_address: AddressStyle,
    /// `generateAddressFromPrivatekey` answers legacy P2PKH even where the
    /// xpub addresses are segwit.
    key_address: AddressStyle,
    wif_version: u8,
    /// How the intent names the scripts outputs and inputs pay to.
    script_addresses: ScriptAddresses,
}

/// The address formats of a network's output scripts, for the intent.
#[derive(Clone, Copy)]
enum ScriptAddresses {
    /// Base58check P2PKH and P2SH with these version bytes, and segwit
    /// programs in bech32/bech32m with this prefix where the chain has segwit.
    Base58 {
        p2pkh: u8,
        p2sh: u8,
        segwit_hrp: Option<&'static str>,
    },
    /// Bitcoin Cash CashAddr (P2PKH and P2SH) with this prefix.
    CashAddr { prefix: &'static str },
}

/// What an output script pays: an address, or nothing (an `OP_RETURN`
/// data carrier, with its pushed data).
enum Payee {
    Address(String),
    Data(Vec<Vec<u8>>),
}

impl ScriptAddresses {
    /// The address `script` pays. Only the standard templates are named;
    /// anything else (bare multisig, P2PK, unknown programs) is refused, so
    /// the approver never sees a payment it cannot identify.
    fn payee(self, chain: Chain, script: &bitcoin::Script) -> Result<Payee, SignerError> {
        let bytes = script.as_bytes();
        let unknown = || {
            SignerError::tx(
                chain,
                format!(
                    "an output script of no known address type: {}",
                    hex::encode(bytes)
                ),
            )
        };
        if script.is_op_return() {
            let mut pushes = Vec::new();
            for instruction in script.instructions().skip(1) {
                match instruction.map_err(|_| unknown())? {
                    bitcoin::script::Instruction::PushBytes(data) => {
                        pushes.push(data.as_bytes().to_vec())
                    }
                    bitcoin::script::Instruction::Op(_) => return Err(unknown()),
                }
            }
            return Ok(Payee::Data(pushes));
        }
        let address = match self {
            ScriptAddresses::Base58 {
                p2pkh,
                p2sh,
                segwit_hrp,
            } => {
                if script.is_p2pkh() {
                    base58_address(p2pkh, &bytes[3..23])
                } else if script.is_p2sh() {
                    base58_address(p2sh, &bytes[2..22])
                } else if let (Some(hrp), Some(version)) = (segwit_hrp, script.witness_version()) {
                    // Version 0 programs are 20 or 32 bytes, later ones any
                    // of 2 to 40 bytes (`witness_version` checks the shape).
                    let program = &bytes[2..];
                    if version == bitcoin::WitnessVersion::V0 && ![20, 32].contains(&program.len())
                    {
                        return Err(unknown());
                    }
                    let hrp = bech32::Hrp::parse(hrp).map_err(|_| unknown())?;
                    let version =
                        bech32::Fe32::try_from(version.to_num()).map_err(|_| unknown())?;
                    bech32::segwit::encode(hrp, version, program).map_err(|_| unknown())?
                } else {
                    return Err(unknown());
                }
            }
            ScriptAddresses::CashAddr { prefix } => {
                let hash = |range: std::ops::Range<usize>| -> [u8; 20] {
                    bytes[range].try_into().expect("a 20-byte template slot")
                };
                if script.is_p2pkh() {
                    cashaddr::encode_p2pkh(prefix, &hash(3..23))
                } else if script.is_p2sh() {
                    cashaddr::encode_p2sh(prefix, &hash(2..22))
                } else {
                    return Err(unknown());
                }
            }
        };
        Ok(Payee::Address(address))
    }
}

fn base58_address(version: u8, hash: &[u8]) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(version);
    payload.extend_from_slice(hash);
    bitcoin::base58::encode_check(&payload)
}

/// Order-preserving de-duplication (senders: one wallet often pays several
/// inputs).
fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// How a chain's pending transactions are written and signed.
#[derive(Clone, Copy)]
enum Signing {
    /// bitcore-lib `Transaction` JSON.
    Bitcore(bitcore::Rules),
    /// Bitcoin Cash's `hex:amounts` with Schnorr signatures.
    BitcoinCash,
}

pub(crate) struct Profile {
    chain: Chain,
    mainnet: Network,
    testnet: Network,
    signing: Signing,
}

impl Profile {
    /// The intent of a UTXO transaction: `senders` as found, every output
    /// as a transfer in order (change included: the approver sees all of
    /// them), `OP_RETURN` data in the memo, and the fee.
    fn describe(
        &self,
        network: kms_core::Network,
        senders: Vec<String>,
        outputs: &[bitcoin::TxOut],
        fee: u64,
    ) -> Result<Intent, SignerError> {
        let style = self.network(network.is_testnet()).script_addresses;
        let mut intent = Intent::new(self.chain, network);
        intent.senders = senders;
        let mut data = Vec::new();
        for (i, output) in outputs.iter().enumerate() {
            let amount = output.value.to_sat();
            match style.payee(self.chain, &output.script_pubkey)? {
                Payee::Address(to) => intent.transfers.push(Transfer {
                    to,
                    amount: amount.to_string(),
                    asset: None,
                }),
                // Coins sent to a data carrier are burnt: never what a
                // payment means, so not signed.
                Payee::Data(_) if amount != 0 => {
                    return Err(SignerError::tx(
                        self.chain,
                        format!("output {i} burns {amount} satoshis in an OP_RETURN"),
                    ))
                }
                Payee::Data(pushes) => {
                    let pushes: Vec<String> = pushes
                        .iter()
                        .map(|p| format!("0x{}", hex::encode(p)))
                        .collect();
                    data.push(
                        format!("OP_RETURN {}", pushes.join(" "))
                            .trim_end()
                            .to_string(),
                    );
                }
            }
        }
        if !data.is_empty() {
            intent.memo = Some(data.join("; "));
        }
        intent.fee = Some(fee.to_string());
        Ok(intent)
    }

    /// Refuses a pending transaction named for another chain.
    fn check_chain(&self, input: &SignInput<'_>) -> Result<(), SignerError> {
        let named = input.pending.chain;
        if named != self.chain {
            return Err(SignerError::tx(
                self.chain,
                format!("the pending transaction is for chain '{named}'"),
            ));
        }
        Ok(())
    }

    fn network(&self, testnet: bool) -> &Network {
        if testnet {
            &self.testnet
        } else {
            &self.mainnet
        }
    }

    /// Parses a WIF of this chain and network: the key and whether its public
    /// key is compressed.
    pub(crate) fn parse_wif(
        &self,
        testnet: bool,
        wif: &str,
    ) -> Result<(SecretKey, bool), SignerError> {
        let chain = self.chain;
        let (version, key, compressed) = decode_wif(chain, wif)?;
        if version != self.network(testnet).wif_version {
            let hint = if version == self.network(!testnet).wif_version {
                if testnet {
                    "it is a mainnet key; drop --testnet"
                } else {
                    "it is a testnet key; add --testnet"
                }
            } else {
                "its version byte belongs to another chain"
            };
            return Err(SignerError::key(chain, hint));
        }
        Ok((key, compressed))
    }

    /// The keys a signature uses: from the mnemonic at each withdrawal
    /// response's derivation index for off-chain withdrawals, else the WIFs
    /// the caller collected.
    fn signing_keys(&self, input: &SignInput<'_>) -> Result<Vec<SpendingKey>, SignerError> {
        if input.pending.withdrawal_id.is_some() {
            return Ok(self
                .withdrawal_keys(input)?
                .into_iter()
                .map(|(_, key)| key)
                .collect());
        }
        if input.keys.is_empty() {
            return Err(SignerError::MissingKey {
                chain: self.chain,
                reason: "no private key was found for this transaction".into(),
            });
        }
        input
            .keys
            .iter()
            .enumerate()
            .map(|(i, wif)| self.spending_key_from_wif(input.network.is_testnet(), i, wif))
            .collect()
    }

    fn spending_key_from_wif(
        &self,
        testnet: bool,
        position: usize,
        wif: &SecretString,
    ) -> Result<SpendingKey, SignerError> {
        let label = format!("key {} of the transaction's wallets", position + 1);
        let (version, secret, compressed) = decode_wif(self.chain, wif.expose_secret())
            .map_err(|e| SignerError::key(self.chain, format!("{label}: {}", reason_of(&e))))?;
        // bitcore (BTC, LTC, DOGE) reads the network from the WIF itself; the
        // BCH SDK insists on the network it was asked for.
        let accepted = match self.signing {
            Signing::Bitcore(_) => [self.mainnet.wif_version, self.testnet.wif_version],
            Signing::BitcoinCash => [self.network(testnet).wif_version; 2],
        };
        if !accepted.contains(&version) {
            return Err(SignerError::key(
                self.chain,
                format!("{label}: not a {} key for this network", self.chain),
            ));
        }
        Ok(SpendingKey::new(secret, compressed, label))
    }

    /// Off-chain withdrawals: one key per response that spends an input
    /// (`vIn` ≠ "-1"), derived from the mnemonic at `address.derivationKey`
    /// (0 when absent), with the response it belongs to.
    fn withdrawal_keys(
        &self,
        input: &SignInput<'_>,
    ) -> Result<Vec<(WithdrawalInput, SpendingKey)>, SignerError> {
        let chain = self.chain;
        let responses = input
            .pending
            .withdrawal_responses
            .as_ref()
            .and_then(Value::as_array)
            .ok_or_else(|| {
                SignerError::tx(
                    chain,
                    "an off-chain withdrawal needs the withdrawalResponses array",
                )
            })?;
        let mnemonic = input.mnemonic.ok_or_else(|| SignerError::MissingKey {
            chain,
            reason: "an off-chain withdrawal is signed with the first wallet's mnemonic, and it has none".into(),
        })?;
        let network = self.network(input.network.is_testnet());
        let account = AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(network.coin))?;
        let mut keys = Vec::new();
        for (position, response) in responses.iter().enumerate() {
            let Some(spent) = WithdrawalInput::parse(chain, position, response)? else {
                continue;
            };
            let secret = account.child_secret(spent.derivation_key)?;
            let label = format!(
                "the key of withdrawal response {position} (derivation index {})",
                spent.derivation_key
            );
            keys.push((spent, SpendingKey::new(secret, true, label)));
        }
        if keys.is_empty() {
            return Err(SignerError::tx(
                chain,
                "withdrawalResponses spend no input (every vIn is \"-1\")",
            ));
        }
        Ok(keys)
    }
}

/// One `withdrawalResponses` entry that spends an input.
struct WithdrawalInput {
    /// Its position in `withdrawalResponses`.
    position: usize,
    txid: bitcoin::Txid,
    vout: u32,
    derivation_key: u32,
}

impl WithdrawalInput {
    /// `None` for the pool entry (`vIn` "-1"), which spends nothing.
    fn parse(chain: Chain, position: usize, v: &Value) -> Result<Option<Self>, SignerError> {
        let bad =
            |what: &str| SignerError::tx(chain, format!("withdrawalResponses[{position}]: {what}"));
        let vin = v
            .get("vIn")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("vIn is not a string"))?;
        if vin == "-1" {
            return Ok(None);
        }
        let txid = vin
            .parse()
            .map_err(|_| bad("vIn is not a transaction id (64 hex digits)"))?;
        let vout = v
            .get("vInIndex")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad("vInIndex is not an output index"))?;
        // The SDK reads `address?.derivationKey || 0`.
        let derivation_key = match v.get("address").and_then(|a| a.get("derivationKey")) {
            None | Some(Value::Null) => 0,
            Some(n) => n
                .as_u64()
                .filter(|&n| n <= u64::from(MAX_INDEX))
                .ok_or_else(|| bad("address.derivationKey is not an index from 0 to 2147483647"))?
                as u32,
        };
        Ok(Some(WithdrawalInput {
            position,
            txid,
            vout,
            derivation_key,
        }))
    }
}

/// A key that may sign inputs, with the public key and hash its inputs'
/// scripts are matched against. The secret is erased on drop.
struct SpendingKey {
    secret: SecretKey,
    public: bitcoin::PublicKey,
    pubkey_hash: [u8; 20],
    /// Names the key in errors without showing it.
    label: String,
}

impl SpendingKey {
    fn new(secret: SecretKey, compressed: bool, label: String) -> Self {
        let inner = PublicKey::from_secret_key(secp_hd::secp(), &secret);
        let public = bitcoin::PublicKey { compressed, inner };
        let pubkey_hash = public.pubkey_hash().to_byte_array();
        SpendingKey {
            secret,
            public,
            pubkey_hash,
            label,
        }
    }
}

impl Drop for SpendingKey {
    fn drop(&mut self) {
        self.secret.non_secure_erase();
    }
}

/// A WIF's version byte, key and compression flag.
fn decode_wif(chain: Chain, wif: &str) -> Result<(u8, SecretKey, bool), SignerError> {
    let raw = zeroize::Zeroizing::new(
        bitcoin::base58::decode_check(wif.trim())
            .map_err(|_| SignerError::key(chain, "not a WIF (base58check) key"))?,
    );
    let compressed = match raw.len() {
        34 if raw[33] == 0x01 => true,
        33 => false,
        _ => return Err(SignerError::key(chain, "not a WIF key (wrong length)")),
    };
    let key = SecretKey::from_slice(&raw[1..33])
        .map_err(|_| SignerError::key(chain, "not a valid secp256k1 key"))?;
    Ok((raw[0], key, compressed))
}

fn reason_of(e: &SignerError) -> String {
    match e {
        SignerError::InvalidPrivateKey { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

fn address(style: AddressStyle, key: &PublicKey) -> String {
    match style {
        AddressStyle::P2wpkh { hrp } => {
            bitcoin::Address::p2wpkh(&bitcoin::CompressedPublicKey(*key), hrp).to_string()
        }
        AddressStyle::P2pkh { version } => p2pkh(version, &key.serialize()),
        AddressStyle::CashAddr { prefix } => cashaddr::encode_p2pkh(
            prefix,
            &hash160::Hash::hash(&key.serialize()).to_byte_array(),
        ),
    }
}

/// Wallet import format of a compressed-key secret.
fn wif(version: u8, key: &SecretKey) -> SecretString {
    let mut payload = zeroize::Zeroizing::new(Vec::with_capacity(34));
    payload.push(version);
    payload.extend_from_slice(&key.secret_bytes());
    payload.push(0x01);
    SecretString::from(bitcoin::base58::encode_check(&payload))
}

fn p2pkh(version: u8, pubkey: &[u8]) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(version);
    payload.extend_from_slice(&hash160::Hash::hash(pubkey).to_byte_array());
    bitcoin::base58::encode_check(&payload)
}

struct UtxoAccount {
    network: Network,
    key: AccountKey,
    /// Cached: addresses need only the public half.
    xpub: Xpub,
}

impl Account for UtxoAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        let mut secret = self.key.child_secret(index)?;
        let text = wif(self.network.wif_version, &secret);
        secret.non_secure_erase();
        Ok(text)
    }

    fn address(&self, index: u32) -> Result<String, SignerError> {
        let public = secp_hd::child_public(&self.xpub, index)?;
        Ok(address(self.network.xpub_address, &public))
    }
}

#[async_trait]
impl Signer for Profile {
    fn chain(&self) -> Chain {
        self.chain
    }

    fn mnemonic_wallets(&self) -> Option<&dyn MnemonicWallets> {
        Some(self)
    }

    fn xpub_addresses(&self) -> Option<&dyn XpubAddresses> {
        Some(self)
    }

    fn generate_wallet(
        &self,
        network: kms_core::Network,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let testnet = network.is_testnet();
        let mnemonic = &*GivenOrFresh::new(mnemonic);
        let network = self.network(testnet);
        let key = AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(network.coin))?;
        Ok(WalletEntry::new().with("mnemonic", mnemonic.phrase()).with(
            "xpub",
            secp_hd::encode_xpub(&key.xpub(), network.xpub_version),
        ))
    }

    fn address_from_private_key(
        &self,
        network: kms_core::Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let testnet = network.is_testnet();
        let (mut secret, compressed) = self.parse_wif(testnet, key.expose_secret())?;
        let public = PublicKey::from_secret_key(secp_hd::secp(), &secret);
        secret.non_secure_erase();
        let network = self.network(testnet);
        Ok(match network.key_address {
            AddressStyle::P2pkh { version } if !compressed => {
                p2pkh(version, &public.serialize_uncompressed())
            }
            style => address(style, &public),
        })
    }

    fn wallet_address_of_key(
        &self,
        network: kms_core::Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let testnet = network.is_testnet();
        let style = self.network(testnet).xpub_address;
        let (mut secret, compressed) = self.parse_wif(testnet, key.expose_secret())?;
        let public = PublicKey::from_secret_key(secp_hd::secp(), &secret);
        secret.non_secure_erase();
        match style {
            // A compressed key's segwit address, as the chain's wallets (and
            // the batch) give it.
            AddressStyle::P2wpkh { .. } if compressed => Ok(address(style, &public)),
            // Elsewhere wallets and keys share a style; and an uncompressed
            // key has no segwit address, only the legacy one it controls.
            _ => self.address_from_private_key(network, key),
        }
    }

    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        self.check_chain(input)?;
        match self.signing {
            Signing::Bitcore(rules) => bitcore::intent(self, rules, input),
            Signing::BitcoinCash => bch::intent(self, input),
        }
    }

    fn sign(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        self.check_chain(input)?;
        let tx_data = match self.signing {
            Signing::Bitcore(rules) => bitcore::sign(self, rules, input)?,
            Signing::BitcoinCash => bch::sign(self, input)?,
        };
        Ok(SignedTx::plain(tx_data))
    }
}

impl MnemonicWallets for Profile {
    fn account(
        &self,
        network: kms_core::Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        let testnet = network.is_testnet();
        let network = *self.network(testnet);
        let key = AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(network.coin))?;
        let xpub = key.xpub();
        Ok(Box::new(UtxoAccount { network, key, xpub }))
    }
}

impl XpubAddresses for Profile {
    fn address_from_xpub(
        &self,
        network: kms_core::Network,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        let testnet = network.is_testnet();
        let network = self.network(testnet);
        let parsed = secp_hd::decode_xpub(self.chain, xpub, &[network.xpub_version])?;
        let public = secp_hd::child_public(&parsed, index)?;
        Ok(address(network.xpub_address, &public))
    }
}
