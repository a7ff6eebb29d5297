//! The pending transaction JSON the Tatum API sends, one entry and a list.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(tx) = kms_core::PendingTransaction::from_json(text) {
            let _ = serde_json::to_vec(&tx);
        }
    }
    if let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(data) {
        let _ = kms_core::PendingBatch::from_values(items);
    }
});
