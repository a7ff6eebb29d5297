#![allow(unreachable_pub)] // shared by the test files, each its own crate

//! The recording HTTP server of kms-test-support standing in for VGS and
//! Azure (neither has an emulator), under the names these tests use.

#![allow(dead_code)]

use std::collections::HashMap;

use kms_test_support::http::RecordingServer;
pub use kms_test_support::http::{Reply, Request as Seen};

/// Which problem a failure case must be.
pub type Kind = fn(&kms_secret_providers::Problem) -> bool;

/// A faked service: `url` to point a provider at, `seen()` for what it was sent.
pub struct Fake {
    pub url: String,
    server: RecordingServer,
}

impl Fake {
    /// Answers every request with `script(request)`.
    pub async fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let server = RecordingServer::start(script).await;
        Self {
            url: server.url().to_string(),
            server,
        }
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.server.requests()
    }
}

/// A lookup over fixed variables, as the CLI's env/.env lookup would be.
pub fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}
