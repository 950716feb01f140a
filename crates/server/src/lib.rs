//! nixweb-server: serves a Nix app over HTTP.
//!
//! A request travels this crate in one direction, file by file:
//! [`http`] accepts the connection under a cap and [`connection`] serves it with hyper,
//! bounded in time → [`pipeline`] reads the body within its limits ([`body`]), builds the
//! request value (with its files, [`uploads`], and its signed [`session`], whose CSRF token
//! it checks), waits for a worker ([`admission`]), asks the engine to run the router and
//! checks the outcome (placing the app's failures in the app: `explain`) → [`render`]
//! turns the outcome (or the error, on the app's own [`error_pages`] where it has them)
//! into HTTP, opening files only through [`files`] and serving them with
//! [`static_files`] → on the way out, [`conditional`] adds ETags (hashing a body seen before
//! only once: [`etags`]) and answers 304s, and
//! [`compression`] compresses (keeping what it compressed for answers served again:
//! [`compressed`]).
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
pub mod compressed;
pub mod compression;
pub mod conditional;
pub mod connection;
pub mod descriptors;
pub mod error_pages;
pub mod etags;
mod explain;
pub mod files;
pub mod http;
mod kept;
pub mod notice;
pub mod pipeline;
pub mod render;
pub mod routes;
pub mod session;
pub mod signals;
pub mod state;
pub mod static_files;
pub mod tls;
pub mod uploads;

pub use pipeline::{Nixweb, ServerConfig};
pub use session::SessionConfig;
pub use state::StateConfig;
