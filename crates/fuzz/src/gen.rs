//! Input generators, one per target. Each writes text (or bytes) that the target reads, so a
//! finding is kept as the input itself and replays without the generator.

use crate::rng::Rng;

/// Builtins the program generator calls, with their arity.
const BUILTINS: &[(&str, usize)] = &[
    ("map", 2),
    ("filter", 2),
    ("builtins.foldl'", 3),
    ("builtins.genList", 2),
    ("builtins.concatStringsSep", 2),
    ("builtins.replaceStrings", 3),
    ("builtins.toJSON", 1),
    ("builtins.fromJSON", 1),
    ("builtins.toXML", 1),
    ("builtins.deepSeq", 2),
    ("builtins.seq", 2),
    ("builtins.trace", 2),
    ("builtins.tryEval", 1),
    ("builtins.match", 2),
    ("builtins.split", 2),
    ("builtins.attrNames", 1),
    ("builtins.attrValues", 1),
    ("builtins.listToAttrs", 1),
    ("builtins.mapAttrs", 2),
    ("builtins.elemAt", 2),
    ("builtins.head", 1),
    ("builtins.tail", 1),
    ("builtins.length", 1),
    ("builtins.sort", 2),
    ("builtins.lessThan", 2),
    ("builtins.sub", 2),
    ("builtins.mul", 2),
    ("builtins.div", 2),
    ("builtins.bitAnd", 2),
    ("builtins.substring", 3),
    ("builtins.stringLength", 1),
    ("toString", 1),
    ("builtins.typeOf", 1),
    ("builtins.isList", 1),
    ("builtins.concatLists", 1),
    ("builtins.concatMap", 2),
    ("builtins.elem", 2),
    ("builtins.hasAttr", 2),
    ("builtins.getAttr", 2),
    ("builtins.removeAttrs", 2),
    ("builtins.intersectAttrs", 2),
    ("builtins.catAttrs", 2),
    ("builtins.partition", 2),
    ("builtins.groupBy", 2),
    ("builtins.zipAttrsWith", 2),
    ("builtins.fromTOML", 1),
    ("builtins.hashString \"sha256\"", 1),
    ("builtins.splitVersion", 1),
    ("builtins.compareVersions", 2),
    ("builtins.parseDrvName", 1),
    ("builtins.unsafeDiscardStringContext", 1),
    ("builtins.genericClosure", 1),
    ("builtins.toFile \"f\"", 1),
    ("builtins.all", 2),
    ("builtins.any", 2),
];

const NAMES: &[&str] = &["a", "b", "x", "xs", "f", "n", "s", "acc"];

const STRINGS: &[&str] = &[
    "",
    "a",
    "abc",
    "${",
    "\\\"",
    "\\n",
    "é",
    "0",
    "-1",
    "1.5",
    "null",
    "[1,2]",
    "{\\\"a\\\":1}",
    "a.b",
    "x = 1",
    "(a|b)*",
    "$",
    "''",
    "\\\\",
];

/// A Nix program (an expression) for the evaluator targets. `pure` leaves out what
/// nix-instantiate and nixweb answer differently on purpose (traces, time, paths).
pub fn program(rng: &mut Rng, pure: bool) -> String {
    let mut out = String::new();
    expr(rng, 5, pure, &mut out);
    out
}

