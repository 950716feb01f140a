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
builtins.substring 0 9223372036854775807 "abc"
builtins.substring 9223372036854775807 1 "abc"
builtins.substring 1 (-5) "abc"
builtins.substring 0 (-1) ""
builtins.substring 3 0 "abc"
builtins.replaceStrings [ "é" ] [ "e" ] "café"
builtins.replaceStrings [ "" ] [ "é" ] "ab"
builtins.replaceStrings [ "ab" "b" ] [ "1" "2" ] "abbab"
builtins.replaceStrings [ "a" ] [ "${"b"}" ] "aaa"
builtins.hashString "sha256" "é"
builtins.hashString "md5" "\n"
builtins.toJSON "\u00e9"
builtins.toJSON "é\n☃"
builtins.toXML "é☃"
builtins.split "é" "aébéc"
builtins.stringLength "\r\n"
builtins.concatStringsSep "\n" [ "a" "b" ]
builtins.concatStringsSep "${"-"}" [ "a" "b" ]
toString [ [ [ ] ] ]
toString [ [ "a" ] [ ] "b" ]
toString [ null null ]
toString [ 1.5 true "x" ]
toString ./data + "/x"
"${./data}/x"
"prefix-${toString 1}-${builtins.typeOf 1}"
''${toString 1}''
''${"\n"}''
''a''\rb''
''a\rb''
''trailing ''
''  ''
''''
""
"${""}"
builtins.stringLength "${""}${""}"
"a" < "aa"
"Z" < "a"
"10" < "9"
builtins.sort builtins.lessThan [ "b" "aa" "a" "ab" "" "B" ]
builtins.match "(.*)" ""
builtins.elemAt (builtins.match "(.)(.)" "ab") 1
# issue 13 cause 1: a line that starts with ''' or ''\ still counts for the indentation
#>
''
  '''
    a
''
#<
#>
''
  ''\t
    a
''
#<
