//! The embedded engine alone, without HTTP: how many router calls per second it answers
//! for one app and path, and the process CPU each costs. Separates the evaluation's share
//! of a request from the server's (see BENCHMARKS.md).
//!
//!     cargo run --release -p nixweb --example throughput -- APP_FILE PATH [CALLS]

use nixweb_app::engine::{Engine, RouterCall, RouterMode};
use nixweb_app::request::{Request, RequestParts};
use nixweb_engine_embedded::{EmbeddedConfig, EmbeddedEngine};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<nixweb::allocator::Mimalloc> =
    nixweb_eval::alloc::Counting(nixweb::allocator::Mimalloc);

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn main() {
    nixweb::allocator::configure();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [app, path, rest @ ..] = args.as_slice() else {
        eprintln!("usage: throughput APP_FILE PATH [CALLS]");
        std::process::exit(2);
    };
    let calls: usize = rest
        .first()
        .map_or(200_000, |n| n.parse().expect("a number"));
    let app = std::path::Path::new(app)
        .canonicalize()
        .expect("the app file exists");
    // Every call evaluated: the calls below bypass the response cache, which only the
    // server consults, so storing results would be wasted work.
    let config = EmbeddedConfig {
        response_cache: false,
        ..EmbeddedConfig::default()
    };
    let engine = Arc::new(EmbeddedEngine::new(&app, config).expect("engine"));
    // As many calls in flight as the server lets in: four per evaluation thread.
    let in_flight = EmbeddedConfig::default().workers * engine.calls_per_worker();

    let uri: http::Uri = path.parse().expect("a path");
    let request = Arc::new(
        Request::new(&RequestParts {
            method: &http::Method::GET,
            uri: &uri,
            headers: &http::HeaderMap::new(),
            body: b"",
            remote_addr: None,
            id: "throughput",
            time: 0,
        })
        .expect("a valid request"),
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let run = |n: usize| {
        let engine = engine.clone();
        let request = request.clone();
        runtime.block_on(async move {
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let tasks: Vec<_> = (0..in_flight)
                .map(|_| {
                    let (engine, request, next) = (engine.clone(), request.clone(), next.clone());
                    tokio::spawn(async move {
                        while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                            let call = RouterCall {
                                mode: RouterMode::Handle,
                                request: request.clone(),
                                timeout: Duration::from_secs(10),
                                state: None,
                                traces: Arc::new(nixweb_app::trace::Traces::new(
                                    "throughput",
                                    nixweb_app::trace::DEFAULT_LIMIT,
                                )),
                            };
                            engine.run_router(call).await.expect("the call succeeds");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
        })
    };
    run(calls / 10); // warm-up: parse, import, settle the allocator
    let (wall, cpu) = (Instant::now(), cpu_time());
    run(calls);
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    println!(
        "{calls} calls: {:.0} calls/s, {:.1} µs CPU per call ({in_flight} in flight)",
        calls as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / calls as f64
    );
}
