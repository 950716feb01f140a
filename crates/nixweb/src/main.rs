//! The `nixweb` command; see the library crate for what it does.

use clap::Parser;
use nixweb::{cli, commands};
use std::io::IsTerminal;

// Evaluation allocates and frees many small values; mimalloc does that markedly faster than
// the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let cli = cli::Cli::parse();
    // Log lines go to stderr from a thread of their own, buffered and flushed whenever no
    // more are waiting: under load many lines share one write instead of each costing a
    // system call on the thread serving requests. Nothing is dropped (not lossy); the guard
    // flushes what is left when main returns.
    let (stderr, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // Room for bursts; its slots are allocated up front (the default, 128,000 lines,
        // took 4 MB of an idle server's memory).
        .buffered_lines_limit(4096)
        .thread_name("nixweb-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("nixweb: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
