//! Attack cases: connections and framing (docs/security.md, "HTTP: connections and
//! framing"). Each runs a real server with small timeouts, attacks it over raw sockets on
//! loopback, and checks afterwards that it is healthy.

use super::common::{app, routes, serve, ServerProcess, RECOVERY};
use nixweb_testkit::process::{libc_signal, raise_own_descriptor_limit};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Resident memory bound for these cases, in MiB.
const RSS_MIB: u64 = 300;

/// The app every case here serves: `/health`, a body echo and a file route.
fn http_app() -> tempfile::TempDir {
    app(&[
        (
            "default.nix",
            &routes(
                r#"
  echo.POST = req: "got ${toString (builtins.stringLength req.body)} bytes";
  file.GET = req: { file = req.query.path; };
  inside.txt = "inside";
"#,
            ),
        ),
        ("public/a.txt", "public text"),
    ])
}

/// The status code of a raw HTTP/1.1 reply; 0 when there is none.
fn status_of(reply: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(reply);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Whether the server closes `stream` within `within`: reads until end of file (what the
/// server sent before closing is returned) or gives up.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let started = Instant::now();
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < within {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return Some(reply),
            Ok(n) => reply.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(reply),
        }
    }
    None
}

/// Reads one response (head and a `content-length` body) from a kept-alive connection.
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => reply.push(byte[0]),
            _ => return reply,
        }
    }
    let head = String::from_utf8_lossy(&reply).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    reply.extend(body);
    reply
}

