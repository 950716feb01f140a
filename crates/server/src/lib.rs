//! nixweb-server: serves a Nix app over HTTP.
//!
//! A request travels this crate in one direction, file by file:
//! [`http`] accepts the connection → [`pipeline`] reads the body within its limit, builds
//! the request value, waits for a worker ([`admission`]), asks the engine to run the router
//! and checks the outcome (placing the app's failures in the app: `explain`) → [`render`]
//! turns the outcome (or the error) into HTTP.
//!
//! It is not an evaluator: engines (`nixweb-engine-nix`, the embedded one) plug in through
//! `nixweb_app::engine::Engine`.

pub mod admission;
mod explain;
pub mod http;
pub mod pipeline;
pub mod render;
pub mod routes;
pub mod state;

pub use pipeline::{Nixweb, ServerConfig};
pub use state::StateConfig;
