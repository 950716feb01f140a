//! Hello world, compiled with g++ -O2 and run: through nixweb (an HTTP request, a
//! nix-instantiate, a sandboxed build) against the same g++ run directly, in one run.
//!
//!     cargo bench -p example-godbolt [-- ROUNDS]
//!
//! Every program carries a fresh comment, so neither side can reuse an earlier result; a
//! repeated program is answered from the Nix store, and GET / shows a request's fixed cost.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

const HELLO: &str =
    "#include <iostream>\nint main() { std::cout << \"Hello World\" << std::endl; }";

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(15);
    common::server();
    let work = std::env::temp_dir().join(format!("godbolt-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();

    // One warm-up each: the first build pays for the sandbox's first set-up, the first
    // direct g++ for a cold page cache.
    through_nixweb(&common::fresh(HELLO));
    directly(&work, &common::fresh(HELLO));

    let mut nixweb = vec![];
    let mut direct = vec![];
    // Alternate, so that machine noise falls on both sides alike.
    for _ in 0..rounds {
        nixweb.push(timed(|| through_nixweb(&common::fresh(HELLO))));
        direct.push(timed(|| directly(&work, &common::fresh(HELLO))));
    }
    let repeated = common::fresh(HELLO);
    through_nixweb(&repeated);
    let mut cached: Vec<Duration> = (0..rounds)
        .map(|_| timed(|| through_nixweb(&repeated)))
        .collect();
    // The fixed cost of a request: the page, one nix-instantiate and no build.
    let mut page: Vec<Duration> = (0..rounds)
        .map(|_| timed(|| assert!(common::server().get_text("/").contains("Run"))))
        .collect();
    std::fs::remove_dir_all(&work).unwrap();

    let n = median(&mut nixweb);
    let d = median(&mut direct);
    let c = median(&mut cached);
    let p = median(&mut page);
    println!("hello world, g++ -O2, compile and run, {rounds} rounds (median, min..max)");
    println!("  through nixweb:       {}", summary(n, &nixweb));
    println!("  g++ directly:         {}", summary(d, &direct));
    println!("  nixweb, same program: {}", summary(c, &cached));
    println!("  nixweb, GET / only:   {}", summary(p, &page));
    println!(
        "  ratio nixweb / direct: {:.2}",
        n.as_secs_f64() / d.as_secs_f64()
    );
}

fn through_nixweb(code: &str) {
    let r = common::compile(code, "c++", "-O2");
    assert_eq!(r["programOutput"], "Hello World\n", "{r}");
}

fn directly(work: &std::path::Path, code: &str) {
    let source = work.join("main.cpp");
    std::fs::write(&source, code).unwrap();
    let program = work.join("program");
    let built = Command::new("g++")
        .arg("-O2")
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .status()
        .unwrap();
    assert!(built.success());
    let ran = Command::new(&program).output().unwrap();
    assert_eq!(ran.stdout, b"Hello World\n");
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn summary(median: Duration, sorted: &[Duration]) -> String {
    format!(
        "{:7.1} ms  ({:.1}..{:.1})",
        ms(median),
        ms(sorted[0]),
        ms(sorted[sorted.len() - 1])
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
