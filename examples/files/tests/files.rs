//! examples/files through a real server on loopback, on every engine: its static assets
//! with their validators and the app's Cache-Control, a session that remembers a name and
//! the last uploads, an upload through a multipart form, the CSRF checks, and the app's own
//! 404 and 500 pages.

use nixweb_testkit::{engines, Method, Response, StatusCode, TestServer};
use std::path::Path;

/// The server, with its session secret in `dir`, and any `flags`.
fn start(engine: &str, dir: &Path, flags: &[&str]) -> TestServer {
    let secret = format!("file:{}", dir.join("session.key").display());
    let mut all = vec!["--engine", engine, "--session-secret", &secret];
    all.extend_from_slice(flags);
    TestServer::start(example_files::app_dir(), &all)
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// The `nixweb-session=…` pair a response sets, if it sets one.
fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("nixweb-session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// One browser: its session cookie and the CSRF token its pages carry.
struct Visitor<'a> {
    server: &'a TestServer,
    cookie: String,
    token: String,
}

impl<'a> Visitor<'a> {
    fn arrive(server: &'a TestServer) -> Visitor<'a> {
        let page = server.get("/");
        assert_eq!(page.status(), StatusCode::OK);
        let cookie = session_cookie(&page).expect("the first page starts a session");
        let html = page.text().unwrap();
        let token = html
            .split("name=\"_csrf\" type=\"hidden\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no CSRF field in {html}"))
            .to_owned();
        Visitor {
            server,
            cookie,
            token,
        }
    }

    /// Keeps the session a response set, as a browser does.
    fn keep(&mut self, response: &Response) {
        if let Some(cookie) = session_cookie(response) {
            self.cookie = cookie;
        }
    }

    fn page(&self) -> String {
        let page = self
            .server
            .request(Method::GET, "/")
            .header("cookie", &self.cookie)
            .send()
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        page.text().unwrap()
    }

    fn login(&mut self, name: &str) {
        let reply = self
            .server
            .request(Method::POST, "/login")
            .header("cookie", &self.cookie)
            .form(&[("name", name), ("_csrf", &self.token)])
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER);
        self.keep(&reply);
    }

    /// Uploads `bytes` as `filename` through the page's form, with the token unless
    /// `token` is false.
    fn upload(
        &mut self,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
        token: bool,
    ) -> Response {
        let mut body = Vec::new();
        if token {
            body.extend_from_slice(
                format!(
                    "--B\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n",
                    self.token
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n--B--\r\n");
        let reply = self
            .server
            .request(Method::POST, "/upload")
            .header("cookie", &self.cookie)
            .header("content-type", "multipart/form-data; boundary=B")
            .body(body)
            .send()
            .unwrap();
        self.keep(&reply);
        reply
    }
}

#[test]
fn assets_come_with_validators_the_apps_cache_control_and_no_session() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let server = start(engine, dir.path(), &[]);
        let css = server.get("/assets/site.css");
        assert_eq!(css.status(), StatusCode::OK, "{engine}");
        assert_eq!(
            header(&css, "content-type"),
            Some("text/css; charset=utf-8")
        );
        assert_eq!(header(&css, "cache-control"), Some("public, max-age=3600"));
        assert!(header(&css, "last-modified").is_some());
        // A file shared caches may keep never starts a session (CSRF checks are on, so a
        // page would).
        assert_eq!(session_cookie(&css), None, "{engine}");
        let etag = header(&css, "etag").unwrap().to_owned();
        assert!(etag.starts_with('"'), "a strong tag: {etag}");
        let on_disk = std::fs::read(example_files::app_dir().join("public/site.css")).unwrap();
        assert_eq!(css.bytes().unwrap(), on_disk);

        let again = server
            .request(Method::GET, "/assets/site.css")
            .header("if-none-match", &etag)
            .send()
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{engine}");
        assert!(again.bytes().unwrap().is_empty());

        let part = server
            .request(Method::GET, "/assets/logo.svg")
            .header("range", "bytes=0-3")
            .send()
            .unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&part, "content-type"),
            Some("image/svg+xml; charset=utf-8")
        );
        assert_eq!(&part.bytes().unwrap()[..], b"<svg");

        // A folder's URL: its index.html, after the redirect that adds the slash.
        let folder = server.get("/assets/about");
        assert_eq!(folder.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&folder, "location"), Some("/assets/about/"));
        let about = server.get_text("/assets/about/");
        assert!(about.contains("<h1>About</h1>"), "{about}");
        // No listing was asked for, and nothing outside the folder is served.
        assert_eq!(server.get("/assets/").status(), StatusCode::NOT_FOUND);
        assert_eq!(
            server.get("/assets/about%2f..%2f..%2fdefault.nix").status(),
            StatusCode::BAD_REQUEST
        );
    }
}