fn expr(rng: &mut Rng, depth: usize, pure: bool, out: &mut String) {
    if depth == 0 {
        return atom(rng, out);
    }
    match rng.below(22) {
        0 | 1 => atom(rng, out),
        2 => {
            out.push_str("[ ");
            for _ in 0..rng.below(4) {
                out.push('(');
                expr(rng, depth - 1, pure, out);
                out.push_str(") ");
            }
            out.push(']');
        }
        3 => {
            out.push_str(if rng.chance(30) { "rec { " } else { "{ " });
            for i in 0..rng.below(4) {
                out.push_str(&format!("{} = ", NAMES[i % NAMES.len()]));
                expr(rng, depth - 1, pure, out);
                out.push_str("; ");
            }
            out.push('}');
        }
        4 | 5 => {
            // A builtin call.
            let (name, arity) = *rng.pick(BUILTINS);
            if pure && (name.contains("trace") || name.contains("toFile")) {
                return atom(rng, out);
            }
            out.push('(');
            out.push_str(name);
            for _ in 0..arity {
                out.push_str(" (");
                expr(rng, depth - 1, pure, out);
                out.push(')');
            }
            out.push(')');
        }
        6 => {
            let v = rng.pick(NAMES);
            out.push_str(&format!("(let {v} = "));
            expr(rng, depth - 1, pure, out);
            out.push_str("; in ");
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
        7 => {
            let v = rng.pick(NAMES);
            out.push_str(&format!("({v}: "));
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
        8 => {
            out.push_str("((");
            expr(rng, depth - 1, pure, out);
            out.push_str(") (");
            expr(rng, depth - 1, pure, out);
            out.push_str("))");
        }
        9 => {
            let op = *rng.pick(&[
                "+", "-", "*", "/", "==", "!=", "<", "<=", ">", "&&", "||", "->", "++", "//",
            ]);
            out.push('(');
            expr(rng, depth - 1, pure, out);
            out.push_str(&format!(" {op} "));
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
        10 => {
            out.push_str("(if ");
            expr(rng, depth - 1, pure, out);
            out.push_str(" then ");
            expr(rng, depth - 1, pure, out);
            out.push_str(" else ");
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
        11 => {
            out.push_str("((");
            expr(rng, depth - 1, pure, out);
            out.push_str(&format!(").{} or ", rng.pick(NAMES)));
            atom(rng, out);
            out.push(')');
        }
        12 => {
            out.push_str("\"x${toString (");
            expr(rng, depth - 1, pure, out);
            out.push_str(")}y\"");
        }
        13 => {
            // Deep and cyclic values, the shapes that hurt walks.
            let n = rng.size();
            let shape = *rng.pick(&[
                "builtins.foldl' (acc: _: [ acc ]) 0 (builtins.genList (x: x) N)",
                "builtins.foldl' (acc: i: { a = acc; b = i; }) {} (builtins.genList (x: x) N)",
                "let f = n: if n <= 0 then [] else [ (f (n - 1)) ]; in f N",
                "let xs = [ xs ]; in xs",
                "let xs = { a = xs; b = [ xs ]; }; in xs",
                "rec { a = { inherit b; }; b = [ a ]; }",
                "builtins.genList (i: i) N",
                "builtins.concatStringsSep \"\" (builtins.genList (i: \"ab\") N)",
            ]);
            out.push('(');
            out.push_str(&shape.replace('N', &n.to_string()));
            out.push(')');
        }
        14 => {
            out.push_str("(builtins.tryEval (");
            expr(rng, depth - 1, pure, out);
            out.push_str("))");
        }
        15 => {
            out.push_str("(with ");
            expr(rng, depth - 1, pure, out);
            out.push_str("; ");
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
        16 => {
            out.push_str("(assert ");
            expr(rng, depth - 1, pure, out);
            out.push_str("; ");
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
        17 => {
            out.push_str("({ a ? ");
            atom(rng, out);
            out.push_str(", ... }@args: ");
            expr(rng, depth - 1, pure, out);
            out.push_str(") { b = ");
            atom(rng, out);
            out.push_str("; }");
        }
        18 => {
            out.push('(');
            expr(rng, depth - 1, pure, out);
            out.push_str(&format!(" ? {})", rng.pick(NAMES)));
        }
        19 => {
            out.push_str("(builtins.fromJSON ");
            out.push_str(&nix_string(&json(rng)));
            out.push(')');
        }
        20 => {
            out.push_str("(builtins.match ");
            out.push_str(&nix_string(&regex(rng)));
            out.push(' ');
            out.push_str(&nix_string(&subject(rng)));
            out.push(')');
        }
        _ => {
            out.push_str("(!");
            expr(rng, depth - 1, pure, out);
            out.push(')');
        }
    }
}

fn atom(rng: &mut Rng, out: &mut String) {
    match rng.below(9) {
        0 => out.push_str(&(rng.below(2000) as i64 - 1000).to_string()),
        1 => out.push_str(&format!("\"{}\"", rng.pick(STRINGS))),
        2 => out.push_str(rng.word(&["true", "false", "null"])),
        3 => out.push_str(rng.word(NAMES)),
        4 => out.push_str(&format!("{}.{}", rng.below(100), rng.below(100))),
        5 => out.push_str(rng.word(&["[ ]", "{ }", "(x: x)", "builtins.add", "builtins"])),
        6 => out.push_str(rng.word(&[
            "9223372036854775807",
            "(-9223372036854775807 - 1)",
            "1e308",
            "0.0",
        ])),
        7 => out.push_str(&format!("''{}''", rng.pick(&["", "a", "''$", "x\n  y"]))),
        _ => out.push_str(&rng.size().to_string()),
    }
}

/// `text` as a Nix string literal.
pub fn nix_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Source text for the parser: a program, then damaged (cut, repeated, spliced with
/// stray tokens), or deeply nested.
pub fn source(rng: &mut Rng) -> String {
    let mut text = program(rng, false);
    for _ in 0..rng.below(4) {
        mutate(rng, &mut text);
    }
    if rng.chance(10) {
        let opener = *rng.pick(&[
            "(",
            "[",
            "{ a = ",
            "\"${",
            "''${",
            "x: ",
            "- ",
            "!",
            "[] ++ ",
            "let a = 1; in ",
        ]);
        let n = rng.size();
        text = opener.repeat(n) + &text;
    }
    text
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "${",
    "\"",
    "''",
    ";",
    ":",
    "=",
    ".",
    ",",
    "?",
    "@",
    "...",
    "let",
    "in",
    "rec",
    "inherit",
    "if",
    "then",
    "else",
    "with",
    "assert",
    "or",
    "//",
    "++",
    "->",
    "!",
    "-",
    "#",
    "/*",
    "*/",
    "./a",
    "<nixpkgs>",
    "~/x",
    "http://x",
    "1e",
    "0x",
    "\\",
    "\n",
    "$",
];

fn mutate(rng: &mut Rng, text: &mut String) {
    let len = text.len();
    let mut at = rng.below(len + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    match rng.below(4) {
        0 => text.insert_str(at, rng.word(TOKENS)),
        1 => text.truncate(at),
        2 => {
            let mut end = (at + rng.below(20)).min(len);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(at..end, "");
        }
        _ => {
            let piece = text[at..].chars().take(rng.below(30)).collect::<String>();
            text.insert_str(at, &piece.repeat(rng.below(5)));
        }
    }
}

/// JSON text: mostly valid, sometimes damaged or deeply nested.
pub fn json(rng: &mut Rng) -> String {
    let mut out = String::new();
    json_value(rng, 4, &mut out);
    if rng.chance(15) {
        mutate(rng, &mut out);
    }
    if rng.chance(5) {
        let n = rng.size();
        out = "[".repeat(n) + &out + &"]".repeat(n / 2);
    }
    out
}

fn json_value(rng: &mut Rng, depth: usize, out: &mut String) {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => out.push_str(rng.word(&["null", "true", "false"])),
        1 => out.push_str(rng.word(&[
            "0",
            "-0",
            "1e400",
            "-1.5e-7",
            "9223372036854775808",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1.0",
            "-",
            "01",
            "1.",
        ])),
        2 => out.push_str(&(rng.next_u64() as i64).to_string()),
        3 => out.push_str(rng.word(&[
            "\"\"",
            "\"a\"",
            "\"\\u0000x\"",
            "\"\\ud800\"",
            "\"\\ud83d\\ude00\"",
            "\"\\n\\t\\\"\"",
            "\"é\"",
            "\"\\x\"",
        ])),
        4 => out.push_str(&format!("\"{}\"", "k".repeat(rng.size()))),
        5 => {
            out.push('[');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(',');
                }
                json_value(rng, depth - 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("\"{}\":", rng.pick(NAMES)));
                json_value(rng, depth - 1, out);
            }
            out.push('}');
        }
    }
}

/// TOML text.
pub fn toml(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(8) {
        match rng.below(6) {
            0 => out.push_str(&format!(
                "[{}]\n",
                rng.pick(&["a", "a.b", "\"x y\"", "a.\"b\".c"])
            )),
            1 => out.push_str(&format!("[[{}]]\n", rng.pick(NAMES))),
            _ => {
                out.push_str(&format!(
                    "{} = ",
                    rng.pick(&["a", "b", "\"q\"", "a.b", "x-y", "1"])
                ));
                toml_value(rng, 3, &mut out);
                out.push('\n');
            }
        }
    }
    if rng.chance(15) {
        mutate(rng, &mut out);
    }
    if rng.chance(5) {
        let n = rng.size();
        out = format!("a = {}1{}\n", "[".repeat(n), "]".repeat(n));
    }
    out
}

fn toml_value(rng: &mut Rng, depth: usize, out: &mut String) {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => out.push_str(rng.word(&[
            "1",
            "-0",
            "0x1F",
            "1_000",
            "9223372036854775807",
            "inf",
            "nan",
            "1.5e3",
        ])),
        1 => out.push_str(rng.word(&[
            "\"s\"",
            "'lit'",
            "\"\"\"multi\nline\"\"\"",
            "\"\\u00e9\"",
            "\"\\q\"",
        ])),
        2 => out.push_str(rng.word(&["true", "false"])),
        3 => out.push_str(rng.word(&["1979-05-27T07:32:00Z", "07:32:00", "1979-05-27"])),
        4 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push_str(", ");
                }
                toml_value(rng, depth - 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for (i, name) in NAMES.iter().enumerate().take(rng.below(3)) {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&format!("{name} = "));
                toml_value(rng, depth - 1, out);
            }
            out.push('}');
        }
    }
}

/// A POSIX extended regular expression, often odd.
pub fn regex(rng: &mut Rng) -> String {
    let mut out = String::new();
    regex_into(rng, 3, &mut out);
    out
}

fn regex_into(rng: &mut Rng, depth: usize, out: &mut String) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(if depth == 0 { 4 } else { 7 }) {
            0 => out.push_str(rng.word(&[
                "a",
                "b",
                ".",
                "\\.",
                "é",
                "[a-z]",
                "[^0-9]",
                "[[:alpha:]]",
                "[]a]",
                "[a-",
                "\\1",
                "\\d",
                "^",
                "$",
                "\\",
                "(",
                ")",
                "|",
                "*",
                "{",
            ])),
            1 => out.push_str(rng.word(&["x", "yz", " "])),
            2 => out.push_str(&format!("{{{},{}}}", rng.below(300), rng.below(1200))),
            3 => out.push(*rng.pick(&['*', '+', '?'])),
            4 => {
                out.push('(');
                regex_into(rng, depth - 1, out);
                out.push(')');
                out.push_str(rng.word(&["", "*", "+", "?", "{2,5}", "{100}", "{0,}"]));
            }
            5 => {
                regex_into(rng, depth - 1, out);
                out.push('|');
                regex_into(rng, depth - 1, out);
            }
            _ => {
                let n = rng.size().min(3000);
                out.push_str(&"(".repeat(n));
                out.push('a');
                out.push_str(&")*".repeat(n));
            }
        }
    }
}

