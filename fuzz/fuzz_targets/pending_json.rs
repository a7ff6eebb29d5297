//! The pending transaction JSON the Tatum API sends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = serde_json::from_slice::<kms_core::PendingTransaction>(data) {
        let _ = tx.chain.parse::<kms_core::Chain>();
        let _ = serde_json::to_vec(&tx);
    }
});
