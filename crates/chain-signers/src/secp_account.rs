//! Account-model chains on secp256k1 (the EVM family, TRON, FLOW): one key
//! per address, BIP44 derivation, and a chain-specific way to write the
//! address and the key. Each chain's module declares its [`AccountChain`].

use async_trait::async_trait;
use bitcoin::secp256k1::{PublicKey, SecretKey};
use kms_core::{Chain, Intent, Network, WalletEntry};
use secrecy::{ExposeSecret, SecretString};

use crate::mnemonic::GivenOrFresh;
use crate::secp_hd::{self, AccountKey, XPUB};
use crate::{
    Account, ChainApi, Mnemonic, MnemonicWallets, Prepared, SignInput, SignedTx, Signer,
    SignerError, XpubAddresses,
};

/// How an account chain turns a pending transaction into `txData`.
#[async_trait]
pub(crate) trait TxSigning: Send + Sync {
    /// Fetches what signing needs from the network.
    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError>;
    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError>;
    /// What the transaction does, decoded from what `sign` will sign;
    /// refused until the chain's decoder exists.
    fn intent(&self, input: &SignInput<'_>, _prepared: &Prepared) -> Result<Intent, SignerError> {
        Err(SignerError::unsupported(
            input.pending.chain,
            "decoding what the transaction does",
        ))
    }
}

pub(crate) struct AccountChain {
    pub chain: Chain,
    pub coin_mainnet: u32,
    pub coin_testnet: u32,
    /// The wallet object's key order: the EVM family writes `xpub` first.
    pub xpub_first: bool,
    pub address: fn(&PublicKey) -> String,
    pub key_text: fn(&SecretKey) -> String,
    pub parse_key: fn(Chain, &str) -> Result<SecretKey, SignerError>,
    /// The chain's transaction signing, where it is built.
    pub signing: Option<&'static dyn TxSigning>,
}

impl AccountChain {
    fn coin(&self, testnet: bool) -> u32 {
        if testnet {
            self.coin_testnet
        } else {
            self.coin_mainnet
        }
    }
}

struct ChainAccount {
    key: AccountKey,
    address: fn(&PublicKey) -> String,
    key_text: fn(&SecretKey) -> String,
}

impl Account for ChainAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        Ok(SecretString::from((self.key_text)(
            &self.key.child_secret(index)?,
        )))
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        Ok((self.address)(&secp_hd::child_public(
            &self.key.xpub(),
            index,
        )?))
    }
}

/// `0x` + 64 lowercase hex: the EVM family's private keys.
pub(crate) fn hex_0x(key: &SecretKey) -> String {
    format!("0x{}", hex::encode(key.secret_bytes()))
}

/// 64 lowercase hex without prefix (TRON).
pub(crate) fn hex_plain(key: &SecretKey) -> String {
    hex::encode(key.secret_bytes())
}

/// The last 20 bytes of keccak256 of the uncompressed public key.
pub(crate) fn eth_address_bytes(key: &PublicKey) -> [u8; 20] {
    let hash = alloy_primitives::keccak256(&key.serialize_uncompressed()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

#[async_trait]
impl Signer for AccountChain {
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
        network: Network,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let testnet = network.is_testnet();
        let mnemonic = &*GivenOrFresh::new(mnemonic);
        let key = AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(self.coin(testnet)))?;
        // These SDKs write mainnet `xpub` version bytes on every network.
        let xpub = secp_hd::encode_xpub(&key.xpub(), XPUB);
        Ok(if self.xpub_first {
            WalletEntry::new()
                .with("xpub", xpub)
                .with("mnemonic", mnemonic.phrase())
        } else {
            WalletEntry::new()
                .with("mnemonic", mnemonic.phrase())
                .with("xpub", xpub)
        })
    }

    fn address_from_private_key(
        &self,
        _network: Network,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let secret = (self.parse_key)(self.chain, key.expose_secret())?;
        Ok((self.address)(&PublicKey::from_secret_key(
            secp_hd::secp(),
            &secret,
        )))
    }

    async fn prepare(
        &self,
        input: &SignInput<'_>,
        api: &dyn ChainApi,
    ) -> Result<Prepared, SignerError> {
        match self.signing {
            Some(signing) => signing.prepare(input, api).await,
            None => Ok(Prepared::default()),
        }
    }

    fn intent(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<Intent, SignerError> {
        match self.signing {
            Some(signing) => signing.intent(input, prepared),
            None => Err(SignerError::unsupported(
                self.chain,
                "decoding what the transaction does",
            )),
        }
    }

    fn sign(&self, input: &SignInput<'_>, prepared: &Prepared) -> Result<SignedTx, SignerError> {
        match self.signing {
            Some(signing) => signing.sign(input, prepared),
            None => Err(SignerError::unsupported(
                self.chain,
                "signing (not built yet)",
            )),
        }
    }
}

impl MnemonicWallets for AccountChain {
    fn account(
        &self,
        network: Network,
        mnemonic: &Mnemonic,
    ) -> Result<Box<dyn Account>, SignerError> {
        let testnet = network.is_testnet();
        Ok(Box::new(ChainAccount {
            key: AccountKey::derive(mnemonic, &secp_hd::bip44_change_path(self.coin(testnet)))?,
            address: self.address,
            key_text: self.key_text,
        }))
    }
}

impl XpubAddresses for AccountChain {
    fn address_from_xpub(
        &self,
        _network: Network,
        xpub: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        let parsed = secp_hd::decode_xpub(self.chain, xpub, &[XPUB, secp_hd::TPUB])?;
        Ok((self.address)(&secp_hd::child_public(&parsed, index)?))
    }
}
