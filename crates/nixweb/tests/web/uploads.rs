//! `multipart/form-data` bodies: fields in `req.form`, files in `req.files` with their
//! content as text and as a readable path (removed after the request), bounded by
//! `--max-body` and `--max-parts`. On both engines.

use super::common::{app, servers};
use nixweb_testkit::{Method, StatusCode, TestServer};
use serde_json::json;

const APP: &str = r#"{
  upload.POST = req: {
    json = {
      inherit (req) form formAll;
      files = map (f: {
        inherit (f) name filename contentType size text;
        sha256 = builtins.hashFile "sha256" f.path;
        readBack = if f.text == null then null else builtins.readFile f.path == f.text;
      }) req.files;
    };
  };
  where.POST = req: { json = map (f: f.path) req.files; };
}"#;

/// A multipart body with `fields` and `files` (field name, file name, type, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--BOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename, content_type, bytes) in files {
        body.extend_from_slice(
            format!("--BOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--BOUNDARY--\r\n");
    ("multipart/form-data; boundary=BOUNDARY".into(), body)
}

fn post(
    server: &TestServer,
    path: &str,
    (content_type, body): (String, Vec<u8>),
) -> nixweb_testkit::Response {
    server
        .request(Method::POST, path)
        .header("content-type", content_type)
        .body(body)
        .send()
        .unwrap()
}

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0, 0, 0xff, 0xfe];

#[test]
fn fields_and_files_reach_the_app() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &[]) {
        let reply = post(
            &server,
            "/upload",
            multipart(
                &[("title", "My <files>"), ("tag", "a"), ("tag", "b")],
                &[
                    ("doc", "notes.txt", "text/plain", "héllo\n".as_bytes()),
                    ("pic", "dot.png", "image/png", PNG),
                ],
            ),
        );
        assert_eq!(reply.status(), StatusCode::OK, "{engine}");
        let got: serde_json::Value = reply.json().unwrap();
        assert_eq!(
            got["form"],
            json!({"title": "My <files>", "tag": "a"}),
            "{engine}"
        );
        assert_eq!(got["formAll"]["tag"], json!(["a", "b"]));
        assert_eq!(
            got["files"],
            json!([
                {
                    "name": "doc", "filename": "notes.txt", "contentType": "text/plain",
                    "size": 7, "text": "héllo\n", "readBack": true,
                    "sha256": "b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d"
                },
                {
                    "name": "pic", "filename": "dot.png", "contentType": "image/png",
                    "size": 8, "text": null, "readBack": null,
                    "sha256": "0c881d7067e408624d12c976a9394964702d1bf6cc788619fa894e70bbd35abf"
                }
            ]),
            "{engine}"
        );
        // The files are gone once the request is answered.
        let paths: Vec<String> = post(
            &server,
            "/where",
            multipart(&[], &[("f", "a.txt", "text/plain", b"x")]),
        )
        .json()
        .unwrap();
        assert_eq!(paths.len(), 1);
        assert!(
            !std::path::Path::new(&paths[0]).exists(),
            "{engine}: {}",
            paths[0]
        );
    }
}

#[test]
fn bodies_are_bounded_in_size_and_parts() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &["--max-parts", "3", "--max-body", "4096"]) {
        let fields: Vec<(&str, &str)> = (0..4).map(|_| ("a", "1")).collect();
        let many = post(&server, "/upload", multipart(&fields, &[]));
        assert_eq!(many.status(), StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        assert!(many.text().unwrap().contains("more than 3 parts"));
        assert_eq!(
            post(&server, "/upload", multipart(&fields[..3], &[])).status(),
            StatusCode::OK
        );
        let big = vec![b'x'; 5000];
        let large = post(
            &server,
            "/upload",
            multipart(&[], &[("f", "big.bin", "application/octet-stream", &big)]),
        );
        assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        let broken = post(
            &server,
            "/upload",
            (
                "multipart/form-data; boundary=BOUNDARY".into(),
                b"--BOUNDARY\r\ngarbage".to_vec(),
            ),
        );
        assert_eq!(broken.status(), StatusCode::BAD_REQUEST, "{engine}");
    }
}
