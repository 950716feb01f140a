//! Answers one request many times through [`Nixweb::respond`], the path every HTTP request
//! takes, without sockets: for counting what the server's own layers cost per request with
//! callgrind (deterministic, unlike time on a shared machine).
//!
//!   cargo build --profile profiling -p nixweb --example respond
//!   valgrind --tool=callgrind target/profiling/examples/respond COUNT PATH APP [SERVE FLAGS]
//!
//! e.g. `respond 10000 /test/my/hello examples/hello` for cached hello, with
//! `--no-response-cache` for evaluated hello. `ACCEPT_ENCODING=br` sends that header. The
//! first request is answered before the count starts, so a cached target counts hits only;
//! the per-request cost is the difference between two counts divided by their difference.

use clap::Parser;
use nixweb::cli::{Cli, Command};
use std::process::ExitCode;

// The allocator the nixweb binary uses: what it costs is part of what is counted.
#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<nixweb::allocator::Mimalloc> =
    nixweb_eval::alloc::Counting(nixweb::allocator::Mimalloc);

fn main() -> ExitCode {
    nixweb::allocator::configure();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, path, rest @ ..] = args.as_slice() else {
        eprintln!("usage: respond COUNT PATH APP [SERVE FLAGS]");
        return ExitCode::from(2);
    };
    let count: u64 = count.parse().expect("COUNT is a number");
    let cli = Cli::parse_from(
        ["nixweb", "serve"]
            .into_iter()
            .chain(rest.iter().map(String::as_str)),
    );
    let Command::Serve {
        app, serve, run, ..
    } = cli.command
    else {
        unreachable!("parsed as serve")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let nixweb = nixweb::commands::open_server(&app, &serve, &run).expect("the app opens");
    let accept_encoding = std::env::var("ACCEPT_ENCODING").ok();
    let request = || {
        let mut builder = http::Request::get(path.as_str()).header(http::header::HOST, "localhost");
        if let Some(accept) = &accept_encoding {
            builder = builder.header(http::header::ACCEPT_ENCODING, accept);
        }
        builder.body(axum::body::Body::empty()).expect("a request")
    };
    let status = runtime.block_on(async {
        let mut status = http::StatusCode::OK;
        for _ in 0..=count {
            let response = nixweb.respond(request(), Some([127, 0, 0, 1].into())).await;
            status = response.status();
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("the body");
        }
        status
    });
    println!("{count} requests after the first, last status {status}");
    ExitCode::SUCCESS
}
