# builtins.toXML: every value type and escaping.
builtins.toXML 1
builtins.toXML "s"
builtins.toXML "<&>\"'"
builtins.toXML null
builtins.toXML true
builtins.toXML 1.5
builtins.toXML [ 1 "a" ]
builtins.toXML [ ]
builtins.toXML { }
builtins.toXML { b = 1; a = { c = [ null ]; }; }
builtins.toXML (x: x)
builtins.toXML ({ a, b ? 1 }: a)
builtins.toXML ({ a, ... }: a)
builtins.toXML (args@{ a }: a)
builtins.toXML ./data/hello.txt
builtins.toXML { outPath = "/o"; type = "derivation"; drvPath = "/d"; name = "n"; }
builtins.toXML { type = "derivation"; }
builtins.toXML "line\nbreak\ttab"
builtins.toXML "é"
builtins.toXML { a = throw "forced"; }
builtins.toXML [ { } [ ] "" ]
builtins.toXML { "k y" = 1; "<" = 2; }
builtins.toXML (builtins.derivation { name = "x"; system = "s"; builder = "/b"; })
