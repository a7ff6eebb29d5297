//! The ed25519 chains: SOL, XLM, ALGO, EGLD, XRP, and ADA (Cardano's
//! BIP32-Ed25519). SOL and EGLD derive with SLIP-0010 (hardened-only
//! ed25519 HD keys, below); XLM, ALGO and XRP wallets are single random keys.

mod ada;
mod ada_tx;
mod algo;
mod algo_tx;
mod egld;
mod sol;
mod sol_message;
mod xlm;
mod xrp;
mod xrp_codec;

pub(crate) use ada::ADA;
pub(crate) use algo::ALGO;
pub(crate) use egld::EGLD;
pub(crate) use sol::SOL;
pub(crate) use xlm::XLM;
pub(crate) use xrp::XRP;

use ed25519_dalek::SigningKey;
use hmac::{Hmac, Mac};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::{SignerError, MAX_INDEX};

type HmacSha512 = Hmac<Sha512>;

/// A SLIP-0010 ed25519 node: the 32-byte key and its chain code.
pub(crate) struct Slip10Node {
    key: Zeroizing<[u8; 32]>,
    chain_code: Zeroizing<[u8; 32]>,
}

impl Slip10Node {
    pub(crate) fn master(seed: &[u8]) -> Slip10Node {
        Self::from_hmac(b"ed25519 seed", &[seed])
    }

    fn from_hmac(key: &[u8], parts: &[&[u8]]) -> Slip10Node {
        let mut mac = HmacSha512::new_from_slice(key).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part);
        }
        let out = Zeroizing::new(mac.finalize().into_bytes());
        let mut node = Slip10Node {
            key: Zeroizing::new([0; 32]),
            chain_code: Zeroizing::new([0; 32]),
        };
        node.key.copy_from_slice(&out[..32]);
        node.chain_code.copy_from_slice(&out[32..]);
        node
    }

    /// Hardened child `index'` (ed25519 has no other kind in SLIP-0010).
    pub(crate) fn hardened(&self, index: u32) -> Result<Slip10Node, SignerError> {
        if index > MAX_INDEX {
            return Err(SignerError::InvalidIndex(index.to_string()));
        }
        let ser = (index | 0x8000_0000).to_be_bytes();
        Ok(Self::from_hmac(
            self.chain_code.as_ref(),
            &[&[0u8], self.key.as_ref(), &ser],
        ))
    }

    pub(crate) fn path(seed: &[u8], path: &[u32]) -> Result<Slip10Node, SignerError> {
        path.iter()
            .try_fold(Self::master(seed), |node, &i| node.hardened(i))
    }

    pub(crate) fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.key)
    }

    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.key
    }
}

/// Random 32 bytes for a new single-key wallet.
pub(crate) fn random_seed() -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).expect("the operating system's random source failed");
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SLIP-0010 test vector 1 for ed25519 (seed 000102…0f).
    #[test]
    fn slip10_spec_vector() {
        let seed = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let m = Slip10Node::master(&seed);
        assert_eq!(
            hex::encode(&m.key[..]),
            "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"
        );
        assert_eq!(
            hex::encode(&m.chain_code[..]),
            "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb"
        );
        let n = Slip10Node::path(&seed, &[0, 1, 2, 2, 1_000_000_000]).unwrap();
        assert_eq!(
            hex::encode(&n.key[..]),
            "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793"
        );
        assert_eq!(
            hex::encode(n.signing_key().verifying_key().as_bytes()),
            "3c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a"
        );
    }
}
