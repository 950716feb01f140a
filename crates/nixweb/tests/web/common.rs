//! What every case of the web suite needs: an app in a temporary folder, served.

use nixweb_testkit::{engines, TestServer};
use std::path::Path;

/// An app folder holding `files` (name, contents); folders in names are created.
pub fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The app served once per engine, each with `flags`, named by its engine.
pub fn servers(dir: &Path, flags: &[&str]) -> Vec<(&'static str, TestServer)> {
    engines()
        .into_iter()
        .map(|engine| {
            let mut all = vec!["--engine", engine];
            all.extend_from_slice(flags);
            (engine, TestServer::start(dir, &all))
        })
        .collect()
}

/// The server's log once it holds every one of `expected` (it reaches the test through a
/// pipe, a moment after the answer); fails, showing the log, if that takes over 10 s.
pub fn log_with(server: &nixweb_testkit::process::ServerProcess, expected: &[&str]) -> String {
    let started = std::time::Instant::now();
    loop {
        let log = server.stderr();
        let missing: Vec<&&str> = expected.iter().filter(|e| !log.contains(**e)).collect();
        if missing.is_empty() {
            return log;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the log has no {missing:?}:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