#[test]
fn slow_request_heads_are_closed_at_the_header_timeout() {
    let dir = http_app();
    let mut server = serve(&dir, &["--header-timeout", "1.5", "--idle-timeout", "30"]);
    let head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut slow: Vec<TcpStream> = (0..12).map(|_| server.connect()).collect();
    // One byte per connection every 250 ms: far slower than a head needs, never idle.
    let started = Instant::now();
    let mut sent = 0;
    let mut open = slow.len();
    while open > 0 && started.elapsed() < Duration::from_secs(8) {
        open = 0;
        for stream in &mut slow {
            if stream.write_all(&head[sent..sent + 1]).is_ok() {
                open += 1;
            }
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(sent < head.len(), "the head was sent whole ({sent} bytes)");
    for (i, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(3)).is_some(),
            "slow head {i} still open after {:?}; log:\n{}",
            started.elapsed(),
            server.stderr_end()
        );
    }
    assert!(
        server.wait_for_log("request head was too slow", RECOVERY),
        "{}",
        server.stderr_end()
    );
    server.assert_healthy("slow request heads", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn idle_connections_are_closed_and_busy_ones_are_not() {
    let dir = http_app();
    let mut server = serve(&dir, &["--idle-timeout", "1", "--header-timeout", "5"]);
    // Connected, silent.
    let mut silent = server.connect();
    // One request answered, then silent (keep-alive).
    let mut kept = server.connect();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(status_of(&read_response(&mut kept)), 200);
    for (what, stream) in [("silent", &mut silent), ("kept alive", &mut kept)] {
        assert!(
            closed_within(stream, Duration::from_secs(6)).is_some(),
            "an idle ({what}) connection stayed open"
        );
    }
    // A connection that sends a request every 400 ms outlives the idle timeout.
    let mut busy = server.connect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        busy.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(status_of(&read_response(&mut busy)), 200);
        std::thread::sleep(Duration::from_millis(400));
    }
    server.assert_healthy("idle connections", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn bodies_slower_than_the_minimum_rate_get_408() {
    let dir = http_app();
    let mut server = serve(
        &dir,
        &[
            "--body-timeout",
            "1",
            "--min-body-rate",
            "500",
            "--header-timeout",
            "5",
        ],
    );
    let head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6000\r\n\r\n";
    // Stops after 300 bytes: its deadline is 1 s + 300/500 s.
    let mut stalled = server.connect();
    stalled.write_all(head).unwrap();
    stalled.write_all(&[b'x'; 300]).unwrap();
    // Trickles 20 bytes every 200 ms (100 bytes/s, a fifth of the rate).
    let mut trickle = server.connect();
    trickle.write_all(head).unwrap();
    let started = Instant::now();
    let mut reply = None;
    while started.elapsed() < Duration::from_secs(8) {
        if trickle.write_all(&[b'y'; 20]).is_err() {
            break;
        }
        trickle
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buffer = [0u8; 512];
        if let Ok(n) = trickle.read(&mut buffer) {
            reply = Some(buffer[..n].to_vec());
            break;
        }
    }
    let trickled = reply.expect("the trickled body was answered");
    assert_eq!(
        status_of(&trickled),
        408,
        "{}",
        String::from_utf8_lossy(&trickled)
    );
    let stalled = closed_within(&mut stalled, Duration::from_secs(6)).expect("closed");
    assert_eq!(
        status_of(&stalled),
        408,
        "{}",
        String::from_utf8_lossy(&stalled)
    );
    // A body sent at the rate is read whole.
    let mut steady = server.connect();
    steady
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1500\r\n\r\n")
        .unwrap();
    for _ in 0..5 {
        steady.write_all(&[b'z'; 300]).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let reply = read_response(&mut steady);
    assert!(
        String::from_utf8_lossy(&reply).ends_with("got 1500 bytes"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    server.assert_healthy("slow bodies", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn a_connection_flood_under_a_low_descriptor_limit_is_turned_away_cleanly() {
    raise_own_descriptor_limit();
    let dir = http_app();
    // A soft limit of 180 that the server raises to the hard 360; its cap is 360 − 180.
    let mut server = ServerProcess::start_with_descriptor_limit(
        env!("CARGO_BIN_EXE_nixweb"),
        dir.path(),
        &["--header-timeout", "2"],
        180,
        360,
    );
    assert_eq!(
        server.descriptor_limit(),
        (360, 360),
        "the soft limit is raised"
    );
    // 420 connections, each sending one byte of a request.
    let mut flood = Vec::new();
    for _ in 0..420 {
        let Ok(mut stream) = TcpStream::connect(server.address()) else {
            continue;
        };
        let _ = stream.write_all(b"G");
        flood.push(stream);
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.open_descriptors() < 360,
        "{} descriptors open",
        server.open_descriptors()
    );
    let mut turned_away = 0;
    let mut closed_later = 0;
    for stream in &mut flood {
        match closed_within(stream, Duration::from_millis(50)) {
            Some(reply) if status_of(&reply) == 503 => turned_away += 1,
            _ => {}
        }
    }
    for stream in &mut flood {
        if closed_within(stream, Duration::from_secs(4)).is_some() {
            closed_later += 1;
        }
    }
    assert!(turned_away >= 200, "only {turned_away} of 420 got a 503");
    assert_eq!(
        closed_later,
        flood.len(),
        "every flood connection is closed in the end"
    );
    assert!(
        server.wait_for_log("refused a connection", RECOVERY),
        "{}",
        server.stderr_end()
    );
    server.assert_healthy("connection flood", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn sigterm_drains_requests_and_half_sent_ones_do_not_hold_it() {
    let dir = http_app();
    let mut server = serve(
        &dir,
        &[
            "--shutdown-timeout",
            "2",
            "--header-timeout",
            "60",
            "--body-timeout",
            "60",
            "--idle-timeout",
            "60",
        ],
    );
    server.assert_healthy("before", "/health", RECOVERY, RSS_MIB);
    let mut half_head = server.connect();
    half_head.write_all(b"GET /health HTTP/1.1\r\nHo").unwrap();
    let mut half_body = server.connect();
    half_body
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .unwrap();
    // Under way when the signal comes, finished after it: answered.
    let mut draining = server.connect();
    draining
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    server.signal(libc_signal::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    draining.write_all(b"67890").unwrap();
    let reply = read_response(&mut draining);
    assert!(
        String::from_utf8_lossy(&reply).ends_with("got 10 bytes"),
        "the request under way was not drained: {}",
        String::from_utf8_lossy(&reply)
    );
    assert!(
        closed_within(&mut half_head, Duration::from_secs(2)).is_some(),
        "a half-sent head is closed at once"
    );
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "still running {:?} after SIGTERM; log:\n{}",
        signalled.elapsed(),
        server.stderr_end()
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "a half-sent body held shutdown for {:?}",
        signalled.elapsed()
    );
    assert!(
        server.wait_for_log("SIGTERM: shutting down", RECOVERY),
        "{}",
        server.stderr_end()
    );
    assert!(
        server.wait_for_log("still busy", RECOVERY),
        "{}",
        server.stderr_end()
    );
}

#[test]
fn sighup_is_logged_and_does_not_stop_the_server() {
    let dir = http_app();
    let mut server = serve(&dir, &[]);
    for _ in 0..3 {
        server.signal(libc_signal::SIGHUP);
        std::thread::sleep(Duration::from_millis(100));
        server.assert_healthy("SIGHUP", "/health", RECOVERY, RSS_MIB);
    }
    assert!(
        server.wait_for_log("SIGHUP received and ignored", RECOVERY),
        "{}",
        server.stderr_end()
    );
}

#[test]
fn a_client_that_sends_its_whole_body_first_reads_the_413() {
    let dir = http_app();
    let mut server = serve(&dir, &["--max-body", "300000"]);
    // Declared too large: refused before reading; the body is still sent whole.
    let mut declared = server.connect();
    let body = vec![b'x'; 900_000];
    declared
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n")
        .unwrap();
    declared
        .write_all(&body)
        .expect("the server takes the whole body instead of resetting the connection");
    let reply = closed_within(&mut declared, Duration::from_secs(15)).expect("closed");
    assert_eq!(
        status_of(&reply),
        413,
        "{}",
        String::from_utf8_lossy(&reply)
    );
    // Chunked, no length to go by: refused once past the limit, the rest still sent.
    let mut chunked = server.connect();
    chunked
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    for _ in 0..11 {
        chunked.write_all(b"10000\r\n").unwrap();
        chunked
            .write_all(&[b'y'; 0x10000])
            .expect("the server takes the rest of the chunks");
        chunked.write_all(b"\r\n").unwrap();
    }
    chunked.write_all(b"0\r\n\r\n").unwrap();
    let reply = closed_within(&mut chunked, Duration::from_secs(15)).expect("closed");
    assert_eq!(
        status_of(&reply),
        413,
        "{}",
        String::from_utf8_lossy(&reply)
    );
    server.assert_healthy("whole-body 413", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn malformed_framing_is_a_400_and_oversized_heads_a_431() {
    let dir = http_app();
    let mut server = serve(&dir, &[]);
    let big_value = "v".repeat(100 * 1024);
    let many: String = (0..150).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "a chunk size that is not hex",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".into(),
            400,
        ),
        (
            "a chunk longer than its size",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n".into(),
            400,
        ),
        (
            "a length that is not a number",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n".into(),
            400,
        ),
        (
            "a negative length",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -7\r\n\r\n".into(),
            400,
        ),
        (
            "two different lengths",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".into(),
            400,
        ),
        (
            "an unknown transfer coding",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc".into(),
            400,
        ),
        (
            "a 100 KiB header",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {big_value}\r\n\r\n"),
            431,
        ),
        (
            "150 headers",
            format!("GET /health HTTP/1.1\r\nHost: x\r\n{many}\r\n"),
            431,
        ),
        (
            "a request line with no version",
            "GET /health\r\nHost: x\r\n\r\n".into(),
            400,
        ),
    ];
    // Both a length and chunked (request smuggling): read by its chunks, then the connection
    // is closed, so what follows the chunks is never taken for a request of its own.
    let smuggled = server.raw_exchange(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    );
    let smuggled = String::from_utf8_lossy(&smuggled);
    assert_eq!(smuggled.matches("HTTP/1.1 ").count(), 1, "{smuggled}");
    assert!(smuggled.ends_with("got 3 bytes"), "{smuggled}");
    assert!(smuggled.contains("connection: close"), "{smuggled}");
    for (what, request, expected) in cases {
        let reply = server.raw_exchange(request.as_bytes(), Duration::from_secs(5));
        assert_eq!(
            status_of(&reply),
            expected,
            "{what}: {}",
            String::from_utf8_lossy(&reply)
        );
        server.assert_healthy(what, "/health", RECOVERY, RSS_MIB);
    }
}

#[test]
fn file_responses_outside_the_roots_answer_like_missing_files() {
    let dir = http_app();
    let mut server = serve(&dir, &[]);
    let inside = dir.path().join("public/a.txt");
    let ok = server
        .get(&format!("/file?path={}", inside.display()))
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().unwrap(), "public text");
    let answers: Vec<(String, u16, String)> = [
        "/etc/hostname".to_owned(),
        "/etc".to_owned(),
        "/nonexistent/nixweb-probe".to_owned(),
        format!("{}/../../etc/passwd", dir.path().display()),
        format!("{}/public/missing.txt", dir.path().display()),
    ]
    .into_iter()
    .map(|path| {
        let response = server.get(&format!("/file?path={path}")).unwrap();
        let status = response.status().as_u16();
        (path, status, response.text().unwrap())
    })
    .collect();
    for (path, status, body) in &answers {
        assert_eq!(
            (*status, body),
            (404, &"404 Not Found\n".to_owned()),
            "{path}"
        );
    }
    assert!(
        server.wait_for_log("outside the folders", RECOVERY),
        "{}",
        server.stderr_end()
    );
    assert!(
        server.wait_for_log("does not exist", RECOVERY),
        "{}",
        server.stderr_end()
    );
    server.assert_healthy("file oracle", "/health", RECOVERY, RSS_MIB);
}

/// Handlers that try to frame the response themselves, send informational statuses, or
/// give a body where HTTP allows none.
fn response_rules_app() -> tempfile::TempDir {
    app(&[(
        "default.nix",
        &routes(
            r#"
  te.GET = { body = "x"; headers."Transfer-Encoding" = "chunked"; };
  cl.GET = { body = "hello"; headers."Content-Length" = "2"; };
  conn.GET = { body = "x"; headers.Connection = "close, Upgrade"; };
  upgrade.GET = { status = 200; body = "x"; headers.Upgrade = "websocket"; };
  proxy.GET = { body = "x"; headers."Proxy-Authenticate" = "Basic"; };
  s100.GET = { status = 100; body = ""; };
  s101.GET = { status = 101; body = ""; headers.Upgrade = "h2c"; };
  s103.GET = { status = 103; body = "early"; };
  nc.GET = { status = 204; headers.X-Done = "yes"; };
  nc-empty.POST = { status = 204; body = ""; };
  nc-body.GET = { status = 204; body = "not allowed"; };
  nm.GET = { status = 304; headers.ETag = "\"v1\""; };
  nm-json.GET = { status = 304; json = { a = 1; }; };
"#,
        ),
    )])
}

/// One exchange after another on a single kept-alive connection: each (path, expected
/// status, expected body) in turn.
fn on_one_connection(server: &ServerProcess, exchanges: &[(&str, u16, &str)]) {
    let mut stream = server.connect();
    for (path, status, body) in exchanges {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        let reply = read_response(&mut stream);
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(status_of(&reply), *status, "{path}: {text}");
        let (_, got) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
        assert!(got.starts_with(body), "{path}: {text}");
    }
}

#[test]
fn framing_headers_from_handlers_are_refused_and_logged() {
    let dir = response_rules_app();
    for engine in ["embedded", "nix"] {
        let mut server = serve(&dir, &["--engine", engine]);
        // Each refused as an app error (500), on a connection that stays usable.
        let cases = ["/te", "/cl", "/conn", "/upgrade", "/proxy"];
        let mut exchanges: Vec<(&str, u16, &str)> = cases
            .iter()
            .map(|path| (*path, 500, "500 Internal"))
            .collect();
        exchanges.push(("/health", 200, "ok "));
        on_one_connection(&server, &exchanges);
        for name in [
            "Transfer-Encoding",
            "Content-Length",
            "Connection",
            "Upgrade",
            "Proxy-Authenticate",
        ] {
            assert!(
                server.wait_for_log(&format!("header \"{name}\" is set by nixweb"), RECOVERY),
                "{engine}: {name} not in the log:\n{}",
                server.stderr_end()
            );
        }
        server.assert_healthy("framing headers", "/health", RECOVERY, RSS_MIB);
    }
}

#[test]
fn informational_statuses_from_handlers_are_refused() {
    let dir = response_rules_app();
    let mut server = serve(&dir, &[]);
    on_one_connection(
        &server,
        &[
            ("/s100", 500, "500 Internal"),
            ("/s101", 500, "500 Internal"),
            ("/s103", 500, "500 Internal"),
            ("/health", 200, "ok "),
        ],
    );
    assert!(
        server.wait_for_log("status 101 is informational", RECOVERY),
        "{}",
        server.stderr_end()
    );
    server.assert_healthy("1xx statuses", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn no_content_and_not_modified_go_out_without_body_or_length() {
    let dir = response_rules_app();
    let mut server = serve(&dir, &[]);
    let mut stream = server.connect();
    for (request, status, header) in [
        ("GET /nc HTTP/1.1\r\nHost: x\r\n\r\n", 204, "x-done: yes"),
        (
            "POST /nc-empty HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            204,
            "x-request-id",
        ),
        ("GET /nm HTTP/1.1\r\nHost: x\r\n\r\n", 304, "etag: \"v1\""),
    ] {
        stream.write_all(request.as_bytes()).unwrap();
        let reply = read_response(&mut stream);
        let head = String::from_utf8_lossy(&reply).to_ascii_lowercase();
        assert_eq!(status_of(&reply), status, "{head}");
        assert!(head.ends_with("\r\n\r\n"), "no body: {head}");
        assert!(!head.contains("content-length"), "no length: {head}");
        assert!(!head.contains("content-type"), "no type: {head}");
        assert!(head.contains(header), "{head}");
    }
    // The connection still frames correctly: the next answer is read whole.
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(status_of(&read_response(&mut stream)), 200);
    // A body there is the app's mistake, reported as such.
    on_one_connection(
        &server,
        &[
            ("/nc-body", 500, "500 Internal"),
            ("/nm-json", 500, "500 Internal"),
        ],
    );
    assert!(
        server.wait_for_log(
            "a 204 response has no body, but the handler gave it `body` (11 bytes)",
            RECOVERY
        ),
        "{}",
        server.stderr_end()
    );
    assert!(
        server.wait_for_log("a 304 response has no body", RECOVERY),
        "{}",
        server.stderr_end()
    );
    server.assert_healthy("204 and 304", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn a_client_that_stops_reading_its_response_is_closed() {
    // 24 MiB: more than the socket buffers on both sides hold, so writing it stalls.
    let dir = app(&[("default.nix", &routes("  big.GET = ./big.bin;"))]);
    std::fs::write(dir.path().join("big.bin"), vec![b'b'; 24 << 20]).unwrap();
    let mut server = serve(&dir, &["--idle-timeout", "1", "--header-timeout", "5"]);
    let mut reader = server.connect();
    reader
        .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // It never reads; the server gives up once its writes stall for a second. (One reader:
    // the log line then surely speaks of it, and reading afterwards cannot revive it.)
    assert!(
        server.wait_for_log("stopped reading its response", RECOVERY),
        "{}",
        server.stderr_end()
    );
    // What was in the socket buffers, then the end (or a reset): never the whole file.
    let mut got = 0usize;
    let mut buffer = vec![0u8; 1 << 16];
    reader
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while let Ok(n) = reader.read(&mut buffer) {
        if n == 0 {
            break;
        }
        got += n;
    }
    assert!(got < 24 << 20, "the whole response arrived ({got} bytes)");
    server.assert_healthy("stalled readers", "/health", RECOVERY, RSS_MIB);
}
