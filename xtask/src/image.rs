//! Builds the container image with buildah (no Docker engine needed) from
//! the static release binary, and runs it as users do: `--help`, a wallet
//! generated into a mounted host folder and read back by a second run, and
//! one daemon cycle against a fake Tatum API on the host's loopback.

use std::path::Path;
use std::process::Command;

use crate::{check, Result};

const IMAGE: &str = "localhost/tatum-kms-image-test";

fn buildah() -> Command {
    let mut cmd = Command::new("buildah");
    cmd.args(["--storage-driver", "vfs"]);
    cmd
}

fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn run(_extra: &[String]) -> Result {
    if Command::new("buildah").arg("--version").output().is_err() {
        println!("\n*** buildah is missing: the container image test is SKIPPED (apt-get install buildah) ***\n");
        return Ok(());
    }
    let binary = crate::dist::build()?;
    let ctx = std::env::temp_dir().join(format!("kms-image-{}", std::process::id()));
    let host = ctx.join("host-tatumrc");
    std::fs::create_dir_all(&host).map_err(|e| e.to_string())?;
    let result = test_image(&binary, &ctx, &host);
    let _ = buildah().args(["rmi", "-f", IMAGE]).output();
    let _ = std::fs::remove_dir_all(&ctx);
    result
}

fn test_image(binary: &Path, ctx: &Path, host: &Path) -> Result {
    std::fs::copy(binary, ctx.join("tatum-kms")).map_err(|e| e.to_string())?;
    let dockerfile = crate::root().join("docker/Dockerfile");
    println!("==> buildah bud (runtime stage: scratch + the static binary)");
    check(
        buildah()
            .args([
                "bud",
                "--quiet",
                "--isolation",
                "chroot",
                "--build-arg",
                "BINARY_FROM=prebuilt",
                "-t",
                IMAGE,
                "-f",
            ])
            .arg(&dockerfile)
            .arg(ctx),
    )?;

    let config = output(buildah().args([
        "inspect",
        "--format",
        "{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}",
        IMAGE,
    ]))?;
    if config.trim() != "[/usr/local/bin/tatum-kms] [daemon]" {
        return Err(format!(
            "entrypoint/cmd are {config:?}, expected the binary and `daemon`"
        ));
    }
    println!("entrypoint and default command: {}", config.trim());

    println!("==> tatum-kms --help in the image");
    let help = in_container(host, &["--help"], &[])?;
    if !help.contains("generatemanagedwallet") {
        return Err(format!("--help does not list the commands:\n{help}"));
    }

    println!(
        "==> generatemanagedwallet BTC --testnet with the host folder mounted at /root/.tatumrc"
    );
    let stored = in_container(host, &["generatemanagedwallet", "BTC", "--testnet"], &[])?;
    let stored: serde_json::Value =
        serde_json::from_str(&stored).map_err(|e| format!("not JSON: {e}: {stored}"))?;
    let id = stored["signatureId"]
        .as_str()
        .ok_or("no signatureId")?
        .to_string();
    if !host.join("wallet.dat").exists() {
        return Err("wallet.dat did not appear in the mounted host folder".into());
    }
    println!("wallet.dat appeared in the host folder");

    println!("==> a second container reads it back");
    let address = in_container(host, &["getaddress", &id, "0"], &[])?;
    if !address.contains("tb1q") {
        return Err(format!("unexpected getaddress output: {address}"));
    }
    print!("{address}");

    println!("==> daemon --runOnce --testnet in the image, against a fake Tatum API on the host's loopback");
    let eth = in_container(host, &["generatemanagedwallet", "ETH", "--testnet"], &[])?;
    let eth: serde_json::Value =
        serde_json::from_str(&eth).map_err(|e| format!("not JSON: {e}: {eth}"))?;
    let eth_id = eth["signatureId"].as_str().ok_or("no signatureId")?;
    let api_key = "image-test-api-key";
    let fake = kms_fake_tatum::FakeTatum::start(api_key);
    fake.add_pending(serde_json::json!({
        "id": "image-test-tx", "chain": "ETH", "hashes": [eth_id], "index": 0,
        "serializedTransaction": serde_json::json!({
            "to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1000",
            "gasPrice": "20000000000", "gas": 21000, "nonce": 1, "chainId": 11155111
        }).to_string(),
    }));
    in_container(
        host,
        &["daemon", "--runOnce", "--testnet", "--chain", "ETH"],
        &[
            format!("TATUM_API_URL={}", fake.url),
            format!("TATUM_API_KEY={api_key}"),
        ],
    )?;
    let sent = fake.broadcasts();
    if sent.len() != 1 || sent[0].path != "/v3/ethereum/broadcast" {
        return Err(format!(
            "expected one ETH broadcast from the container, got {sent:?}"
        ));
    }
    println!(
        "the fake API received the signed transaction: {}",
        sent[0].body
    );
    println!("==> the original 8.x image's mount, -v …:/home/node/.tatumrc, is the store folder");
    let node_host = ctx.join("host-node-tatumrc");
    std::fs::create_dir_all(&node_host).map_err(|e| e.to_string())?;
    let node_mount = [(node_host.as_path(), "/home/node/.tatumrc")];
    let stored = in_container_with(
        &node_mount,
        &["generatemanagedwallet", "ETH", "--testnet"],
        &[],
    )?;
    let stored: serde_json::Value =
        serde_json::from_str(&stored).map_err(|e| format!("not JSON: {e}: {stored}"))?;
    let node_id = stored["signatureId"].as_str().ok_or("no signatureId")?;
    if !node_host.join("wallet.dat").exists() {
        return Err(
            "wallet.dat did not appear in the folder mounted at /home/node/.tatumrc".into(),
        );
    }
    in_container_with(&node_mount, &["getmanagedwallet", node_id], &[])?;
    println!("wallet.dat appeared there and a second container reads it back");

    println!("==> both folders mounted, each with a store: refused, naming both");
    let both = [
        (host, "/root/.tatumrc"),
        (node_host.as_path(), "/home/node/.tatumrc"),
    ];
    // Seen once in about ten runs: the container's /root/.tatumrc was the
    // image's VOLUME, empty, instead of the host folder bound over it
    // (buildah's chroot isolation; the binary then rightly finds one store,
    // the other folder's). The refusal itself is tested on the binary in
    // crates/kms-cli/tests/data_dir.rs; here a run that read only the other
    // folder's store is tried again, and anything else fails.
    for attempt in 1..=3 {
        match in_container_with(&both, &["export"], &[]) {
            Ok(out) if out.contains(node_id) && !out.contains(&id) && attempt < 3 => {
                println!("(attempt {attempt}: the folder at /root/.tatumrc was not the host's in that container; again)");
            }
            Ok(out) => return Err(format!("two stores mounted, yet export ran: {out}")),
            Err(e)
                if e.contains("/home/node/.tatumrc") && e.contains("/root/.tatumrc/wallet.dat") =>
            {
                println!("refused: the message names both folders");
                break;
            }
            Err(e) => return Err(format!("refused, but without naming both folders: {e}")),
        }
    }
    println!("image test passed");
    Ok(())
}

/// Runs the image's binary in a fresh container with the host folder mounted,
/// on the host's network.
fn in_container(host: &Path, args: &[&str], env: &[String]) -> Result<String> {
    in_container_with(&[(host, "/root/.tatumrc")], args, env)
}

/// [`in_container`] with the host folders mounted where given.
fn in_container_with(mounts: &[(&Path, &str)], args: &[&str], env: &[String]) -> Result<String> {
    let container = output(buildah().args(["from", "--quiet", IMAGE]))?
        .trim()
        .to_string();
    let result = (|| {
        let mut config = buildah();
        config.args([
            "config",
            "--env",
            "TATUM_KMS_PASSWORD=image test password",
            "--env",
            "TATUM_KMS_KDF_MEMORY_MIB=64",
        ]);
        for e in env {
            config.args(["--env", e]);
        }
        check(config.arg(&container))?;
        let mut run = buildah();
        run.args(["run", "--isolation", "chroot", "--network", "host"]);
        for (host, target) in mounts {
            run.args(["-v", &format!("{}:{target}", host.display())]);
        }
        output(
            run.arg(&container)
                .args(["--", "/usr/local/bin/tatum-kms"])
                .args(args),
        )
    })();
    let _ = buildah().args(["rm", &container]).output();
    result
}
