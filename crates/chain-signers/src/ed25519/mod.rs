//! The ed25519 chains: SOL, XLM, ALGO, EGLD, XRP, and ADA (ed25519-BIP32).
use crate::NotYet;
use kms_core::Chain;
pub(crate) static EGLD: NotYet = NotYet(Chain::EGLD);
pub(crate) static SOL: NotYet = NotYet(Chain::SOL);
pub(crate) static XRP: NotYet = NotYet(Chain::XRP);
pub(crate) static XLM: NotYet = NotYet(Chain::XLM);
pub(crate) static ALGO: NotYet = NotYet(Chain::ALGO);
pub(crate) static ADA: NotYet = NotYet(Chain::ADA);
