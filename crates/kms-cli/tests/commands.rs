//! The commands as a user runs them: the real binary, a temporary HOME, the
//! original's outputs.

use std::fs;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

mod common;

use common::{json_of, keys, stderr, Home, PASSWORD};

#[test]
fn generate_and_read_back_a_managed_wallet() {
    let home = Home::new();
    let stored = home.json(&["generatemanagedwallet", "BTC", "--testnet"]);
    assert_eq!(keys(&stored), ["signatureId", "xpub"]);
    let id = stored["signatureId"].as_str().unwrap();
    assert!(stored["xpub"].as_str().unwrap().starts_with("tpub"));

    let wallet = home.json(&["getmanagedwallet", id]);
    assert_eq!(keys(&wallet), ["mnemonic", "xpub", "chain", "testnet"]);
    assert_eq!(wallet["chain"], "BTC");
    assert_eq!(wallet["testnet"], true);
    assert_eq!(wallet["mnemonic"].as_str().unwrap().split(' ').count(), 24);

    let address = home.json(&["getaddress", id, "3"]);
    assert_eq!(keys(&address), ["address"]);
    assert!(address["address"].as_str().unwrap().starts_with("tb1q"));
    let key = home.json(&["getprivatekey", id, "3"]);
    assert_eq!(keys(&key), ["privateKey"]);

    let mode =
        std::os::unix::fs::PermissionsExt::mode(&fs::metadata(home.store()).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    let export = home.json(&["export"]);
    assert_eq!(keys(&export), [id]);
    let printed = String::from_utf8(home.run(&["export"]).stdout).unwrap();
    assert_eq!(
        printed.trim_end(),
        serde_json::to_string_pretty(&export).unwrap(),
        "export is JSON.stringify(x, null, 2)"
    );

    assert!(home.run(&["removewallet", id]).status.success());
    let gone = home.run(&["getmanagedwallet", id]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains(&format!("No such wallet for signatureId '{id}'.")));
}

#[test]
fn generatewallet_prints_and_stores_nothing() {
    let home = Home::new();
    let eth = home.json(&["generatewallet", "ETH"]);
    assert_eq!(
        keys(&eth),
        ["xpub", "mnemonic"],
        "the EVM family writes xpub first"
    );
    let btc = home.json(&["generatewallet", "BTC", "--testnet"]);
    assert_eq!(keys(&btc), ["mnemonic", "xpub"]);
    assert!(!home.store().exists());
}

/// storemanagedwallet from stdin, then getaddress / getprivatekey, against
/// the original SDK's derivation vectors, for every chain and network they cover.
#[test]
fn stored_mnemonics_answer_as_the_derivation_vectors() {
    let file = kms_test_support::vectors::derivation();
    let home = Home::new();
    let mut seen = std::collections::HashSet::new();
    for v in &file.vectors {
        let chain = v["chain"].as_str().unwrap();
        let testnet = v.testnet();
        // (The "v2" variants repeat the v1 values; KCS has only its "approx" one.)
        if v.get("variant").is_some_and(|x| x == "v2") || !seen.insert((chain, testnet)) {
            continue;
        }
        let mnemonic = &v.mnemonic;
        let mut args = vec!["storemanagedwallet", chain];
        if testnet {
            args.push("--testnet");
        }
        let stored = json_of(&home.run_with_stdin(&args, &format!("{mnemonic}\n")));
        assert_eq!(stored["xpub"], v["wallet"]["xpub"], "{chain} {testnet}");
        let id = stored["signatureId"].as_str().unwrap();
        let mut fields: Vec<&str> = keys(&v["wallet"]);
        fields.extend(["chain", "testnet"]);
        assert_eq!(
            keys(&home.json(&["getmanagedwallet", id])),
            fields,
            "{chain} {testnet}: stored wallet fields in the original's order"
        );
        for index in ["0", "2147483647"] {
            assert_eq!(
                home.json(&["getaddress", id, index])["address"],
                v["addresses"][index],
                "{chain} {testnet} {index}"
            );
        }
        assert_eq!(
            home.json(&["getprivatekey", id, "7"])["privateKey"],
            v["privateKeys"]["7"],
            "{chain} {testnet}"
        );
    }
    assert!(seen.len() >= 30);
}

#[test]
fn private_key_wallets_answer_for_their_key() {
    let home = Home::new();
    let key = "L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf";
    let stored = json_of(&home.run_with_stdin(&["storemanagedprivatekey", "BTC"], key));
    assert_eq!(keys(&stored), ["signatureId"]);
    let id = stored["signatureId"].as_str().unwrap();
    assert_eq!(
        home.json(&["getprivatekey", id, "5"])["privateKey"],
        key,
        "index ignored, as the original"
    );
    // The key's native segwit address (computed with bip-utils), the style
    // of BTC wallets and of the batch's lines; the SDK's
    // generateAddressFromPrivatekey formed 1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA
    // (P2PKH) from it, which the key also controls (docs/chains.md).
    assert_eq!(
        home.json(&["getaddress", id, "5"])["address"],
        "bc1qmxrw6qdh5g3ztfcwm0et5l8mvws4eva24kmp8m"
    );
    let wallet = home.json(&["getmanagedwallet", id]);
    assert_eq!(keys(&wallet), ["privateKey", "chain", "testnet"]);
}

#[test]
fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let home = Home::new();
    let unknown = home.run(&["generatemanagedwallet", "FOO"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(stderr(&unknown).trim(), "Error: Unsupported blockchain.");
    let bnb = home.run(&["generatewallet", "BNB"]);
    assert!(stderr(&bnb).contains("shut down"));

    let bad_checksum = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
    let out = home.run_with_stdin(&["storemanagedwallet", "BTC"], bad_checksum);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("abandon"),
        "the mnemonic must not be echoed"
    );

    let out = home.run_with_stdin(&["storemanagedprivatekey", "ETH"], "0x1234");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("invalid ETH private key"),
        "{}",
        stderr(&out)
    );
    let out = home.run_with_stdin(
        &["storemanagedprivatekey", "BTC", "--testnet"],
        "L4p2b9VAf8k5aUahF1JCJUzZkgNEAqLfq8DDdQiyAprQAKSbu8hf",
    );
    assert!(stderr(&out).contains("mainnet key"), "{}", stderr(&out));
    assert!(!home.store().exists(), "nothing was stored");

    let id = home.json(&["generatemanagedwallet", "ETH"])["signatureId"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in ["2147483648", "-1", "x"] {
        let out = home.run(&["getaddress", &id, bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        if bad != "-1" {
            // ("-1" is refused earlier, by the argument parser, as an unknown flag.)
            assert!(stderr(&out).contains("0 to 2147483647"), "{}", stderr(&out));
        }
    }
    let out = home.run(&["getaddress", "has space", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let usage = home.run(&["getaddress"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn wrong_password_exits_2_with_one_clear_message() {
    let home = Home::new();
    home.json(&["generatemanagedwallet", "BTC"]);
    let out = home.cmd("not-it").arg("export").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "Error: wrong password, or wallet.dat is not a wallet file."
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn no_password_and_no_terminal_fails_at_once_naming_the_variable() {
    let home = Home::new();
    let out = home
        .cmd("")
        .env_remove("TATUM_KMS_PASSWORD")
        .arg("export")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("TATUM_KMS_PASSWORD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_originals_store_opens_exports_and_migrates() {
    for v in kms_test_support::vectors::legacy_walletdat().vectors {
        let home = Home::new();
        fs::create_dir_all(home.store().parent().unwrap()).unwrap();
        fs::write(home.store(), &v.wallet_dat).unwrap();
        let password = v.password.as_str();
        let out = home.cmd(password).arg("export").output().unwrap();
        let expected: Value = serde_json::from_str(&v.plaintext).unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim_end(),
            serde_json::to_string_pretty(&expected).unwrap()
        );

        let migrated = json_of(&home.cmd(password).arg("migrate").output().unwrap());
        assert_eq!(migrated["migrated"], true);
        assert!(Path::new(migrated["backup"].as_str().unwrap()).exists());
        let again = home.cmd(password).arg("export").output().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&again.stdout).unwrap(),
            expected
        );
    }
}

#[test]
fn changepassword_re_encrypts() {
    let home = Home::new();
    home.json(&["generatemanagedwallet", "ETH"]);
    let out = home
        .cmd("pw")
        .env("TATUM_KMS_NEW_PASSWORD", "new-pw")
        .arg("changepassword")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        home.cmd("pw").arg("export").output().unwrap().status.code(),
        Some(2)
    );
    assert!(home
        .cmd("new-pw")
        .arg("export")
        .output()
        .unwrap()
        .status
        .success());
}

#[test]
fn batch_stores_every_key_in_one_write() {
    let home = Home::new();
    home.json(&["generatemanagedwallet", "ETH"]);
    let out = home.run(&["generatemanagedprivatekeybatch", "ETH", "200"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 200);
    assert_eq!(keys(&lines[0]), ["signatureId", "address"]);
    let export = home.json(&["export"]);
    assert_eq!(export.as_object().unwrap().len(), 201);
    for line in &lines[..5] {
        let id = line["signatureId"].as_str().unwrap();
        assert_eq!(keys(&export[id]), ["privateKey", "chain", "testnet"]);
        // The printed address is the stored key's.
        assert_eq!(
            home.json(&["getaddress", id, "0"])["address"],
            line["address"]
        );
    }
}

#[test]
fn a_writer_killed_at_any_moment_loses_nothing() {
    let home = Home::new();
    let first = home.json(&["generatemanagedwallet", "BTC"]);
    let mut expected = 1;
    for round in 0..12u64 {
        let mut child = home
            .cmd("pw")
            .args(["generatemanagedprivatekeybatch", "ETH", "50"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20 + round * 17));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let export = home.json(&["export"]);
        let n = export.as_object().unwrap().len();
        assert!(
            export.get(first["signatureId"].as_str().unwrap()).is_some(),
            "round {round}: an old wallet was lost"
        );
        // Either the batch landed whole, or not at all.
        assert!(
            n == expected || n == expected + 50,
            "round {round}: {n} wallets, expected {expected} or {}",
            expected + 50
        );
        if status.success() {
            assert_eq!(n, expected + 50);
        }
        expected = n;
    }
}

#[test]
fn two_concurrent_writers_lose_nothing() {
    let home = Home::new();
    home.json(&["generatemanagedwallet", "BTC"]);
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let dir = home.root.clone();
            std::thread::spawn(move || {
                let home = Home::at(dir);
                for _ in 0..20 {
                    assert!(home.run(&["generatemanagedwallet", "ETH"]).status.success());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(home.json(&["export"]).as_object().unwrap().len(), 41);
}

/// Chains whose wallets are single keys (or carry their address): the store
/// answers with what the wallet holds, and the keys are the chain's own.
#[test]
fn address_wallets_answer_with_their_own_address_and_secret() {
    let home = Home::new();
    for chain in ["SOL", "XRP", "XLM", "ALGO"] {
        let stored = home.json(&["generatemanagedwallet", chain]);
        assert_eq!(keys(&stored), ["signatureId", "address"], "{chain}");
        let id = stored["signatureId"].as_str().unwrap();
        let wallet = home.json(&["getmanagedwallet", id]);
        assert_eq!(
            home.json(&["getaddress", id, "0"])["address"],
            stored["address"],
            "{chain}"
        );
        let key = home.json(&["getprivatekey", id, "0"])["privateKey"].clone();
        let own = if chain == "SOL" {
            &wallet["privateKey"]
        } else {
            &wallet["secret"]
        };
        assert_eq!(&key, own, "{chain}");
        // The same key imported as a private-key wallet controls the same address.
        let imported = json_of(
            &home.run_with_stdin(&["storemanagedprivatekey", chain], key.as_str().unwrap()),
        );
        let again = home.json(&["getaddress", imported["signatureId"].as_str().unwrap(), "0"]);
        assert_eq!(again["address"], stored["address"], "{chain}");
    }
    let sol = home.json(&["generatewallet", "SOL"]);
    assert_eq!(keys(&sol), ["mnemonic", "address", "privateKey"]);
    let xrp = home.json(&["generatewallet", "XRP"]);
    assert_eq!(keys(&xrp), ["address", "secret"]);
}

#[test]
fn report_and_checkconfig_keep_the_originals_shapes_and_mask_secrets() {
    let home = Home::new();
    let id = home.json(&["generatemanagedwallet", "ETH"])["signatureId"]
        .as_str()
        .unwrap()
        .to_string();
    let report = home.json(&["report", &format!("{id},missing-id")]);
    assert_eq!(keys(&report), ["system", "wallets", "apiKey", "warnings"]);
    assert_eq!(
        keys(&report["system"]),
        ["kmsVersion", "nodeVersion", "store"]
    );
    assert_eq!(
        report["system"]["store"],
        serde_json::json!({"type": "LOCAL", "exists": true})
    );
    assert_eq!(
        report["wallets"][&id],
        serde_json::json!({"type": "MNEMONIC", "chain": "ETH", "testnet": false})
    );
    assert_eq!(
        report["warnings"],
        serde_json::json!(["No wallet found for signatureId: missing-id"])
    );

    let out = home
        .cmd("a-very-secret-password")
        .env("TATUM_API_KEY", "abcdef0123456789xyz")
        .arg("checkconfig")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("a-very-secret-password") && !text.contains("0123456789"),
        "{text}"
    );
    // Secrets show whether they are set, no character and no length of
    // them (the original showed the first six and the length).
    assert!(
        text.contains("TATUM_KMS_PASSWORD               : ******** (set)\n"),
        "{text}"
    );
    assert!(
        text.contains("TATUM_API_KEY                    : ******** (set)\n"),
        "{text}"
    );
    assert!(
        !text.contains("a-very") && !text.contains("abcdef"),
        "{text}"
    );
    assert!(
        text.contains("Wallet exists                    : true"),
        "{text}"
    );
}

#[test]
fn settings_come_from_the_env_file_and_the_process_environment_wins() {
    let home = Home::new();
    fs::create_dir_all(home.root.join(".tatumrc")).unwrap();
    // ~/.tatumrc/.env is read when present...
    fs::write(
        home.root.join(".tatumrc/.env"),
        "TATUM_KMS_PASSWORD=from-default-env\nTATUM_KMS_AWS_REGION=region-from-default-env-file\n",
    )
    .unwrap();
    let id = json_of(
        &home
            .cmd("")
            .env_remove("TATUM_KMS_PASSWORD")
            .args(["generatemanagedwallet", "BTC"])
            .output()
            .unwrap(),
    )["signatureId"]
        .as_str()
        .unwrap()
        .to_string();
    let opened = home
        .cmd("from-default-env")
        .args(["getmanagedwallet", &id])
        .output()
        .unwrap();
    assert!(opened.status.success(), "{}", stderr(&opened));
    // ...the process environment wins over it...
    let wrong = home.cmd("other").arg("export").output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    // ...and --envFile / --env-file replace it.
    let custom = home.root.join("custom.env");
    fs::write(&custom, "TATUM_KMS_PASSWORD=from-default-env\n").unwrap();
    for flag in ["--envFile", "--env-file"] {
        let out = home
            .cmd("")
            .env_remove("TATUM_KMS_PASSWORD")
            .args([flag, custom.to_str().unwrap(), "export"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
    }
    let config = home
        .cmd("")
        .env_remove("TATUM_KMS_PASSWORD")
        .arg("checkconfig")
        .output()
        .unwrap();
    let text = String::from_utf8(config.stdout).unwrap();
    let default_env = home.root.join(".tatumrc/.env");
    assert!(
        text.contains(&format!(
            "Environment vars file            : {}",
            default_env.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("TATUM_KMS_AWS_REGION             : region-from-default-env-file"),
        "{text}"
    );
    // --apiKey is taken, and shown only as set.
    let report = json_of(
        &home
            .cmd("from-default-env")
            .args(["report", "--apiKey", "flag-key-0123456789", &id])
            .output()
            .unwrap(),
    );
    assert_eq!(report["apiKey"], "******** (set)");
}

#[test]
fn help_completions_and_man_page() {
    let home = Home::new();
    let help = home.run(&[]);
    assert_eq!(
        help.status.code(),
        Some(0),
        "no command prints the help, as the original"
    );
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(
        text.starts_with("Tatum KMS - Key Management System for Tatum-powered apps."),
        "the original's first line: {text}"
    );
    for command in [
        "daemon",
        "generatewallet",
        "generatemanagedprivatekeybatch",
        "signpending",
        "changepassword",
    ] {
        assert!(text.contains(command), "{command} missing from the help");
    }
    let bash = home.run(&["completions", "bash"]);
    assert!(bash.status.success());
    assert!(String::from_utf8(bash.stdout)
        .unwrap()
        .contains("storemanagedwallet"));
    let man = home.run(&["manpage"]);
    assert!(man.status.success());
    assert!(String::from_utf8(man.stdout).unwrap().starts_with(".ie"));
    let unknown = home.run(&["frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(!home.store().exists());
}

#[test]
fn a_new_store_is_never_created_under_an_empty_password() {
    let home = Home::new();
    let out = home
        .cmd("")
        .env("TATUM_KMS_KDF_MEMORY_MIB", "64")
        .args(["generatemanagedwallet", "ETH"])
        .output()
        .unwrap();
    // (An empty variable is unset; without a terminal there is no password at all.)
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("TATUM_KMS_PASSWORD"),
        "{}",
        stderr(&out)
    );
    assert!(!home.store().exists());
    let out = home
        .cmd("pw")
        .env("TATUM_KMS_KDF_MEMORY_MIB", "16")
        .args(["generatemanagedwallet", "ETH"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("64 to 4096"), "{}", stderr(&out));
}

/// `tatum-kms export | head -1`: a reader that goes away is no error to
/// report (the original's Node process died of SIGPIPE the same way).
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let home = Home::new();
    home.json(&["generatemanagedwallet", "BTC"]);
    for args in [&["export"][..], &["checkconfig"], &["completions", "bash"]] {
        let mut child = home
            .cmd(PASSWORD)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        // `export` first runs the KDF, so the pipe is surely closed when it
        // writes; the other two may finish writing into the pipe's buffer
        // before it closes, and then succeed. Never a panic (exit 101).
        let quiet_exit = if args == ["export"] {
            &[141][..]
        } else {
            &[0, 141]
        };
        assert!(
            quiet_exit.contains(&out.status.code().unwrap()),
            "{args:?}: {:?} {}",
            out.status,
            stderr(&out)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
}

/// A new store's password: blank is refused, short is warned about (not
/// refused: the original's own tests use `test`), long is quiet.
#[test]
fn new_passwords_are_checked_before_a_store_is_sealed_with_them() {
    let home = Home::new();
    let blank = home
        .cmd("   ")
        .args(["generatemanagedwallet", "BTC"])
        .output()
        .unwrap();
    assert_eq!(blank.status.code(), Some(2), "{}", stderr(&blank));
    assert!(stderr(&blank).contains("empty or blank password"));
    assert!(!home.store().exists(), "nothing was stored");

    let short = home
        .cmd("test")
        .args(["generatemanagedwallet", "BTC"])
        .output()
        .unwrap();
    assert!(short.status.success(), "{}", stderr(&short));
    assert!(
        stderr(&short).contains("shorter than 12 characters"),
        "{}",
        stderr(&short)
    );
    assert!(
        !stderr(&short).contains("test"),
        "the password is never shown"
    );

    let other = Home::new();
    let long = other
        .cmd("correct horse battery staple")
        .args(["generatemanagedwallet", "BTC"])
        .output()
        .unwrap();
    assert!(long.status.success(), "{}", stderr(&long));
    assert!(!stderr(&long).contains("Warning"), "{}", stderr(&long));

    // changepassword: the same rules for the new one.
    let refused = other
        .cmd("correct horse battery staple")
        .env("TATUM_KMS_NEW_PASSWORD", " ")
        .arg("changepassword")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

/// What the original accepted and scripts may rely on: the index left out
/// for wallets with one key, `removewallet` of an id the store does not hold.
#[test]
fn single_key_wallets_answer_without_an_index_and_removing_an_unknown_id_succeeds() {
    let home = Home::new();
    for chain in ["XRP", "XLM", "ALGO", "SOL"] {
        let stored = home.json(&["generatemanagedwallet", chain]);
        let id = stored["signatureId"].as_str().unwrap();
        assert_eq!(
            home.json(&["getaddress", id]),
            home.json(&["getaddress", id, "0"]),
            "{chain}"
        );
        assert_eq!(
            home.json(&["getprivatekey", id]),
            home.json(&["getprivatekey", id, "0"]),
            "{chain}"
        );
    }
    let key = json_of(&home.run_with_stdin(
        &["storemanagedprivatekey", "ETH"],
        "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603",
    ));
    let key_id = key["signatureId"].as_str().unwrap();
    assert_eq!(
        home.json(&["getaddress", key_id])["address"],
        home.json(&["getaddress", key_id, "0"])["address"]
    );
    // A mnemonic wallet has no key without an index: a usage error naming it.
    let mnemonic = home.json(&["generatemanagedwallet", "ETH"]);
    let mnemonic_id = mnemonic["signatureId"].as_str().unwrap();
    for command in ["getaddress", "getprivatekey"] {
        let out = home.run(&[command, mnemonic_id]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(
            stderr(&out).contains("derivation index"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }

    // removewallet of an unknown id: exit 0 as the original, a warning, no write.
    let before = fs::read(home.store()).unwrap();
    let out = home.run(&["removewallet", "no-such-id"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-id"), "{}", stderr(&out));
    assert_eq!(
        fs::read(home.store()).unwrap(),
        before,
        "the store is not rewritten"
    );
    // The same command on an id it holds removes it.
    assert!(home.run(&["removewallet", key_id]).status.success());
    assert_eq!(
        home.run(&["getmanagedwallet", key_id]).status.code(),
        Some(1)
    );
}

/// One rule for private-key wallets on every chain: `getaddress` answers the
/// address `generatemanagedprivatekeybatch` printed for the key. (Not ADA:
/// the batch prints the fresh wallet's base address, whose stake part the
/// stored payment key does not hold; docs/chains.md.)
#[test]
fn the_batch_prints_what_getaddress_answers_for_each_key() {
    let home = Home::new();
    for chain in kms_core::Chain::ALL {
        if chain == kms_core::Chain::ADA {
            continue;
        }
        for network in [&[][..], &["--testnet"][..]] {
            let mut args = vec!["generatemanagedprivatekeybatch", chain.as_str(), "1"];
            args.extend_from_slice(network);
            let out = home.run(&args);
            assert!(out.status.success(), "{chain}: {}", stderr(&out));
            for line in String::from_utf8(out.stdout).unwrap().lines() {
                let line: Value = serde_json::from_str(line).unwrap();
                let id = line["signatureId"].as_str().unwrap();
                assert_eq!(
                    home.json(&["getaddress", id])["address"],
                    line["address"],
                    "{chain} {network:?}"
                );
            }
        }
    }
}
