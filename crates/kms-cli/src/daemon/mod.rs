//! The signing daemon. Placeholder until the daemon is built: its flags are
//! parsed (`cli::DaemonArgs`) and it answers with a clear error.

use crate::cli::DaemonArgs;
use crate::context::Context;
use crate::error::CliError;

pub fn run(_opts: DaemonArgs, _ctx: Context) -> Result<(), CliError> {
    Err(CliError::failure("Error: daemon: not built yet"))
}
