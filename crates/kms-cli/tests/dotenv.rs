//! `.env` files read by the real binary as the original reads them:
//! dotenv 16's rules, `./.env` first, then `--envFile` or
//! `~/.tatumrc/.env`; the process environment wins over both.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{json_of, stderr, Home};

/// A working directory of its own, beside the home, for `./.env`.
fn workdir(home: &Home) -> PathBuf {
    let dir = home.root.join("work");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary in `cwd`, with no password in its environment: it must
/// come from the `.env` files.
fn cmd_in(home: &Home, cwd: &Path) -> Command {
    let mut cmd = home.cmd("");
    cmd.env_remove("TATUM_KMS_PASSWORD").current_dir(cwd);
    cmd
}

/// A store holding one wallet, created under `password` (given through
/// the process environment); its signatureId.
fn store_with_password(home: &Home, password: &str) -> String {
    let out = home
        .cmd(password)
        .args(["generatemanagedwallet", "BTC"])
        .output()
        .unwrap();
    json_of(&out)["signatureId"].as_str().unwrap().to_string()
}

fn open_wallet(home: &Home, cwd: &Path, id: &str, extra: &[&str]) -> Output {
    cmd_in(home, cwd)
        .args(extra)
        .args(["getmanagedwallet", id])
        .output()
        .unwrap()
}

/// Lines dotenv skips or reads oddly, that used to abort every command.
const NOISE: &str = "justaword\nA=abc\\def\nKEY: value\nB=hello world\n";

#[test]
fn passwords_in_dot_env_mean_what_they_meant_to_the_original() {
    // (the .env line, the password dotenv 16 reads from it)
    let cases = [
        ("TATUM_KMS_PASSWORD=pa$$word", "pa$$word"),
        ("TATUM_KMS_PASSWORD=abc#def", "abc"),
        ("TATUM_KMS_PASSWORD=hello world", "hello world"),
        (
            "export TATUM_KMS_PASSWORD=\"quoted # kept\"",
            "quoted # kept",
        ),
    ];
    for (line, password) in cases {
        let home = Home::new();
        let cwd = workdir(&home);
        let id = store_with_password(&home, password);
        fs::write(cwd.join(".env"), format!("{NOISE}{line}\n")).unwrap();
        let out = open_wallet(&home, &cwd, &id, &[]);
        assert!(out.status.success(), "{line}: {}", stderr(&out));
        assert_eq!(json_of(&out)["chain"], "BTC", "{line}");
    }
}

#[test]
fn a_hash_ends_an_unquoted_password() {
    let home = Home::new();
    let cwd = workdir(&home);
    let id = store_with_password(&home, "abc#def");
    fs::write(cwd.join(".env"), "TATUM_KMS_PASSWORD=abc#def\n").unwrap();
    let out = open_wallet(&home, &cwd, &id, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the password read is `abc`, not the store's: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("abc#def"), "{}", stderr(&out));
}

#[test]
fn the_working_directory_env_comes_first_and_the_process_environment_wins() {
    let home = Home::new();
    let cwd = workdir(&home);
    let id = store_with_password(&home, "cwd-password");
    fs::write(cwd.join(".env"), "TATUM_KMS_PASSWORD=cwd-password\n").unwrap();
    fs::create_dir_all(home.root.join(".tatumrc")).unwrap();
    fs::write(
        home.root.join(".tatumrc/.env"),
        "TATUM_KMS_PASSWORD=home-password\n",
    )
    .unwrap();
    let custom = home.root.join("custom.env");
    fs::write(&custom, "TATUM_KMS_PASSWORD=custom-password\n").unwrap();

    let over_home = open_wallet(&home, &cwd, &id, &[]);
    assert!(over_home.status.success(), "{}", stderr(&over_home));
    let env_file = custom.to_str().unwrap();
    let over_custom = open_wallet(&home, &cwd, &id, &["--envFile", env_file]);
    assert!(over_custom.status.success(), "{}", stderr(&over_custom));

    let process_wins = cmd_in(&home, &cwd)
        .env("TATUM_KMS_PASSWORD", "home-password")
        .args(["getmanagedwallet", &id])
        .output()
        .unwrap();
    assert_eq!(
        process_wins.status.code(),
        Some(2),
        "{}",
        stderr(&process_wins)
    );

    // Without ./.env, the other file is read.
    fs::remove_file(cwd.join(".env")).unwrap();
    let from_home = open_wallet(&home, &cwd, &id, &[]);
    assert_eq!(from_home.status.code(), Some(2), "{}", stderr(&from_home));
}

#[test]
fn settings_missing_from_the_first_file_come_from_the_second() {
    let home = Home::new();
    let cwd = workdir(&home);
    fs::write(cwd.join(".env"), "TATUM_KMS_AWS_REGION=region-from-cwd\n").unwrap();
    let custom = home.root.join("custom.env");
    fs::write(
        &custom,
        "TATUM_KMS_AWS_REGION=region-from-custom\nTATUM_KMS_VGS_ALIAS=alias-from-custom\n",
    )
    .unwrap();
    let out = cmd_in(&home, &cwd)
        .args(["--envFile", custom.to_str().unwrap(), "checkconfig"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("TATUM_KMS_AWS_REGION             : region-from-cwd"),
        "{text}"
    );
    assert!(
        text.contains("TATUM_KMS_VGS_ALIAS              : alias-"),
        "{text}"
    );
}

#[test]
fn a_missing_env_file_warns_and_the_command_goes_on() {
    let home = Home::new();
    let cwd = workdir(&home);
    let id = store_with_password(&home, "pa$$word");
    fs::write(cwd.join(".env"), "TATUM_KMS_PASSWORD=pa$$word\n").unwrap();
    let missing = home.root.join("no-such.env");
    let out = open_wallet(&home, &cwd, &id, &["--envFile", missing.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = stderr(&out);
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains(&missing.display().to_string()),
        "{warning}"
    );
}

#[test]
fn skipped_lines_are_named_by_number_never_by_their_text() {
    let home = Home::new();
    let cwd = workdir(&home);
    fs::write(
        cwd.join(".env"),
        "TATUM_API_KEY=k-0123456789abc\nmy secret words\n",
    )
    .unwrap();
    let out = cmd_in(&home, &cwd)
        .env("RUST_LOG", "debug")
        .arg("checkconfig")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(log.contains("line=2"), "{log}");
    assert!(!log.contains("secret words"), "{log}");
}
