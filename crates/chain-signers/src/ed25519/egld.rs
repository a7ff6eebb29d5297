//! MultiversX (Elrond). Wallets are `{mnemonic}` only; keys at
//! m/44'/508'/0'/0'/i' (testnet m/44'/1'/0'/0'/i'), SLIP-0010, every level
//! hardened; private keys as 64 hex (the ed25519 seed); addresses as bech32
//! `erd1…` of the public key. The original's `generateAddressFromXPub(EGLD)`
//! takes the mnemonic in place of an xpub; so does ours.

use async_trait::async_trait;
use bech32::{Bech32, Hrp};
use kms_core::{Chain, WalletEntry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::Slip10Node;
use crate::{Account, Mnemonic, Prepared, SignInput, SignedTx, Signer, SignerError};

pub(crate) struct Egld;
pub(crate) static EGLD: Egld = Egld;

fn coin(testnet: bool) -> u32 {
    if testnet {
        1
    } else {
        508
    }
}

pub(crate) fn address(public: &[u8; 32]) -> String {
    bech32::encode::<Bech32>(Hrp::parse_unchecked("erd"), public)
        .expect("32 bytes fit a bech32 string")
}

struct EgldAccount {
    account: Slip10Node,
}

impl EgldAccount {
    fn node(&self, index: u32) -> Result<Slip10Node, SignerError> {
        self.account.hardened(index)
    }
}

impl Account for EgldAccount {
    fn private_key(&self, index: u32) -> Result<SecretString, SignerError> {
        Ok(SecretString::from(hex::encode(self.node(index)?.secret())))
    }
    fn address(&self, index: u32) -> Result<String, SignerError> {
        Ok(address(
            self.node(index)?.signing_key().verifying_key().as_bytes(),
        ))
    }
}

fn account(testnet: bool, mnemonic: &Mnemonic) -> Result<EgldAccount, SignerError> {
    Ok(EgldAccount {
        account: Slip10Node::path(mnemonic.seed(), &[44, coin(testnet), 0, 0])?,
    })
}

#[async_trait]
impl Signer for Egld {
    fn chain(&self) -> Chain {
        Chain::EGLD
    }

    fn generate_wallet(
        &self,
        _testnet: bool,
        mnemonic: Option<&Mnemonic>,
    ) -> Result<WalletEntry, SignerError> {
        let phrase = match mnemonic {
            Some(m) => m.phrase().to_string(),
            None => Mnemonic::generate().phrase().to_string(),
        };
        Ok(WalletEntry::new().with("mnemonic", Zeroizing::new(phrase).as_str()))
    }

    fn account(&self, testnet: bool, mnemonic: &Mnemonic) -> Result<Box<dyn Account>, SignerError> {
        Ok(Box::new(account(testnet, mnemonic)?))
    }

    fn address_from_xpub(
        &self,
        testnet: bool,
        mnemonic: &str,
        index: u32,
    ) -> Result<String, SignerError> {
        account(testnet, &Mnemonic::parse(mnemonic)?)?.address(index)
    }

    fn address_from_private_key(
        &self,
        _testnet: bool,
        key: &SecretString,
    ) -> Result<String, SignerError> {
        let text = key.expose_secret().trim();
        let bytes = Zeroizing::new(
            hex::decode(text).map_err(|_| SignerError::key(Chain::EGLD, "not hexadecimal"))?,
        );
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SignerError::key(Chain::EGLD, "expected 64 hexadecimal characters"))?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(address(signing.verifying_key().as_bytes()))
    }

    fn sign(&self, _input: &SignInput<'_>, _prepared: &Prepared) -> Result<SignedTx, SignerError> {
        Err(SignerError::unsupported(
            Chain::EGLD,
            "signing (not built yet)",
        ))
    }
}
