//! The one place tests read the original SDK's vectors from.
//!
//! The vectors live in the repository, `testdata/vectors/*.json`: outputs of
//! the original TypeScript SDK, copied byte for byte from the steering
//! repository's shared folder (the identity check in `tests/vectors_copy.rs`
//! keeps the two equal wherever that folder sits beside the checkout).
//! `KMS_VECTORS_DIR` points the tests at another copy.
//!
//! The files are kept as JSON values (their shape belongs to the original's
//! tooling, and tests look at many corners of it); the typed views below are
//! for what tests do over and over: find a signing vector by name, build its
//! pending transaction and keys, list the requests the original made, walk
//! the derivation vectors of some chains with their mnemonic.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use kms_core::{Chain, PendingTransaction};
use secrecy::SecretString;
use serde_json::Value;

/// The vector files, by name.
pub const SIGNING: &str = "signing.json";
pub const DERIVATION: &str = "derivation.json";
pub const LEGACY_WALLETDAT: &str = "legacy_walletdat.json";

/// `testdata/vectors` in the workspace, or `KMS_VECTORS_DIR` when set.
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("KMS_VECTORS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repository_copy(),
    }
}

/// `testdata/vectors` in the workspace, whatever `KMS_VECTORS_DIR` says.
pub fn repository_copy() -> PathBuf {
    crate::workspace_root().join("testdata/vectors")
}

/// One vector file, parsed. Panics naming the path (and the override, if
/// one is set) when it is missing or not JSON.
pub fn load_vectors(name: &str) -> Value {
    load_from(&vectors_dir(), name)
}

fn load_from(dir: &Path, name: &str) -> Value {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        let hint = if std::env::var_os("KMS_VECTORS_DIR").is_some() {
            " (KMS_VECTORS_DIR is set: is it the right directory?)"
        } else {
            ""
        };
        panic!("{}: {e}{hint}", path.display())
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `signing.json`: what the original's SDK signed, per chain.
pub struct SigningFile {
    /// The whole file, for the corners the typed view does not cover.
    pub json: Value,
    /// The mnemonic every mnemonic-derived key of the file comes from.
    pub mnemonic: String,
    pub vectors: Vec<SigningVector>,
}

impl SigningFile {
    /// The vector of that name; panics naming it when there is none.
    pub fn vector(&self, name: &str) -> &SigningVector {
        self.vectors
            .iter()
            .find(|v| v.name() == name)
            .unwrap_or_else(|| panic!("{SIGNING} has no vector {name}"))
    }

    /// The vectors of these chains, in file order.
    pub fn of_chains<'a>(
        &'a self,
        chains: &'a [Chain],
    ) -> impl Iterator<Item = &'a SigningVector> + 'a {
        self.vectors.iter().filter(|v| chains.contains(&v.chain()))
    }
}

pub fn signing() -> SigningFile {
    signing_from(load_vectors(SIGNING))
}

fn signing_from(json: Value) -> SigningFile {
    let mnemonic = json["mnemonic"]
        .as_str()
        .unwrap_or_else(|| panic!("{SIGNING}: no mnemonic"))
        .to_string();
    let vectors = json["vectors"]
        .as_array()
        .unwrap_or_else(|| panic!("{SIGNING}: no vectors"))
        .iter()
        .cloned()
        .map(SigningVector)
        .collect();
    SigningFile {
        json,
        mnemonic,
        vectors,
    }
}

/// The signing vector of that name.
pub fn signing_vector(name: &str) -> SigningVector {
    signing().vector(name).clone()
}

/// One entry of `signing.json`. Derefs to its JSON for the fields the
/// accessors do not cover (`v["notes"]`, `v["expectedSignedTransaction"]`).
#[derive(Clone, Debug)]
pub struct SigningVector(pub Value);

impl Deref for SigningVector {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

/// So a test can edit a copy of a vector (`v["pendingTransaction"][…] = …`).
impl DerefMut for SigningVector {
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.0
    }
}

/// The CELO vector's pending transaction signed since Celo became an
/// Ethereum L2 (26 March 2025), which refuses the Celo legacy RLP the
/// original produced: an Ethereum legacy EIP-155 transaction for chain 42220
/// with the same nonce, gas price, gas, recipient, value and data, from the
/// same key (`crates/chain-signers/tests/celo_l2.rs` decodes it and checks
/// each field against the original's output).
pub const CELO_VECTOR_SINCE_L2: &str = "0xf86e03841dcd65008252089418562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee880de0b6b3a764000080830149fca091dd262e3148ab0d389e78f769939a0004533c36dbd187ea667c4373f54d80bba00a331d284422670687c94de7c12774d68f39c4f5882c613e717f6326d51ce6dd";

