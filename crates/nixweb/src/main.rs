//! The `nixweb` command; see the library crate for what it does.

use clap::Parser;
use nixweb::{cli, commands, logging};

// Evaluation allocates and frees many small values; mimalloc does that markedly faster than
// the system allocator (see BENCHMARKS.md). Counting what each thread holds is what bounds
// an evaluation's memory (`--eval-memory`).
#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<mimalloc::MiMalloc> =
    nixweb_eval::alloc::Counting(mimalloc::MiMalloc);

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_e`, mimalloc.h).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Freed memory goes back to the system after a second rather than mimalloc's 10 ms:
    // each request frees what it allocated, and returning it at once only to fault it back
    // in for the next request cost 1.5 page faults and about a quarter of a small
    // request's CPU (crates/engine-embedded/examples/throughput.rs, BENCHMARKS.md).
    // SAFETY: setting an option is allowed at any time; this one is read when purging.
    // MIMALLOC_PURGE_DELAY in the environment still decides, as mimalloc documents.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
    // Engines ask for freed memory back at once where mimalloc's own pace would leave it
    // resident: a worker after an evaluation that held much (idle, its thread would keep
    // it: mimalloc purges when the thread allocates again), and past the memory ceiling,
    // where nothing allocates.
    // SAFETY: mi_collect only works on the calling thread's heap (and abandoned ones).
    nixweb_app::memory::set_release(|| unsafe { libmimalloc_sys::mi_collect(true) });
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
