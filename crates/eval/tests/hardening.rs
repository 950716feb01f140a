//! Hostile programs: deep and cyclic values through every walk, floods of trace output,
//! memory, regexes and derivations that requests choose, deeply nested source text. Each
//! runs on a thread with an ordinary 2 MiB stack and must end in a value or a clean error,
//! never in an abort. This binary counts what threads hold, as the nixweb binary does, so
//! `Limits::max_memory` is measured here.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nixweb_eval::{ErrorKind, Evaluator, Limit, Limits, StdIO};

#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<std::alloc::System> =
    nixweb_eval::alloc::Counting(std::alloc::System);

fn limits() -> Limits {
    Limits {
        max_steps: Some(50_000_000),
        max_depth: Some(20_000),
        deadline: Some(Instant::now() + Duration::from_secs(60)),
        max_memory: Some(256 * 1024 * 1024),
        max_trace_bytes: Some(64 * 1024),
    }
}

/// Runs `f` with a fresh evaluator on a thread with a 2 MiB stack.
fn on_small_stack<R: Send + 'static>(
    limits: Limits,
    f: impl FnOnce(&mut Evaluator) -> R + Send + 'static,
) -> R {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let mut ev = Evaluator::with_limits(Arc::new(StdIO), limits);
            f(&mut ev)
        })
        .unwrap()
        .join()
        .expect("the evaluation thread survives")
}

/// Evaluates `expr` deeply and prints it, or returns the error's kind and message.
fn run(limits: Limits, expr: &str) -> Result<String, (ErrorKind, String)> {
    let expr = expr.to_owned();
    on_small_stack(limits, move |ev| {
        let v = ev
            .eval_expr_str(&expr, Path::new("/"))
            .and_then(|v| ev.force_deep(&v).map(|_| v))
            .map_err(|e| (e.kind, e.msg.clone()))?;
        Ok(nixweb_eval::print::print_value(&v))
    })
}

/// Converts `expr`'s value for the host, as the engines do.
fn to_host(limits: Limits, expr: &str) -> Result<serde_json::Value, (ErrorKind, String)> {
    let expr = expr.to_owned();
    on_small_stack(limits, move |ev| {
        let v = ev
            .eval_expr_str(&expr, Path::new("/"))
            .map_err(|e| (e.kind, e.msg.clone()))?;
        ev.to_json(&v).map_err(|e| (e.kind, e.msg.clone()))
    })
}

fn nested_list(depth: usize) -> String {
    format!("builtins.foldl' (acc: _: [ acc ]) 0 (builtins.genList (x: x) {depth})")
}

fn nested_set(depth: usize) -> String {
    format!("builtins.foldl' (acc: i: {{ a = acc; b = i; }}) 0 (builtins.genList (x: x) {depth})")
}

/// A builder that recurses rather than folds.
fn recursive_builder(depth: usize) -> String {
    format!("let f = n: if n == 0 then [] else [ (f (n - 1)) ]; in f {depth}")
}

fn assert_limit(result: Result<impl std::fmt::Debug, (ErrorKind, String)>, limit: Limit) {
    match result {
        Err((ErrorKind::Limit(l), msg)) => assert_eq!(l, limit, "{msg}"),
        other => panic!("expected the {limit:?} limit, got {other:?}"),
    }
}

#[test]
fn deep_values_within_the_depth_limit_pass_every_walk() {
    for depth in [700, 3_000, 9_000] {
        for value in [
            nested_list(depth),
            nested_set(depth),
            recursive_builder(depth),
        ] {
            // toXML indents each line by its depth: its output grows with the square of
            // the depth, and 9,000 levels take more memory than these limits allow.
            let xml_depth = depth.min(3_000);
            for walk in [
                format!("builtins.stringLength (builtins.toJSON ({value}))"),
                format!(
                    "builtins.stringLength (builtins.toXML ({}))",
                    value.replace(&depth.to_string(), &xml_depth.to_string())
                ),
                format!("let v = {value}; in v == v && !(v != ({value}))"),
                format!("builtins.deepSeq ({value}) true"),
                format!("[ ({value}) ] < [ ({value}) [ ] ]"),
            ] {
                let out = run(limits(), &walk);
                assert!(out.is_ok(), "depth {depth}: {walk}: {out:?}");
            }
            // Printed without recursion.
            let printed = run(limits(), &value).unwrap();
            assert!(printed.len() > depth, "depth {depth}");
        }
    }
}

