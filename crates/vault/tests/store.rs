//! The store as users meet it: the original's files, our format, wrong
//! passwords, damaged files, concurrent writers, failures mid-write.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use kms_core::{Chain, Network, SignatureId, WalletEntry};
use kms_vault::{
    Damage, FileFormat, KdfParams, OpenOptions, Vault, VaultError, VaultWarning, Wallets,
};
use secrecy::SecretString;

/// The v2 magic (docs/wallet-format.md).
const V2_MAGIC: &[u8] = b"TKMSVLT\0";

/// The cheapest cost the store accepts, to keep tests quick.
const FAST: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

/// The error opening `path` fails with (a `Vault` has no `Debug`, so no `unwrap_err`).
fn open_err(path: &Path, password: &str) -> VaultError {
    match Vault::open(path, &pw(password), FAST) {
        Ok(_) => panic!("{} opened with {password:?}", path.display()),
        Err(e) => e,
    }
}

fn wallet(chain: &str, n: usize) -> WalletEntry {
    WalletEntry::new()
        .with("privateKey", format!("key-{n}"))
        .with("chain", chain)
        .with("testnet", false)
}

fn store(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("store").join("wallet.dat")
}

fn legacy_vectors() -> kms_test_support::vectors::LegacyFile {
    kms_test_support::vectors::legacy_walletdat()
}

#[test]
fn new_store_round_trips_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
    assert_eq!(vault.format(), FileFormat::Empty);
    assert!(!vault.file_exists());
    vault
        .update(|w| w.insert_first("a".into(), wallet("BTC", 1)))
        .unwrap();
    vault
        .update(|w| w.insert_first("b".into(), wallet("ETH", 2)))
        .unwrap();

    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "wallet.dat must be readable by its owner only");
    assert!(fs::read(&path).unwrap().starts_with(V2_MAGIC));

    let again = Vault::open(&path, &pw("pw"), FAST).unwrap();
    assert_eq!(again.format(), FileFormat::V2);
    let ids: Vec<_> = again.wallets().0.keys().cloned().collect();
    assert_eq!(
        ids,
        ["b", "a"],
        "new wallets go first, as the original writes them"
    );
    assert_eq!(again.get("a").unwrap().private_key(), Some("key-1"));
    assert_eq!(
        again.ids_for(Chain::ETH, Network::Mainnet),
        [SignatureId::from("b")]
    );
    assert!(again.ids_for(Chain::ETH, Network::Testnet).is_empty());
}

#[test]
fn every_legacy_vector_opens_and_exports_its_plaintext() {
    let vectors = legacy_vectors();
    for v in &vectors.vectors {
        let dir = tempfile::tempdir().unwrap();
        let path = store(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, v.wallet_dat.as_str()).unwrap();
        let vault = Vault::open(&path, &pw(v.password.as_str()), FAST)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(vault.format(), FileFormat::Legacy);
        let plaintext: serde_json::Value = serde_json::from_str(v.plaintext.as_str()).unwrap();
        let exported: serde_json::Value = serde_json::from_str(&vault.export_pretty()).unwrap();
        assert_eq!(exported, plaintext, "{}", v.name);
        // Byte for byte, key order included: what the original's export printed.
        let original_print = serde_json::to_string_pretty(&plaintext).unwrap();
        assert_eq!(vault.export_pretty().as_str(), original_print, "{}", v.name);
        // A read leaves the original's file untouched.
        assert_eq!(fs::read_to_string(&path).unwrap(), v.wallet_dat.as_str());
    }
}

