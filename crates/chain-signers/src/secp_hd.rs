//! BIP32 over secp256k1, shared by every secp256k1 chain (UTXO, EVM, TRON,
//! FLOW): the account node of a BIP44 path, extended keys with a chain's own
//! version bytes, children at an index. Built on rust-bitcoin.

use bitcoin::bip32::{ChildNumber, DerivationPath, Xpriv, Xpub};
use bitcoin::secp256k1::{All, PublicKey, Secp256k1, SecretKey};
use bitcoin::NetworkKind;
use kms_core::Chain;
use std::sync::OnceLock;

use crate::{Mnemonic, SignerError, MAX_INDEX};

/// BIP32 version bytes of an extended public key.
pub(crate) const XPUB: [u8; 4] = [0x04, 0x88, 0xb2, 0x1e];
pub(crate) const TPUB: [u8; 4] = [0x04, 0x35, 0x87, 0xcf];

/// The process's libsecp256k1 context, blinded with a random seed from the
/// OS: side-channel hardening of signing and key generation (what the
/// `rand-std` feature did inside `Secp256k1::new` with `rand`'s thread RNG).
/// The blinding never changes a result: signatures stay RFC 6979.
pub(crate) fn secp() -> &'static Secp256k1<All> {
    static CTX: OnceLock<Secp256k1<All>> = OnceLock::new();
    CTX.get_or_init(|| {
        let mut ctx = Secp256k1::new();
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).expect("the operating system's random source failed");
        ctx.seeded_randomize(&seed);
        ctx
    })
}

/// `m/44'/coin'/0'/0`, the account/change node the original derives from.
pub(crate) fn bip44_change_path(coin: u32) -> DerivationPath {
    DerivationPath::from(vec![
        ChildNumber::Hardened { index: 44 },
        ChildNumber::Hardened { index: coin },
        ChildNumber::Hardened { index: 0 },
        ChildNumber::Normal { index: 0 },
    ])
}

/// An account-level extended private key. Its secret scalar is erased on drop.
pub(crate) struct AccountKey {
    xprv: Xpriv,
}

impl Drop for AccountKey {
    fn drop(&mut self) {
        self.xprv.private_key.non_secure_erase();
        self.xprv.chain_code = bitcoin::bip32::ChainCode::from([0u8; 32]);
    }
}

impl AccountKey {
    pub(crate) fn derive(
        mnemonic: &Mnemonic,
        path: &DerivationPath,
    ) -> Result<AccountKey, SignerError> {
        let master = Xpriv::new_master(NetworkKind::Main, mnemonic.seed())
            .map_err(|e| SignerError::InvalidMnemonic(e.to_string()))?;
        let xprv = master
            .derive_priv(secp(), path)
            .map_err(|e| SignerError::InvalidMnemonic(e.to_string()))?;
        Ok(AccountKey { xprv })
    }

    /// The secret key of non-hardened child `index`.
    pub(crate) fn child_secret(&self, index: u32) -> Result<SecretKey, SignerError> {
        let child = self
            .xprv
            .derive_priv(secp(), &[normal(index)?])
            .map_err(|e| SignerError::InvalidIndex(format!("{index}: {e}")))?;
        Ok(child.private_key)
    }

    pub(crate) fn xpub(&self) -> Xpub {
        Xpub::from_priv(secp(), &self.xprv)
    }
}

pub(crate) fn normal(index: u32) -> Result<ChildNumber, SignerError> {
    if index > MAX_INDEX {
        return Err(SignerError::InvalidIndex(index.to_string()));
    }
    Ok(ChildNumber::Normal { index })
}

/// Base58check of an extended public key with `version` in place of BIP32's.
pub(crate) fn encode_xpub(xpub: &Xpub, version: [u8; 4]) -> String {
    let mut bytes = xpub.encode();
    bytes[..4].copy_from_slice(&version);
    bitcoin::base58::encode_check(&bytes)
}

/// Parses an extended public key whose version must be one of `accepted`.
pub(crate) fn decode_xpub(
    chain: Chain,
    text: &str,
    accepted: &[[u8; 4]],
) -> Result<Xpub, SignerError> {
    let bad = |reason: &str| SignerError::InvalidXpub {
        chain,
        reason: reason.to_string(),
    };
    let mut bytes =
        bitcoin::base58::decode_check(text.trim()).map_err(|_| bad("not base58check"))?;
    if bytes.len() != 78 {
        return Err(bad("not 78 bytes"));
    }
    if !accepted.iter().any(|v| bytes[..4] == v[..]) {
        return Err(bad("unexpected version bytes for this chain and network"));
    }
    bytes[..4].copy_from_slice(&XPUB);
    Xpub::decode(&bytes).map_err(|e| bad(&e.to_string()))
}

/// The public key of non-hardened child `index` of an extended public key.
pub(crate) fn child_public(xpub: &Xpub, index: u32) -> Result<PublicKey, SignerError> {
    let child = xpub
        .derive_pub(secp(), &[normal(index)?])
        .map_err(|e| SignerError::InvalidIndex(format!("{index}: {e}")))?;
    Ok(child.public_key)
}

/// 32 bytes as 64 hex digits (with or without `0x`) as a secret key.
pub(crate) fn secret_from_hex(chain: Chain, text: &str) -> Result<SecretKey, SignerError> {
    let hex_part = text.trim().strip_prefix("0x").unwrap_or(text.trim());
    if hex_part.len() != 64 {
        return Err(SignerError::key(
            chain,
            "expected 64 hexadecimal characters",
        ));
    }
    secret_from_unpadded_hex(chain, hex_part)
}

/// A secret key as hex of a number, leading zeros optional (FLOW's keys).
pub(crate) fn secret_from_unpadded_hex(chain: Chain, text: &str) -> Result<SecretKey, SignerError> {
    let hex_part = text.trim().strip_prefix("0x").unwrap_or(text.trim());
    if hex_part.len() > 64 || hex_part.is_empty() {
        return Err(SignerError::key(
            chain,
            "expected at most 64 hexadecimal characters",
        ));
    }
    let padded = zeroize::Zeroizing::new(format!("{hex_part:0>64}"));
    let bytes = zeroize::Zeroizing::new(
        hex::decode(padded.as_str()).map_err(|_| SignerError::key(chain, "not hexadecimal"))?,
    );
    SecretKey::from_slice(&bytes)
        .map_err(|_| SignerError::key(chain, "not a valid secp256k1 secret key"))
}
