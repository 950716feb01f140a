# Attribute sets: update, rec, dynamic and nested attributes, inherit, ordering.
{ a = 1; } // { b = 2; }
{ a = 1; b = 1; } // { a = 2; }
{ a = { x = 1; }; } // { a = { y = 2; }; }
{ } // { }
({ a = 1; } // { a = throw "right wins lazily"; }) ? a
builtins.attrNames ({ z = 1; a = 2; } // { m = 3; })
{ b = 1; a = 2; c = 3; }
{ "b c" = 1; "" = 2; "a.b" = 3; }
{ a.b.c = 1; }
{ a.b = 1; a.c = 2; }
{ a = { b = 1; }; a.c = 2; }
{ a.c = 2; a = { b = 1; }; }
{ a = 1; a = 2; }
{ a.b = 1; a.b = 2; }
{ ${"dyn"} = 1; }
{ "${"dyn"}" = 1; }
let k = "key"; in { ${k} = 1; "${k}2" = 2; }
{ ${null} = 1; }
{ ${null} = 1; a = 2; }
{ ${"a"} = 1; a = 2; }
{ a = 1; ${"a"} = 2; }
{ ${1} = 1; }
{ x.${"y"}.z = 1; }
let n = "b"; in { a = 1; b = 2; }.${n}
let n = "b"; in { a = 1; b = 2; } ? ${n}
{ a = 1; }."a"
{ a = 1; }.${"a"}
rec { a = 1; ${"b"} = 2; }
rec { x = 1; y = { z = x; }; }
rec { a.b = 1; c = a.b + 1; }
let x = 1; in { inherit x; }
let x = 1; y = 2; in { inherit x y; }
{ inherit ({ a = 1; b = 2; }) a b; }
{ inherit (builtins) true; }.true
let a = { b = 1; }; in { inherit (a) b; c = 2; }
{ a = 1; inherit ({ a = 2; }) a; }
{ a = 1; }.a.b
{ a = 1; }.b
{ a.b = 1; }.a.c
{ } ? a.b
{ a = 1; } ? a.b
{ a.b = 1; } ? a.b
{ a = { }; } ? a
1 ? a
builtins.attrNames { b = 1; a = 2; B = 3; _ = 4; "1" = 5; }
builtins.attrValues { b = 1; a = 2; }
builtins.getAttr "a" { a = 3; }
builtins.getAttr "b" { a = 3; }
builtins.hasAttr "a" { a = 3; }
builtins.removeAttrs { a = 1; b = 2; c = 3; } [ "a" "c" "missing" ]
builtins.intersectAttrs { a = 0; b = 0; } { b = 2; c = 3; }
builtins.catAttrs "a" [ { a = 1; } { b = 2; } { a = 3; } ]
builtins.listToAttrs [ { name = "a"; value = 1; } { name = "a"; value = 2; } ]
builtins.listToAttrs [ { name = "b"; value = 1; } { name = "a"; value = 2; } ]
builtins.listToAttrs [ { name = "a"; } ]
builtins.listToAttrs [ { value = 1; } ]
builtins.mapAttrs (name: value: name + toString value) { a = 1; b = 2; }
builtins.mapAttrs (n: v: v * 2) { }
builtins.zipAttrsWith (name: values: values) [ { a = 1; } { a = 2; b = 3; } ]
builtins.zipAttrsWith (name: values: builtins.length values) [ ]
builtins.isAttrs { }
builtins.length (builtins.attrNames (builtins.listToAttrs (builtins.genList (i: { name = toString i; value = i; }) 100)))
builtins.attrNames (builtins.listToAttrs (builtins.genList (i: { name = toString i; value = i; }) 12))
{ a = 1; } == { a = 1; }
{ a = 1; } == { a = 1; b = 2; }
{ a = 1; b = 2; } == { b = 2; a = 1; }
{ a = x: x; } == { a = x: x; }
let f = x: x; in { a = f; } == { a = f; }
let s = { a = x: x; }; in s == s
({ a = 1; } // { b = 2; }).b
builtins.attrNames (rec { a = 1; b = a; } // { c = 3; })
let s = { x = 1; __overrides = { x = 2; }; }; in s.x
rec { x = 1; __overrides = { x = 2; }; y = x; }.y
{ __functor = self: x: x + 1; } 41
{ outPath = "/foo"; type = "derivation"; }
{ a = { b = { c = { }; }; }; }
{ "with space".x = 1; }
builtins.attrNames { a = 1; "a" = 2; }
{ a = { b = 1; }; a = { c = 2; }; }
{ a = { b = 1; }; a.c.d = 2; }
{ a.b.c = 1; a.b.d = 2; a.e = 3; }
{ a.b = 1; a = { b = 2; }; }
{ a = rec { b = 1; }; a.c = 2; }
{ a = rec { b = 1; c = b; }; a.d = 3; }
{ a = { b = 1; c = b; }; }
{ ${"a"}.b = 1; a.c = 2; }
{ a.${"b"} = 1; a.c = 2; }
{ a.${"b"} = 1; a.${"b"} = 2; }
let b = "x"; in { a.${b}.c = 1; a.${b}.d = 2; }
rec { a.b = 1; c = a; }
rec { a = { b = c; }; c = 1; a.d = c; }
{ inherit ({ x = 1; }) x; x.y = 2; }
let x = { y = 1; }; in { inherit x; x.z = 2; }
{ a = 1; } // { a.b = 2; }
{ a.b = 1; }.a // { c = 2; }
({ a = { b = 1; }; } // { a = { c = 2; }; }).a
builtins.attrNames { z.a = 1; a.z = 1; m = 1; }
{ "a.b".c = 1; }
{ a."b.c" = 1; }
{ a = { }; a.b = 1; }
{ a.b = { }; a.b.c = 1; }
{ a = let x = 1; in { b = x; }; a.c = 2; }
{ a = with { }; { b = 1; }; a.c = 2; }
{ a = import ./data/tree/sub/attrs.nix; a.b = 2; }
