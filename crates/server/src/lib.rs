//! nixweb-server: serves a Nix app over HTTP.
//!
//! A request travels this crate in one direction, file by file:
//! [`http`] accepts the connection under a cap and [`connection`] serves it with hyper,
//! bounded in time → [`pipeline`] reads the body within its limits ([`body`]), builds the
//! request value, waits for a worker ([`admission`]), asks the engine to run the router
//! and checks the outcome (placing the app's failures in the app: `explain`) → [`render`]
//! turns the outcome (or the error) into HTTP, opening files only through [`files`].
//!
//! Around that path: [`signals`] (stop, drain, SIGHUP), [`descriptors`] (the descriptor
//! limit under which connections are capped), [`notice`] (warnings clients can cause,
//! rate-limited), [`tls`] (certificates, reloading, client certificates), [`state`] (the
//! app's transactional state).
//!
//! It is not an evaluator: engines (`nixweb-engine-nix`, the embedded one) plug in through
//! `nixweb_app::engine::Engine`.

pub mod admission;
pub mod body;
pub mod connection;
pub mod descriptors;
mod explain;
pub mod files;
pub mod http;
pub mod notice;
pub mod pipeline;
pub mod render;
pub mod routes;
pub mod signals;
pub mod state;
pub mod tls;

pub use pipeline::{Nixweb, ServerConfig};
pub use state::StateConfig;
