//! Tatum API client. Being written.
