//! nixweb-conformance: runs Nix's own language tests against nixweb-eval.
fn main() {}
