//! Outputs recorded from `nix-instantiate --eval` (Nix 2.8) for a spread of language
//! features and builtins, checked against `instantiate` with and without `--strict`.
//! The expressions avoid anything that depends on the machine (paths, environment).

use std::path::PathBuf;
use std::sync::Arc;

use nixweb_eval::{instantiate, InstantiateOptions, Source, StdIO};

fn run(expr: &str, strict: bool) -> (String, String, i32) {
    let out = instantiate(
        &InstantiateOptions {
            strict,
            ..InstantiateOptions::new(Source::Expr {
                text: expr.to_string(),
                base_dir: PathBuf::from("/nonexistent-base"),
            })
        },
        Arc::new(StdIO),
    );
    (out.stdout, out.stderr, out.exit_code)
}

/// (expression, output with --strict, output without).
const CASES: &[(&str, &str, &str)] = &[
    (
        r###"1 + 2 * 3 - 4 / 2"###,
        r###"5
"###,
        r###"5
"###,
    ),
    (
        r###"[ (1 / 2) (7 / -2) (1.0 / 4) (2 * 1.5) ]"###,
        r###"[ 0 -3 0.25 3 ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"9223372036854775807 + 1"###,
        r###"-9223372036854775808
"###,
        r###"-9223372036854775808
"###,
    ),
    (
        r###"(-9223372036854775807 - 2)"###,
        r###"9223372036854775807
"###,
        r###"9223372036854775807
"###,
    ),
    (
        r###""a${"b"}c${toString 12}""###,
        r###""abc12"
"###,
        r###""abc12"
"###,
    ),
    (
        r###"''
  indented
    more ${"x"}
  ''$ ''' ''\n
''"###,
        r###""indented\n  more x\n$ '' \n\n"
"###,
        r###""indented\n  more x\n$ '' \n\n"
"###,
    ),
    (
        r###""esc \" \\ \n \t \r $${x} ''""###,
        r###""esc \" \\ \n \t \r $\${x} ''"
"###,
        r###""esc \" \\ \n \t \r $\${x} ''"
"###,
    ),
    (
        r###"{ a = 1; b.c = 2; b.d = 3; "x y" = 4; }"###,
        r###"{ a = 1; b = { c = 2; d = 3; }; "x y" = 4; }
"###,
        r###"{ a = 1; b = <CODE>; "x y" = 4; }
"###,
    ),
    (
        r###"let x = 1; y = x + 1; in { inherit x y; }"###,
        r###"{ x = 1; y = 2; }
"###,
        r###"{ x = 1; y = <CODE>; }
"###,
    ),
    (
        r###"rec { a = b + 1; b = 2; }"###,
        r###"{ a = 3; b = 2; }
"###,
        r###"{ a = <CODE>; b = 2; }
"###,
    ),
    (
        r###"let s = { a = 1; }; in s // { b = 2; } // { a = 3; }"###,
        r###"{ a = 3; b = 2; }
"###,
        r###"{ a = 3; b = 2; }
"###,
    ),
    (
        r###"{ a = 1; }.b or "default""###,
        r###""default"
"###,
        r###""default"
"###,
    ),
    (
        r###"{ a.b = 1; } ? a.b"###,
        r###"true
"###,
        r###"true
"###,
    ),
    (
        r###"[ ({ a = 1; } ? b) (null == null) ([1 2] == [1 2]) ({ a = [1]; } == { a = [1]; }) ((x: x) == (x: x)) ]"###,
        r###"[ false true true true false ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"[ (1 < 2) ("a" < "b") ([1 2] < [1 3]) ([1] < [1 0]) (2.5 > 2) ]"###,
        r###"[ true true true true true ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"with { a = 1; b = 2; }; a + b"###,
        r###"3
"###,
        r###"3
"###,
    ),
    (
        r###"let a = 10; in with { a = 1; }; a"###,
        r###"10
"###,
        r###"10
"###,
    ),
    (
        r###"with { a = 1; }; with { a = 2; }; a"###,
        r###"2
"###,
        r###"2
"###,
    ),
    (
        r###"({ a, b ? a + 1, ... }@args: [ a b (builtins.attrNames args) ]) { a = 5; c = 0; }"###,
        r###"[ 5 6 [ "a" "c" ] ]
"###,
        r###"[ 5 <CODE> <CODE> ]
"###,
    ),
    (
        r###"let f = { __functor = self: x: x + self.n; n = 10; }; in f 5"###,
        r###"15
"###,
        r###"15
"###,
    ),
    (
        r###""${{ __toString = self: "ts"; }}${{ outPath = "/op"; }}""###,
        r###""ts/op"
"###,
        r###""ts/op"
"###,
    ),
    (
        r###"builtins.map (x: x * 2) [ 1 2 3 ]"###,
        r###"[ 2 4 6 ]
"###,
        r###"[ <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"builtins.filter (x: x > 1) [ 1 2 3 ]"###,
        r###"[ 2 3 ]
"###,
        r###"[ 2 3 ]
"###,
    ),
    (
        r###"builtins.foldl' (a: b: a + b) 0 [ 1 2 3 4 ]"###,
        r###"10
"###,
        r###"10
"###,
    ),
    (
        r###"builtins.sort (a: b: a > b) [ 3 1 2 5 4 ]"###,
        r###"[ 5 4 3 2 1 ]
"###,
        r###"[ 5 4 3 2 1 ]
"###,
    ),
    (
        r###"builtins.genList (i: i * i) 5"###,
        r###"[ 0 1 4 9 16 ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"builtins.concatStringsSep ", " [ "a" "b" "c" ]"###,
        r###""a, b, c"
"###,
        r###""a, b, c"
"###,
    ),
    (
        r###"builtins.replaceStrings [ "a" "b" ] [ "x" "yy" ] "abcab""###,
        r###""xyycxyy"
"###,
        r###""xyycxyy"
"###,
    ),
    (
        r###"builtins.match "a(b+)c(d)?" "abbbc""###,
        r###"[ "bbb" null ]
"###,
        r###"[ "bbb" null ]
"###,
    ),
    (
        r###"builtins.split "(,)" "a,b,c""###,
        r###"[ "a" [ "," ] "b" [ "," ] "c" ]
"###,
        r###"[ "a" [ "," ] "b" [ "," ] "c" ]
"###,
    ),
    (
        r###"builtins.substring 1 3 "abcdef""###,
        r###""bcd"
"###,
        r###""bcd"
"###,
    ),
    (
        r###"builtins.stringLength "hello""###,
        r###"5
"###,
        r###"5
"###,
    ),
    (
        r###"[ (builtins.compareVersions "1.2.3" "1.10") (builtins.compareVersions "2.0pre1" "2.0") (builtins.splitVersion "1.2a-3") ]"###,
        r###"[ -1 -1 [ "1" "2" "a" "3" ] ]
"###,
        r###"[ <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"builtins.parseDrvName "nix-2.8.0pre""###,
        r###"{ name = "nix"; version = "2.8.0pre"; }
"###,
        r###"{ name = "nix"; version = "2.8.0pre"; }
"###,
    ),
    (
        r###"builtins.attrNames { b = 1; a = 2; c = 3; }"###,
        r###"[ "a" "b" "c" ]
"###,
        r###"[ "a" "b" "c" ]
"###,
    ),
    (
        r###"builtins.attrValues { b = 1; a = 2; }"###,
        r###"[ 2 1 ]
"###,
        r###"[ 2 1 ]
"###,
    ),
    (
        r###"builtins.listToAttrs [ { name = "a"; value = 1; } { name = "a"; value = 2; } { name = "b"; value = 3; } ]"###,
        r###"{ a = 1; b = 3; }
"###,
        r###"{ a = 1; b = 3; }
"###,
    ),
    (
        r###"builtins.mapAttrs (n: v: n + toString v) { x = 1; y = 2; }"###,
        r###"{ x = "x1"; y = "y2"; }
"###,
        r###"{ x = <CODE>; y = <CODE>; }
"###,
    ),
    (
        r###"builtins.removeAttrs { a = 1; b = 2; c = 3; } [ "b" ]"###,
        r###"{ a = 1; c = 3; }
"###,
        r###"{ a = 1; c = 3; }
"###,
    ),
    (
        r###"builtins.intersectAttrs { a = 0; b = 0; } { b = 1; c = 2; }"###,
        r###"{ b = 1; }
"###,
        r###"{ b = 1; }
"###,
    ),
    (
        r###"builtins.catAttrs "a" [ { a = 1; } { b = 2; } { a = 3; } ]"###,
        r###"[ 1 3 ]
"###,
        r###"[ 1 3 ]
"###,
    ),
    (
        r###"builtins.zipAttrsWith (n: vs: vs) [ { a = 1; } { a = 2; b = 3; } ]"###,
        r###"{ a = [ 1 2 ]; b = [ 3 ]; }
"###,
        r###"{ a = <CODE>; b = <CODE>; }
"###,
    ),
    (
        r###"builtins.groupBy (x: if x > 2 then "big" else "small") [ 1 2 3 4 ]"###,
        r###"{ big = [ 3 4 ]; small = [ 1 2 ]; }
"###,
        r###"{ big = [ 3 4 ]; small = [ 1 2 ]; }
"###,
    ),
    (
        r###"builtins.partition (x: x > 2) [ 1 2 3 4 ]"###,
        r###"{ right = [ 3 4 ]; wrong = [ 1 2 ]; }
"###,
        r###"{ right = [ 3 4 ]; wrong = [ 1 2 ]; }
"###,
    ),
    (
        r###"builtins.toJSON { a = [ 1 2.5 "x" null true ]; b = { c = "d"; }; }"###,
        r###""{\"a\":[1,2.5,\"x\",null,true],\"b\":{\"c\":\"d\"}}"
"###,
        r###""{\"a\":[1,2.5,\"x\",null,true],\"b\":{\"c\":\"d\"}}"
"###,
    ),
    (
        r###"builtins.fromJSON ''{"a": [1, 2.5, "x", null, true], "b": {"c": "d"}}''"###,
        r###"{ a = [ 1 2.5 "x" null true ]; b = { c = "d"; }; }
"###,
        r###"{ a = [ 1 2.5 "x" null true ]; b = { c = "d"; }; }
"###,
    ),
    (
        r###"builtins.fromTOML ''
  a = 1
  [b]
  c = "d"
  e = [1, 2]
''"###,
        r###"{ a = 1; b = { c = "d"; e = [ 1 2 ]; }; }
"###,
        r###"{ a = 1; b = { c = "d"; e = [ 1 2 ]; }; }
"###,
    ),
    (
        r###"builtins.toXML { a = 1; b = [ "x" ]; }"###,
        r###""<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n    <attr name=\"a\">\n      <int value=\"1\" />\n    </attr>\n    <attr name=\"b\">\n      <list>\n        <string value=\"x\" />\n      </list>\n    </attr>\n  </attrs>\n</expr>\n"
"###,
        r###""<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n    <attr name=\"a\">\n      <int value=\"1\" />\n    </attr>\n    <attr name=\"b\">\n      <list>\n        <string value=\"x\" />\n      </list>\n    </attr>\n  </attrs>\n</expr>\n"
"###,
    ),
    (
        r###"builtins.tryEval (throw "x")"###,
        r###"{ success = false; value = false; }
"###,
        r###"{ success = false; value = false; }
"###,
    ),
    (
        r###"builtins.tryEval (assert false; 1)"###,
        r###"{ success = false; value = false; }
"###,
        r###"{ success = false; value = false; }
"###,
    ),
    (
        r###"builtins.functionArgs ({ a, b ? 1 }: a)"###,
        r###"{ a = false; b = true; }
"###,
        r###"{ a = false; b = true; }
"###,
    ),
    (
        r###"builtins.hashString "sha256" "hello""###,
        r###""2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
"###,
        r###""2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
"###,
    ),
    (
        r###"builtins.hashString "md5" "hello""###,
        r###""5d41402abc4b2a76b9719d911017c592"
"###,
        r###""5d41402abc4b2a76b9719d911017c592"
"###,
    ),
    (
        r###"builtins.toFile "hello.txt" "hello world""###,
        r###""/nix/store/m6wswa7yn6x5gi6gdq7x1fqlwmlhfja9-hello.txt"
"###,
        r###""/nix/store/m6wswa7yn6x5gi6gdq7x1fqlwmlhfja9-hello.txt"
"###,
    ),
    (
        r###"builtins.getContext "${builtins.toFile "a" "b"}""###,
        r###"{ "/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a" = { path = true; }; }
"###,
        r###"{ "/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a" = { path = true; }; }
"###,
    ),
    (
        r###"derivation { name = "hello"; builder = "/bin/sh"; system = "x86_64-linux"; args = [ "-c" "echo" ]; }"###,
        r###"{ all = [ «repeated» ]; args = [ "-c" "echo" ]; builder = "/bin/sh"; drvAttrs = { args = «repeated»; builder = "/bin/sh"; name = "hello"; system = "x86_64-linux"; }; drvPath = "/nix/store/6brzxgmln5d91jaakyqj5yyhwnsxn49f-hello.drv"; name = "hello"; out = «repeated»; outPath = "/nix/store/rvgxi9rn5xvl8awx2mvhwk91zm2h6ir2-hello"; outputName = "out"; system = "x86_64-linux"; type = "derivation"; }
"###,
        r###"{ all = <CODE>; args = <CODE>; builder = "/bin/sh"; drvAttrs = { args = <CODE>; builder = "/bin/sh"; name = "hello"; system = "x86_64-linux"; }; drvPath = <CODE>; name = "hello"; out = «repeated»; outPath = <CODE>; outputName = "out"; system = "x86_64-linux"; type = "derivation"; }
"###,
    ),
    (
        r###"(derivation { name = "multi"; builder = "/bin/sh"; system = "x86_64-linux"; outputs = [ "out" "dev" ]; }).dev.outPath"###,
        r###""/nix/store/hq3b99lz71gwfq6x8lqwg14hf929q0d2-multi-dev"
"###,
        r###""/nix/store/hq3b99lz71gwfq6x8lqwg14hf929q0d2-multi-dev"
"###,
    ),
    (
        r###"builtins.placeholder "out""###,
        r###""/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"
"###,
        r###""/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"
"###,
    ),
    (
        r###"[ (builtins.bitAnd 12 10) (builtins.bitOr 12 10) (builtins.bitXor 12 10) (builtins.ceil 1.5) (builtins.floor (-1.5)) ]"###,
        r###"[ 8 14 6 2 -2 ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"[ (builtins.elem 2 [ 1 2 ]) (builtins.elemAt [ 1 2 3 ] 1) (builtins.head [ 1 2 ]) (builtins.tail [ 1 2 ]) (builtins.length [ 1 2 3 ]) ]"###,
        r###"[ true 2 1 [ 2 ] 3 ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"builtins.concatMap (x: [ x x ]) [ 1 2 ]"###,
        r###"[ 1 1 2 2 ]
"###,
        r###"[ 1 1 2 2 ]
"###,
    ),
    (
        r###"builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: if x.key < 4 then [ { key = x.key + 1; } ] else []; }"###,
        r###"[ { key = 1; } { key = 2; } { key = 3; } { key = 4; } ]
"###,
        r###"[ { key = 1; } { key = 2; } { key = 3; } { key = 4; } ]
"###,
    ),
    (
        r###"[ (builtins.all (x: x > 0) [ 1 2 ]) (builtins.any (x: x > 1) [ 1 2 ]) ]"###,
        r###"[ true true ]
"###,
        r###"[ <CODE> <CODE> ]
"###,
    ),
    (
        r###"[ (toString true) (toString false) (toString null) (toString 1.5) (toString [ 1 [ 2 ] "a" ]) ]"###,
        r###"[ "1" "" "" "1.500000" "1 2 a" ]
"###,
        r###"[ <CODE> <CODE> <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"[ (builtins.baseNameOf "/a/b/c.nix") (builtins.dirOf "/a/b/c.nix") (builtins.dirOf "c") ]"###,
        r###"[ "c.nix" "/a/b" "." ]
"###,
        r###"[ <CODE> <CODE> <CODE> ]
"###,
    ),
    (
        r###"builtins.unsafeDiscardStringContext "${builtins.toFile "a" "b"}""###,
        r###""/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"
"###,
        r###""/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"
"###,
    ),
    (
        r###"let x = { a = 1; }; in [ x x ]"###,
        r###"[ { a = 1; } «repeated» ]
"###,
        r###"[ <CODE> <CODE> ]
"###,
    ),
    (
        r###"let x = { a = 1; b = x; }; in x"###,
        r###"{ a = 1; b = «repeated»; }
"###,
        r###"{ a = 1; b = «repeated»; }
"###,
    ),
    (
        r###"{ "if" = 1; "a-b" = 2; "1a" = 3; a' = 4; "" = 5; }"###,
        r###"{ "" = 5; "1a" = 3; a' = 4; a-b = 2; "if" = 1; }
"###,
        r###"{ "" = 5; "1a" = 3; a' = 4; a-b = 2; "if" = 1; }
"###,
    ),
    (
        r###"[ 0.1 1.0 1.0e20 1.5e-7 123456789.0 (0.1 + 0.2) 3.14159265 100000.0 1000000.0 ]"###,
        r###"[ 0.1 1 1e+20 1.5e-07 1.23457e+08 0.3 3.14159 100000 1e+06 ]
"###,
        r###"[ 0.1 1 1e+20 1.5e-07 1.23457e+08 <CODE> 3.14159 100000 1e+06 ]
"###,
    ),
    (
        r###"builtins.seq 1 2"###,
        r###"2
"###,
        r###"2
"###,
    ),
    (
        r###"builtins.deepSeq [ 1 2 ] 3"###,
        r###"3
"###,
        r###"3
"###,
    ),
    (
        r###"let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10000"###,
        r###"10000
"###,
        r###"10000
"###,
    ),
    (
        r###"(import <nix/fetchurl.nix> { url = "http://example.org/a.tar.gz"; sha256 = "0000000000000000000000000000000000000000000000000000"; }).outPath"###,
        r###""/nix/store/32p55m515z8rbxw04jg0nnrqj7vpmyg7-a.tar.gz"
"###,
        r###""/nix/store/32p55m515z8rbxw04jg0nnrqj7vpmyg7-a.tar.gz"
"###,
    ),
    (
        r###"let __nixPath = [ ]; in builtins.tryEval <nope>"###,
        r###"{ success = false; value = false; }
"###,
        r###"{ success = false; value = false; }
"###,
    ),
    (
        r###"{ a = x: x; b = builtins.map; c = builtins.map (x: x); }"###,
        r###"{ a = <LAMBDA>; b = <PRIMOP>; c = <PRIMOP-APP>; }
"###,
        r###"{ a = <CODE>; b = <CODE>; c = <CODE>; }
"###,
    ),
];

#[test]
fn matches_nix_instantiate_2_8() {
    let mut failures = Vec::new();
    for (expr, strict_out, lazy_out) in CASES {
        let (out, err, code) = run(expr, true);
        if out != *strict_out || code != 0 {
            failures.push(format!(
                "--strict {expr}\n  want {strict_out}  got {out}{err}"
            ));
        }
        let (out, err, code) = run(expr, false);
        if out != *lazy_out || code != 0 {
            failures.push(format!("lazy {expr}\n  want {lazy_out}  got {out}{err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
