//! Handler answers to GET and HEAD carry an ETag and answer a matching `If-None-Match`
//! with 304 (unless `--no-etag`); text of some size is compressed by `Accept-Encoding`,
//! and its ETag is then weak. On both engines.

use super::common::{app, servers};
use nixweb_testkit::{Method, StatusCode, TestServer};
use std::io::Read;

const APP: &str = r#"
let h = import <nixweb/html.nix>; in {
  page.GET = req: h.p "Hello, ${req.query.name or "world"}";
  big.GET = req: h.ul (builtins.genList (i: h.li "item ${toString i}") 600);
  json.GET = { json = builtins.genList (i: { inherit i; }) 200; };
  tagged.GET = { body = "v7"; headers.ETag = "\"v7\""; };
  visitor.GET = req: {
    body = h.ul (builtins.genList (i: h.li "${req.query.who or "nobody"} ${toString i}") 300);
    headers.ETag = "\"same-for-everyone\"";
  };
  post.POST = "posted";
  missing.GET = { status = 404; body = "no"; };
}
"#;

fn get(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> nixweb_testkit::Response {
    let mut request = server.request(method, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().unwrap()
}

#[test]
fn etags_and_304s_for_handler_answers() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &[]) {
        let first = get(&server, Method::GET, "/page?name=Ada", &[]);
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.len() > 10, "{engine}: {etag}");
        assert_eq!(first.text().unwrap(), "<p>Hello, Ada</p>");

        let again = get(
            &server,
            Method::GET,
            "/page?name=Ada",
            &[("if-none-match", &etag)],
        );
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{engine}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(!again.headers().contains_key("content-type"));
        assert_eq!(again.text().unwrap(), "");
        let head = get(
            &server,
            Method::HEAD,
            "/page?name=Ada",
            &[("if-none-match", &etag)],
        );
        assert_eq!(head.status(), StatusCode::NOT_MODIFIED, "{engine}");

        // Another page has another tag, so the old one does not match.
        let other = get(
            &server,
            Method::GET,
            "/page?name=Bob",
            &[("if-none-match", &etag)],
        );
        assert_eq!(other.status(), StatusCode::OK);
        assert_ne!(other.headers()["etag"], etag.as_str());

        // The app's own tag is the one used; other methods and statuses get none.
        let tagged = get(
            &server,
            Method::GET,
            "/tagged",
            &[("if-none-match", "\"v7\"")],
        );
        assert_eq!(tagged.status(), StatusCode::NOT_MODIFIED);
        let posted = get(&server, Method::POST, "/post", &[("if-none-match", "*")]);
        assert_eq!(posted.status(), StatusCode::OK);
        assert!(!posted.headers().contains_key("etag"));
        let missing = get(&server, Method::GET, "/missing", &[("if-none-match", "*")]);
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(!missing.headers().contains_key("etag"));
    }
    for (engine, server) in servers(dir.path(), &["--no-etag"]) {
        let reply = get(&server, Method::GET, "/page", &[("if-none-match", "*")]);
        assert_eq!(reply.status(), StatusCode::OK, "{engine}");
        assert!(!reply.headers().contains_key("etag"));
        let tagged = get(
            &server,
            Method::GET,
            "/tagged",
            &[("if-none-match", "\"v7\"")],
        );
        assert_eq!(
            tagged.status(),
            StatusCode::NOT_MODIFIED,
            "the app's own still counts"
        );
    }
}

#[test]
fn nixweb_toml_turns_etags_off() {
    let dir = app(&[("default.nix", APP), ("nixweb.toml", "etag = false\n")]);
    for (engine, server) in servers(dir.path(), &[]) {
        let reply = get(&server, Method::GET, "/page", &[("if-none-match", "*")]);
        assert_eq!(reply.status(), StatusCode::OK, "{engine}");
        assert!(!reply.headers().contains_key("etag"), "{engine}");
    }
}

fn decode(encoding: &str, bytes: &[u8]) -> String {
    let mut text = String::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_string(&mut text)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(bytes, 4096)
                .read_to_string(&mut text)
                .unwrap();
        }
        "zstd" => text = String::from_utf8(zstd::decode_all(bytes).unwrap()).unwrap(),
        other => panic!("{other}"),
    }
    text
}

#[test]
fn text_is_compressed_as_the_client_accepts() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &[]) {
        let plain = get(&server, Method::GET, "/big", &[]);
        assert!(!plain.headers().contains_key("content-encoding"));
        assert_eq!(plain.headers()["vary"], "accept-encoding");
        let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
        let page = plain.text().unwrap();
        assert!(page.len() > 5000);
        for path in ["/big", "/json"] {
            let expected = get(&server, Method::GET, path, &[]).text().unwrap();
            for (accept, encoding) in [
                ("gzip", "gzip"),
                ("br;q=1.0, gzip;q=0.5", "br"),
                ("zstd", "zstd"),
            ] {
                let reply = get(&server, Method::GET, path, &[("accept-encoding", accept)]);
                assert_eq!(
                    reply.headers()["content-encoding"],
                    encoding,
                    "{engine} {path}"
                );
                assert_eq!(reply.headers()["vary"], "accept-encoding");
                let bytes = reply.bytes().unwrap();
                assert!(
                    bytes.len() * 4 < expected.len(),
                    "{engine} {path} {encoding}"
                );
                assert_eq!(
                    decode(encoding, &bytes),
                    expected,
                    "{engine} {path} {encoding}"
                );
            }
        }
        // The compressed answer's tag is weak, and still matches its page.
        let gz = get(&server, Method::GET, "/big", &[("accept-encoding", "gzip")]);
        let weak = gz.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(weak, format!("W/{etag}"), "{engine}");
        let again = get(
            &server,
            Method::GET,
            "/big",
            &[("accept-encoding", "gzip"), ("if-none-match", &weak)],
        );
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        // A small page is sent as it is.
        let small = get(
            &server,
            Method::GET,
            "/page",
            &[("accept-encoding", "gzip")],
        );
        assert!(!small.headers().contains_key("content-encoding"));
        assert!(!small.headers().contains_key("vary"));
    }
}

#[test]
fn compressed_answers_served_again_are_each_their_own_page() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &[]) {
        for accept in ["br", "gzip", "br"] {
            // Pages of nixweb's tags: kept compressed, and each still its own.
            for path in ["/big", "/json", "/big"] {
                let expected = get(&server, Method::GET, path, &[]).text().unwrap();
                let reply = get(&server, Method::GET, path, &[("accept-encoding", accept)]);
                assert_eq!(
                    reply.headers()["content-encoding"],
                    accept,
                    "{engine} {path}"
                );
                let bytes = reply.bytes().unwrap();
                assert_eq!(decode(accept, &bytes), expected, "{engine} {path} {accept}");
            }
            // An app that gives every visitor's page one tag: never another visitor's bytes.
            for who in ["ada", "grace", "ada", "alan"] {
                let path = format!("/visitor?who={who}");
                let reply = get(&server, Method::GET, &path, &[("accept-encoding", accept)]);
                assert_eq!(
                    reply.headers()["content-encoding"],
                    accept,
                    "{engine} {path}"
                );
                let page = decode(accept, &reply.bytes().unwrap());
                assert!(
                    page.contains(&format!("<li>{who} 299</li>")),
                    "{engine} {path}: {page}"
                );
            }
        }
    }
}
