//! The embedding API: limits, the Session (Send) wrapper, host builtins, JSON conversion,
//! and output formats recorded from nix-instantiate 2.8.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use nixweb_eval::{
    instantiate, ArgValue, ErrorKind, Evaluator, InstantiateOptions, Limit, Limits, OutputFormat,
    Session, Source, StdIO,
};

fn eval_with(limits: Limits, expr: &str) -> Result<String, (ErrorKind, String)> {
    let mut ev = Evaluator::with_limits(Arc::new(StdIO), limits);
    let v = ev
        .eval_expr_str(expr, Path::new("/"))
        .and_then(|v| ev.force_deep(&v).map(|_| v))
        .map_err(|e| (e.kind, e.msg.clone()))?;
    Ok(nixweb_eval::print::print_value(&v))
}

const LOOP: &str = "let f = n: f (n + 1); in f 0";
const DEEP: &str = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 20000";

#[test]
fn step_limit_stops_an_endless_loop() {
    let limits = Limits {
        max_steps: Some(10_000),
        ..Limits::default()
    };
    let (kind, msg) = eval_with(limits, LOOP).unwrap_err();
    assert_eq!(kind, ErrorKind::Limit(Limit::Steps));
    assert!(msg.contains("step limit"), "{msg}");
}

#[test]
fn limits_are_not_catchable_by_try_eval() {
    let limits = Limits {
        max_steps: Some(10_000),
        ..Limits::default()
    };
    let expr = format!("builtins.tryEval ({LOOP})");
    let (kind, _) = eval_with(limits, &expr).unwrap_err();
    assert_eq!(kind, ErrorKind::Limit(Limit::Steps));
}

#[test]
fn deadline_stops_an_endless_loop() {
    let limits = Limits {
        deadline: Some(Instant::now()),
        ..Limits::default()
    };
    let (kind, msg) = eval_with(limits, LOOP).unwrap_err();
    assert_eq!(kind, ErrorKind::Limit(Limit::Time));
    assert!(msg.contains("time limit"), "{msg}");
}

#[test]
fn depth_limit_is_a_clean_error() {
    let limits = Limits {
        max_depth: Some(500),
        ..Limits::default()
    };
    let (kind, msg) = eval_with(limits, DEEP).unwrap_err();
    assert_eq!(kind, ErrorKind::Limit(Limit::Depth));
    assert!(msg.contains("depth"), "{msg}");
}

#[test]
fn deep_recursion_without_limits_does_not_overflow_the_stack() {
    assert_eq!(eval_with(Limits::default(), DEEP).unwrap(), "20000");
}

#[test]
fn one_large_allocation_is_checked_against_the_memory_budget() {
    // This test binary does not count what threads hold (alloc::Counting): the budget
    // still refuses a single list that would not fit.
    let limits = Limits {
        max_memory: Some(100_000),
        ..Limits::default()
    };
    let (kind, _) = eval_with(limits, "builtins.genList (x: x) 100000").unwrap_err();
    assert_eq!(kind, ErrorKind::Limit(Limit::Memory));
    assert_eq!(
        eval_with(
            Limits::default(),
            "builtins.length (builtins.genList (x: x) 100000)"
        )
        .unwrap(),
        "100000"
    );
}

#[test]
fn infinite_recursion_is_detected() {
    let (kind, msg) = eval_with(Limits::default(), "let x = x; in x").unwrap_err();
    assert_eq!(kind, ErrorKind::InfiniteRecursion);
    assert_eq!(msg, "infinite recursion encountered");
}

#[test]
fn evaluator_calls_functions_and_converts_json() {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let f = ev
        .eval_expr_str(
            "req: { status = 200; body = \"hi ${req.name}\"; n = req.n * 2; }",
            Path::new("/"),
        )
        .unwrap();
    let arg = ev.from_json(&serde_json::json!({ "name": "bob", "n": 21 }));
    let out = ev.call_function(&f, arg).unwrap();
    let json = ev.to_json(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "status": 200, "body": "hi bob", "n": 42 })
    );
}

