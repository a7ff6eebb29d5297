//! BTC, LTC, DOGE, BCH.
use crate::NotYet;
use kms_core::Chain;
pub(crate) static BTC: NotYet = NotYet(Chain::BTC);
pub(crate) static LTC: NotYet = NotYet(Chain::LTC);
pub(crate) static DOGE: NotYet = NotYet(Chain::DOGE);
pub(crate) static BCH: NotYet = NotYet(Chain::BCH);
