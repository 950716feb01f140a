//! HTTPS: a real TLS client (reqwest with rustls, and rustls itself for one long-lived
//! connection) against `nixweb serve --tls-cert … --tls-key …` with certificates this test
//! makes (rcgen): HTTP/2 and HTTP/1.1 by ALPN, `req.tls` on both engines, client
//! certificates accepted and refused, and certificates reloaded without dropping
//! connections.

use nixweb_testkit::process::ServerProcess;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A certificate authority made for one test.
struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        Authority { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for localhost and 127.0.0.1: (certificate PEM, key PEM, DER).
    fn server(&self, serial: u64) -> Issued {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.serial_number = Some(SerialNumber::from(serial));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate for `name`, with an e-mail and a DNS name as alternative names.
    fn client(&self, name: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Example");
        params.subject_alt_names = vec![
            SanType::Rfc822Name(format!("{name}@example.org").try_into().unwrap()),
            SanType::DnsName(format!("{name}.example").try_into().unwrap()),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

struct Issued {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl Issued {
    fn identity(&self) -> reqwest::Identity {
        reqwest::Identity::from_pem(format!("{}{}", self.cert_pem, self.key_pem).as_bytes())
            .unwrap()
    }

    /// Writes the certificate and key as `NAME.pem` and `NAME.key` in `dir` (each through
    /// a rename, as certificate tools replace files).
    fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        for (path, text) in [(&key, &self.key_pem), (&cert, &self.cert_pem)] {
            let staged = path.with_extension("new");
            std::fs::write(&staged, text).unwrap();
            std::fs::rename(&staged, path).unwrap();
        }
        (cert, key)
    }
}

const APP: &str = r#"{
  health.GET = req: "ok ${req.id}";
  tls.GET = req: { json = req.tls; };
}
"#;

fn app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.nix"), APP).unwrap();
    dir
}

/// A client that trusts `ca`, optionally presenting `identity`, HTTP/1.1 only if asked.
fn client(ca: &str, identity: Option<reqwest::Identity>, http1: bool) -> reqwest::blocking::Client {
    let mut builder = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .tls_info(true)
        .timeout(Duration::from_secs(30));
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    if http1 {
        builder = builder.http1_only();
    }
    builder.build().unwrap()
}

fn localhost(server: &ServerProcess, path: &str) -> String {
    format!("https://localhost:{}{path}", server.address().port())
}

fn tls_of(client: &reqwest::blocking::Client, url: &str) -> (reqwest::Version, Value) {
    let response = client.get(url).send().unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let version = response.version();
    (version, response.json().unwrap())
}

fn serve(dir: &Path, flags: &[&str]) -> ServerProcess {
    ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir, flags)
}

/// `nixweb serve` with `--tls-cert` and `--tls-key` from `files`, and `flags`.
fn serve_https(dir: &Path, files: &(PathBuf, PathBuf), flags: &[&str]) -> ServerProcess {
    let (cert, key) = files;
    let mut all = vec![
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    all.extend_from_slice(flags);
    serve(dir, &all)
}

#[test]
fn https_by_alpn_with_http2_and_http1_and_req_tls_on_both_engines() {
    let dir = app();
    let ca = Authority::new("nixweb test CA");
    let files = ca.server(1).write(dir.path(), "server");
    for engine in ["embedded", "nix"] {
        let mut server = serve_https(dir.path(), &files, &["--engine", engine]);
        assert!(
            server.url("/").starts_with("https://"),
            "{}",
            server.url("/")
        );
        let h2 = client(&ca.pem(), None, false);
        let (version, tls) = tls_of(&h2, &localhost(&server, "/tls"));
        assert_eq!(version, reqwest::Version::HTTP_2, "{engine}");
        assert_eq!(tls["alpn"], "h2", "{engine}: {tls}");
        assert_eq!(tls["version"], "TLSv1.3", "{engine}: {tls}");
        assert_eq!(tls["serverName"], "localhost", "{engine}: {tls}");
        assert!(
            tls["cipher"].as_str().unwrap().starts_with("TLS13_"),
            "{tls}"
        );
        assert_eq!(tls["clientCert"], Value::Null, "{engine}: {tls}");
        let h1 = client(&ca.pem(), None, true);
        let (version, tls) = tls_of(&h1, &localhost(&server, "/tls"));
        assert_eq!(version, reqwest::Version::HTTP_11, "{engine}");
        assert_eq!(tls["alpn"], "http/1.1", "{engine}: {tls}");
        // Plain HTTP on a TLS port is not served.
        let plain = reqwest::blocking::get(format!("http://{}/health", server.address()));
        assert!(
            plain.as_ref().map_or(true, |r| r.status() != 200),
            "{plain:?}"
        );
        server.set_client(h2);
        server.assert_healthy("TLS", "/health", Duration::from_secs(10), 300);
    }
    // Over plain HTTP, req.tls is null.
    let mut plain = serve(dir.path(), &[]);
    let tls: Value = plain.get("/tls").unwrap().json().unwrap();
    assert_eq!(tls, Value::Null);
    plain.assert_healthy("plain", "/health", Duration::from_secs(10), 300);
}

#[test]
fn client_certificates_are_verified_and_handed_to_the_app() {
    let dir = app();
    let ca = Authority::new("nixweb test CA");
    let files = ca.server(1).write(dir.path(), "server");
    let ca_file = dir.path().join("clients.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let alice = ca.client("alice");
    let bob = ca.client("bob");
    let stranger = Authority::new("some other CA").client("mallory");
    for (engine, optional) in [("embedded", false), ("nix", false), ("embedded", true)] {
        let mut flags = vec![
            "--engine",
            engine,
            "--tls-client-ca",
            ca_file.to_str().unwrap(),
        ];
        if optional {
            flags.push("--tls-client-cert-optional");
        }
        let mut server = serve_https(dir.path(), &files, &flags);
        let url = localhost(&server, "/tls");
        for (person, issued) in [("alice", &alice), ("bob", &bob)] {
            let (_, tls) = tls_of(&client(&ca.pem(), Some(issued.identity()), false), &url);
            let cert = &tls["clientCert"];
            // Each its own: the response cache keys on req.tls as on any field.
            assert_eq!(cert["commonName"], person, "{tls}");
            let subject = cert["subject"].as_str().unwrap();
            assert!(subject.contains(&format!("CN={person}")), "{subject}");
            assert!(subject.contains("O=Example"), "{subject}");
            assert!(
                cert["issuer"]
                    .as_str()
                    .unwrap()
                    .contains("CN=nixweb test CA"),
                "{tls}"
            );
            assert_eq!(
                cert["san"]["email"],
                serde_json::json!([format!("{person}@example.org")])
            );
            assert_eq!(
                cert["san"]["dns"],
                serde_json::json!([format!("{person}.example")])
            );
            use sha2::Digest;
            assert_eq!(
                cert["fingerprint"],
                hex::encode(sha2::Sha256::digest(&issued.der))
            );
            assert!(cert["notBefore"].as_i64().unwrap() < cert["notAfter"].as_i64().unwrap());
            assert!(!cert["serial"].as_str().unwrap().is_empty());
        }
        // A certificate from another CA is refused during the handshake.
        let refused = client(&ca.pem(), Some(stranger.identity()), false)
            .get(&url)
            .send();
        assert!(
            refused.is_err(),
            "{engine}, optional={optional}: {refused:?}"
        );
        // No certificate: refused, unless they are optional.
        let anonymous = client(&ca.pem(), None, false).get(&url).send();
        if optional {
            let tls: Value = anonymous.unwrap().json().unwrap();
            assert_eq!(tls["clientCert"], Value::Null);
        } else {
            assert!(anonymous.is_err(), "{anonymous:?}");
        }
        assert!(
            server.wait_for_log("a TLS handshake failed", Duration::from_secs(5)),
            "{}",
            server.stderr_end()
        );
        server.set_client(client(&ca.pem(), Some(alice.identity()), false));
        server.assert_healthy(
            "client certificates",
            "/health",
            Duration::from_secs(10),
            300,
        );
    }
}

/// One HTTP/1.1 connection over rustls, kept open across requests.
struct KeptConnection {
    stream: rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
}

impl KeptConnection {
    fn open(server: &ServerProcess, ca_der: &[u8]) -> KeptConnection {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_der.to_vec().into()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connection =
            rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap())
                .unwrap();
        let socket = std::net::TcpStream::connect(server.address()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        KeptConnection {
            stream: rustls::StreamOwned::new(connection, socket),
        }
    }

    /// GET `path` and the body of the answer.
    fn get(&mut self, path: &str) -> String {
        self.stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            self.stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).unwrap();
        String::from_utf8(body).unwrap()
    }

    fn server_certificate(&self) -> Vec<u8> {
        self.stream.conn.peer_certificates().unwrap()[0].to_vec()
    }
}

/// The certificate a fresh connection is shown.
fn presented(client: &reqwest::blocking::Client, url: &str) -> Vec<u8> {
    let response = client.get(url).send().unwrap();
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the TLS facts of the response")
        .to_vec()
}

#[test]
fn certificates_are_reloaded_without_dropping_connections() {
    let dir = app();
    let ca = Authority::new("nixweb test CA");
    let first = ca.server(1);
    let files = first.write(dir.path(), "server");
    let mut server = serve_https(dir.path(), &files, &["--idle-timeout", "60"]);
    let fresh = || client(&ca.pem(), None, true);
    let url = localhost(&server, "/health");
    assert_eq!(presented(&fresh(), &url), first.der);
    let mut kept = KeptConnection::open(&server, ca.cert.der());
    assert!(kept.get("/health").starts_with("ok "));

    let second = ca.server(2);
    second.write(dir.path(), "server");
    let started = Instant::now();
    while presented(&fresh(), &url) != second.der {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the new certificate was not picked up; log:\n{}",
            server.stderr_end()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The connection opened before the reload is still served, with its certificate.
    assert!(kept.get("/health").starts_with("ok "));
    assert_eq!(kept.server_certificate(), first.der);

    // Files that do not load are logged; the server keeps the certificate in force.
    std::fs::write(&files.0, "not a certificate").unwrap();
    assert!(
        server.wait_for_log("do not load", Duration::from_secs(15)),
        "a broken certificate was not reported; log:\n{}",
        server.stderr_end()
    );
    assert_eq!(presented(&fresh(), &url), second.der);
    assert!(kept.get("/health").starts_with("ok "));
    server.set_client(fresh());
    server.assert_healthy("TLS reload", "/health", Duration::from_secs(10), 300);
}

#[test]
fn tls_files_that_do_not_load_stop_the_start_with_the_reason() {
    let dir = app();
    let ca = Authority::new("nixweb test CA");
    let (cert, _) = ca.server(1).write(dir.path(), "server");
    let (_, other_key) = ca.server(2).write(dir.path(), "other");
    for (cert, key, expected) in [
        (cert.clone(), dir.path().join("missing.key"), "missing.key"),
        (
            cert.clone(),
            other_key,
            "do not make a certificate and its key",
        ),
        (
            dir.path().join("default.nix"),
            dir.path().join("server.key"),
            "no certificate",
        ),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_nixweb"))
            .args(["serve", dir.path().to_str().unwrap(), "--port", "0"])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("listening"),
            "it must not say it listens"
        );
    }
}

#[test]
fn a_stalled_tls_handshake_is_closed_at_the_header_timeout() {
    let dir = app();
    let ca = Authority::new("nixweb test CA");
    let files = ca.server(1).write(dir.path(), "server");
    let mut server = serve_https(
        dir.path(),
        &files,
        &["--header-timeout", "1", "--idle-timeout", "60"],
    );
    // The start of a TLS record (a handshake, TLS 1.0 framing), then nothing; and a
    // connection that sends nothing at all.
    let mut started_hello = std::net::TcpStream::connect(server.address()).unwrap();
    started_hello.write_all(&[0x16, 0x03, 0x01]).unwrap();
    let silent = std::net::TcpStream::connect(server.address()).unwrap();
    for mut stream in [started_hello, silent] {
        stream
            .set_read_timeout(Some(Duration::from_secs(8)))
            .unwrap();
        let mut buffer = [0u8; 64];
        let read = stream.read(&mut buffer);
        assert!(
            matches!(read, Ok(0))
                || read.is_err()
                    && !matches!(
                        read.as_ref().unwrap_err().kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
            "still open: {read:?}"
        );
    }
    assert!(
        server.wait_for_log("TLS handshake within", Duration::from_secs(5)),
        "{}",
        server.stderr_end()
    );
    server.set_client(client(&ca.pem(), None, false));
    server.assert_healthy("stalled handshake", "/health", Duration::from_secs(10), 300);
}
