//! nixweb-testkit: starts real nixweb servers on loopback for tests, and talks to them.
//!
//! A [`TestServer`] runs `nixweb serve` inside the test process (same flags, same code path
//! as the command) on a free port of 127.0.0.1, on a runtime of its own, so tests go through
//! real TCP and real HTTP. It is for tests only: nothing here is part of nixweb itself.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub mod browser;
pub mod process;

pub use reqwest::blocking::{Client, RequestBuilder, Response};
pub use reqwest::{Method, StatusCode};

/// The engines every example is tested on, embedded first. The Nix engine needs
/// `nix-instantiate`; the test command installs it, so its absence is a failure, not a skip.
pub fn engines() -> Vec<&'static str> {
    vec!["embedded", "nix"]
}

/// A nixweb server for one test; stopped when dropped.
pub struct TestServer {
    address: SocketAddr,
    client: Client,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    /// Serves `app` with the given extra `nixweb serve` flags (for example `--engine nix`).
    pub fn start(app: impl AsRef<Path>, flags: &[&str]) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let app = app.as_ref().to_str().expect("a UTF-8 app path").to_owned();
        let mut args = vec!["serve", app.as_str(), "--port", "0"];
        args.extend_from_slice(flags);
        let address = runtime
            .block_on(nixweb::commands::start_server(&args))
            .unwrap_or_else(|e| panic!("nixweb serve {args:?} did not start: {e:#}"));
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        TestServer {
            address,
            client,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A request builder for `path`, to add headers, a body, a query.
    pub fn request(&self, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .expect("the server answers")
    }

    /// GET `path` and return the body, asserting a 200.
    pub fn get_text(&self, path: &str) -> String {
        let response = self.get(path);
        let status = response.status();
        let text = response.text().expect("a text body");
        assert_eq!(
            status,
            StatusCode::OK,
            "GET {path} answered {status}: {text}"
        );
        text
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
