//! nixweb-app: the contract between an HTTP request and a Nix app.
//!
//! A request travels through nixweb in one direction, and this crate holds the middle of
//! that path, shared by every engine:
//!
//! 1. [`request`] turns an HTTP request into the request value (`req`) handed to Nix
//!    ([`multipart`] reads form uploads);
//! 2. [`engine::Engine`] evaluates [`ROUTER_NIX`], the Nix file that calls the app, finds
//!    the route and runs the handler (written once in Nix, so engines cannot disagree);
//! 3. [`outcome`] checks what the router returned and turns it into a [`outcome::ResponseValue`]
//!    (its `cookies` through [`cookies`]); when anything fails, [`report`] says where in
//!    the app, in the app's terms.
//!
//! What engines share besides the router lives here too: [`trace`] (trace output to the
//! log, capped per request), [`memory`] (the process-wide memory ceiling) and [`workdir`]
//! (temporary folders, swept when a server died without removing them).
//!
//! It is not an HTTP server (see `nixweb-server`) and not an evaluator (see the engines).

pub mod cookies;
pub mod engine;
pub mod memory;
pub mod multipart;
pub mod outcome;
pub mod path;
pub mod report;
pub mod request;
pub mod trace;
pub mod workdir;

/// The router every engine evaluates. See the file itself for its arguments.
pub const ROUTER_NIX: &str = include_str!("../nix/router.nix");

/// The Nix library apps import as `<nixweb/NAME>`: (file name, contents). Engines put these
/// files in one folder and add it to the search path as `nixweb`.
pub const NIX_LIB: &[(&str, &str)] = &[
    ("html.nix", include_str!("../nix/lib/html.nix")),
    ("cc.nix", include_str!("../nix/lib/cc.nix")),
    ("static.nix", include_str!("../nix/lib/static.nix")),
];

/// Where [`write_runtime`] put the files engines evaluate.
#[derive(Debug, Clone)]
pub struct RuntimeFiles {
    /// [`ROUTER_NIX`], as a file.
    pub router: std::path::PathBuf,
    /// The folder holding [`NIX_LIB`]: the search path entry `nixweb=<lib>`.
    pub lib: std::path::PathBuf,
}

impl RuntimeFiles {
    /// Whether `file` is one of these: nixweb's own code, not the app's.
    pub fn contains(&self, file: &std::path::Path) -> bool {
        file == self.router || file.starts_with(&self.lib)
    }
}

/// Writes the router and the library into `dir`, for engines that evaluate real files.
pub fn write_runtime(dir: &std::path::Path) -> std::io::Result<RuntimeFiles> {
    let files = RuntimeFiles {
        router: dir.join("router.nix"),
        lib: dir.join("lib"),
    };
    std::fs::write(&files.router, ROUTER_NIX)?;
    std::fs::create_dir_all(&files.lib)?;
    for (name, text) in NIX_LIB {
        std::fs::write(files.lib.join(name), text)?;
    }
    Ok(files)
}

/// The HTTP methods an app can define as route leaves, in the order `Allow` lists them.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
