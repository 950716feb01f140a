# Assorted corners that did not fit a topic.
rec { ${a} = 1; a = "x"; }
let a = "x"; in rec { ${a} = 1; b = x; }
let x = 1; in rec { inherit x; y = x + 1; }
rec { inherit x; x = 1; }
let x = 1; in rec { x = 2; inherit x; }
rec { a = { b = a; }; }.a.b ? b
0x10
1_000
007
builtins.elemAt [ 1 2 ] 1.0
builtins.genList (x: x) 2.0
builtins.seq (x: x) 1
builtins.deepSeq (x: throw "body not forced") 1
builtins.concatMap (x: x) [ 1 ]
builtins.mapAttrs (n: v: v) { f = { __functor = s: x: x; }; }
builtins.attrValues { c = 3; a = 1; b = 2; }
builtins.sort (a: b: throw "cmp") [ ]
builtins.sort (a: b: throw "cmp") [ 1 ]
builtins.sort (a: b: throw "cmp") [ 1 2 ]
builtins.sort builtins.lessThan (builtins.genList (i: 100 - i) 101) == builtins.genList (i: i) 101
builtins.length (builtins.attrNames (builtins.functionArgs ({ a, b, c ? 1, ... }: a)))
builtins.tryEval (builtins.path { path = ./data/hello.txt; sha256 = "0000000000000000000000000000000000000000000000000000"; })
builtins.path { path = ./data/hello.txt; sha256 = "0000000000000000000000000000000000000000000000000000"; }
builtins.replaceStrings [ "hello" ] [ "bye" ] (builtins.readFile ./data/hello.txt)
builtins.readFile ./data/hello.txt == "hello corpus\n"
builtins.stringLength (builtins.readFile ./data/hello.txt)
builtins.typeOf (builtins.readDir ./data).tree
(builtins.readDir ./data)."hello.txt"
builtins.attrNames (builtins.readDir ./data)
builtins.isAttrs (import ./data/tree)
let x = { a = 1; }; in x // x == x
let l = [ 1 2 ]; in l ++ l
let s = "a"; in s + s + s
builtins.head [ builtins.head ] [ 5 ]
(builtins.head [ builtins.head ]) [ 5 ]
builtins.all builtins.isInt [ 1 2 ]
builtins.map (builtins.add 1) [ 1 2 ]
builtins.foldl' builtins.add 0 [ 1 2 3 ]
builtins.foldl' (builtins.foldl' builtins.add) 0 [ [ 1 2 ] [ 3 ] ]
builtins.mapAttrs (_: builtins.length) { a = [ 1 ]; b = [ ]; }
builtins.filter (builtins.elem 1) [ [ 1 ] [ 2 ] [ 1 2 ] ]
builtins.listToAttrs (builtins.map (n: { name = n; value = builtins.stringLength n; }) [ "one" "three" ])
builtins.catAttrs "x" [ ]
builtins.catAttrs "x" [ 1 ]
builtins.intersectAttrs { } { a = 1; }
builtins.removeAttrs { } [ ]
builtins.removeAttrs { a = 1; } [ 1 ]
builtins.hasAttr 1 { }
builtins.getAttr "a" 1
{ a = 1; }.${null} or "no"
{ a = 1; } ? ${null}
with builtins; toString (map (x: x * 2) [ 1 2 ])
let self = { x = 1; y = self.x + 1; }; in self.y
builtins.typeOf (builtins.getEnv "NIXWEB_CORPUS_VAR")
builtins.tail (builtins.tail [ 1 2 ])
builtins.elem null [ null ]
builtins.elem (x: x) [ (x: x) ]
builtins.zipAttrsWith (n: vs: builtins.foldl' builtins.add 0 vs) [ { a = 1; } { a = 2; b = 3; } { b = 4; } ]
import ./data/hello.txt
import ./data
import ./data/tree/sub
import ./data/nope.nix
(import (./data + "/add.nix")) { y = 1; }
import (toString ./data/tree)
builtins.scopedImport { builtins = { length = _: 42; }; } ./data/tree/sub/attrs.nix
builtins.scopedImport { a = 1; } ./data/values.nix == import ./data/values.nix
let __nixPath = [ { prefix = "d"; path = toString ./data; } ]; in <d/hello.txt>
let __nixPath = [ { prefix = "d"; path = toString ./data; } ]; in builtins.readFile <d/hello.txt>
let __findFile = path: name: "found ${name}"; in <anything/here>
let __nixPath = [ ]; in <missing>
builtins.findFile [ { prefix = "x"; path = "/nonexistent"; } ] "x/y"
builtins.findFile [ { prefix = "a/b"; path = toString ./data; } ] "a/b/hello.txt"
builtins.findFile [ { path = toString ./data/tree; prefix = ""; } { path = toString ./data; prefix = ""; } ] "sub"