/// A subject for a regular expression.
pub fn subject(rng: &mut Rng) -> String {
    let unit = *rng.pick(&["a", "ab", "x y", "é", "aaaaaaaaab", "\n", "0123"]);
    unit.repeat(rng.size().min(50_000))
}

/// An HTTP request as the fuzz target reads it: `METHOD URI\nName: value…\n\nbody`.
pub fn request(rng: &mut Rng) -> String {
    let method = *rng.pick(&[
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW",
    ]);
    let path = *rng.pick(&[
        "/",
        "/echo",
        "/echo/x",
        "/echo/%2e%2e/x",
        "//echo",
        "/echo/%ff",
        "/users/42",
        "/a/b/c/d/e",
        "/%00",
        "/echo?",
        "/echo?a=1&a=2&b",
        "/echo?%zz=1",
        "/echo/é",
    ]);
    let mut out = format!("{method} {path}");
    if rng.chance(40) {
        out.push_str(&format!(
            "?q={}&r=%20{}",
            "x".repeat(rng.size().min(5000)),
            rng.below(10)
        ));
    }
    out.push('\n');
    for _ in 0..rng.below(6) {
        let (name, value) = *rng.pick(&[
            ("content-type", "application/json"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-type", "multipart/form-data; boundary=x"),
            ("content-type", "text/plain; charset=latin1"),
            ("cookie", "a=1; b=2; a=3"),
            ("cookie", "=; ;;x"),
            ("x-forwarded-for", "1.2.3.4"),
            ("accept", "*/*"),
            ("x-custom", "é"),
        ]);
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    match rng.below(4) {
        0 => {}
        1 => out.push_str(&json(rng)),
        2 => out.push_str(&format!(
            "a=1&b={}&c=%e9&a=2",
            "y".repeat(rng.size().min(5000))
        )),
        _ => out.push_str(&subject(rng)),
    }
    out
}

/// What a router could return, as JSON text: mostly response-shaped.
pub fn outcome(rng: &mut Rng) -> String {
    let mut out = String::from("{\"outcome\":");
    out.push_str(rng.word(&[
        "\"response\"",
        "\"notFound\"",
        "\"methodNotAllowed\"",
        "\"options\"",
        "1",
        "null",
    ]));
    out.push_str(",\"allow\":");
    json_value(rng, 2, &mut out);
    out.push_str(",\"routes\":");
    json_value(rng, 2, &mut out);
    out.push_str(",\"response\":{");
    let fields = [
        "status", "body", "json", "headers", "cookies", "redirect", "file", "db", "type", "html",
    ];
    let chosen: Vec<&str> = fields.into_iter().filter(|_| rng.chance(40)).collect();
    for (i, field) in chosen.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"{field}\":"));
        match rng.below(3) {
            0 => out.push_str(rng.word(&["200", "99", "1000", "-1", "204", "304", "101", "\"x\"", "null", "1.5"])),
            1 => out.push_str(rng.word(&[
                "{\"content-type\":\"text/x\",\"transfer-encoding\":\"chunked\",\"x\\r\\ny\":\"z\"}",
                "{\"a\":{\"value\":\"1\",\"maxAge\":-1}}",
                "{\"set\":{\"k\":1},\"delete\":[\"k\"]}",
                "\"/etc/passwd\"",
                "\"../x\"",
            ])),
            _ => json_value(rng, 3, &mut out),
        }
    }
    out.push_str("}}");
    if rng.chance(10) {
        mutate(rng, &mut out);
    }
    out
}
