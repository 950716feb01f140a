//! The `nixweb` command; see the library crate for what it does.

use clap::Parser;
use nixweb::{cli, commands, logging};

// Evaluation allocates and frees many small values; mimalloc does that markedly faster than
// the system allocator (see BENCHMARKS.md). Counting what each thread holds is what bounds
// an evaluation's memory (`--eval-memory`).
#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<nixweb::allocator::Mimalloc> =
    nixweb_eval::alloc::Counting(nixweb::allocator::Mimalloc);

fn main() -> std::process::ExitCode {
    nixweb::allocator::configure();
    let cli = cli::Cli::parse();
    let serving = matches!(cli.command, cli::Command::Serve { .. });
    let _flush_on_exit = logging::init(cli.log_format, serving);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // Through the log, so that it is in the log's format too.
            tracing::error!(target: "nixweb", "{err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
