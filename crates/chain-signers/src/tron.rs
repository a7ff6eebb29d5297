//! TRON.
use crate::NotYet;
use kms_core::Chain;
pub(crate) static TRON: NotYet = NotYet(Chain::TRON);
