//! nixweb-app: the contract between an HTTP request and a Nix app.
//!
//! A request travels through nixweb in one direction, and this crate holds the middle of
//! that path, shared by every engine:
//!
//! 1. [`request`] turns an HTTP request into the request value (`req`) handed to Nix;
//! 2. [`engine::Engine`] evaluates [`ROUTER_NIX`], the Nix file that calls the app, finds
//!    the route and runs the handler (written once in Nix, so engines cannot disagree);
//! 3. [`outcome`] checks what the router returned and turns it into a [`outcome::ResponseValue`].
//!
//! It is not an HTTP server (see `nixweb-server`) and not an evaluator (see the engines).

pub mod engine;
pub mod outcome;
pub mod path;
pub mod request;

/// The router every engine evaluates. See the file itself for its arguments.
pub const ROUTER_NIX: &str = include_str!("router.nix");

/// The HTTP methods an app can define as route leaves, in the order `Allow` lists them.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
