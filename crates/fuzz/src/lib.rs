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

/// Names a finding by its content (FNV-1a), so that a campaign finding it again keeps one.
pub fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}