#[test]
fn a_session_remembers_the_name_and_the_last_uploads() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let server = start(engine, dir.path(), &[]);
        let mut ada = Visitor::arrive(&server);
        ada.login("<b>Ada</b>");
        let page = ada.page();
        assert!(
            page.contains("<p id=\"greeting\">Hello, &lt;b&gt;Ada&lt;/b&gt;!</p>"),
            "{engine}: {page}"
        );

        let text = "line one\n<script>alert(1)</script>\n";
        let reply = ada.upload("notes.txt", "text/plain", text.as_bytes(), true);
        assert_eq!(reply.status(), StatusCode::OK, "{engine}");
        let shown = reply.text().unwrap();
        // Its size and SHA-256 (from Python's hashlib), as the app computed them.
        assert!(
            shown.contains(
                "<td>notes.txt</td><td>text/plain</td><td>35</td><td class=\"hash\">\
                 70acfd535b97ebc8a76f2d7a5e27b5f46a4979718803f1e301bf1f1f33953144</td>"
            ),
            "{engine}: {shown}"
        );
        assert!(
            shown.contains(
                "<pre id=\"preview\">line one\n&lt;script&gt;alert(1)&lt;/script&gt;\n</pre>"
            ),
            "{engine}: {shown}"
        );

        // Seven uploads: the session keeps the last five, newest first.
        for n in 2..=7 {
            let reply = ada.upload(
                &format!("f{n}.bin"),
                "application/octet-stream",
                &[0, 1, 2, n],
                true,
            );
            assert_eq!(reply.status(), StatusCode::OK);
            assert!(reply.text().unwrap().contains("A binary file."));
        }
        let page = ada.page();
        let listed: Vec<&str> = page
            .split("<tr><td>")
            .skip(1)
            .map(|row| row.split('<').next().unwrap())
            .collect();
        assert_eq!(
            listed,
            ["f7.bin", "f6.bin", "f5.bin", "f4.bin", "f3.bin"],
            "{engine}"
        );

        // Another visitor has a session of its own.
        let bob = Visitor::arrive(&server);
        let page = bob.page();
        assert!(
            page.contains("No uploads yet.") && !page.contains("Ada"),
            "{engine}"
        );

        // Forgetting ends the session: the cookie is removed.
        let reply = server
            .request(Method::POST, "/logout")
            .header("cookie", &ada.cookie)
            .form(&[("_csrf", ada.token.as_str())])
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER);
        let removed = reply
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with("nixweb-session="))
            .unwrap();
        assert!(removed.starts_with("nixweb-session=;") && removed.contains("Max-Age=0"));
    }
}

#[test]
fn forms_without_their_token_or_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let server = start(engine, dir.path(), &[]);
        let mut ada = Visitor::arrive(&server);
        let reply = ada.upload("a.txt", "text/plain", b"a", false);
        assert_eq!(reply.status(), StatusCode::FORBIDDEN, "{engine}");
        // Another session's token is no better.
        let bob = Visitor::arrive(&server);
        ada.token = bob.token.clone();
        let reply = ada.upload("a.txt", "text/plain", b"a", true);
        assert_eq!(reply.status(), StatusCode::FORBIDDEN, "{engine}");

        // With its token and no file: the app's 400.
        let ada = Visitor::arrive(&server);
        let reply = server
            .request(Method::POST, "/upload")
            .header("cookie", &ada.cookie)
            .form(&[("_csrf", ada.token.as_str())])
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "{engine}");
        assert!(reply.text().unwrap().contains("Choose a file to upload."));
    }
}

#[test]
fn the_apps_own_pages_answer_404_and_500() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        for dev in [false, true] {
            let flags: &[&str] = if dev { &["--dev"] } else { &[] };
            let server = start(engine, dir.path(), flags);
            let missing = server.get("/no/such/<page>");
            assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{engine}");
            assert_eq!(
                header(&missing, "content-type"),
                Some("text/html; charset=utf-8")
            );
            let html = missing.text().unwrap();
            assert!(
                html.contains("<p id=\"missing\">Nothing here at /no/such/%3Cpage%3E.</p>"),
                "{engine}: {html}"
            );

            let broken = server.get("/broken");
            assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let html = broken.text().unwrap();
            assert!(
                html.contains("<h2>Something went wrong</h2>"),
                "{engine}: {html}"
            );
            // What went wrong is the app's own secret unless --dev.
            assert_eq!(
                html.contains("this page is broken on purpose"),
                dev,
                "{engine}, dev {dev}: {html}"
            );
        }
    }
}
