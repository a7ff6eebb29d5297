//! The whole flow on one machine: written once the daemon exists.
use crate::Result;
pub fn run(_extra: &[String]) -> Result {
    Err("the demo arrives with the daemon".into())
}
