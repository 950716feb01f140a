# Laziness: unused values, even errors, are never forced.
let x = throw "unused"; in 1
let x = abort "unused"; in "fine"
(x: 42) (throw "arg never used")
builtins.length [ (throw "a") (throw "b") ]
builtins.attrNames { a = throw "a"; b = throw "b"; }
({ a, b ? throw "default unused" }: a) { a = 1; }
({ a, ... }: a) { a = 2; b = throw "extra unused"; }
(builtins.head [ 1 (throw "tail") ])
builtins.elemAt [ (throw "0") 5 ] 1
({ a = 1; b = throw "b"; }).a
builtins.hasAttr "b" { a = 1; b = throw "b"; }
{ a = 1; b = throw "b"; } ? b
if true then 1 else throw "else"
true || throw "rhs"
false && throw "rhs"
false -> throw "rhs"
builtins.seq 1 2
builtins.seq (throw "forced") 2
builtins.seq { a = throw "shallow"; } 3
builtins.deepSeq { a = throw "deep"; } 3
builtins.deepSeq [ 1 [ 2 (throw "nested") ] ] 4
builtins.length (builtins.map (x: throw "mapped") [ 1 2 3 ])
builtins.length (builtins.genList (i: throw "gen") 4)
builtins.attrNames (builtins.mapAttrs (n: v: throw n) { a = 1; b = 2; })
let xs = [ 1 (throw "x") 3 ]; in builtins.elemAt xs 2
let f = x: y: x; in f 1 (throw "y")
let r = rec { a = b; b = 1; c = throw "c"; }; in r.a
(builtins.tryEval (throw "caught")).success
builtins.tryEval (builtins.seq (throw "t") 1)
let loop = loop; in 1
let loop = loop; in loop
let a = { x = a.y; y = 1; }; in a.x
builtins.length (builtins.filter (x: x > 1) [ 1 2 3 ])
builtins.head (builtins.filter (x: x == 2) [ 1 2 (throw "after match") ])
builtins.foldl' (a: b: a) 0 [ 1 (throw "elem") ]
builtins.foldl' (a: b: b) 0 [ 1 2 3 ]
builtins.any (x: x) [ true (throw "short-circuit") ]
builtins.all (x: x) [ false (throw "short-circuit") ]
builtins.concatLists [ [ 1 ] [ (throw "lazy elem") ] ] == null
builtins.length (builtins.concatLists [ [ 1 ] [ (throw "lazy elem") ] ])
{ a = throw "printed"; }
[ 1 (throw "printed in list") ]
(import ./data/values.nix).twice
let s = builtins.trace "traced" 5; in s + 1
builtins.typeOf (x: throw "body")
builtins.functionArgs ({ a ? throw "d", b }: a)
(builtins.listToAttrs [ { name = "a"; value = throw "v"; } ]) ? a
builtins.attrNames (builtins.intersectAttrs { a = 1; } { a = throw "x"; b = 2; })
let v = { inherit (throw "from") a; }; in builtins.attrNames v
let v = { inherit (throw "from") a; }; in v.a
builtins.removeAttrs { a = throw "a"; b = 1; } [ "a" ]
assert true; 1
assert false; 1
assert 1 == 1 -> throw "implication forced"; 1
builtins.foldl' (a: b: b) 0 [ (throw "accumulator forced") 1 ]
builtins.foldl' (a: b: [ b ]) 0 [ (throw "inside list not forced") ]
builtins.foldl' (a: b: { x = b; }) 0 [ (throw "inside set not forced") ]
builtins.length (builtins.attrValues { a = throw "a"; })
builtins.attrNames (builtins.listToAttrs [ { name = "n"; value = throw "v"; } ])
builtins.listToAttrs [ { name = throw "name is forced"; value = 1; } ]
builtins.length (builtins.catAttrs "a" [ { a = throw "x"; } ])
builtins.elem 1 [ 1 (throw "after") ]
builtins.elem 2 [ 1 (throw "before match") 2 ]
builtins.length (builtins.partition (x: true) [ (throw "e") ]).right
(builtins.partition (x: x > 1) [ 1 2 ]).wrong
builtins.attrNames (builtins.groupBy (x: "k") [ (throw "value") ])
builtins.attrNames (builtins.zipAttrsWith (n: v: throw "f") [ { a = 1; } ])
builtins.length (builtins.genericClosure { startSet = [ { key = 1; extra = throw "extra"; } ]; operator = x: [ ]; })
builtins.concatStringsSep "" [ "a" (throw "every element forced") ]
builtins.length (builtins.sort (a: b: false) [ (throw "single element never compared") ])
builtins.typeOf (builtins.tryEval [ (throw "lazy element") ]).value
builtins.seq [ (throw "list elements not forced") ] "ok"
builtins.seq (x: throw "function body") "ok"
(let f = { a ? throw "default forced only if used" }: 1; in f { })
(let f = { a ? throw "default used" }: a; in f { })
builtins.head (builtins.map (x: x * 2) [ 1 (throw "not mapped") ])
builtins.length (builtins.filter (x: true) [ (throw "predicate ignores it") ])
builtins.length (builtins.filter (x: x) [ (throw "predicate forces it") ])
builtins.length (builtins.concatMap (x: [ x x ]) [ (throw "e") ])
builtins.length (builtins.tail [ (throw "head") 1 ])
({ a = throw "a"; } // { a = 1; }).a
(rec { a = throw "a"; b = 1; }).b
let inherit ({ a = throw "a"; b = 2; }) a b; in b
builtins.isAttrs { a = throw "a"; }
builtins.isList [ (throw "x") ]
builtins.typeOf (throw "typeOf forces")
builtins.functionArgs ({ a ? throw "not forced" }: a)
builtins.attrNames (builtins.functionArgs ({ a ? throw "x", b }: a))
builtins.toJSON [ 1 (throw "toJSON forces") ]
builtins.length (builtins.fromJSON "[1, 2]")
builtins.stringLength (builtins.toString [ 1 (throw "toString forces") ])
builtins.hasAttr "a" (builtins.mapAttrs (n: v: throw n) { a = 1; })
(builtins.mapAttrs (n: v: throw n) { a = 1; }) ? a
builtins.length (builtins.split "(a)" "xax")
builtins.head (builtins.genList (i: if i == 0 then "first" else throw "rest") 3)
