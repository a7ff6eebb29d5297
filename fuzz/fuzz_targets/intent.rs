//! Every chain's intent decoder on any `serializedTransaction` (the same
//! inputs as `serialized_tx`), after an offline prepare and with plausible
//! network facts: decoding what a transaction does must never panic.
//! (Decoding does not imply signing: the fuzz key need not be the sender's.)
#![no_main]

#[path = "chain_inputs.rs"]
mod chain_inputs;

use kms_chain_signers::{signer, OfflineApi};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((pending, key, pick)) = chain_inputs::pending(data) else {
        return;
    };
    let keys = [key];
    let input = chain_inputs::input(&pending, &keys, pick);
    let s = signer(pending.chain);
    let setup = chain_inputs::setup();
    if let Ok(prepared) = setup.runtime.block_on(s.prepare(&input, &OfflineApi)) {
        let _ = s.intent(&input, &prepared);
    }
    let _ = s.intent(&input, &chain_inputs::facts());
});