#[test]
fn legacy_edge_cases_behave_as_documented() {
    let vectors = legacy_vectors();
    for case in vectors.json["decryptEdgeCases"].as_array().unwrap() {
        let Some(dat) = case["walletDat"].as_str() else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = store(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let name = case["case"].as_str().unwrap();
        let content = match name {
            "file content with trailing newline" => format!("{dat}\n"),
            "file content with CRLF" => format!("{dat}\r\n"),
            _ => dat.to_string(),
        };
        fs::write(&path, &content).unwrap();
        let result = Vault::open(&path, &pw(case["password"].as_str().unwrap()), FAST);
        match name {
            "wrong password" => assert!(
                matches!(result, Err(VaultError::WrongPassword)),
                "{name}: {:?}",
                result.as_ref().err()
            ),
            n if n.starts_with("file content with") => {
                // Trailing line ends carry no data; we open both (the original
                // failed on CRLF).
                let vault = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(vault.wallets().len(), 1);
            }
            n if n.starts_with("garbage") => assert!(
                matches!(result, Err(VaultError::NotAWalletFile)),
                "{name}: {:?}",
                result.as_ref().err()
            ),
            other => panic!("unhandled edge case {other}"),
        }
    }
}

#[test]
fn wrong_password_is_one_clear_error_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    let mut vault = Vault::open(&path, &pw("right"), FAST).unwrap();
    vault
        .update(|w| w.insert_first("a".into(), wallet("BTC", 1)))
        .unwrap();
    let err = open_err(&path, "wrong");
    assert!(matches!(err, VaultError::WrongPassword));
    assert_eq!(
        err.to_string(),
        "wrong password, or wallet.dat is not a wallet file"
    );

    let v = &legacy_vectors().vectors[1];
    fs::write(&path, v.wallet_dat.as_str()).unwrap();
    for wrong in ["wrong-0", "", "a", "Tatum-KMS-p4ss"] {
        let err = open_err(&path, wrong);
        assert!(matches!(err, VaultError::WrongPassword), "{wrong}: {err}");
    }
}

fn written_store(dir: &tempfile::TempDir) -> (PathBuf, Vec<u8>) {
    let path = store(dir);
    let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
    vault
        .update(|w| w.insert_first("a".into(), wallet("BTC", 1)))
        .unwrap();
    let bytes = fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn any_flipped_bit_fails_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = written_store(&dir);
    // Every byte of the salt, the nonce and a sample of the ciphertext and tag;
    // version/KDF/cost bytes have their own errors (below).
    let positions: Vec<usize> = (22..62)
        .chain((62..bytes.len()).step_by(7))
        .chain([bytes.len() - 1])
        .collect();
    for i in positions {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x01;
        fs::write(&path, &damaged).unwrap();
        let err = open_err(&path, "pw");
        assert!(matches!(err, VaultError::WrongPassword), "byte {i}: {err}");
    }
}

#[test]
fn edited_headers_get_their_own_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = written_store(&dir);
    let open_with = |content: &[u8]| {
        fs::write(&path, content).unwrap();
        open_err(&path, "pw")
    };
    let mut v = bytes.clone();
    v[8] = 3;
    assert!(matches!(open_with(&v), VaultError::UnknownVersion(3)));
    let mut k = bytes.clone();
    k[9] = 9;
    assert!(matches!(open_with(&k), VaultError::UnknownKdf(9)));
    // A header asking for 4 TiB of memory, or a trivially cheap KDF, is refused
    // before any allocation.
    for (offset, value) in [(10, u32::MAX), (10, 1024), (14, 1), (14, 1000), (18, 0)] {
        let mut h = bytes.clone();
        h[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        assert!(
            matches!(open_with(&h), VaultError::BadKdfParams(_)),
            "offset {offset} = {value}"
        );
    }
    // Within bounds but different from what was used: the key differs, the tag fails.
    let mut m = bytes.clone();
    m[10..14].copy_from_slice(&(65 * 1024u32).to_le_bytes());
    assert!(matches!(open_with(&m), VaultError::WrongPassword));
}

#[test]
fn truncated_and_foreign_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = written_store(&dir);
    // Cut inside the magic, the header, or before the tag is complete.
    for len in [3, 7, 8, 9, 20, 61, 62, 70, 77] {
        fs::write(&path, &bytes[..len]).unwrap();
        let err = open_err(&path, "pw");
        assert!(
            matches!(err, VaultError::Damaged(Damage::Truncated { len: l }) if l == len),
            "{len}: {err}"
        );
        assert!(err.to_string().contains("the password is not the problem"));
    }
    fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    assert!(matches!(open_err(&path, "pw"), VaultError::WrongPassword));
    for foreign in [
        &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..],
        b"hello world",
        b"{\"a\":1}",
    ] {
        fs::write(&path, foreign).unwrap();
        assert!(matches!(open_err(&path, "pw"), VaultError::NotAWalletFile));
    }
    // A legacy file cut in the middle of a block.
    let v = &legacy_vectors().vectors[1];
    let dat = v.wallet_dat.as_str();
    fs::write(&path, &dat[..dat.len() - 8]).unwrap();
    let err = open_err(&path, &v.password);
    assert!(matches!(err, VaultError::NotAWalletFile), "{err:?}");
}

