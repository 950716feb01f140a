# builtins.tryEval: which errors it catches and how deep it forces.
builtins.tryEval 1
builtins.tryEval (throw "x")
builtins.tryEval (assert false; 1)
builtins.tryEval (abort "abort is not caught")
builtins.tryEval { a = throw "not forced"; }
builtins.tryEval [ (throw "not forced") ]
builtins.tryEval (builtins.deepSeq { a = throw "forced"; } 1)
builtins.tryEval ({ }.missing)
builtins.tryEval (1 + "a")
builtins.tryEval (builtins.head [ ])
builtins.tryEval (let x = x; in x)
builtins.tryEval (builtins.tryEval (throw "inner"))
(builtins.tryEval (throw "x")).value
builtins.tryEval (x: x)
builtins.tryEval (builtins.fromJSON "{")
builtins.tryEval (import ./data/does-not-exist.nix)
builtins.tryEval (builtins.readFile ./data/hello.txt)
builtins.tryEval (builtins.elemAt [ 1 ] 5)
builtins.tryEval (builtins.substring (-1) 1 "abc")
builtins.tryEval ((x: x) 1 2)
builtins.tryEval ({ a }: a) { }
builtins.tryEval (({ a }: a) { })
builtins.tryEval (({ a }: a) { a = 1; b = 2; })
builtins.tryEval (builtins.toJSON (x: x))
builtins.tryEval (throw "${toString 42}")
builtins.tryEval (builtins.addErrorContext "ctx" (throw "e"))
builtins.tryEval (builtins.seq (throw "s") 1)
builtins.tryEval null
builtins.tryEval "str"
builtins.tryEval (1 / 0)
builtins.tryEval (builtins.getAttr "x" { })
builtins.tryEval (builtins.fromTOML "a = ")
builtins.tryEval (builtins.match "(" "")
builtins.map (x: (builtins.tryEval x).success) [ 1 (throw "a") 2 ]
let r = builtins.tryEval (throw "a"); in if r.success then r.value else "fallback"
builtins.tryEval (builtins.foldl' (a: b: a + b) 0 [ 1 2 (throw "mid") ])
throw "uncaught"
throw 42
throw { a = 1; }
abort "aborted"
abort 1
builtins.throw "via builtins"
(builtins.tryEval (throw "a")).success || true
builtins.tryEval (builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: throw "op"; })
