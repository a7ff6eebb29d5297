//! FLOW.
use crate::NotYet;
use kms_core::Chain;
pub(crate) static FLOW: NotYet = NotYet(Chain::FLOW);
