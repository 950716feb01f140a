//! Static folders (`<nixweb/static.nix>`) and `file` responses: types, strong ETags and
//! Last-Modified, 304s, ranges, HEAD, index pages, listings, hidden names, and confinement
//! (links and dots that leave the folder), on both engines.

use super::common::{app, servers};
use nixweb_testkit::{Method, StatusCode, TestServer};

const APP: &str = r#"
let static = import <nixweb/static.nix>; in {
  assets = static.folder ./public { cacheControl = "public, max-age=60"; };
  listed = static.folder ./public { listing = true; };
  dotted = static.folder ./public { hidden = true; };
  outside = static.folder /etc { };
  "style.css".GET = ./public/site.css;
  gone.GET = { status = 404; file = ./public/index.html; };
}
"#;

const CSS: &str = "body { color: #333 }\n";

/// The app (in `app/`) and, beside it, a file outside it.
fn folder_app() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = app(&[
        ("app/default.nix", APP),
        ("app/public/site.css", CSS),
        ("app/public/index.html", "<h1>home</h1>"),
        ("app/public/sub/index.html", "<h1>sub</h1>"),
        ("app/public/plain/a.txt", "a"),
        ("app/public/plain/<b>.txt", "b"),
        ("app/public/.secret", "hidden"),
        ("app/private.txt", "the app's, not the folder's"),
        ("outside.txt", "outside"),
    ]);
    let app = dir.path().join("app");
    let public = app.join("public");
    let link = |target: std::path::PathBuf, name: &str| {
        std::os::unix::fs::symlink(target, public.join(name)).unwrap()
    };
    link(dir.path().join("outside.txt"), "link-out");
    link(app.join("private.txt"), "link-private");
    link(public.join("site.css"), "link-in.css");
    link(app.clone(), "link-dir");
    (dir, app)
}

fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> nixweb_testkit::Response {
    let mut request = server.request(Method::GET, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().unwrap()
}

#[test]
fn files_come_with_types_validators_and_the_apps_cache_control() {
    let (_dir, app) = folder_app();
    for (engine, server) in servers(&app, &[]) {
        let reply = get(&server, "/assets/site.css", &[]);
        assert_eq!(reply.status(), StatusCode::OK, "{engine}");
        let headers = reply.headers().clone();
        assert_eq!(headers["content-type"], "text/css; charset=utf-8");
        assert_eq!(headers["cache-control"], "public, max-age=60");
        assert_eq!(headers["content-length"], CSS.len().to_string());
        let etag = headers["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"'), "a strong ETag: {etag}");
        let modified = headers["last-modified"].to_str().unwrap().to_owned();
        assert_eq!(reply.text().unwrap(), CSS);

        // Validators: a matching tag or date is a 304 with no body, keeping the tag and
        // the cache policy; If-None-Match wins over If-Modified-Since.
        let list = format!("\"other\", W/\"x\", {etag}");
        for condition in [
            ("if-none-match", etag.as_str()),
            ("if-none-match", list.as_str()),
            ("if-none-match", "*"),
            ("if-modified-since", modified.as_str()),
        ] {
            let again = get(&server, "/assets/site.css", &[condition]);
            assert_eq!(
                again.status(),
                StatusCode::NOT_MODIFIED,
                "{engine} {condition:?}"
            );
            assert_eq!(again.headers()["etag"], etag.as_str());
            assert_eq!(again.headers()["cache-control"], "public, max-age=60");
            assert_eq!(again.text().unwrap(), "");
        }
        let stale_tag = get(
            &server,
            "/assets/site.css",
            &[
                ("if-none-match", "\"old\""),
                ("if-modified-since", &modified),
            ],
        );
        assert_eq!(stale_tag.status(), StatusCode::OK, "{engine}");

        // HEAD: the headers, no body.
        let head = server
            .request(Method::HEAD, "/assets/site.css")
            .send()
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()["etag"], etag.as_str());
        assert_eq!(head.headers()["content-length"], CSS.len().to_string());
        assert_eq!(head.text().unwrap(), "");

        // A `file` response is served the same way.
        let file = get(&server, "/style.css", &[("if-none-match", &etag)]);
        assert_eq!(file.status(), StatusCode::NOT_MODIFIED, "{engine}");
        let gone = get(&server, "/gone", &[("if-none-match", "*")]);
        assert_eq!(
            gone.status(),
            StatusCode::NOT_FOUND,
            "the app's status, whole"
        );
        assert_eq!(gone.text().unwrap(), "<h1>home</h1>");
    }
}

#[test]
fn ranges_are_answered_with_206_or_416() {
    let (_dir, app) = folder_app();
    for (engine, server) in servers(&app, &[]) {
        let etag = get(&server, "/assets/site.css", &[]).headers()["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        let part = get(&server, "/assets/site.css", &[("range", "bytes=0-3")]);
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT, "{engine}");
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes 0-3/{}", CSS.len())
        );
        assert_eq!(part.text().unwrap(), "body");
        let tail = get(&server, "/assets/site.css", &[("range", "bytes=-2")]);
        assert_eq!(tail.text().unwrap(), "}\n");
        let beyond = get(&server, "/assets/site.css", &[("range", "bytes=999-")]);
        assert_eq!(
            beyond.status(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{engine}"
        );
        // If-Range: the range only of the version the client holds; else the whole file.
        let same = get(
            &server,
            "/assets/site.css",
            &[("range", "bytes=0-3"), ("if-range", &etag)],
        );
        assert_eq!(same.status(), StatusCode::PARTIAL_CONTENT);
        for other in ["\"v2\"", "\"not a tag\"", "Tue, 14 Nov 2000 22:13:20 GMT"] {
            let changed = get(
                &server,
                "/assets/site.css",
                &[("range", "bytes=0-3"), ("if-range", other)],
            );
            assert_eq!(changed.status(), StatusCode::OK, "{engine} {other}");
            assert_eq!(changed.text().unwrap(), CSS);
        }
    }
}

#[test]
fn folders_serve_their_index_and_list_only_when_asked() {
    let (_dir, app) = folder_app();
    for (engine, server) in servers(&app, &[]) {
        for (path, location) in [
            ("/assets", "/assets/"),
            ("/assets/sub?x=1", "/assets/sub/?x=1"),
        ] {
            let moved = get(&server, path, &[]);
            assert_eq!(
                moved.status(),
                StatusCode::PERMANENT_REDIRECT,
                "{engine} {path}"
            );
            assert_eq!(moved.headers()["location"], location);
        }
        assert_eq!(server.get_text("/assets/"), "<h1>home</h1>");
        assert_eq!(server.get_text("/assets/sub/"), "<h1>sub</h1>");
        let unlisted = get(&server, "/assets/plain/", &[]);
        assert_eq!(unlisted.status(), StatusCode::NOT_FOUND, "{engine}");
        let listing = get(&server, "/listed/plain/", &[]);
        assert_eq!(listing.status(), StatusCode::OK, "{engine}");
        assert_eq!(
            listing.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let text = listing.text().unwrap();
        assert!(
            text.contains("<a href=\"a%2Etxt\">a.txt</a>")
                && text.contains("<a href=\"%3Cb%3E%2Etxt\">&lt;b&gt;.txt</a>"),
            "{text}"
        );
        assert_eq!(server.get_text("/listed/plain/%3Cb%3E.txt"), "b");
    }
}

#[test]
fn nothing_outside_the_folder_is_served() {
    let (_dir, app) = folder_app();
    for (engine, server) in servers(&app, &[]) {
        for path in [
            "/assets/.secret",
            "/assets/link-out",
            "/assets/link-private",
            "/assets/link-dir/private.txt",
            "/assets/link-dir/",
            "/outside/passwd",
            "/assets/nope.css",
        ] {
            let reply = get(&server, path, &[]);
            assert_eq!(reply.status(), StatusCode::NOT_FOUND, "{engine} {path}");
            let text = reply.text().unwrap();
            assert!(
                !text.contains("outside") && !text.contains("the app's"),
                "{path}: {text}"
            );
        }
        // Sent as they are (an HTTP client would resolve the dots itself).
        for path in [
            "/assets/%2e%2e/private.txt",
            "/assets/../private.txt",
            "/assets/a%00b",
            "/assets/%2Fetc%2Fpasswd",
        ] {
            assert_eq!(raw_status(&server, path), 400, "{engine} {path}");
        }
        assert_eq!(server.get_text("/dotted/.secret"), "hidden");
        assert_eq!(
            server.get_text("/assets/link-in.css"),
            CSS,
            "a link inside is fine"
        );
    }
}

/// The status of a GET of `path` sent byte for byte, with no URL normalisation.
fn raw_status(server: &TestServer, path: &str) -> u16 {
    use std::io::{Read, Write};
    let address = server.url("").trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}
