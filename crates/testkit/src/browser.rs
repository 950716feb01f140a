//! A real browser for tests: Debian's headless Chromium, driven through chromedriver
//! (`apt-get install chromium chromium-driver`; scripts/setup does it).

use fantoccini::{Client, ClientBuilder};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use fantoccini;

/// chromedriver on a free loopback port, with a fresh browser profile; killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Driver {
    pub fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (apt-get install chromium chromium-driver)");
        // Ready when it accepts connections; the test fails if it never does.
        let mut attempts = 0;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            attempts += 1;
            assert!(attempts < 300, "chromedriver did not start listening");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::Builder::new()
            .prefix("nixweb-chromium-")
            .tempdir()
            .unwrap();
        Driver {
            child,
            port,
            profile,
        }
    }

    /// A new headless browser session. Chromium is cut off from the network beyond what the
    /// page asks for (this machine has none), and runs as root without its sandbox.
    pub async fn browser(&self) -> Client {
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1100,900",
            &format!("--user-data-dir={}", self.profile.path().display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args, "binary": "/usr/bin/chromium" }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves what the browser shows as target/test-artifacts/NAME, for people to look at.
pub async fn save_screenshot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(name), png).unwrap();
}

/// Every URL the page loaded (scripts, styles, images, fetches), from the browser's own
/// record, so a test can check that a page works with no internet.
pub async fn loaded_resources(browser: &Client) -> Vec<String> {
    let names = browser
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name);",
            vec![],
        )
        .await
        .expect("the page's resource list");
    names
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("a URL").to_owned())
        .collect()
}

/// Text that runs script when a page puts it into HTML unescaped, in element content or in
/// an attribute value: each sets `window.nixwebInjected`.
pub const INJECTIONS: [&str; 3] = [
    "<script>window.nixwebInjected = 1</script>",
    "\"><img src=x onerror=\"window.nixwebInjected = 2\">",
    "'><svg onload='window.nixwebInjected = 3'></svg>",
];

/// Whether anything of [`INJECTIONS`] became markup on the current page: an element it
/// would create exists, or its script ran.
pub async fn injection_took_effect(browser: &Client) -> bool {
    let found = browser
        .execute(
            "return window.nixwebInjected !== undefined
                || document.querySelector('img[src=x], svg[onload]') !== null
                || [...document.scripts].some(s => s.textContent.includes('nixwebInjected'));",
            vec![],
        )
        .await
        .expect("the page's state");
    found.as_bool().expect("a Boolean")
}
