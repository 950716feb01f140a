//! Calls with more than one argument take shortcuts (`f a b` binds both scopes at once,
//! builtins call two-argument functions through `Evaluator::call2`): the errors and the
//! `--show-trace` frames they give must stay those of one call after another, as Nix 2.8
//! gives them (recorded from nix-instantiate 2.8 --show-trace).

use std::path::Path;
use std::sync::Arc;

use nixweb_eval::{Evaluator, StdIO};

fn trace_of(expr: &str) -> String {
    let mut ev = Evaluator::new(Arc::new(StdIO));
    let e = ev.eval_expr_str(expr, Path::new("/")).unwrap_err();
    nixweb_eval::error::format_error(&e, &ev.sources, true)
}

#[test]
fn curried_calls_report_what_nix_2_8_reports() {
    let cases: &[(&str, &str)] = &[
        // `f a b` in one step (both scopes bound at once)
        (
            "let f = a: b: a + b; in f 1 \"x\"",
            "error: cannot add a string to an integer\n\n       at «string»:1:19:\n\n            1| let f = a: b: a + b; in f 1 \"x\"\n             |                   ^\n\n       … while evaluating 'f'\n\n       at «string»:1:12:\n\n            1| let f = a: b: a + b; in f 1 \"x\"\n             |            ^\n\n       … from call site\n\n       at «string»:1:25:\n\n            1| let f = a: b: a + b; in f 1 \"x\"\n             |                         ^\n",
        ),
        // a builtin's two-argument call (`call2`)
        (
            "builtins.foldl' (a: b: a + b) 1 [ \"x\" ]",
            "error: cannot add a string to an integer\n\n       at «string»:1:28:\n\n            1| builtins.foldl' (a: b: a + b) 1 [ \"x\" ]\n             |                            ^\n\n       … while evaluating anonymous lambda\n\n       at «string»:1:21:\n\n            1| builtins.foldl' (a: b: a + b) 1 [ \"x\" ]\n             |                     ^\n\n       … from call site\n\n       at «string»:1:1:\n\n            1| builtins.foldl' (a: b: a + b) 1 [ \"x\" ]\n             | ^\n",
        ),
        // formals, then one argument
        (
            "let f = { a }: b: a + b; in f { a = 1; } \"x\"",
            "error: cannot add a string to an integer\n\n       at «string»:1:23:\n\n            1| let f = { a }: b: a + b; in f { a = 1; } \"x\"\n             |                       ^\n\n       … while evaluating 'f'\n\n       at «string»:1:16:\n\n            1| let f = { a }: b: a + b; in f { a = 1; } \"x\"\n             |                ^\n\n       … from call site\n\n       at «string»:1:29:\n\n            1| let f = { a }: b: a + b; in f { a = 1; } \"x\"\n             |                             ^\n",
        ),
        // one argument, then formals: the inner lambda is named too
        (
            "let f = a: { b }: a + b; in f 1 { }",
            "error: 'f' at (string):1:12 called without required argument 'b'\n\n       at «string»:1:29:\n\n            1| let f = a: { b }: a + b; in f 1 { }\n             |                             ^\n",
        ),
        // `sort`'s comparator (`call2`)
        (
            "builtins.sort (a: b: a.x < b) [ 1 2 ]",
            "error: value is an integer while a set was expected\n\n       at «string»:1:22:\n\n            1| builtins.sort (a: b: a.x < b) [ 1 2 ]\n             |                      ^\n\n       … while evaluating anonymous lambda\n\n       at «string»:1:19:\n\n            1| builtins.sort (a: b: a.x < b) [ 1 2 ]\n             |                   ^\n\n       … from call site\n\n       at «string»:1:1:\n\n            1| builtins.sort (a: b: a.x < b) [ 1 2 ]\n             | ^\n",
        ),
        // three arguments: two at once, then one
        (
            "let f = a: b: c: a + b + c; in f 1 2 \"x\"",
            "error: cannot add a string to an integer\n\n       at «string»:1:26:\n\n            1| let f = a: b: c: a + b + c; in f 1 2 \"x\"\n             |                          ^\n\n       … while evaluating 'f'\n\n       at «string»:1:15:\n\n            1| let f = a: b: c: a + b + c; in f 1 2 \"x\"\n             |               ^\n\n       … from call site\n\n       at «string»:1:32:\n\n            1| let f = a: b: c: a + b + c; in f 1 2 \"x\"\n             |                                ^\n",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(trace_of(expr), *want, "for {expr}");
    }
}
