//! What every case of the web suite needs: an app in a temporary folder, served.

use nixweb_testkit::{engines, TestServer};

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
pub fn servers(dir: &tempfile::TempDir, flags: &[&str]) -> Vec<(&'static str, TestServer)> {
    engines()
        .into_iter()
        .map(|engine| {
            let mut all = vec!["--engine", engine];
            all.extend_from_slice(flags);
            (engine, TestServer::start(dir.path(), &all))
        })
        .collect()
}
