//! moto, the AWS emulator from the project's Python, as a server on a free
//! port of 127.0.0.1 for one test; killed (only it) when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server this test started; killed (only it) when the test ends.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`, the endpoint URL to give the AWS clients.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `moto_server` from the venv of `python` (the venv's python
/// binary) on a free port, and waits up to 60 s until it accepts
/// connections; panics if it exits or does not start in time.
pub fn start_moto(python: &Path) -> Moto {
    let server: PathBuf = python.parent().unwrap().join("moto_server");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", server.display()));
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = moto.child.try_wait().unwrap() {
            panic!("moto_server exited at start: {status}");
        }
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}
