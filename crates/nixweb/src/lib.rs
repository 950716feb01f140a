//! nixweb: web backends written in the Nix language.
//!
//! This crate is the `nixweb` command: flag parsing ([`cli`]) and what each subcommand
//! does ([`commands`]). The work itself lives in the other crates: `nixweb-app` (the app
//! contract), the engines, and `nixweb-server`. The library target exists so tests can start
//! a server in-process through the very same flags a user types.

pub mod allocator;
pub mod cli;
pub mod commands;
mod eval;
pub mod logging;
mod request;
mod serve;
pub mod settings;
pub mod web;