#[test]
fn values_deeper_than_the_limit_fail_cleanly_in_every_walk() {
    for depth in [21_000, 60_000] {
        for value in [nested_list(depth), nested_set(depth)] {
            for walk in [
                format!("builtins.toJSON ({value})"),
                format!("let v = {value}; in v == ({value})"),
                format!("builtins.deepSeq ({value}) true"),
            ] {
                assert_limit(run(limits(), &walk), Limit::Depth);
            }
            let out = run(limits(), &format!("builtins.toXML ({value})"));
            assert!(
                matches!(
                    out,
                    Err((ErrorKind::Limit(Limit::Depth | Limit::Memory), _))
                ),
                "{out:?}"
            );
        }
        // A recursive builder runs into the limit while it builds.
        assert_limit(run(limits(), &recursive_builder(depth)), Limit::Depth);
    }
    // toString of nested lists.
    let value = nested_list(25_000).replace("0 (", "\"x\" (");
    assert_limit(run(limits(), &format!("toString ({value})")), Limit::Depth);
}

#[test]
fn results_for_the_host_nest_no_deeper_than_hosts_can_walk() {
    let max = nixweb_eval::builtins::json::MAX_RESULT_NESTING;
    assert!(to_host(limits(), &nested_list(max - 1)).is_ok());
    for depth in [max + 1, 4_000, 15_000] {
        assert_limit(to_host(limits(), &nested_list(depth)), Limit::ResultNesting);
        assert_limit(to_host(limits(), &nested_set(depth)), Limit::ResultNesting);
    }
}

#[test]
fn cyclic_values_end_in_a_limit_in_every_walk() {
    let cycles = [
        "let xs = { a = xs; }; in xs",
        "let xs = [ xs ]; in xs",
        "let xs = [ 1 { b = xs; } ]; in xs",
        "rec { a = { inherit b; }; b = [ a ]; }",
    ];
    for cycle in cycles {
        for walk in [
            format!("builtins.toJSON ({cycle})"),
            format!("builtins.toXML ({cycle})"),
            format!("let a = {cycle}; b = {cycle}; in a == b"),
        ] {
            // The depth limit, or the memory it takes to get there (toXML's indentation
            // grows with the square of the depth).
            let out = run(limits(), &walk);
            assert!(
                matches!(
                    out,
                    Err((ErrorKind::Limit(Limit::Depth | Limit::Memory), _))
                ),
                "{walk}: {out:?}"
            );
        }
        // deepSeq and printing know what they have seen.
        assert!(run(limits(), &format!("builtins.deepSeq ({cycle}) 1")).is_ok());
        assert!(
            run(limits(), cycle).unwrap().contains("«repeated»"),
            "{cycle}"
        );
        assert_limit(to_host(limits(), cycle), Limit::ResultNesting);
    }
    // `outPath` and `__toString` that lead back to themselves.
    assert_limit(
        run(limits(), "let x = { outPath = x; }; in \"${x}\""),
        Limit::Depth,
    );
}

