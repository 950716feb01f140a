//! Regexes and subjects a request may choose: a search cannot be interrupted, so one whose
//! worst case is too costly is refused before it starts (`Limit::RegexWork`), `split`
//! stops at the deadline between its searches, and the patterns nixpkgs' lib uses still
//! work on long strings.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nixweb_eval::{ErrorKind, Evaluator, Limit, Limits, StdIO};

fn limits(deadline: Duration) -> Limits {
    Limits {
        max_steps: Some(50_000_000),
        max_depth: Some(20_000),
        deadline: Some(Instant::now() + deadline),
        max_memory: Some(512 * 1024 * 1024),
        max_trace_bytes: Some(64 * 1024),
    }
}

/// Evaluates `expr` deeply and prints it, or returns the error's kind and message.
fn run(limits: Limits, expr: &str) -> Result<String, (ErrorKind, String)> {
    let mut ev = Evaluator::with_limits(Arc::new(StdIO), limits);
    let v = ev
        .eval_expr_str(expr, Path::new("/"))
        .and_then(|v| ev.force_deep(&v).map(|_| v))
        .map_err(|e| (e.kind, e.msg.clone()))?;
    Ok(nixweb_eval::print::print_value(&v))
}

/// `builtins.NAME pattern subject`, the subject `unit` doubled `doublings` times (built in
/// a few evaluation steps).
fn call(name: &str, pattern: &str, unit: &str, doublings: usize) -> String {
    format!(
        r#"builtins.{name} "{pattern}" ({})"#,
        repeated(unit, doublings)
    )
}

fn repeated(unit: &str, doublings: usize) -> String {
    format!(
        r#"let d = s: s + s; in {}"{unit}"{}"#,
        "d (".repeat(doublings),
        ")".repeat(doublings)
    )
}

fn nested_stars(levels: usize, atom: &str) -> String {
    format!("{}{atom}{}", "(".repeat(levels), ")*".repeat(levels))
}

#[test]
fn searches_whose_worst_case_is_too_costly_are_refused_by_name() {
    let counted = |levels, atom, range: &str| format!("{}{range}", nested_stars(levels, atom));
    let cases = [
        // Nested stars repeated by count: thousands of NFA states.
        (counted(3, "b", "{40,300}"), "b", 15),
        (counted(5, "[xy]", "{90}"), "xy ", 15),
        (format!("c?{}", counted(2, "c", "{100,900}")), "c", 14),
        // Hundreds of groups: each state copies their slots.
        (
            format!(
                "({})*",
                (0..300)
                    .map(|i| format!("(q{i})"))
                    .collect::<Vec<_>>()
                    .join("|")
            ),
            "q1",
            13,
        ),
    ];
    for (pattern, unit, doublings) in cases {
        for name in ["match", "split"] {
            let out = run(
                limits(Duration::from_secs(600)),
                &call(name, &pattern, unit, doublings),
            );
            match out {
                Err((ErrorKind::Limit(Limit::RegexWork), msg)) => {
                    assert!(msg.contains("units of matching work"), "{msg}");
                    assert!(
                        msg.contains(&format!("{} bytes", unit.len() << doublings)),
                        "{msg}"
                    );
                }
                other => panic!("{name} {pattern:.60}: expected RegexWork, got {other:.200?}"),
            }
        }
    }
}

#[test]
fn the_bound_depends_on_the_pattern_and_the_subject_together() {
    // The same nested pattern passes on a short subject…
    let pattern = format!("{}{{40,300}}", nested_stars(3, "b"));
    let out = run(
        limits(Duration::from_secs(600)),
        &call("match", &pattern, "b", 6),
    );
    assert!(out.as_ref().is_ok_and(|v| v.starts_with("[ ")), "{out:?}");
    // …and a small pattern passes on 8 MiB.
    let unit = "abcdefghijklmnopqrstuvwxyz01234,";
    let out = run(
        limits(Duration::from_secs(600)),
        &format!("builtins.length ({})", call("split", "(x)|(,)", unit, 18)),
    );
    // Two matches in each unit (its x and its comma), each a piece and a list of groups.
    assert_eq!(out, Ok(((1 << 18) * 4 + 1).to_string()));
}

#[test]
fn split_checks_the_deadline_between_its_searches() {
    // Each search is cheap (the pattern has a few states), but there are half a million of
    // them. The deadline has passed before the first, and nothing else looks at the clock
    // first: building the subject takes fewer steps than the evaluator's periodic check.
    let subject = repeated("xy", 18);
    let out = run(
        limits(Duration::ZERO),
        &format!("builtins.stringLength ({subject})"),
    );
    assert_eq!(out, Ok((1 << 19).to_string()));
    let out = run(limits(Duration::ZERO), &call("split", "a*", "xy", 18));
    match out {
        Err((ErrorKind::Limit(Limit::Time), _)) => {}
        other => panic!("expected the time limit, got {other:.200?}"),
    }
    // With time, the same split finishes: an empty match before each byte and at the end.
    let out = run(
        limits(Duration::from_secs(600)),
        &format!("builtins.length ({})", call("split", "a*", "xy", 18)),
    );
    assert_eq!(out, Ok(((1 << 19) * 2 + 3).to_string()));
}

/// Nixpkgs' lib (test data next to the repository), imported as `lib`.
fn with_lib(body: &str) -> String {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/nixpkgs-lib/lib");
    assert!(lib.is_dir(), "nixpkgs' lib is at {}", lib.display());
    format!("let lib = import {}; in {body}", lib.display())
}

#[test]
fn nixpkgs_lib_regexes_work_on_long_strings() {
    let text = r#"builtins.concatStringsSep "\n" (builtins.genList (i: "line ${toString i} of the text") 100000)"#;
    let cases = [
        (
            format!("builtins.length (lib.splitString \"\\n\" ({text}))"),
            "100000",
        ),
        (format!("lib.hasInfix \"line 99999 of\" ({text})"), "true"),
        (format!("lib.hasInfix \"line 100000 of\" ({text})"), "false"),
        (
            format!("builtins.stringLength (lib.trim (\"  \\n\" + ({text}) + \" \\t\"))"),
            "2288889",
        ),
        (
            format!("builtins.length (lib.strings.splitString \" of \" ({text}))"),
            "100001",
        ),
    ];
    for (expr, expected) in cases {
        let out = run(limits(Duration::from_secs(600)), &with_lib(&expr));
        assert_eq!(out.as_deref(), Ok(expected), "{expr:.80}");
    }
}

#[test]
fn patterns_too_large_or_too_deep_are_refused_as_limits() {
    for (pattern, says) in [
        (
            nested_stars(150, "a"),
            "nests groups and repetitions deeper than 100 levels",
        ),
        (
            format!("{}x{}", "(y|".repeat(120), ")".repeat(120)),
            "deeper than 100 levels",
        ),
        ("((a{1,1000}){1,1000}){1,100}".to_string(), "is too large"),
    ] {
        let out = run(
            limits(Duration::from_secs(600)),
            &format!(r#"builtins.match "{pattern}" "a""#),
        );
        match out {
            Err((ErrorKind::Limit(Limit::RegexSize), msg)) => assert!(msg.contains(says), "{msg}"),
            other => panic!("{pattern:.60}: expected RegexSize, got {other:.200?}"),
        }
    }
    // An invalid pattern is still an ordinary error.
    let out = run(
        limits(Duration::from_secs(600)),
        r#"builtins.match "(a" "a""#,
    );
    assert!(matches!(out, Err((ErrorKind::Eval, _))), "{out:?}");
}
