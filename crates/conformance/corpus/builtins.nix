# Assorted builtins: types, conversions, hashing, versions, strings.
builtins.typeOf null
builtins.typeOf true
builtins.typeOf "s"
builtins.typeOf [ ]
builtins.typeOf { }
builtins.typeOf ./data
builtins.isNull null
builtins.isBool false
builtins.isString "${./data/hello.txt}"
builtins.hashString "sha256" ""
builtins.hashString "sha256" "abc"
builtins.hashString "md5" "abc"
builtins.hashString "sha1" "abc"
builtins.hashString "sha512" "abc"
builtins.hashString "crc32" "abc"
builtins.compareVersions "1.0" "1.0"
builtins.compareVersions "1.0" "1.1"
builtins.compareVersions "1.10" "1.9"
builtins.compareVersions "1.0pre" "1.0"
builtins.compareVersions "1.0a" "1.0"
builtins.compareVersions "1.0" "1.0.0"
builtins.compareVersions "2.3-rc1" "2.3"
builtins.compareVersions "a" "b"
builtins.compareVersions "1" "a"
builtins.compareVersions "" "0"
builtins.compareVersions "1.0pre1" "1.0pre2"
builtins.compareVersions "pre" ""
builtins.compareVersions "01" "1"
builtins.compareVersions "1_2" "1.2"
builtins.splitVersion "1.2.3"
builtins.splitVersion "1.2a3-rc1"
builtins.splitVersion ""
builtins.splitVersion "..a..1"
builtins.splitVersion "2.3pre4"
builtins.splitVersion "1_2-3.4"
builtins.substring 0 3 "hello"
builtins.substring 1 100 "hello"
builtins.substring 5 1 "hello"
builtins.substring 6 1 "hello"
builtins.substring 2 0 "hello"
builtins.substring 2 (-1) "hello"
builtins.substring (-1) 2 "hello"
builtins.substring 0 1 ""
builtins.substring 0 2 "é"
builtins.substring 0 1 "é"
builtins.substring 1 2 1
builtins.stringLength ""
builtins.stringLength 1
builtins.replaceStrings [ "a" ] [ "b" ] "banana"
builtins.replaceStrings [ "an" "a" ] [ "AN" "A" ] "banana"
builtins.replaceStrings [ "a" "an" ] [ "A" "AN" ] "banana"
builtins.replaceStrings [ "" ] [ "-" ] "abc"
builtins.replaceStrings [ "" ] [ "-" ] ""
builtins.replaceStrings [ "b" "" ] [ "B" "-" ] "abc"
builtins.replaceStrings [ ] [ ] "same"
builtins.replaceStrings [ "a" ] [ ] "a"
builtins.replaceStrings [ "aa" ] [ "a" ] "aaaa"
builtins.replaceStrings [ "x" ] [ "xx" ] "xx"
builtins.replaceStrings [ "a" "b" ] [ "b" "a" ] "ab"
builtins.replaceStrings [ "." ] [ "\\." ] "a.b"
builtins.concatStringsSep ", " [ "a" "b" "c" ]
builtins.concatStringsSep ", " [ ]
builtins.concatStringsSep ", " [ "only" ]
builtins.concatStringsSep "" [ "a" "b" ]
builtins.concatStringsSep "," [ 1 2 ]
builtins.concatStringsSep "," [ ./data/hello.txt ]
builtins.concatStringsSep "," [ "" "" ]
builtins.toString 42
builtins.toString "already"
builtins.getEnv "NIXWEB_CORPUS_VAR"
builtins.getEnv "NIXWEB_NO_SUCH_VAR"
builtins.langVersion
builtins.isString builtins.currentSystem
builtins.attrNames { inherit (builtins) true false null; }
builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: if x.key < 5 then [ { key = x.key + 1; } ] else [ ]; }
builtins.genericClosure { startSet = [ { key = 3; } { key = 1; } { key = 3; } ]; operator = x: [ ]; }
builtins.genericClosure { startSet = [ { key = "a"; v = 1; } ]; operator = x: [ { key = "a"; v = 2; } { key = "b"; v = 3; } ]; }
builtins.genericClosure { startSet = [ ]; operator = throw "never"; }
builtins.genericClosure { startSet = [ { nokey = 1; } ]; operator = x: [ ]; }
builtins.genericClosure { startSet = [ { key = 1; } { key = "1"; } ]; operator = x: [ ]; }
builtins.genericClosure { startSet = [ { key = [ 1 2 ]; } { key = [ 1 2 ]; } { key = [ 1 3 ]; } ]; operator = x: [ ]; }
builtins.length (builtins.genericClosure { startSet = [ { key = 0; } ]; operator = x: if x.key < 99 then [ { key = x.key + 1; } { key = x.key; } ] else [ ]; })
builtins.fromJSON (builtins.unsafeDiscardStringContext "1")
builtins.stringLength (builtins.hashString "sha256" "x")
builtins.addErrorContext "context" 1
builtins.addErrorContext "context" (throw "with context")
builtins.trace "to stderr" "value"
builtins.trace { a = 1; } 2
builtins.fetchClosure or "absent"
builtins.unsafeGetAttrPos "a" { a = 1; }
builtins.unsafeGetAttrPos "b" { a = 1; }
builtins.elemAt (builtins.attrNames builtins) 0
builtins.length (builtins.attrNames builtins) > 50
builtins ? fetchGit
builtins ? nonexistent
builtins.toString builtins.true
__add 1 2
__typeOf 1
builtins.mapAttrs (n: v: builtins.typeOf v) { inherit (builtins) map true null; }
# issue 13 cause 2: map, genList and mapAttrs do not force their function argument
builtins.length (map (throw "f") [ ])
builtins.genList (throw "f") 0
builtins.mapAttrs (throw "f") { }
builtins.tryEval (builtins.length (map (throw "f") [ 1 ]))
# issue 13 cause 3: foldl' does not force the initial accumulator
builtins.foldl' (a: b: b) (throw "initial") [ 1 ]
# issue 13 cause 4: replaceStrings forces every replacement
builtins.replaceStrings [ "a" ] [ (throw "replacement") ] "b"
# issue 13 cause 6: a trailing slash leaves an empty base name
baseNameOf "a//"
# issue 13 cause 7: split keeps the empty match at the end
builtins.split "(.*)" "abc"
# issue 13 cause 12: a mapAttrs result has no attribute positions
builtins.unsafeGetAttrPos "a" (builtins.mapAttrs (n: v: v) { a = 1; })
