//! nixweb-fuzz: fuzzing campaigns on stable Rust, without coverage instrumentation.
//! Generators ([`gen`]) write inputs shaped for each target ([`targets`]): programs that
//! nest, cycle and call builtins, damaged source text, JSON, TOML, regexes, HTTP requests,
//! router results. The binary (`scripts/fuzz TARGET MINUTES`) runs campaigns and keeps
//! findings in `findings/`, which `tests/findings.rs` replays in `cargo test`;
//! [`differential`] compares the evaluator with `nix-instantiate`.

pub mod differential;
pub mod gen;
pub mod rng;
pub mod targets;