#[test]
fn host_builtins_are_callable() {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    ev.register_builtin("double", 1, true, |_, args| match &args[0] {
        nixweb_eval::Value::Int(i) => Ok(nixweb_eval::Value::Int(i * 2)),
        _ => Err("double: expected an integer".into()),
    });
    let v = ev
        .eval_expr_str("[ (double 21) (builtins.double 1) ]", Path::new("/"))
        .unwrap();
    ev.force_deep(&v).unwrap();
    assert_eq!(nixweb_eval::print::print_value(&v), "[ 42 2 ]");
    let e = ev
        .eval_expr_str("double \"x\"", Path::new("/"))
        .unwrap_err();
    assert_eq!(e.msg, "double: expected an integer");
}

#[test]
fn session_is_send_and_works_across_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
    let mut s = Session::new(Arc::new(StdIO), Limits::default());
    s.register_builtin("greet", 1, false, |args| {
        Ok(serde_json::json!(format!(
            "hello {}",
            args[0].as_str().unwrap_or("?")
        )))
    });
    let app = s
        .eval_expr(
            "{ handle = r: { msg = builtins.greet r.who; }; }",
            Path::new("/"),
        )
        .unwrap();
    let handler = s.select(app, "handle").unwrap();
    let s = std::thread::spawn(move || {
        let out = s
            .call_json(handler, &serde_json::json!({ "who": "world" }))
            .unwrap();
        assert_eq!(
            s.to_json(out).unwrap(),
            serde_json::json!({ "msg": "hello world" })
        );
        s
    })
    .join()
    .unwrap();
    assert_eq!(s.type_name(handler).unwrap(), "lambda");
}

#[test]
fn session_errors_are_formatted_like_nix() {
    let mut s = Session::new(Arc::new(StdIO), Limits::default());
    let e = s.eval_expr("{ a = 1; }.b", Path::new("/")).unwrap_err();
    // Recorded from nix-instantiate 2.8.
    assert_eq!(
        e.message,
        "error: attribute 'b' missing\n\n       at «string»:1:1:\n\n            1| { a = 1; }.b\n             | ^\n       Did you mean a?\n"
    );
}

fn run(source: Source, format: OutputFormat, strict: bool) -> (String, String, i32) {
    let out = instantiate(
        &InstantiateOptions {
            strict,
            format,
            args: vec![
                ("a".into(), ArgValue::Expr("1 + 1".into())),
                ("s".into(), ArgValue::Str("str".into())),
            ],
            ..InstantiateOptions::new(source)
        },
        Arc::new(StdIO),
    );
    (out.stdout, out.stderr, out.exit_code)
}

fn expr(text: &str) -> Source {
    Source::Expr {
        text: text.into(),
        base_dir: PathBuf::from("/"),
    }
}

