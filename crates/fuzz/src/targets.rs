//! The fuzz targets: each takes one input and runs it through a part of nixweb, under
//! bounds small enough that every case ends quickly. A target returns normally whatever the
//! input does (an error is a fine answer); a panic, an abort, a case that outlives its
//! deadline or memory that grows past the process's bound is a finding.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use nixweb_eval::{Evaluator, Limits, StdIO, Value};

use crate::gen;
use crate::rng::Rng;

/// The targets `scripts/fuzz` knows.
pub const TARGETS: &[&str] = &["parse", "eval", "json", "toml", "regex", "http", "outcome"];

/// Bounds of one case's evaluation.
pub fn limits() -> Limits {
    Limits {
        max_steps: Some(2_000_000),
        max_depth: Some(10_000),
        deadline: Some(Instant::now() + Duration::from_secs(2)),
        max_memory: Some(128 * 1024 * 1024),
        max_trace_bytes: Some(64 * 1024),
    }
}

/// A fresh input for `target`.
pub fn generate(target: &str, rng: &mut Rng) -> String {
    match target {
        "parse" => gen::source(rng),
        "eval" => gen::program(rng, false),
        "json" => gen::json(rng),
        "toml" => gen::toml(rng),
        "regex" => format!("{}\n{}", gen::regex(rng), gen::subject(rng)),
        "http" => gen::request(rng),
        "outcome" => gen::outcome(rng),
        other => panic!("no fuzz target {other:?}; targets: {}", TARGETS.join(", ")),
    }
}

/// Runs one input through `target`.
pub fn run(target: &str, input: &str) {
    match target {
        "parse" => parse(input),
        "eval" => eval(input),
        "json" => json(input),
        "toml" => toml(input),
        "regex" => regex(input),
        "http" => http(input),
        "outcome" => outcome(input),
        other => panic!("no fuzz target {other:?}"),
    }
}

fn evaluator() -> Evaluator {
    Evaluator::with_limits(Arc::new(StdIO), limits())
}

fn parse(input: &str) {
    let mut ev = evaluator();
    let _ = ev.parse(input, None, Path::new("/"));
}

/// Everything the engines do with a result: force it deeply, print it, convert it for
/// the host, render it as XML; then end the request.
fn eval(input: &str) {
    let mut ev = evaluator();
    if let Ok(v) = ev.eval_expr_str(input, Path::new("/")) {
        if ev.force_deep(&v).is_ok() {
            let _ = nixweb_eval::print::print_value_capped(&v, 1 << 20);
        }
        let _ = ev.to_json(&v);
        let _ = ev.to_json_string(&v);
        let mut ctx = Default::default();
        let _ = nixweb_eval::builtins::xml::to_xml(&mut ev, &v, false, true, &mut ctx);
    }
    let _ = ev.take_stderr();
    let _ = ev.end_request();
}

/// Calls the builtin `name` with string arguments.
fn call_builtin(name: &str, args: &[&str]) -> Option<Value> {
    let mut ev = evaluator();
    let mut f = ev.eval_expr_str(name, Path::new("/")).ok()?;
    for arg in args {
        f = ev.call_function(&f, Value::str(*arg)).ok()?;
    }
    ev.force_deep(&f).ok()?;
    let _ = ev.to_json(&f);
    Some(f)
}

fn json(input: &str) {
    let ev = evaluator();
    let Ok(v) = ev.from_json_str(input) else {
        return;
    };
    // toJSON of what fromJSON parsed is JSON fromJSON reads, and one round trip later the
    // text no longer changes (the first may: floats print with 6 digits, -0 becomes 0).
    let mut ev = evaluator();
    let Ok(first) = ev.to_json_string(&v) else {
        return;
    };
    let round_trip = |ev: &mut Evaluator, text: &str| {
        let v = ev
            .from_json_str(text)
            .unwrap_or_else(|e| panic!("toJSON wrote JSON fromJSON refuses: {text:?}: {}", e.msg));
        ev.to_json_string(&v)
            .expect("a value from JSON converts back")
    };
    let second = round_trip(&mut ev, &first);
    let third = round_trip(&mut ev, &second);
    assert_eq!(
        second, third,
        "JSON round trips do not settle for {input:?}"
    );
}

fn toml(input: &str) {
    let _ = call_builtin("builtins.fromTOML", &[input]);
}

fn regex(input: &str) {
    let (pattern, subject) = input.split_once('\n').unwrap_or((input, ""));
    let _ = call_builtin("builtins.match", &[pattern, subject]);
    let _ = call_builtin("builtins.split", &[pattern, subject]);
}

/// An app that reads every request field and answers with them, and with a status and
/// headers the request chooses.
const ECHO_APP: &str = r#"{
  echo.GET = req: { json = req; };
  echo.POST = req: { json = { inherit (req) body json form formAll query cookies; }; };
  echo.":x".GET = req: { status = 200; headers."x-echo" = req.params.x; body = req.params.x; };
  users.":id".GET = req: { json = { id = req.params.id; all = builtins.toJSON req.queryAll; }; };
  GET = req: builtins.toJSON req.headers;
}
"#;

struct Echo {
    runtime: tokio::runtime::Runtime,
    engine: nixweb_engine_embedded::EmbeddedEngine,
    _dir: tempfile::TempDir,
}

fn echo() -> &'static Echo {
    static ECHO: OnceLock<Echo> = OnceLock::new();
    ECHO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("default.nix");
        std::fs::write(&file, ECHO_APP).expect("the app file");
        let config = nixweb_engine_embedded::EmbeddedConfig {
            workers: 1,
            response_cache: false,
            ..Default::default()
        };
        let engine =
            nixweb_engine_embedded::EmbeddedEngine::new(&file, config).expect("the engine");
        Echo {
            runtime: tokio::runtime::Runtime::new().expect("a runtime"),
            engine,
            _dir: dir,
        }
    })
}

/// The request path: bytes → `Request` (or a 400) → request value → the router and a
/// handler → the response check.
fn http(input: &str) {
    use nixweb_app::engine::{Engine, RouterCall, RouterMode};
    let (head, body) = input.split_once("\n\n").unwrap_or((input, ""));
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, uri) = first.split_once(' ').unwrap_or((first, "/"));
    let (Ok(method), Ok(uri)) = (method.parse::<http::Method>(), uri.parse::<http::Uri>()) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            name.parse::<http::HeaderName>(),
            http::HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    let parts = nixweb_app::request::RequestParts {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: body.as_bytes(),
        remote_addr: None,
        id: "fuzz",
        time: 0,
    };
    let Ok(request) = nixweb_app::request::Request::new(&parts) else {
        return;
    };
    let echo = echo();
    let call = RouterCall {
        mode: RouterMode::Handle,
        request: Arc::new(request),
        timeout: Duration::from_secs(2),
        state: None,
        traces: Arc::new(nixweb_app::trace::Traces::unlogged()),
    };
    if let Ok(result) = echo.runtime.block_on(echo.engine.run_router(call)) {
        let _ = nixweb_app::outcome::parse_outcome(&result);
    }
}

fn outcome(input: &str) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(input) else {
        return;
    };
    let _ = nixweb_app::outcome::parse_outcome(&value);
    let _ = nixweb_app::outcome::parse_routes(&value);
}
