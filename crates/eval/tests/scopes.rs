//! `let` scopes that only their own unevaluated bindings still hold are freed when the last
//! other reference goes (`value::scope_ref_dropping`), and scopes anything else can reach
//! keep every binding. This binary counts what threads hold, as the nixweb binary does.

use std::path::Path;
use std::sync::Arc;

use nixweb_eval::{Evaluator, StdIO};

#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<std::alloc::System> =
    nixweb_eval::alloc::Counting(std::alloc::System);

/// Bytes the thread holds once `expr` (with `N` replaced by `rounds`) is evaluated,
/// the evaluator still alive, and the printed value.
fn held_after(expr: &str, rounds: usize) -> (isize, String) {
    let expr = expr.replace('N', &rounds.to_string());
    std::thread::spawn(move || {
        let before =
            nixweb_eval::alloc::thread_held().expect("the counting allocator is installed");
        let mut ev = Evaluator::new(Arc::new(StdIO));
        let v = ev.eval_expr_str(&expr, Path::new("/")).unwrap();
        ev.force_deep(&v).unwrap();
        let printed = nixweb_eval::print::print_value(&v);
        drop(v);
        let held = nixweb_eval::alloc::thread_held().unwrap() - before;
        drop(ev);
        (held, printed)
    })
    .join()
    .unwrap()
}

/// Evaluates `expr` for 100 and for 20,000 rounds, checks its value against `sum` of the
/// rounds, and that the 19,900 rounds more left under 512 KiB more behind.
fn assert_rounds_leave_nothing(what: &str, expr: &str, sum: impl Fn(i64) -> i64) {
    let (few, value) = held_after(expr, 100);
    assert_eq!(value, sum(100).to_string(), "{what}");
    let (many, value) = held_after(expr, 20_000);
    assert_eq!(value, sum(20_000).to_string(), "{what}");
    assert!(
        many - few < 512 * 1024,
        "{what}: 20,000 rounds held {many} bytes, 100 held {few}"
    );
}

#[test]
fn a_scope_only_its_pending_bindings_hold_is_freed_whatever_held_it_last() {
    // Each round's `let` has bindings never evaluated, which refer to the scope: without
    // freeing, every round's scope (hundreds of bytes) stays until the evaluator goes.
    // (body, what it adds to 2i each round)
    let last_holders = [
        // The evaluation of the body itself.
        ("acc + a", 0),
        // A thunk of the scope, forced after the body returned.
        ("acc + builtins.head [ (a + 1) ]", 1),
        // A function made in the scope, called and dropped.
        ("acc + (x: x + a) 1", 1),
        // A scope made inside it.
        ("acc + (let b = a + 1; in b)", 1),
        // An attribute set of the scope's thunks, selected from and dropped.
        ("acc + { v = a; w = unused; }.v", 0),
    ];
    for (body, extra) in last_holders {
        let expr = format!(
            "builtins.foldl' (acc: i: let a = i * 2; unused = throw \"never\"; \
             also = [ a unused ]; in {body}) 0 (builtins.genList (x: x) N)"
        );
        assert_rounds_leave_nothing(body, &expr, |n| (0..n).map(|i| 2 * i + extra).sum());
    }
}

#[test]
fn bindings_reached_from_outside_keep_their_scope() {
    // Each scope's last outside reference goes while something made in it still needs
    // its other bindings, evaluated only afterwards.
    let cases = [
        // An inherited binding, evaluated after the scope's body returned.
        ("let mk = i: let a = i * 2; b = a + 1; unused = throw \"no\"; in { inherit b; }; \
          in map (i: (mk i).b) [ 1 2 3 ]", "[ 3 5 7 ]"),
        // A list of a binding, the scope otherwise gone.
        ("let mk = i: let a = i * 2; b = a + 1; unused = throw \"no\"; in [ b ]; \
          in map (i: builtins.head (mk i)) [ 1 2 3 ]", "[ 3 5 7 ]"),
        // A function of the scope, called long after.
        ("let fs = map (i: let a = i * 10; b = a + i; unused = throw \"no\"; in (x: b + x)) \
          [ 1 2 3 ]; in map (f: f 1) fs", "[ 12 23 34 ]"),
        // A binding shared by another (`c = b;`), reached through the other.
        ("let mk = i: let a = i * 2; b = a + 1; c = b; unused = throw \"no\"; in { inherit c; }; \
          in map (i: (mk i).c) [ 1 2 ]", "[ 3 5 ]"),
        // A nested scope whose parent has a pending binding it reads later.
        ("let mk = i: let a = i * 2; unused = throw \"no\"; in let b = 1; in { v = a + b; }; \
          in map (i: (mk i).v) [ 1 2 ]", "[ 3 5 ]"),
        // A binding whose evaluation failed once, tried again.
        ("let r = let a = throw \"first\"; b = builtins.tryEval a; in { inherit a b; }; \
          in [ r.b.success (builtins.tryEval r.a).success ]", "[ false false ]"),
    ];
    for (expr, expected) in cases {
        let (_, printed) = held_after(expr, 0);
        assert_eq!(printed, expected, "{expr}");
    }
}

