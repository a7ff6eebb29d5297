//! Approval hook. Being written.