#[test]
fn empty_and_missing_files_are_empty_stores() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    assert!(Vault::open(&path, &pw("x"), FAST)
        .unwrap()
        .wallets()
        .is_empty());
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, "").unwrap();
    let vault = Vault::open(&path, &pw("x"), FAST).unwrap();
    assert!(vault.wallets().is_empty() && vault.file_exists());
}

#[test]
fn writing_to_a_legacy_store_backs_it_up_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let v = &legacy_vectors().vectors[2];
    let password = v.password.as_str();
    fs::write(&path, v.wallet_dat.as_str()).unwrap();

    let mut vault = Vault::open(&path, &pw(password), FAST).unwrap();
    let before = vault.wallets().len();
    vault
        .update(|w| w.insert_first("new".into(), wallet("BTC", 9)))
        .unwrap();

    let backups: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("wallet.dat.legacy-backup-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        fs::read_to_string(&backups[0]).unwrap(),
        v.wallet_dat.as_str()
    );
    assert_eq!(
        fs::metadata(&backups[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let reopened = Vault::open(&path, &pw(password), FAST).unwrap();
    assert_eq!(reopened.format(), FileFormat::V2);
    assert_eq!(reopened.wallets().len(), before + 1);
    assert_eq!(reopened.wallets().0.keys().next().unwrap(), "new");
}

#[test]
fn migrate_is_explicit_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let v = &legacy_vectors().vectors[1];
    fs::write(&path, v.wallet_dat.as_str()).unwrap();
    let mut vault = Vault::open(&path, &pw(v.password.as_str()), FAST).unwrap();
    let backup = vault.migrate().unwrap().expect("a backup");
    assert!(backup.exists());
    assert_eq!(vault.migrate().unwrap(), None);
    let plaintext: serde_json::Value = serde_json::from_str(v.plaintext.as_str()).unwrap();
    let reopened = Vault::open(&path, &pw(v.password.as_str()), FAST).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reopened.export_pretty()).unwrap(),
        plaintext
    );
}

#[test]
fn change_password_re_encrypts_with_a_fresh_salt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, before) = written_store(&dir);
    let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
    vault.change_password(&pw("new"), FAST).unwrap();
    let after = fs::read(&path).unwrap();
    assert_ne!(before[22..38], after[22..38], "salt must change");
    assert!(matches!(open_err(&path, "pw"), VaultError::WrongPassword));
    assert_eq!(
        Vault::open(&path, &pw("new"), FAST)
            .unwrap()
            .wallets()
            .len(),
        1
    );
    // The old instance notices it no longer holds the key, and says so.
    let mut stale = Vault::open(&path, &pw("new"), FAST).unwrap();
    vault.change_password(&pw("newer"), FAST).unwrap();
    assert!(matches!(
        stale.update(|_| ()).unwrap_err(),
        VaultError::KeyChanged
    ));
}

#[test]
fn reload_sees_other_writers_without_rerunning_the_kdf() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    // A costly KDF makes a rerun visible in the timing.
    let slow = KdfParams {
        memory_kib: 256 * 1024,
        iterations: 4,
        parallelism: 1,
    };
    let mut writer = Vault::open(&path, &pw("pw"), slow).unwrap();
    writer
        .update(|w| w.insert_first("a".into(), wallet("BTC", 1)))
        .unwrap();
    let t = std::time::Instant::now();
    let mut daemon = Vault::open(&path, &pw("pw"), slow).unwrap();
    let kdf_time = t.elapsed();
    assert!(!daemon.reload_if_changed().unwrap());
    writer
        .update(|w| w.insert_first("b".into(), wallet("BTC", 2)))
        .unwrap();
    let t = std::time::Instant::now();
    assert!(daemon.reload_if_changed().unwrap());
    let reload_time = t.elapsed();
    assert_eq!(daemon.wallets().len(), 2);
    assert!(
        reload_time * 5 < kdf_time,
        "reload {reload_time:?} vs open {kdf_time:?}: the KDF ran again"
    );
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    Vault::open(&path, &pw("pw"), FAST)
        .unwrap()
        .update(|_| ())
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
                for i in 0..25 {
                    vault
                        .update(|w| w.insert_first(format!("{t}-{i}"), wallet("BTC", i)))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        Vault::open(&path, &pw("pw"), FAST).unwrap().wallets().len(),
        100
    );
}