#[test]
fn a_scope_with_functions_of_its_own_is_freed_once_none_is_handed_out() {
    // `helper` is a closure of the scope, held by the scope's own binding: a cycle through
    // a function, freed like one through an unevaluated binding.
    let expr =
        "builtins.foldl' (acc: i: let a = i * 2; helper = x: x + a; unused = throw \"never\"; \
                in acc + helper 1) 0 (builtins.genList (x: x) N)";
    assert_rounds_leave_nothing("own functions", expr, |n| (0..n).map(|i| 2 * i + 1).sum());
    // Handed out, the function keeps its scope.
    let kept =
        "let fs = map (i: let a = i * 3; helper = x: x + a; unused = throw \"no\"; in helper) \
                [ 1 2 ]; in map (f: f 1) fs";
    assert_eq!(held_after(kept, 0).1, "[ 4 7 ]");
}

#[test]
fn a_call_whose_defaults_go_unused_leaves_nothing_behind() {
    // A default is a binding of the call's scope: unused, it held the scope (the
    // callPackage pattern `extra ? null` kept every call's scope until the evaluator went).
    let expr = "let pkgs = { b = 1; }; f = { a, b, extra ? null, more ? throw \"unused\", \
                last ? a + b, ... }: a; in builtins.foldl' (acc: i: acc + f (pkgs // { a = i; })) 0 \
                (builtins.genList (x: x) N)";
    assert_rounds_leave_nothing("unused defaults", expr, |n| (0..n).sum());
}

#[test]
fn defaults_are_evaluated_in_their_call_as_nix_does() {
    // Answers of Nix 2.8's nix-instantiate. A default that is a variable from outside is
    // that variable's value itself (2.8's maybeThunk), so a function compares equal to it.
    let cases = [
        ("let f = y: y; g = { x ? f }: [ x ] == [ f ]; in g { }", "true"),
        ("let f = y: y; in ({ x ? f }: x == x) { }", "false"),
        ("({ a, b ? a + 1 }: b) { a = 1; }", "2"),
        ("({ a ? b, b ? 2 }: a) { }", "2"),
        ("map ({ a, b ? a * 10, ... }: { inherit b; }) [ { a = 1; } { a = 2; b = 0; } ]", "[ { b = 10; } { b = 0; } ]"),
        ("let mk = { a, get ? (x: a + x), ... }: get; in map (g: g 1) [ (mk { a = 1; }) (mk { a = 2; }) ]", "[ 2 3 ]"),
    ];
    for (expr, expected) in cases {
        assert_eq!(held_after(expr, 0).1, expected, "{expr}");
    }
}

#[test]
fn a_long_lived_evaluator_remembers_only_the_bindings_its_scopes_make() {
    // The server calls an app's function again and again and collects after each call. A
    // call's scope shares the cells of what it is given (`b`, an attribute of the
    // long-lived `pkgs`): remembering those with every scope that shares them would pile
    // up one entry a call for as long as `pkgs` lives.
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let app = ev
        .eval_expr_str(
            "let pkgs = { b = { v = 2; }; }; in { handle = n: let f = { a, b, c ? a + b.v, knot ? { g = x: x; } }: \
             builtins.seq knot c; in f (pkgs // { a = n; }); }",
            Path::new("/"),
        )
        .unwrap();
    let handle = ev.get_attr(&app, "handle").unwrap().unwrap();
    for i in 0..10_000 {
        let r = ev
            .call_function(&handle, nixweb_eval::Value::Int(i))
            .unwrap();
        assert!(matches!(r, nixweb_eval::Value::Int(n) if n == i + 2));
        ev.collect_garbage(&[&app]);
    }
    assert!(
        ev.cyclic_cells.len() < 1_000,
        "{} cells remembered after 10,000 calls",
        ev.cyclic_cells.len()
    );
}