impl SigningVector {
    pub fn name(&self) -> &str {
        self.0["name"].as_str().expect("a vector has a name")
    }

    pub fn chain(&self) -> Chain {
        let chain = self.0["chain"].as_str().expect("a vector has a chain");
        chain
            .parse()
            .unwrap_or_else(|_| panic!("{}: unknown chain {chain}", self.name()))
    }

    pub fn testnet(&self) -> bool {
        self.0["testnet"].as_bool().unwrap_or(false)
    }

    /// The object the original received from `POST /v3/kms/pending/{chain}`.
    pub fn pending(&self) -> PendingTransaction {
        serde_json::from_value(self.0["pendingTransaction"].clone())
            .unwrap_or_else(|e| panic!("{}: pendingTransaction: {e}", self.name()))
    }

    /// The keys the original signed with, in its order: each entry's
    /// `secret` (XRP, XLM, ALGO) or `privateKey`. Entries with neither (the
    /// off-chain withdrawal's xpub-only entry, signed from the mnemonic) give
    /// no key.
    pub fn keys(&self) -> Vec<SecretString> {
        self.0["signingKeys"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no signingKeys", self.name()))
            .iter()
            .filter_map(|k| k.get("secret").or_else(|| k.get("privateKey")))
            .map(|k| SecretString::from(k.as_str().expect("a key is text").to_string()))
            .collect()
    }

    /// The `txData` the original handed to the Tatum API.
    pub fn expected_tx_data(&self) -> &str {
        self.0["expectedTxData"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no expectedTxData", self.name()))
    }

    /// The `txData` this KMS hands over for the vector today: the
    /// original's, except where the network no longer accepts what the
    /// original signed (see [`CELO_VECTOR_SINCE_L2`]).
    pub fn expected_tx_data_today(&self) -> &str {
        match self.name() {
            "celo-mainnet-native" => CELO_VECTOR_SINCE_L2,
            _ => self.expected_tx_data(),
        }
    }

    /// The requests the original made while signing, with their answers
    /// (`[{method, url, body, answer}]`), as [`crate::replay::Replay`] takes them.
    pub fn sdk_requests(&self) -> &Value {
        &self.0["sdkRequests"]
    }

    /// The requests the original made, as `"METHOD path"`, in its order.
    pub fn recorded_requests(&self) -> Vec<String> {
        self.0["sdkRequests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().expect("a request has a method"),
                    r["url"].as_str().expect("a request has a url")
                )
            })
            .collect()
    }
}

/// `derivation.json`: wallets, addresses and keys the original derived.
pub struct DerivationFile {
    /// The whole file (`kmsQuirks` and the like).
    pub json: Value,
    pub mnemonics: Vec<String>,
    pub vectors: Vec<DerivationVector>,
}

impl DerivationFile {
    /// The vectors of these chains, in file order.
    pub fn of_chains<'a>(
        &'a self,
        chains: &'a [Chain],
    ) -> impl Iterator<Item = &'a DerivationVector> + 'a {
        self.vectors.iter().filter(|v| chains.contains(&v.chain()))
    }

    /// The first vector of that chain and network; panics when there is none.
    pub fn find(&self, chain: Chain, testnet: bool) -> &DerivationVector {
        self.vectors
            .iter()
            .find(|v| v.chain() == chain && v.testnet() == testnet)
            .unwrap_or_else(|| panic!("{DERIVATION} has no {chain} testnet={testnet} vector"))
    }

    /// The FLOW quirk's examples: keys the original printed without their
    /// leading zero, each with its mnemonic resolved.
    pub fn flow_unpadded_key_examples(&self) -> Vec<(String, Value)> {
        self.json["kmsQuirks"]["flowPrivateKeyNotZeroPadded"]["examples"]
            .as_array()
            .expect("the FLOW quirk has examples")
            .iter()
            .map(|e| (self.mnemonic(&e["mnemonicIndex"]).to_string(), e.clone()))
            .collect()
    }

    fn mnemonic(&self, index: &Value) -> &str {
        let index = index.as_u64().expect("a mnemonicIndex") as usize;
        &self.mnemonics[index]
    }
}

pub fn derivation() -> DerivationFile {
    derivation_from(load_vectors(DERIVATION))
}

