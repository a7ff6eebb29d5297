//! Signs one pending transaction with the keys of a `wallet.dat` and prints
//! the signed transaction. Nothing is broadcast.
//!
//! ```sh
//! TATUM_KMS_PASSWORD=… cargo run -p kms-signing --example sign_pending -- wallet.dat pending.json
//! ```
//!
//! Offline. With `TATUM_API_KEY` set, what a chain needs from the network
//! (an EVM nonce, a SOL blockhash) is fetched from the Tatum API
//! (`TATUM_API_URL`, default `https://api.tatum.io`). `TESTNET=1` signs for testnet.

use kms_signing::{Network, PendingTransaction, SignedTx, WalletSigner};
use secrecy::SecretString;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store, pending] = &args[..] else {
        return Err("usage: sign_pending WALLET.DAT PENDING.JSON".into());
    };
    let password = SecretString::from(std::env::var("TATUM_KMS_PASSWORD")?);
    let network = match std::env::var_os("TESTNET") {
        Some(_) => Network::Testnet,
        None => Network::Mainnet,
    };
    let online = std::env::var("TATUM_API_KEY").ok().map(|key| {
        let url = std::env::var("TATUM_API_URL").unwrap_or("https://api.tatum.io".into());
        (url, SecretString::from(key))
    });
    let signed = sign_pending(store, pending, &password, network, online)?;
    println!("{}", signed.tx_data);
    Ok(())
}

/// The whole of it: open the store, read the pending transaction, sign.
pub(crate) fn sign_pending(
    store: &str,
    pending: &str,
    password: &SecretString,
    network: Network,
    online: Option<(String, SecretString)>,
) -> Result<SignedTx, Box<dyn std::error::Error>> {
    let mut signer = WalletSigner::open(store.as_ref(), password, network)?;
    let pending = PendingTransaction::from_json(&std::fs::read_to_string(pending)?)?;
    let Some((url, api_key)) = online else {
        return Ok(signer.sign(&pending)?);
    };
    let config = kms_tatum_client::ClientConfig::new(url, api_key);
    let api = kms_tatum_client::TatumClient::new(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(signer.sign_online(&pending, &api))?)
}
