//! The folder of `wallet.dat` and `.env` in our container image, driven
//! through the real binary over a fake root: `root/root` is the home (the
//! image's `/root`), `root/home/node/.tatumrc` the original 8.x image's
//! folder, which exists only when the user mounts it. The image sets
//! `TATUM_KMS_LEGACY_DATA_DIR` to that folder (docker/Dockerfile);
//! `cargo xtask image-test` runs the same cases in the built image.

mod common;

use std::path::PathBuf;

use common::{json_of, stderr, Home};

struct FakeImage {
    home: Home,
    node_dir: PathBuf,
}

impl FakeImage {
    fn new() -> FakeImage {
        let home = Home::new();
        let node_dir = home.root.join("home/node/.tatumrc");
        FakeImage { home, node_dir }
    }
    fn mount_node_dir(&self) {
        std::fs::create_dir_all(&self.node_dir).unwrap();
    }
    fn run(&self, args: &[&str]) -> std::process::Output {
        self.home
            .cmd(common::PASSWORD)
            .env("TATUM_KMS_LEGACY_DATA_DIR", &self.node_dir)
            .args(args)
            .output()
            .unwrap()
    }
}

#[test]
fn without_the_8x_mount_the_store_is_in_the_home_folder() {
    let image = FakeImage::new();
    json_of(&image.run(&["generatemanagedwallet", "BTC"]));
    assert!(image.home.store().exists());
    assert!(!image.node_dir.exists());
}

#[test]
fn the_8x_mount_holds_the_store_and_its_env_file() {
    let image = FakeImage::new();
    image.mount_node_dir();
    // The password from the mounted folder's .env, as 8.x users kept it.
    std::fs::write(
        image.node_dir.join(".env"),
        "TATUM_KMS_PASSWORD=from-the-mount\n",
    )
    .unwrap();
    let out = image
        .home
        .cmd("")
        .env_remove("TATUM_KMS_PASSWORD")
        .env("TATUM_KMS_LEGACY_DATA_DIR", &image.node_dir)
        .args(["generatemanagedwallet", "ETH"])
        .output()
        .unwrap();
    let stored = json_of(&out);
    assert!(
        image.node_dir.join("wallet.dat").exists(),
        "{}",
        stderr(&out)
    );
    assert!(!image.home.store().exists(), "nothing in the home folder");
    // A second run reads it back, and checkconfig names the folder.
    let id = stored["signatureId"].as_str().unwrap();
    let out = image
        .home
        .cmd("")
        .env_remove("TATUM_KMS_PASSWORD")
        .env("TATUM_KMS_LEGACY_DATA_DIR", &image.node_dir)
        .args(["getaddress", id, "0"])
        .output()
        .unwrap();
    assert!(json_of(&out)["address"].as_str().unwrap().starts_with("0x"));
    let config = image.run(&["checkconfig"]);
    let text = String::from_utf8_lossy(&config.stdout);
    assert!(
        text.contains(&image.node_dir.join("wallet.dat").display().to_string()),
        "{text}"
    );
    assert!(
        text.contains(&image.node_dir.join(".env").display().to_string()),
        "{text}"
    );
}

#[test]
fn two_stores_are_refused_naming_the_mount_and_path_overrides() {
    let image = FakeImage::new();
    json_of(&image.run(&["generatemanagedwallet", "BTC"]));
    // Only the home store: used, with the 8.x folder absent.
    json_of(&image.run(&["export"]));
    image.mount_node_dir();
    let out = image.run(&["export"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&image.node_dir.display().to_string()), "{err}");
    assert!(
        err.contains(&image.home.store().display().to_string()),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // --path names the file: nothing to choose.
    let store = image.home.store();
    json_of(&image.run(&["export", "--path", store.to_str().unwrap()]));
}