#[test]
fn json_output_has_no_trailing_newline() {
    let (out, _, code) = run(
        expr(r#"{ a = 1; b = [ true null "s\n" 2.5 ]; c = { d = "e"; }; }"#),
        OutputFormat::Json,
        true,
    );
    assert_eq!(code, 0);
    assert_eq!(out, r#"{"a":1,"b":[true,null,"s\n",2.5],"c":{"d":"e"}}"#);
}

#[test]
fn auto_args_are_passed_to_functions() {
    let (out, _, _) = run(expr("{ a, s, b ? 3 }: [ a s b ]"), OutputFormat::Nix, true);
    assert_eq!(out, "[ 2 \"str\" 3 ]\n");
}

#[test]
fn xml_output_with_locations() {
    let dir = std::env::temp_dir().join(format!("nixweb-eval-xml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("xml.nix");
    std::fs::write(
        &file,
        "{ a = 1; b = [ true null \"s\" 2.5 ]; c = { d = x: x; }; }",
    )
    .unwrap();
    let (out, err, code) = run(
        Source::File(file.clone()),
        OutputFormat::Xml { location: true },
        true,
    );
    assert_eq!(code, 0, "{err}");
    // Recorded from nix-instantiate 2.8 (--eval --xml --strict), path substituted.
    let expected = r#"<?xml version='1.0' encoding='utf-8'?>
<expr>
  <attrs>
    <attr column="3" line="1" name="a" path="FILE">
      <int value="1" />
    </attr>
    <attr column="10" line="1" name="b" path="FILE">
      <list>
        <bool value="true" />
        <null />
        <string value="s" />
        <float value="2.5" />
      </list>
    </attr>
    <attr column="37" line="1" name="c" path="FILE">
      <attrs>
        <attr column="43" line="1" name="d" path="FILE">
          <function column="47" line="1" path="FILE">
            <varpat name="x" />
          </function>
        </attr>
      </attrs>
    </attr>
  </attrs>
</expr>
"#
    .replace("FILE", &file.display().to_string());
    assert_eq!(out, expected);
    let (lazy, _, _) = run(
        Source::File(file),
        OutputFormat::Xml { location: true },
        false,
    );
    assert!(lazy.contains("<unevaluated />"), "{lazy}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn parse_errors_are_reported_like_nix() {
    // Recorded from nix-instantiate 2.8.
    let cases = [
        (
            "{ a = 1; a = 2; }",
            "error: attribute 'a' already defined at (string):1:3\n\n       at «string»:1:10:\n\n            1| { a = 1; a = 2; }\n             |          ^\n",
        ),
        (
            "let f = { x, x }: x; in f",
            "error: duplicate formal function argument 'x'\n\n       at «string»:1:14:\n\n            1| let f = { x, x }: x; in f\n             |              ^\n",
        ),
        (
            "undefinedVar",
            "error: undefined variable 'undefinedVar'\n\n       at «string»:1:1:\n\n            1| undefinedVar\n             | ^\n",
        ),
        (
            "{ a.b = 1; a = 2; }",
            "error: attribute 'a' already defined at (string):1:3\n\n       at «string»:1:12:\n\n            1| { a.b = 1; a = 2; }\n             |            ^\n",
        ),
    ];
    for (text, want) in cases {
        let (_, err, code) = run(expr(text), OutputFormat::Nix, false);
        assert_eq!(code, 1);
        assert_eq!(err, want, "{text}");
    }
}

#[test]
fn dropping_deeply_nested_values_does_not_overflow_the_stack() {
    let nested =
        "builtins.length (builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (x: x) 200000))";
    assert_eq!(eval_with(Limits::default(), nested).unwrap(), "1");
    let lazy_chain =
        "let f = n: acc: if n == 0 then 0 else f (n - 1) { inherit acc; }; in f 200000 { }";
    assert_eq!(eval_with(Limits::default(), lazy_chain).unwrap(), "0");
}

/// What Nix 2.8 (`nix-instantiate --eval --strict`) answers where a value's identity
/// shows: `==` on lists and sets takes an element that is the same value cell as equal
/// without comparing (functions, a NaN), and printing marks a list of one or two elements
/// seen again through the same cell as «repeated». Values stored inline (forced bindings
/// copied into lists, sets and scopes) must keep these answers, forced or not.
#[test]
fn values_keep_the_identity_nix_2_8_compares_and_prints() {
    let nan = "i = 1.0e308 * 10.0; x = i - i;";
    let cases = [
        ("let f = y: y; in [ f ] == [ f ]", "true"),
        ("let f = y: y; g = (y: y) f; in [ g ] == [ f ]", "false"),
        ("let f = y: y; in builtins.seq f ([ f ] == [ f ])", "true"),
        ("let f = y: y; in builtins.seq f (let g = f; in [ g ] == [ f ])", "true"),
        ("let f = y: y; in builtins.seq f (({ a, b }: [ a ] == [ b ]) { a = f; b = f; })", "true"),
        ("let f = y: y; s = builtins.seq f { a = f; }; in ({ a }: [ a ] == [ f ]) s", "true"),
        ("let f = y: y; in builtins.seq f ([ (rec { g = f; h = g; }).h ] == [ f ])", "false"),
        ("let f = y: y; l = builtins.map (x: f) [ 1 2 ]; in [ (builtins.elemAt l 0) ] == [ (builtins.elemAt l 1) ]", "false"),
        ("let f = y: y; in builtins.elem f [ f ]", "true"),
        (&format!("let {nan} in x == x"), "false"),
        (&format!("let {nan} in [ x ] == [ x ]"), "true"),
        (&format!("let {nan} in builtins.seq x ([ x ] == [ x ])"), "true"),
        (&format!("let {nan} in builtins.seq x ((y: [ y ] == [ x ]) x)"), "true"),
        (&format!("let {nan} in builtins.seq x ({{ a = x; }} == {{ a = x; }})"), "true"),
        (&format!("let {nan} in builtins.seq x (let y = x; in [ y ] == [ x ])"), "true"),
        ("let x = [ 1 2 ]; in builtins.seq x [ x x ]", "[ [ 1 2 ] «repeated» ]"),
        ("let x = [ 1 2 ]; in builtins.seq x ((z: [ z x ]) x)", "[ [ 1 2 ] «repeated» ]"),
        ("let x = [ 1 2 ]; in builtins.seq x (let y = x; in [ y x ])", "[ [ 1 2 ] «repeated» ]"),
        ("let x = [ 1 2 ]; y = builtins.seq x { a = x; b = x; }; in y", "{ a = [ 1 2 ]; b = «repeated»; }"),
        ("let x = [ 1 2 3 ]; in builtins.seq x ((z: [ z x ]) x)", "[ [ 1 2 3 ] «repeated» ]"),
        ("let s = \"a\"; in builtins.seq s ((z: [ z s ]) s)", "[ \"a\" \"a\" ]"),
        ("rec { x = y; y = 123; }", "{ x = 123; y = 123; }"),
        // A default that is a variable from outside shares its value, as a binding does.
        ("let x = y: y; f = { a ? x }: [ a ]; in f { } == [ x ]", "true"),
        ("let x = [ 1 2 ]; f = { a ? x }: [ a x ]; in builtins.seq x (f { })", "[ [ 1 2 ] «repeated» ]"),
        ("let n = 3; in ({ a ? n, b ? true, c ? null }: [ a b c ]) { }", "[ 3 true null ]"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval_with(Limits::default(), expr).unwrap(), want, "{expr}");
    }
}

#[test]
fn garbage_collection_frees_cycles_but_keeps_roots() {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let app = ev
        .eval_expr_str(
            "let helper = x: x + 1; in { handle = n: let loop = i: if i == 0 then helper n else loop (i - 1); knot = { f = x: x; }; in builtins.seq knot (loop 3); }",
            Path::new("/"),
        )
        .unwrap();
    let handle = ev.get_attr(&app, "handle").unwrap().unwrap();
    let live = |ev: &Evaluator| {
        ev.cyclic_envs
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    };
    for round in 0..3 {
        for i in 0..200 {
            let r = ev
                .call_function(&handle, nixweb_eval::Value::Int(i))
                .unwrap();
            assert!(matches!(r, nixweb_eval::Value::Int(n) if n == i + 1));
        }
        // Every call leaves its `let` scope in a cycle through a value (`knot`, a set
        // holding a function of the scope) until collected. (A scope only its own
        // bindings hold, as `loop`'s alone would be, goes by itself: tests/scopes.rs.)
        assert!(live(&ev) >= 200, "round {round}: {}", live(&ev));
        let freed = ev.collect_garbage(&[&app]);
        assert!(freed >= 200, "round {round}: freed {freed}");
        assert!(live(&ev) <= 2, "round {round}: {} still alive", live(&ev));
    }
    // The app still works after collection.
    let r = ev
        .call_function(&handle, nixweb_eval::Value::Int(41))
        .unwrap();
    assert!(matches!(r, nixweb_eval::Value::Int(42)));
}

#[test]
fn garbage_collection_keeps_what_collected_scopes_share_with_roots() {
    // A collected scope's slots can be the very thunks a kept value holds: a `let` that
    // renames a variable, and a formal bound to an attribute of the argument, share the
    // thunk rather than copy it. Emptying those would break the kept value.
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let app = ev
        .eval_expr_str(
            "let config = { port = 8000 + 80; }; g = { a ? 1, b }: a; in {
               inherit config;
               renamed = n: let c = config; d = c; again = i: d; knot = { f = x: x; }; in builtins.seq knot ((again 0).port + n);
               formals = n: ({ config, extra ? n + 0, unused ? n + 0, knot ? { f = x: x; } }: builtins.seq knot (config.port + extra)) { inherit config; };
               args = n: ({ a, b, c ? n + 0, unused ? n + 0, knot ? { f = x: x; } }: builtins.seq knot ((if b then 0 else 8080) + c)) (builtins.functionArgs g);
               gArgs = builtins.functionArgs g;
             }",
            Path::new("/"),
        )
        .unwrap();
    // "args" first: `gArgs` is not yet forced (so reached by no root) when it runs.
    for name in ["args", "renamed", "formals"] {
        let f = ev.get_attr(&app, name).unwrap().unwrap();
        for round in 0..2 {
            let r = ev.call_function(&f, nixweb_eval::Value::Int(1)).unwrap();
            assert!(matches!(r, nixweb_eval::Value::Int(8081)), "{name} {round}");
            let freed = ev.collect_garbage(&[&app]);
            assert!(freed >= 1, "{name} {round}: freed {freed}");
            let config = ev.get_attr(&app, "config").unwrap().unwrap();
            let port = ev.get_attr(&config, "port").unwrap();
            assert!(
                matches!(port, Some(nixweb_eval::Value::Int(8080))),
                "{name} {round}: {port:?}"
            );
            let g_args = ev.get_attr(&app, "gArgs").unwrap().unwrap();
            let b = ev.get_attr(&g_args, "b").unwrap();
            assert!(
                matches!(b, Some(nixweb_eval::Value::Bool(false))),
                "{name} {round}: {b:?}"
            );
        }
    }
}

#[test]
fn literals_keep_their_values_through_collections_and_overrides() {
    // A literal's thunk is made once and shared by every use; nothing may write into it:
    // not `__overrides` replacing the binding, not a collection emptying a scope that
    // refers to itself (`self`, a function kept in its own scope).
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let app = ev
        .eval_expr_str(
            r#"{
               over = b: (rec { __overrides = if b then { x = 2; } else { }; x = 1; y = x; }).y;
               lets = n: let i = 7; s = "s"; p = /p; f = 0.5; self = x: [ self i s p f ]; in
                 [ i s p f n (builtins.length (self 0)) ];
               defaults = { i ? 7, s ? "s", p ? /p, f ? 0.5, n }: [ i s p f n ];
               plain = n: let a = 1; b = "b"; in a + n;
             }"#,
            Path::new("/"),
        )
        .unwrap();
    let want = |n: i64| format!(r#"[7,"s","/p",0.5,{n},5]"#);
    let call = |ev: &mut Evaluator, name: &str, arg: nixweb_eval::Value| {
        let f = ev.get_attr(&app, name).unwrap().unwrap();
        let r = ev.call_function(&f, arg).unwrap();
        ev.to_json(&r).unwrap().to_string()
    };
    for round in 0..3 {
        let over = |ev: &mut Evaluator, b| call(ev, "over", nixweb_eval::Value::Bool(b));
        assert_eq!(over(&mut ev, true), "2", "round {round}");
        assert_eq!(over(&mut ev, false), "1", "round {round}");
        assert_eq!(
            call(&mut ev, "lets", nixweb_eval::Value::Int(round)),
            want(round)
        );
        let args = ev
            .eval_expr_str(&format!("{{ n = {round}; }}"), Path::new("/"))
            .unwrap();
        let defaults = call(&mut ev, "defaults", args);
        assert_eq!(
            format!("{},5]", defaults.trim_end_matches(']')),
            want(round)
        );
        ev.collect_garbage(&[&app]);
    }
    // A scope whose bindings are all literals can refer to nothing, itself included: it
    // is not remembered for the cycle collector.
    let live = |ev: &Evaluator| {
        ev.cyclic_envs
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    };
    let before = live(&ev);
    for n in 0..100 {
        assert_eq!(
            call(&mut ev, "plain", nixweb_eval::Value::Int(n)),
            (n + 1).to_string()
        );
    }
    assert_eq!(live(&ev), before);
}

/// An `EvalIO` that says when it goes away (as a host's that cleans up after itself).
struct DropFlag(Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl nixweb_eval::EvalIO for DropFlag {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        StdIO.read_file(path)
    }
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, nixweb_eval::io::FileType)>> {
        StdIO.read_dir(path)
    }
    fn file_type(&self, path: &Path) -> Option<nixweb_eval::io::FileType> {
        StdIO.file_type(path)
    }
    fn get_env(&self, name: &str) -> Option<String> {
        StdIO.get_env(name)
    }
}

#[test]
fn instantiate_then_exit_prints_the_same_and_still_drops_the_io() {
    let programs = [
        (
            "let f = { a, b ? a }: [ a b ]; r = rec { x = f { a = 1; }; y = x; }; in r",
            true,
        ),
        ("builtins.throw \"no\"", false),
        ("x: x", false),
    ];
    for (text, strict) in programs {
        let opts = || InstantiateOptions {
            strict,
            ..InstantiateOptions::new(Source::Expr {
                text: text.into(),
                base_dir: PathBuf::from("/"),
            })
        };
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let freed = instantiate(&opts(), Arc::new(StdIO));
        let left = nixweb_eval::instantiate_then_exit(&opts(), Arc::new(DropFlag(dropped.clone())));
        assert_eq!(
            (left.stdout, left.stderr, left.exit_code),
            (freed.stdout, freed.stderr, freed.exit_code),
            "{text}"
        );
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "{text}");
    }
}

#[test]
fn show_trace_output_like_nix() {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let e = ev
        .eval_expr_str("let f = x: x.a; in f {}", Path::new("/"))
        .unwrap_err();
    // Recorded from nix-instantiate 2.8 --show-trace.
    let want = "error: attribute 'a' missing

       at «string»:1:12:

            1| let f = x: x.a; in f {}
             |            ^

       … while evaluating 'f'

       at «string»:1:9:

            1| let f = x: x.a; in f {}
             |         ^

       … from call site

       at «string»:1:20:

            1| let f = x: x.a; in f {}
             |                    ^
";
    assert_eq!(
        nixweb_eval::error::format_error(&e, &ev.sources, true),
        want
    );
    // Without --show-trace, Nix gives no hint for call frames alone.
    assert_eq!(
        ev.format_error(&e),
        "error: attribute 'a' missing\n\n       at «string»:1:12:\n\n            1| let f = x: x.a; in f {}\n             |            ^\n"
    );
}

#[test]
fn deeply_nested_sources_parse_evaluate_and_drop() {
    let chain = vec!["1"; 1_500].join(" + ");
    assert_eq!(eval_with(Limits::default(), &chain).unwrap(), "1500");
    // Longer chains are refused before parsing: rowan's node cache takes time with the
    // square of a tree's depth (Nix would accept this one).
    let chain = vec!["1"; 50_000].join(" + ");
    let (kind, msg) = eval_with(Limits::default(), &chain).unwrap_err();
    assert_eq!(kind, ErrorKind::Parse, "{msg}");
    assert!(msg.contains("nested more than 2000 levels"), "{msg}");
    let lets = (1..5000)
        .map(|i| format!("x{i} = x{} + 1;", i - 1))
        .collect::<Vec<_>>()
        .join(" ");
    let lets = format!("let x0 = 0; {lets} in x4999");
    assert_eq!(eval_with(Limits::default(), &lets).unwrap(), "4999");
}

#[test]
fn deep_values_are_compared_coerced_and_serialised_without_overflow() {
    let expr = "let l = builtins.foldl' (acc: x: [acc]) [] (builtins.genList (x: x) 100000);
        s = builtins.foldl' (acc: x: { a = acc; }) {} (builtins.genList (x: x) 100000);
      in [ (builtins.stringLength (toString l)) (l < l) (l == l) (s == s)
           (builtins.stringLength (builtins.toJSON s)) ]";
    assert_eq!(
        eval_with(Limits::default(), expr).unwrap(),
        "[ 0 false true true 600002 ]"
    );
}

#[test]
fn json_text_conversions_agree_with_the_serde_ones() {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let docs = [
        r#"null"#,
        r#"[true, false, 0, -7, 9007199254740993, 1.5, -2.5e-3, 1e300, "", "a\"b\\c\n\t\u00e9\u0001"]"#,
        r#"{"b": {"y": [1, {"z": null}], "x": "é"}, "a": [], "": {}, "é": 1, "a b": -0.0}"#,
        r#"[{"id": 1, "name": "user 1", "tags": ["a", "b"]}, {"id": 2, "name": "user 2", "tags": []}]"#,
        r#"{"method": "GET", "path": "/users/1", "segments": ["users", "1"], "query": {"page": "2"}}"#,
    ];
    for text in docs {
        let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
        let via_serde = ev.from_json(&parsed);
        let via_text = ev.from_json_str(text).unwrap();
        let print = |v: &nixweb_eval::Value| nixweb_eval::print::print_value(v);
        ev.force_deep(&via_text).unwrap();
        ev.force_deep(&via_serde).unwrap();
        assert_eq!(print(&via_serde), print(&via_text), "{text}");
        // And back: the text is what the serde value serialises to.
        let json = ev.to_json(&via_serde).unwrap();
        let text_out = ev.to_json_string(&via_text).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&text_out).unwrap();
        assert_eq!(json, reparsed, "{text}");
        assert_eq!(json, parsed, "{text}");
    }
    // Values that are not plain data.
    let v = ev
        .eval_expr_str(
            r#"{ p = /tmp/x; d = { outPath = "out"; }; s = { __toString = s: "str"; }; f = 1.0 / 3; }"#,
            Path::new("/"),
        )
        .unwrap();
    let text = ev.to_json_string(&v).unwrap();
    assert_eq!(text, r#"{"d":"out","f":0.333333,"p":"/tmp/x","s":"str"}"#);
    assert_eq!(
        ev.to_json(&v).unwrap(),
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    );
    // Floats as Nix prints them, nested outPaths and paths in lists: data equal to the text.
    let v = ev
        .eval_expr_str(
            r#"[ 3.0 (0.1 + 0.2) 1.0e-7 (-0.0) [ /tmp/y { outPath = { outPath = "deep"; }; } ] ]"#,
            Path::new("/"),
        )
        .unwrap();
    let text = ev.to_json_string(&v).unwrap();
    assert_eq!(
        ev.to_json(&v).unwrap(),
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        "{text}"
    );
    let f = ev.eval_expr_str("x: x", Path::new("/")).unwrap();
    assert!(ev.to_json_string(&f).is_err());
    let in_list = ev.eval_expr_str("[ 1 (x: x) ]", Path::new("/")).unwrap();
    let e = ev.to_json(&in_list).unwrap_err();
    assert!(
        e.msg.contains("cannot convert a function to JSON"),
        "{}",
        e.msg
    );
    let e = ev.from_json_str("{\"a\": }").unwrap_err();
    assert!(e.msg.contains("parse error"), "{}", e.msg);
}

/// Issue 13 cause 5: a file imported through a symbolic link and by its own name is one
/// import, as in Nix 2.8 (links are followed before the import cache is consulted), so
/// its values are pointer-equal; relative paths in it resolve where it really lies.
#[test]
fn imports_through_a_symlink_are_one_import() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("lib")).unwrap();
    std::fs::write(root.join("lib/real.nix"), "{ id = x: x; here = ./.; }").unwrap();
    std::os::unix::fs::symlink("lib/real.nix", root.join("alias.nix")).unwrap();
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let v = ev
        .eval_expr_str(
            "[ (import ./alias.nix == import ./lib/real.nix) (import ./alias.nix).here ]",
            &root,
        )
        .and_then(|v| ev.force_deep(&v).map(|_| v))
        .unwrap();
    assert_eq!(
        nixweb_eval::print::print_value(&v),
        format!("[ true {} ]", root.join("lib").display())
    );
}