fn derivation_from(json: Value) -> DerivationFile {
    let mnemonics: Vec<String> = json["mnemonics"]
        .as_array()
        .unwrap_or_else(|| panic!("{DERIVATION}: no mnemonics"))
        .iter()
        .map(|m| m.as_str().expect("a mnemonic is text").to_string())
        .collect();
    let vectors = json["vectors"]
        .as_array()
        .unwrap_or_else(|| panic!("{DERIVATION}: no vectors"))
        .iter()
        .map(|v| {
            let index = v["mnemonicIndex"].as_u64().expect("a mnemonicIndex") as usize;
            DerivationVector {
                mnemonic: mnemonics[index].clone(),
                json: v.clone(),
            }
        })
        .collect();
    DerivationFile {
        json,
        mnemonics,
        vectors,
    }
}

/// One entry of `derivation.json`, with its mnemonic resolved. Derefs to
/// its JSON (`v["wallet"]`, `v["addresses"]`, `v["privateKeys"]`).
#[derive(Clone, Debug)]
pub struct DerivationVector {
    pub json: Value,
    /// The phrase `mnemonicIndex` names.
    pub mnemonic: String,
}

impl Deref for DerivationVector {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.json
    }
}

impl DerivationVector {
    pub fn chain(&self) -> Chain {
        let chain = self.json["chain"].as_str().expect("a vector has a chain");
        chain
            .parse()
            .unwrap_or_else(|_| panic!("{DERIVATION}: unknown chain {chain}"))
    }

    pub fn testnet(&self) -> bool {
        self.json["testnet"]
            .as_bool()
            .expect("a vector says its network")
    }

    /// `"BTC testnet=false @tatumio/tatum@1.37.68"`, for assertion messages.
    pub fn label(&self) -> String {
        format!(
            "{} testnet={} {}",
            self.chain(),
            self.testnet(),
            self.json["sdk"].as_str().unwrap_or_default()
        )
    }
}

/// `legacy_walletdat.json`: the original's `wallet.dat` files (CryptoJS AES).
pub struct LegacyFile {
    /// The whole file (`decryptEdgeCases`, `kmsStorageNotes`).
    pub json: Value,
    pub vectors: Vec<LegacyWalletDat>,
}

pub fn legacy_walletdat() -> LegacyFile {
    let json = load_vectors(LEGACY_WALLETDAT);
    let vectors = json["vectors"]
        .as_array()
        .unwrap_or_else(|| panic!("{LEGACY_WALLETDAT}: no vectors"))
        .iter()
        .map(|v| LegacyWalletDat {
            name: v["name"].as_str().expect("a name").to_string(),
            password: v["password"].as_str().expect("a password").to_string(),
            wallet_dat: v["walletDat"].as_str().expect("a walletDat").to_string(),
            plaintext: v["plaintext"].as_str().expect("a plaintext").to_string(),
            json: v.clone(),
        })
        .collect();
    LegacyFile { json, vectors }
}

/// One `wallet.dat` the original wrote, and what it holds.
#[derive(Clone, Debug)]
pub struct LegacyWalletDat {
    pub name: String,
    pub password: String,
    /// The file's content, as the original wrote it.
    pub wallet_dat: String,
    /// The JSON the file decrypts to, as text.
    pub plaintext: String,
    pub json: Value,
}

/// How a directory of vector files differs from another: names present on
/// one side only, and names whose bytes differ.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Differences {
    pub only_in_original: Vec<String>,
    pub only_in_copy: Vec<String>,
    pub different: Vec<String>,
}

impl Differences {
    pub fn is_empty(&self) -> bool {
        self.only_in_original.is_empty()
            && self.only_in_copy.is_empty()
            && self.different.is_empty()
    }
}

/// What [`check_copy`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum CopyCheck {
    /// There is no original to compare with.
    NoOriginal,
    /// Same file names, same bytes.
    Identical,
}

/// Checks `copy` against `original` when `original` exists: an error names
/// every file missing on either side and every file whose bytes differ.
pub fn check_copy(original: &Path, copy: &Path) -> Result<CopyCheck, String> {
    if !original.is_dir() {
        return Ok(CopyCheck::NoOriginal);
    }
    let differences = compare_vector_dirs(original, copy).map_err(|e| {
        format!(
            "comparing {} with {}: {e}",
            original.display(),
            copy.display()
        )
    })?;
    if differences.is_empty() {
        Ok(CopyCheck::Identical)
    } else {
        Err(format!(
            "{} is not {} byte for byte: {differences:?}",
            copy.display(),
            original.display()
        ))
    }
}

