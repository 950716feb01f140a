# String literals, escapes, indented strings and interpolation.
"a\nb\tc\rd"
"quote \" backslash \\ dollar \$ brace \${x}"
"unknown escape \q \z"
"$"
"$$"
"$${x}"
"a$"
"${"nested ${"deeper"}"}"
"\${not interpolated}"
''plain''
''  leading spaces stripped  ''
''a''${b}''
''a''$b''
''x '''' y''
''tab\tnot escaped''
''escaped ''\t tab''
''escaped ''\n newline''
''escaped ''\\ backslash''
''dollar $ alone''
''dollar $$ twice''
''  ${"interp"}  ''
''${"a"}${"b"}''
builtins.stringLength ''x''
builtins.stringLength "\t"
"${toString 1}${toString 2.5}${toString true}${toString null}"
"${builtins.toString [ 1 "a" [ 2 ] ]}"
toString false
toString [ ]
toString [ null ]
toString [ true false ]
toString 1.0
toString 0.1
toString 1e20
toString (-0.5)
toString { outPath = "out"; }
toString { __toString = self: "custom"; }
"${{ __toString = self: "in interpolation"; }}"
"${{ outPath = "from outPath"; }}"
"${1}"
"${true}"
"${null}"
"${[ ]}"
"${./data/hello.txt}" != ""
"a" + "b"
"a" + ./data
./data + "/hello.txt"
builtins.typeOf (./data + "/hello.txt")
"x" + 1
1 + "x"
"ü"
builtins.stringLength "ü"
builtins.stringLength "日本"
"\u00e9"
builtins.toJSON "ü"
#>
"a\
b"
#<
#>
''
  first
    indented
  last
''
#<
#>
''
    only indented

''
#<
#>
''

  leading blank line kept?
''
#<
#>
''	tab counts as indentation?
''
#<
#>
''
    ends without newline''
#<
#>
''
  a
 b
''
#<
#>
''
  ${"x"}
    y
''
#<
#>
''
  line with trailing spaces   
  next''
#<
builtins.concatStringsSep "," (builtins.split "" "abc")
builtins.toString (builtins.stringLength "")
"interpolated list ${toString [ "a" "b" ]}"
let x = "v"; in ''${x} and ''${x}''
let x = "v"; in "${x}${x}"
#>
''a
b''
#<
#>
"multi
line"
#<
"crlf"
builtins.substring 0 1 "\n"
"${"a" + "b"}"
