//! The store's KDF alone, for `cargo xtask bench kdf`: Argon2id at the
//! default cost (m = 256 MiB, t = 3, p = 2) through `KdfParams::run_once`,
//! exactly as an unlock runs it.
//!
//! - `kdf once`: one derivation, then exit; timed from outside as a whole
//!   process, beside the C reference CLI doing the same work.
//! - `kdf runs N`: N derivations in this process; prints each one's wall
//!   time in milliseconds as a JSON array. With `RAYON_NUM_THREADS=1` the
//!   lanes run one after the other, as without argon2's `parallel` feature.

use std::time::Instant;

use kms_vault::KdfParams;

/// The same password and 16-byte salt the bench hands the C CLI.
const PASSWORD: &[u8] = b"bench password";
const SALT: &[u8; 16] = b"0123456789abcdef";

fn derive() {
    KdfParams::default()
        .run_once(std::hint::black_box(PASSWORD), SALT)
        .expect("the default cost is valid");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["once"] => derive(),
        ["runs", n] => {
            let n: usize = n.parse().expect("runs N: N is a number");
            let ms: Vec<f64> = (0..n)
                .map(|_| {
                    let started = Instant::now();
                    derive();
                    started.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            println!("{ms:?}");
        }
        _ => {
            eprintln!("usage: kdf once | kdf runs N");
            std::process::exit(2);
        }
    }
}
