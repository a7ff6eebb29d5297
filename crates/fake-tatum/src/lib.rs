//! Fake Tatum API. Being written.
