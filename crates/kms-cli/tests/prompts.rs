//! The prompts on a real terminal (a pseudo-terminal this test owns), in the
//! original's order: `storemanagedwallet` asks for the password, then the
//! mnemonic; `storemanagedprivatekey` for the key, then the password. Answers
//! typed (or piped through `expect`-like tools) in that order keep working.

mod common;

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Home, PASSWORD};

const PASSWORD_PROMPT: &str = "Enter password to access wallet store";
const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ETH_KEY: &str = "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603";

/// The binary on a new pseudo-terminal as its controlling terminal (so
/// `/dev/tty` is ours), with no password in the environment.
struct OnTerminal {
    child: Child,
    master: std::fs::File,
    seen: Arc<Mutex<String>>,
}

impl OnTerminal {
    fn spawn(home: &Home, args: &[&str]) -> OnTerminal {
        let (mut master_fd, mut slave_fd) = (0, 0);
        // SAFETY: openpty writes two descriptors we then own.
        let rc = unsafe {
            libc::openpty(
                &mut master_fd,
                &mut slave_fd,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: both descriptors are fresh and owned here.
        let (master, slave) = unsafe {
            (
                OwnedFd::from_raw_fd(master_fd),
                OwnedFd::from_raw_fd(slave_fd),
            )
        };
        let mut cmd = home.cmd(PASSWORD);
        cmd.env_remove("TATUM_KMS_PASSWORD")
            .args(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(cmd); // closes our copies of the slave side
        let master = std::fs::File::from(master);
        let seen = Arc::new(Mutex::new(String::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child has exited and the slave is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        OnTerminal {
            child,
            master,
            seen,
        }
    }

    /// Waits until the terminal shows `text` (after what was already
    /// consumed), and consumes through it.
    fn expect(&mut self, text: &str) {
        let start = Instant::now();
        loop {
            {
                let mut seen = self.seen.lock().unwrap();
                if let Some(at) = seen.find(text) {
                    seen.drain(..at + text.len());
                    return;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "the terminal never showed {text:?}; it shows {seen:?}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_line(&mut self, line: &str) {
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    fn finish(mut self) -> String {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("the command did not finish");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100)); // the reader's last bytes
        let seen = self.seen.lock().unwrap().clone();
        assert!(status.success(), "{status:?}: {seen}");
        seen
    }
}

#[test]
fn storemanagedwallet_asks_for_the_password_then_the_mnemonic() {
    let home = Home::new();
    common::json_of(&home.run(&["generatemanagedwallet", "ETH"])); // a store to unlock
    let mut terminal = OnTerminal::spawn(&home, &["storemanagedwallet", "ETH"]);
    terminal.expect(PASSWORD_PROMPT);
    terminal.type_line(PASSWORD);
    terminal.expect("Enter mnemonic to store:");
    terminal.type_line(MNEMONIC);
    let shown = terminal.finish();
    assert!(shown.contains("signatureId"), "{shown}");
    assert!(
        !shown.contains("abandon"),
        "the mnemonic is not echoed: {shown}"
    );
    assert_eq!(home.json(&["export"]).as_object().unwrap().len(), 2);
}

#[test]
fn storemanagedprivatekey_asks_for_the_key_then_the_password() {
    let home = Home::new();
    common::json_of(&home.run(&["generatemanagedwallet", "ETH"]));
    let mut terminal = OnTerminal::spawn(&home, &["storemanagedprivatekey", "ETH"]);
    terminal.expect("Enter private key to store:");
    terminal.type_line(ETH_KEY);
    terminal.expect(PASSWORD_PROMPT);
    terminal.type_line(PASSWORD);
    let shown = terminal.finish();
    assert!(shown.contains("signatureId"), "{shown}");
    assert!(
        !shown.contains(&ETH_KEY[2..]),
        "the key is not echoed: {shown}"
    );
    assert_eq!(home.json(&["export"]).as_object().unwrap().len(), 2);
}