#[test]
fn a_failed_write_leaves_the_old_file_intact() {
    if unsafe_is_root_without_dac() {
        eprintln!("skipped: running as root ignores directory permissions");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, before) = written_store(&dir);
    let folder = path.parent().unwrap();
    let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
    fs::set_permissions(folder, fs::Permissions::from_mode(0o500)).unwrap();
    let err = vault.update(|w| w.insert_first("b".into(), wallet("BTC", 2)));
    fs::set_permissions(folder, fs::Permissions::from_mode(0o700)).unwrap();
    let err = err.unwrap_err();
    assert!(matches!(err, VaultError::File { .. }), "{err:?}");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(
        Vault::open(&path, &pw("pw"), FAST).unwrap().wallets().len(),
        1
    );
}

/// Root (CAP_DAC_OVERRIDE) writes into read-only folders, so the read-only
/// test proves nothing there; the CLI's disk-full and kill tests cover root.
fn unsafe_is_root_without_dac() -> bool {
    let probe = tempfile::tempdir().unwrap();
    fs::set_permissions(probe.path(), fs::Permissions::from_mode(0o500)).unwrap();
    let writable = fs::write(probe.path().join("x"), b"x").is_ok();
    fs::set_permissions(probe.path(), fs::Permissions::from_mode(0o700)).unwrap();
    writable
}

#[test]
fn an_independent_implementation_opens_our_files() {
    // argon2-cffi + pycryptodome (XChaCha20-Poly1305) decrypt what we wrote,
    // reading the layout exactly as docs/wallet-format.md describes it.
    let Some(python) = kms_test_support::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = written_store(&dir);
    let script = r#"
import json, sys, struct
from argon2.low_level import hash_secret_raw, Type
from Crypto.Cipher import ChaCha20_Poly1305
req = json.load(sys.stdin)
data = bytes.fromhex(req["file"])
assert data[:8] == b"TKMSVLT\0" and data[8] == 2 and data[9] == 1
m, t, p = struct.unpack("<III", data[10:22])
salt, nonce, head = data[22:38], data[38:62], data[:62]
key = hash_secret_raw(req["password"].encode(), salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=Type.ID, version=19)
c = ChaCha20_Poly1305.new(key=key, nonce=nonce)
c.update(head)
plain = c.decrypt_and_verify(data[62:-16], data[-16:])
print(json.dumps({"wallets": json.loads(plain)}))
"#;
    let out = kms_test_support::run_python(
        &python,
        script,
        &serde_json::json!({"file": hex::encode(fs::read(&path).unwrap()), "password": "pw"}),
    );
    assert_eq!(out["wallets"]["a"]["privateKey"], "key-1");
}

#[test]
fn structural_damage_is_named_and_not_blamed_on_the_password() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = written_store(&dir);
    let open_with = |content: &[u8], password: &str| {
        fs::write(&path, content).unwrap();
        open_err(&path, password)
    };
    let appended = |tail: &[u8]| [&bytes[..], tail].concat();

    // A text editor's newline, CRLF, `echo ... >>`, a second copy appended:
    // without those bytes the file opens, so the password is right.
    for (tail, count) in [
        (&b"\n"[..], 1),
        (b"\r\n", 2),
        (b"note to self\n", 13),
        (&bytes[..], bytes.len()),
    ] {
        let err = open_with(&appended(tail), "pw");
        assert!(
            matches!(err, VaultError::Damaged(Damage::TrailingBytes { count: c }) if c == count),
            "{count} appended: {err}"
        );
        assert!(err.to_string().contains("the password is not the problem"));
    }
    // With the wrong password the same file cannot be told apart: no claim
    // that the password is right.
    assert!(matches!(
        open_with(&appended(b"\n"), "wrong"),
        VaultError::WrongPassword
    ));
    // Binary junk appended: with no length in the header this is not told
    // apart from a wrong password (docs/wallet-format.md, "Errors").
    assert!(matches!(
        open_with(&appended(&[0xff, 0x00, 0x91]), "pw"),
        VaultError::WrongPassword
    ));

    // A version byte no release wrote, right after the magic.
    for old in [0u8, 1] {
        let mut v = bytes.clone();
        v[8] = old;
        assert!(
            matches!(open_with(&v, "pw"), VaultError::Damaged(Damage::BadVersion(b)) if b == old),
            "version {old}"
        );
    }

    // The whole file turned into text (copied through a terminal or a
    // ticket), with or without a trailing newline.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let hex_upper = hex::encode_upper(&bytes);
    for (text, encoding) in [
        (format!("{b64}\n"), "base64"),
        (hex::encode(&bytes), "hex"),
        (hex_upper, "hex"),
    ] {
        let err = open_with(text.as_bytes(), "pw");
        assert!(
            matches!(err, VaultError::Damaged(Damage::TextEncoded { encoding: e }) if e == encoding),
            "{encoding}: {err}"
        );
    }
}

