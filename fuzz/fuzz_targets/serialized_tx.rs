//! Every chain's `serializedTransaction`: the first byte picks the chain,
//! the rest is the text. Signed offline (prepare may refuse: that is an
//! error, fine) and, with plausible network facts, signed for real, with
//! valid keys of the chain. Nothing may panic.
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
        let _ = s.sign(&input, &prepared);
    }
    let _ = s.sign(&input, &chain_inputs::facts());
});
