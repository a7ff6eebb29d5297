//! The in-memory reference ledger against the conformance cases.

use std::sync::Arc;

use kms_ledger::{conformance, Ledger, MemoryLedger};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_memory_ledger_conforms() {
    conformance::run_all(|| async { Arc::new(MemoryLedger::new()) as Arc<dyn Ledger> }).await;
}