/// Compares the `*.json` files of `original` and `copy` byte for byte.
pub fn compare_vector_dirs(original: &Path, copy: &Path) -> std::io::Result<Differences> {
    let original_names = json_names(original)?;
    let copy_names = json_names(copy)?;
    let mut differences = Differences::default();
    for name in &original_names {
        if !copy_names.contains(name) {
            differences.only_in_original.push(name.clone());
        } else if std::fs::read(original.join(name))? != std::fs::read(copy.join(name))? {
            differences.different.push(name.clone());
        }
    }
    differences.only_in_copy = copy_names
        .into_iter()
        .filter(|name| !original_names.contains(name))
        .collect();
    Ok(differences)
}

/// The `*.json` file names of a directory, sorted.
fn json_names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn identical_directories_have_no_differences() {
        let a = dir_with(&[("a.json", "{}"), ("b.json", "[1]")]);
        let b = dir_with(&[("b.json", "[1]"), ("a.json", "{}")]);
        let d = compare_vector_dirs(a.path(), b.path()).unwrap();
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn one_differing_byte_missing_and_extra_files_are_each_named() {
        let original = dir_with(&[
            ("same.json", "{}"),
            ("edited.json", "{\"a\":1}"),
            ("gone.json", "1"),
        ]);
        // The same JSON value with other bytes (a trailing newline) still differs.
        let copy = dir_with(&[
            ("same.json", "{}"),
            ("edited.json", "{\"a\":1}\n"),
            ("new.json", "2"),
        ]);
        let d = compare_vector_dirs(original.path(), copy.path()).unwrap();
        assert_eq!(
            d,
            Differences {
                only_in_original: vec!["gone.json".into()],
                only_in_copy: vec!["new.json".into()],
                different: vec!["edited.json".into()],
            }
        );
        assert!(!d.is_empty());
    }

    #[test]
    fn check_copy_skips_without_an_original_and_fails_on_any_difference() {
        let copy = dir_with(&[("a.json", "{}")]);
        let absent = copy.path().join("no-such-original");
        assert_eq!(check_copy(&absent, copy.path()), Ok(CopyCheck::NoOriginal));
        let same = dir_with(&[("a.json", "{}")]);
        assert_eq!(
            check_copy(same.path(), copy.path()),
            Ok(CopyCheck::Identical)
        );
        let other = dir_with(&[("a.json", "{ }")]);
        let err = check_copy(other.path(), copy.path()).unwrap_err();
        assert!(err.contains("different: [\"a.json\"]"), "{err}");
        let more = dir_with(&[("a.json", "{}"), ("b.json", "{}")]);
        let err = check_copy(more.path(), copy.path()).unwrap_err();
        assert!(err.contains("only_in_original: [\"b.json\"]"), "{err}");
        // A copy that is missing altogether is an error too, not a skip.
        let err = check_copy(same.path(), &absent).unwrap_err();
        assert!(err.contains("comparing"), "{err}");
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_match() {
        let a = dir_with(&[]);
        let err = compare_vector_dirs(a.path(), &a.path().join("absent")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn typed_views_read_the_repository_copy() {
        let signing = signing_from(load_from(&repository_copy(), SIGNING));
        let btc = signing.vector("btc-mainnet-p2wpkh-1in-2out");
        assert_eq!(btc.chain(), Chain::BTC);
        assert_eq!(btc.pending().chain, Chain::BTC);
        assert_eq!(btc.keys().len(), 1);
        // XRP's key is a `secret`, not a `privateKey`; the off-chain
        // withdrawal's only entry is an xpub, so it has no key.
        assert_eq!(signing.vector("xrp-payment-ed25519").keys().len(), 1);
        assert!(signing
            .vector("btc-mainnet-offchain-withdrawal")
            .keys()
            .is_empty());
        assert_eq!(
            signing.vector("vet-mainnet-native").recorded_requests(),
            [
                "POST /accounts/*?revision=best",
                "GET /blocks/0",
                "GET /blocks/best"
            ]
        );

        let derivation = derivation_from(load_from(&repository_copy(), DERIVATION));
        let ltc = derivation.find(Chain::LTC, false);
        assert_eq!(ltc.mnemonic, derivation.mnemonics[0]);
        assert_eq!(derivation.of_chains(&[Chain::FLOW]).count(), 2);
    }
}
