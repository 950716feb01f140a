//! What every attack case shares: a server process for an app written into a temporary
//! folder, and the checks after each hostile request.

pub use nixweb_testkit::process::ServerProcess;
use std::time::Duration;

/// A normal request must answer within this after any attack.
pub const RECOVERY: Duration = Duration::from_secs(10);

/// An app in a fresh temporary folder, from `(file name, contents)` pairs. Every app also
/// gets an uncached health route at `/health` (it reads the request id, so the response
/// cache never answers it).
pub fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("nixweb-attack-")
        .tempdir()
        .expect("a temporary folder");
    for (name, contents) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the app's folders");
        }
        std::fs::write(path, contents).expect("an app file");
    }
    dir
}

/// Wraps route definitions (Nix attribute bindings) into an app with `/health`.
pub fn routes(bindings: &str) -> String {
    format!("{{\n  health.GET = req: \"ok ${{req.id}}\";\n{bindings}\n}}\n")
}

/// Starts `nixweb serve` on `dir` with `flags`.
pub fn serve(dir: &tempfile::TempDir, flags: &[&str]) -> ServerProcess {
    ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), flags)
}

#[test]
fn a_fresh_server_is_healthy_and_stops_on_sigterm() {
    let dir = app(&[("default.nix", &routes(""))]);
    let mut server = serve(&dir, &[]);
    server.assert_healthy("nothing", "/health", RECOVERY, 200);
    let status = server.terminate(Duration::from_secs(10));
    assert!(status.is_some(), "the server did not stop on SIGTERM");
}