#[test]
fn a_costly_kdf_in_the_header_needs_an_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = written_store(&dir);
    let set_kdf = |memory_kib: u32, iterations: u32| {
        let mut h = bytes.clone();
        h[10..14].copy_from_slice(&memory_kib.to_le_bytes());
        h[14..18].copy_from_slice(&iterations.to_le_bytes());
        fs::write(&path, &h).unwrap();
    };

    // The header of the issue: 4 GiB, t = 10. Refused before the KDF runs
    // (which would take a minute and 4 GiB).
    set_kdf(KdfParams::MAX_MEMORY_KIB, KdfParams::MAX_ITERATIONS);
    let started = std::time::Instant::now();
    let err = open_err(&path, "pw");
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert!(
        matches!(
            err,
            VaultError::KdfCostAboveDefault {
                memory_kib: KdfParams::MAX_MEMORY_KIB,
                iterations: KdfParams::MAX_ITERATIONS,
                parallelism: 1
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("more than this tatum-kms writes (m=262144 KiB, t=3, p=2)"),
        "{err}"
    );

    // One parameter above the default is enough to ask; with the opt-in the
    // KDF runs (t = 4 at 64 MiB: cheap), and the edited header fails the tag.
    set_kdf(FAST.memory_kib, 4);
    assert!(matches!(
        open_err(&path, "pw"),
        VaultError::KdfCostAboveDefault { iterations: 4, .. }
    ));
    let opted_in = OpenOptions::new(FAST).allow_costly_kdf(true);
    match Vault::open_with(&path, &pw("pw"), opted_in) {
        Ok(_) => panic!("an edited header opened"),
        Err(e) => assert!(matches!(e, VaultError::WrongPassword), "{e}"),
    }
}

#[test]
fn a_store_re_keyed_with_a_higher_cost_opens_with_that_setting_or_the_opt_in() {
    // As the CLI's TATUM_KMS_KDF_MEMORY_MIB does, here with t (cheaper to test).
    let costly = KdfParams {
        iterations: 4,
        ..FAST
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = written_store(&dir);
    Vault::open(&path, &pw("pw"), FAST)
        .unwrap()
        .change_password(&pw("pw"), costly)
        .unwrap();
    // The same setting opens it: the operator chose that cost.
    assert_eq!(
        Vault::open(&path, &pw("pw"), costly)
            .unwrap()
            .wallets()
            .len(),
        1
    );
    // Without it, only with the opt-in.
    assert!(matches!(
        open_err(&path, "pw"),
        VaultError::KdfCostAboveDefault { iterations: 4, .. }
    ));
    let vault = Vault::open_with(
        &path,
        &pw("pw"),
        OpenOptions::new(FAST).allow_costly_kdf(true),
    )
    .unwrap();
    assert_eq!(vault.wallets().len(), 1);
    // Out of range stays refused, opt-in or not.
    let mut h = fs::read(&path).unwrap();
    h[14..18].copy_from_slice(&(KdfParams::MAX_ITERATIONS + 1).to_le_bytes());
    fs::write(&path, &h).unwrap();
    match Vault::open_with(
        &path,
        &pw("pw"),
        OpenOptions::new(FAST).allow_costly_kdf(true),
    ) {
        Ok(_) => panic!("t = 11 accepted"),
        Err(e) => assert!(matches!(e, VaultError::BadKdfParams(_)), "{e}"),
    }
}

#[test]
fn a_store_behind_a_symlink_stays_behind_it() {
    let dir = tempfile::tempdir().unwrap();
    let (target, _) = written_store(&dir);
    let link = dir.path().join("wallet-link.dat");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let mut vault = Vault::open(&link, &pw("pw"), FAST).unwrap();
    vault
        .update(|w| w.insert_first("b".into(), wallet("ETH", 2)))
        .unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(&link).unwrap(), target);
    let through_target = Vault::open(&target, &pw("pw"), FAST).unwrap();
    assert_eq!(ids(through_target.wallets()), ["b", "a"]);
    // No temp or lock files beside the link: everything happened beside the target.
    let beside_link: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(beside_link.len(), 2, "{beside_link:?}");
}

#[test]
fn a_dangling_symlink_creates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("wallet.dat");
    // Relative, into a folder that does not exist yet.
    std::os::unix::fs::symlink("data/real.dat", &link).unwrap();
    let mut vault = Vault::open(&link, &pw("pw"), FAST).unwrap();
    assert!(!vault.file_exists());
    vault
        .update(|w| w.insert_first("a".into(), wallet("BTC", 1)))
        .unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let target = dir.path().join("data/real.dat");
    assert!(fs::read(&target).unwrap().starts_with(V2_MAGIC));
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn writers_through_a_link_and_its_target_share_one_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (target, _) = written_store(&dir);
    // The link in another folder: a lock beside the link would be another lock.
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let link = elsewhere.join("wallet.dat");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let threads: Vec<_> = [link.clone(), target.clone()]
        .into_iter()
        .enumerate()
        .map(|(t, path)| {
            std::thread::spawn(move || {
                let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
                for i in 0..20 {
                    vault
                        .update(|w| w.insert_first(format!("{t}-{i}"), wallet("BTC", i)))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        Vault::open(&link, &pw("pw"), FAST).unwrap().wallets().len(),
        41
    );
}

fn ids(wallets: &Wallets) -> Vec<String> {
    wallets.0.keys().cloned().collect()
}

/// Whether this process may give files away (root): the owner tests need it.
fn can_chown() -> bool {
    let probe = tempfile::NamedTempFile::new().unwrap();
    std::os::unix::fs::chown(probe.path(), Some(1234), Some(1234)).is_ok()
}

#[test]
fn a_rewrite_keeps_the_owner_and_a_private_mode() {
    if !can_chown() {
        eprintln!("skipped: needs root to create a file owned by another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o600, 0o400] {
        let (path, _) = written_store(&dir);
        std::os::unix::fs::chown(&path, Some(1234), Some(1234)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
        vault
            .update(|w| w.insert_first(format!("{mode:o}"), wallet("BTC", 2)))
            .unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1234, 1234), "mode {mode:o}");
        assert_eq!(meta.mode() & 0o777, mode);
        assert!(vault.take_warnings().is_empty());
        // The same through change_password.
        vault.change_password(&pw("pw"), FAST).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o777),
            (1234, 1234, mode)
        );
        fs::remove_file(&path).unwrap();
    }
}

#[test]
fn a_rewrite_tightens_a_loose_mode_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = written_store(&dir);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut vault = Vault::open(&path, &pw("pw"), FAST).unwrap();
    vault
        .update(|w| w.insert_first("b".into(), wallet("BTC", 2)))
        .unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let warnings = vault.take_warnings();
    assert!(
        matches!(
            warnings.as_slice(),
            [VaultWarning::ModeTightened { was: 0o644, path: p }] if *p == path
        ),
        "{warnings:?}"
    );
    assert!(vault.take_warnings().is_empty(), "taken once");
}

#[test]
fn the_legacy_backup_keeps_the_owner_and_is_private() {
    if !can_chown() {
        eprintln!("skipped: needs root to create a file owned by another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = store(&dir);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let vectors = legacy_vectors();
    let v = &vectors.vectors[1];
    fs::write(&path, v.wallet_dat.as_str()).unwrap();
    std::os::unix::fs::chown(&path, Some(1234), Some(1234)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let mut vault = Vault::open(&path, &pw(v.password.as_str()), FAST).unwrap();
    let backup = vault.migrate().unwrap().expect("a backup");
    for file in [&path, &backup] {
        let meta = fs::metadata(file).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o777),
            (1234, 1234, 0o600),
            "{}",
            file.display()
        );
    }
    // The lock file root created beside the service user's store is the
    // service user's too, or the service could never write again.
    let lock = fs::metadata(path.parent().unwrap().join(".wallet.dat.lock")).unwrap();
    assert_eq!((lock.uid(), lock.gid()), (1234, 1234));
}
