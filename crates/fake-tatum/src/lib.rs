//! A fake of the Tatum API for tests and the demo: serves pending
//! transactions from fixtures, records broadcasts and error reports, injects
//! faults. Built with the daemon; empty until then.
