# builtins.toJSON and builtins.fromJSON edge cases.
builtins.toJSON { b = 1; a = [ true false null ]; c = "s"; }
builtins.toJSON [ ]
builtins.toJSON { }
builtins.toJSON "quote \" backslash \\ newline \n tab \t"
builtins.toJSON "\r \u0001"
builtins.toJSON "control ${builtins.fromJSON ''"\u0001\u001f"''}"
builtins.toJSON "slash /"
builtins.toJSON "unicode é ☃ 😀"
builtins.toJSON 1.5
builtins.toJSON (-3)
builtins.toJSON 1e-3
builtins.toJSON 1.0e30
builtins.toJSON 3.0
builtins.toJSON (x: x)
builtins.toJSON { f = x: x; }
builtins.toJSON { outPath = "/out"; other = 1; }
builtins.toJSON { __toString = self: "str"; }
builtins.toJSON ./data/hello.txt
builtins.toJSON { a = { b = { c = [ 1 [ 2 ] ]; }; }; }
builtins.toJSON null
builtins.toJSON true
builtins.toJSON { "" = 1; "a b" = 2; }
builtins.fromJSON "{}"
builtins.fromJSON "[]"
builtins.fromJSON ''{"b": 1, "a": 2}''
builtins.fromJSON ''{"a": 1, "a": 2}''
builtins.fromJSON ''"\u00e9\n\t\"\\\/"''
builtins.fromJSON ''"\ud83d\ude00"''
builtins.fromJSON "true"
builtins.fromJSON "null"
builtins.fromJSON " [ 1 , 2 ] "
builtins.fromJSON "1.5"
builtins.fromJSON "-1.5e-3"
builtins.fromJSON "1E3"
builtins.fromJSON "9223372036854775807"
builtins.fromJSON "9223372036854775808"
builtins.fromJSON "-9223372036854775808"
builtins.fromJSON "0.1"
builtins.fromJSON "1.0"
builtins.fromJSON "[1, 2,]"
builtins.fromJSON "{"
builtins.fromJSON ""
builtins.fromJSON "01"
builtins.fromJSON "'a'"
builtins.fromJSON "[1] x"
builtins.fromJSON "NaN"
builtins.fromJSON ''{"a": {"b": [null, {"c": false}]}}''
builtins.fromJSON (builtins.toJSON { x = [ 1 2.5 "s" null true ]; })
builtins.fromJSON (builtins.toJSON "round ✓ trip")
builtins.toJSON (builtins.fromJSON "1.25")
builtins.toJSON [ 0.1 0.2 0.30000000000000004 ]
builtins.toJSON 100000000000000000000.0
builtins.toJSON 123456.789
builtins.toJSON (1.0 / 3.0 * 3.0)
builtins.fromJSON ''"\u0000"''
builtins.fromJSON ''{"a":1}''.a
builtins.typeOf (builtins.fromJSON "1.0")
builtins.typeOf (builtins.fromJSON "1")
builtins.toJSON (builtins.fromJSON "1e400")
builtins.fromJSON "  "
builtins.fromJSON "\"unterminated"
builtins.toJSON { a = throw "forced by toJSON"; }
builtins.toJSON [ (builtins.tryEval 1) ]
builtins.toJSON { p = ./data/hello.txt; }
builtins.toJSON [ ./data/tree ]
builtins.toJSON { d = derivation { name = "j"; system = "s"; builder = "/b"; }; }
builtins.toJSON { outPath = ./data/hello.txt; }
builtins.toJSON { __toString = s: 1; }
builtins.toJSON (builtins.fromJSON "\"\\u007f\\u0080\"")
builtins.toJSON "\u{1F600}"
builtins.toJSON (builtins.fromJSON ''"\ud83d\ude00"'')
builtins.fromJSON ''"\ud800"''
builtins.fromJSON ''"\x"''
builtins.fromJSON ''{"a":1,}''
builtins.fromJSON ''{"a" 1}''
builtins.fromJSON ''{1:2}''
builtins.fromJSON "[[[[[[[[[[1]]]]]]]]]]"
builtins.length (builtins.fromJSON (builtins.concatStringsSep "" (builtins.genList (_: "[") 200 ++ builtins.genList (_: "]") 200)))
builtins.fromJSON "-"
builtins.fromJSON "1."
builtins.fromJSON ".5"
builtins.fromJSON "1e5"
builtins.fromJSON "-1E-2"
builtins.fromJSON "true false"
builtins.fromJSON "tru"
builtins.fromJSON "\"a\nb\""
builtins.fromJSON "\"tab\there\""
builtins.fromJSON "\t[ 1 ]\n"
builtins.toJSON { a = 1; } == builtins.toJSON { a = 1; }
builtins.toJSON [ { b = 1; a = 2; } ]
builtins.toJSON (builtins.attrNames { b = 1; a = 2; })