#[test]
fn wide_cycles_are_stopped_by_steps_and_time() {
    let wide = "let x = { a = x; b = x; c = x; d = [ x x ]; }; in x";
    let few_steps = Limits {
        max_steps: Some(200_000),
        max_depth: Some(1_000_000),
        ..limits()
    };
    assert_limit(
        run(few_steps, &format!("builtins.toJSON ({wide})")),
        Limit::Steps,
    );
    let soon = Limits {
        max_steps: None,
        max_depth: Some(1_000_000),
        deadline: Some(Instant::now() + Duration::from_millis(300)),
        ..limits()
    };
    let started = Instant::now();
    let out = run(soon, &format!("let v = {wide}; in v == ({wide})"));
    assert_limit(out, Limit::Time);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn trace_output_is_kept_up_to_its_bound_and_the_rest_counted() {
    let expr = r#"
      let big = builtins.concatStringsSep "" (builtins.genList (x: "0123456789") 20000);
      in builtins.foldl' (acc: i: builtins.trace big (builtins.trace [ i big ] acc)) 0
           (builtins.genList (x: x) 200)"#;
    let (kept, dropped) = on_small_stack(limits(), move |ev| {
        ev.eval_expr_str(expr, Path::new("/")).unwrap();
        ev.take_stderr()
    });
    assert_eq!(kept.len(), 64 * 1024);
    assert!(kept.starts_with("trace: 0123456789"));
    // Every string message counts whole; printed values at least in part.
    assert!(dropped > 199 * 200_000, "{dropped}");
}

#[test]
fn memory_held_is_bounded() {
    let small = Limits {
        max_memory: Some(32 * 1024 * 1024),
        ..limits()
    };
    let cases = [
        // Doubling a string.
        "let f = s: f (s + s); in f \"x\"",
        // Many small strings, each too small to be checked on its own.
        "builtins.genList (i: \"${toString i}-padding-padding-padding-padding\") 2000000",
        // Lists of lists, attribute sets built by builtins.
        "builtins.genList (i: builtins.genList (j: j) 1000) 1000",
        "builtins.listToAttrs (builtins.genList (i: { name = toString i; value = i; }) 1000000)",
        "builtins.genList (i: { a = i; } // { b = i; c = i; }) 1000000",
        // Strings built by builtins.
        "builtins.concatStringsSep (builtins.concatStringsSep \"\" (builtins.genList (x: \"ab\") 100000)) (builtins.genList (x: \"c\") 1000)",
        "builtins.replaceStrings [ \"a\" ] [ (builtins.concatStringsSep \"\" (builtins.genList (x: \"bbbbbbbbbb\") 10000)) ] (builtins.concatStringsSep \"\" (builtins.genList (x: \"a\") 10000))",
        "let s = builtins.concatStringsSep \"\" (builtins.genList (x: \"ab\") 10000); in builtins.toJSON (builtins.genList (i: s) 10000)",
        "builtins.toXML (builtins.genList (i: builtins.genList (j: j) 100) 100000)",
        "builtins.genList (x: x) 100000000",
    ];
    for expr in cases {
        let small = small.clone();
        let out = run(
            small,
            &format!("builtins.seq (builtins.deepSeq ({expr}) null) 1"),
        );
        assert!(
            matches!(out, Err((ErrorKind::Limit(Limit::Memory), _))),
            "{expr}: {out:?}"
        );
    }
    // The same programs at a smaller size fit.
    assert!(run(
        small,
        "builtins.length (builtins.genList (i: \"${toString i}\") 1000)"
    )
    .is_ok());
}

#[test]
fn regexes_from_requests_are_bounded() {
    // A huge pattern is refused, not compiled into gigabytes.
    let huge = r#"builtins.match "(((a{1,1000}){1,1000}){1,1000})" "aaa""#;
    let out = run(limits(), huge).unwrap_err();
    assert!(out.1.contains("too large"), "{out:?}");
    // Distinct patterns: the cache stays bounded.
    let kept = on_small_stack(limits(), |ev| {
        for i in 0..500 {
            let expr = format!(r#"builtins.match "a{{{i}}}b|x{i}" "x{i}""#);
            ev.eval_expr_str(&expr, Path::new("/")).unwrap();
        }
        ev.regex_cache.len()
    });
    assert!(kept <= 32, "{kept} regexes kept");
}

#[test]
fn derivations_named_by_requests_make_the_evaluator_ask_to_be_replaced() {
    let fits = on_small_stack(limits(), |ev| {
        let mut fits = Vec::new();
        for request in 0..30 {
            let expr = format!(
                r#"builtins.deepSeq (builtins.genList (i: (derivation {{ name = "r{request}-${{toString i}}"; builder = "/b"; system = "x"; }}).drvPath) 1000) 1"#
            );
            ev.eval_expr_str(&expr, Path::new("/")).unwrap();
            fits.push(ev.end_request());
        }
        fits
    });
    assert!(fits[..5].iter().all(|f| *f), "{fits:?}");
    assert!(!fits[29], "{fits:?}");
}

#[test]
fn dropping_a_deep_value_does_not_recurse() {
    let unlimited = Limits {
        max_depth: None,
        max_memory: Some(512 * 1024 * 1024),
        ..limits()
    };
    // Lists of one element and sets are held in cells; a longer list's scalars are
    // stored inline, beside the cell of the list nested in it.
    let genlist = "(builtins.genList (x: x) 1000000)";
    for (_, value) in [
        (300_000, nested_set(300_000)),
        (300_000, nested_list(300_000)),
        (1_000_000, nested_list(1_000_000)),
        (
            1_000_000,
            format!("builtins.foldl' (acc: x: [ acc ]) [ ] {genlist}"),
        ),
        (
            1_000_000,
            format!("builtins.foldl' (acc: x: {{ a = acc; }}) {{ }} {genlist}"),
        ),
        (
            1_000_000,
            format!("builtins.foldl' (acc: x: [ x acc \"s\" 1 ]) [ ] {genlist}"),
        ),
        (
            1_000_000,
            format!("builtins.foldl' (acc: x: {{ a = acc; b = x; c = \"s\"; }}) {{ }} {genlist}"),
        ),
    ] {
        {
            let out = run(unlimited.clone(), &format!("builtins.length [ ({value}) ]"));
            assert_eq!(out.unwrap(), "1");
            // Held in a thunk the evaluator caches, then dropped with the evaluator.
            on_small_stack(unlimited.clone(), move |ev| {
                let v = ev.eval_expr_str(&value, Path::new("/")).unwrap();
                assert!(matches!(
                    v,
                    nixweb_eval::Value::List(_) | nixweb_eval::Value::Attrs(_)
                ));
            });
        }
    }
}

#[test]
fn cycles_that_outlive_their_scope_are_collected() {
    // Each program leaves a cycle through the cell of a `let` binding after the `let`
    // scope itself is gone (a fixed point with an attribute never forced, a set holding
    // itself), through forced bindings copied into new sets, lists and scopes. A
    // long-lived evaluator that collects after every call must hold no more after 400
    // calls than after 40.
    let programs = [
        "k: let fix = f: let x = f x; in x; in (fix (self: { a = k; b = self.a; c = self.b; })).a",
        "k: let s = { a = s; b = k; }; in s.b",
        "k: let s = { x = k; n = \"s${toString k}\"; y = { inner = s; copy = s.n; }; }; in builtins.seq s.y.copy (builtins.seq s.y.inner.x s.y.inner.n)",
        "k: let l = [ { a = l; b = k; } k \"t\" ]; in builtins.seq (builtins.elemAt (builtins.elemAt l 0).a 0).b (builtins.length l)",
        "k: let n = k; t = \"x\"; in builtins.seq n (builtins.seq t (let r = { a = n; b = t; self = r; }; in r.self.a))",
        "k: let f = { a, b ? a, ... }@args: { inherit a b; me = f args; }; in (f { a = k; }).me.b",
        "k: let s = builtins.seq k { v = k; l = [ s.v s.v s.v ]; f = x: s.v + x; }; in s.f (builtins.elemAt s.l 2)",
    ];
    for program in programs {
        let held = on_small_stack(limits(), move |ev| {
            let f = ev.eval_expr_str(program, Path::new("/")).unwrap();
            let mut held = Vec::new();
            for k in 0..400 {
                ev.call_function(&f, nixweb_eval::Value::Int(k)).unwrap();
                ev.collect_garbage(&[&f]);
                if k == 39 || k == 399 {
                    held.push(nixweb_eval::alloc::thread_held().unwrap());
                }
            }
            held
        });
        assert!(
            held[1] - held[0] < 16 * 1024,
            "{program}: held {} bytes after 40 calls, {} after 400",
            held[0],
            held[1]
        );
    }
}

#[test]
fn deep_json_input_fails_cleanly() {
    for depth in [30_000, 400_000] {
        let text = "[".repeat(depth) + &"]".repeat(depth);
        let expr = format!("builtins.fromJSON \"{text}\"");
        assert_limit(run(limits(), &expr), Limit::Depth);
        let shallow = "[".repeat(5_000) + &"]".repeat(5_000);
        assert!(run(
            limits(),
            &format!("builtins.length (builtins.fromJSON \"{shallow}\")")
        )
        .is_ok());
    }
}

#[test]
fn deeply_nested_source_is_a_parse_error_not_a_crash() {
    let n = 100_000;
    let sources = [
        "(".repeat(n) + "1" + &")".repeat(n),
        "[".repeat(n) + &"]".repeat(n),
        "{ a = ".repeat(n) + "1" + &"; }".repeat(n),
        "let a = 1; in ".repeat(n) + "a",
        "\"${".repeat(n) + "1" + &"}\"".repeat(n),
        "x: ".repeat(n) + "1",
        "- ".repeat(n) + "1",
        "!".repeat(n) + "true",
        "[] ++ ".repeat(n) + "[]",
        "{} // ".repeat(n) + "{}",
        "true -> ".repeat(n) + "true",
        "if true then ".repeat(n) + "1" + &" else 2".repeat(n),
        "a.".repeat(n) + "b",
        "1 + ".repeat(n) + "1",
        "(".repeat(n),
    ];
    for source in sources {
        let short: String = source.chars().take(20).collect();
        let out = run(limits(), &source);
        match out {
            Err((ErrorKind::Parse | ErrorKind::Eval | ErrorKind::Limit(_), _)) | Ok(_) => {}
            other => panic!("{short}…: {other:?}"),
        }
    }
}

#[test]
fn a_dropped_evaluator_gives_back_what_it_held() {
    // Servers drop an evaluator after every request that fetched: what one keeps after it
    // is gone would grow the process by that much per such request.
    let held_after = |n: usize| {
        std::thread::spawn(move || {
            for _ in 0..n {
                let mut ev = Evaluator::with_limits(Arc::new(StdIO), limits());
                ev.eval_expr_str(
                    "builtins.length (builtins.attrNames builtins)",
                    Path::new("/"),
                )
                .unwrap();
                drop(ev);
            }
            nixweb_eval::alloc::thread_held().expect("the counting allocator is installed")
        })
        .join()
        .unwrap()
    };
    let (few, many) = (held_after(5), held_after(200));
    // Each evaluator held tens of kilobytes; 195 more may leave a few bytes of caches.
    assert!(
        many - few < 64 * 1024,
        "200 dropped evaluators held {many} bytes, 5 held {few}"
    );
}

#[test]
fn chains_of_variables_count_their_depth() {
    // With `__overrides` a rec set keeps `a = b;` a thunk of its own: forcing `a0` forces
    // every link in turn, one level each.
    let chain = |n: usize| {
        let links: String = (0..n).map(|i| format!("a{i} = a{};", i + 1)).collect();
        format!("(rec {{ __overrides = {{}}; {links} a{n} = 1; }}).a0")
    };
    assert_eq!(run(limits(), &chain(5_000)).unwrap(), "1");
    assert_limit(run(limits(), &chain(100_000)), Limit::Depth);
}
