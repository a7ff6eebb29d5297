//! The operations `cargo xtask bench` compares with the original's SDK,
//! timed in CPU time in this process: signing the offline signing vectors, addresses
//! from an xpub, a private key from a mnemonic. Prints `{op: µs per op}`.
//!
//!     cargo run --release -p kms-chain-signers --example ops -- [ITERATIONS]

use kms_chain_signers::{signer, Mnemonic, Prepared, SignInput};
use kms_core::Chain;
use kms_core::Network;
use serde_json::{json, Map, Value};

/// CPU seconds this process has used: what the original's side measures
/// (`process.cpuUsage`), so a busy machine does not skew the ratio.
fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

fn per_op(iterations: u32, mut f: impl FnMut(u32)) -> f64 {
    f(0); // warm
    let start = cpu_seconds();
    for i in 0..iterations {
        f(i);
    }
    (cpu_seconds() - start) * 1e6 / iterations as f64
}

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let signing = kms_test_support::vectors::signing();
    let derivation = kms_test_support::vectors::derivation();
    let mut out = Map::new();

    for name in [
        "btc-mainnet-p2wpkh-1in-2out",
        "ltc-mainnet-p2pkh-2in",
        "doge-mainnet-p2pkh-2in",
        "bch-mainnet-1in",
        "xlm-mainnet-payment",
        "algo-mainnet-payment",
        "xrp-payment-ed25519",
    ] {
        let v = signing.vector(name);
        let (chain, pending, keys) = (v.chain(), v.pending(), v.keys());
        let s = signer(chain);
        let us = per_op(iterations, |_| {
            let input = SignInput {
                pending: &pending,
                network: Network::Mainnet,
                keys: &keys,
                mnemonic: None,
            };
            let signed = s.sign(&input, &Prepared::default()).unwrap();
            assert_eq!(signed.tx_data, v.expected_tx_data());
        });
        out.insert(format!("sign {name}"), json!(us));
    }

    for chain in [Chain::BTC, Chain::ETH] {
        let v = derivation.find(chain, false);
        let xpub = v["wallet"]["xpub"].as_str().unwrap().to_string();
        let s = signer(chain);
        let us = per_op(iterations, |i| {
            s.xpub_addresses()
                .unwrap()
                .address_from_xpub(Network::Mainnet, &xpub, i)
                .unwrap();
        });
        out.insert(format!("address from xpub {chain}"), json!(us));
        let mnemonic = v["wallet"]["mnemonic"].as_str().unwrap().to_string();
        // As generatePrivateKeyFromMnemonic: the seed (PBKDF2) every time.
        let us = per_op(iterations.min(50), |i| {
            let m = Mnemonic::parse(&mnemonic).unwrap();
            s.mnemonic_wallets()
                .unwrap()
                .account(Network::Mainnet, &m)
                .unwrap()
                .private_key(i)
                .unwrap();
        });
        out.insert(format!("private key from mnemonic {chain}"), json!(us));
    }
    println!("{}", Value::Object(out));
}
