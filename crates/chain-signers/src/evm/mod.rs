//! The EVM family: ETH, MATIC, BSC, CELO, KLAY, ONE, XDC, KCS, and VET.
use crate::NotYet;
use kms_core::Chain;
pub(crate) static ETH: NotYet = NotYet(Chain::ETH);
pub(crate) static MATIC: NotYet = NotYet(Chain::MATIC);
pub(crate) static BSC: NotYet = NotYet(Chain::BSC);
pub(crate) static CELO: NotYet = NotYet(Chain::CELO);
pub(crate) static KLAY: NotYet = NotYet(Chain::KLAY);
pub(crate) static ONE: NotYet = NotYet(Chain::ONE);
pub(crate) static XDC: NotYet = NotYet(Chain::XDC);
pub(crate) static KCS: NotYet = NotYet(Chain::KCS);
pub(crate) static VET: NotYet = NotYet(Chain::VET);
