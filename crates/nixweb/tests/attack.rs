//! The attack suite: hostile requests against real `nixweb serve` processes on loopback
//! (docs/security.md says what each case defends). Every case checks afterwards that the
//! server is alive, answers a normal uncached request with 200 within seconds, and keeps its
//! resident memory under a stated bound. Traffic goes only to 127.0.0.1; every case is
//! bounded in requests and time.
//!
//! The cases live by layer: `eval` (the evaluator), `engine` (the embedded engine's
//! threads, confinement and fetching), `http` (connections and framing), `nix` (the Nix
//! engine's child processes).

mod attack {
    pub mod common;
    mod engine;
    mod eval;
    mod http;
    mod nix;
}
