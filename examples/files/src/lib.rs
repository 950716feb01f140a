//! The `files` example app: its Nix sources live beside this crate (default.nix); this crate
//! only exists to hold the example's tests (tests/files.rs, tests/browser.rs).

/// The folder holding the app's default.nix.
pub fn app_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
