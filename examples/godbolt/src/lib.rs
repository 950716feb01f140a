//! The `godbolt` example app: a page that compiles and runs C and C++ in the Nix build
//! sandbox. Its Nix sources live beside this crate (default.nix, static/, and the front end
//! in node_modules from package-lock.json); this crate only holds the example's tests and
//! its benchmark. It is not a compiler service of its own: all the work is Nix's.

/// The folder holding the app's default.nix.
pub fn app_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