/// Current Nix's `max-call-depth` setting bounds nested calls, tail calls included.
#[test]
fn max_call_depth_bounds_nested_calls() {
    let depth = |text: &str, max: u32| {
        let mut settings = nixweb_eval::Settings::default();
        settings
            .set_option("max-call-depth", &max.to_string())
            .unwrap();
        let out = instantiate(
            &InstantiateOptions {
                strict: true,
                settings,
                ..InstantiateOptions::new(expr(text))
            },
            Arc::new(StdIO),
        );
        (out.stdout, out.stderr)
    };
    let count = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 30";
    assert_eq!(depth(count, 80).0, "30\n");
    let (stdout, stderr) = depth(count, 20);
    assert_eq!(stdout, "");
    assert!(stderr.contains("stack overflow"), "{stderr}");
    // An endless tail call stops at the limit too (and without it runs on).
    let (_, stderr) = depth("let loop = x: loop x; in loop 1", 1000);
    assert!(stderr.contains("stack overflow"), "{stderr}");
}

#[test]
fn add_drv_output_dependencies_accepts_one_derivation_file_only() {
    let drv = r#"(derivation { name = "d"; builder = "/bin/false"; system = "x"; outputs = [ "out" "dev" ]; })"#;
    let context =
        |expr: String| eval_with(Limits::default(), &format!("builtins.getContext ({expr})"));
    let deep = context(format!("builtins.addDrvOutputDependencies {drv}.drvPath")).unwrap();
    assert!(deep.contains("{ allOutputs = true; }"), "{deep}");
    // Twice is once.
    assert_eq!(
        context(format!(
            "builtins.addDrvOutputDependencies (builtins.addDrvOutputDependencies {drv}.drvPath)"
        ))
        .unwrap(),
        deep
    );
    let refused = |expr: String| eval_with(Limits::default(), &expr).unwrap_err().1;
    assert!(refused(format!(
        "builtins.addDrvOutputDependencies {drv}.dev.outPath"
    ))
    .contains("not on a derivation output such as 'dev'"));
    assert!(refused(format!(
        "builtins.addDrvOutputDependencies ({drv}.drvPath + {drv}.outPath)"
    ))
    .contains("must have exactly one element, but has 2"));
    assert!(
        refused(r#"builtins.addDrvOutputDependencies "plain""#.into())
            .contains("context of string 'plain' must have exactly one element, but has 0")
    );
    assert!(
        refused(r#"builtins.addDrvOutputDependencies (builtins.toFile "f" "text")"#.into())
            .contains("is not a derivation")
    );
}

#[test]
fn error_layout_is_2_8s_for_long_line_numbers_and_multi_line_messages() {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let bindings: String = (0..10).map(|i| format!(" a{i} = 1;\n")).collect();
    let source = format!("let\n{bindings}  k = 1 + \"x\";\nin k\n");
    let e = ev.eval_expr_str(&source, Path::new("/")).unwrap_err();
    // As nix-instantiate 2.8 prints it: the numbers end in one column.
    assert_eq!(
        ev.format_error(&e),
        "error: cannot add a string to an integer\n\n       at «string»:12:11:\n\n           11|  a9 = 1;\n           12|   k = 1 + \"x\";\n             |           ^\n           13| in k\n"
    );
    let e = ev
        .eval_expr_str(r#"throw "a   \n\n  b  \n c\t \n""#, Path::new("/"))
        .unwrap_err();
    assert!(
        ev.format_error(&e)
            .starts_with("error: a\n\n         b\n        c\n"),
        "{}",
        ev.format_error(&e)
    );
}

#[test]
fn strings_built_without_copies_keep_their_bytes_and_contexts() {
    let cases = [
        (
            r#"builtins.replaceStrings [ "" ] [ "-" ] "ab""#,
            r#""-a-b-""#,
        ),
        (
            r#"builtins.replaceStrings [ "é" "a" ] [ "e" "A" ] "café bar""#,
            r#""cAfe bAr""#,
        ),
        (
            r#"builtins.replaceStrings [ "ab" "a" ] [ "X" "Y" ] "aab ab a""#,
            r#""YX X Y""#,
        ),
        (r#"builtins.replaceStrings [ ] [ ] "same""#, r#""same""#),
        (
            r#"builtins.replaceStrings [ "<" ] [ "&lt;" ] "<<a<""#,
            r#""&lt;&lt;a&lt;""#,
        ),
        (
            r#"let n = toString 12; in "${n}-${"x"}${n}" + "!""#,
            r#""12-x12!""#,
        ),
        (r#"toString [ 1 "a" null true ]"#, r#""1 a  1""#),
        (
            r#"builtins.getContext ("${builtins.toFile "f" "x"}" + "y")"#,
            // As nix-instantiate 2.8 prints it.
            r#"{ "/nix/store/x93g3gvygaiq7h4b6zls3w7l5az1y526-f" = { path = true; }; }"#,
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(eval_with(Limits::default(), expr).unwrap(), want, "{expr}");
    }
}
