# Type errors from builtins: the first line of each message.
builtins.length 1
builtins.length { }
builtins.attrNames [ ]
builtins.attrValues "s"
builtins.head 1
builtins.head { }
builtins.tail "abc"
builtins.elemAt { } 0
builtins.elemAt [ 1 ] "0"
builtins.map 1 [ ]
builtins.map (x: x) 1
builtins.filter 1 [ 1 ]
builtins.filter (x: true) { }
builtins.foldl' 1 0 [ 1 ]
builtins.foldl' (a: b: a) 0 1
builtins.genList 1 2
builtins.genList (x: x) "2"
builtins.sort 1 [ 1 2 ]
builtins.sort builtins.lessThan 1
builtins.concatLists 1
builtins.concatMap (x: 1) [ 1 ]
builtins.any 1 [ 1 ]
builtins.all (x: 1) [ 1 ]
builtins.listToAttrs 1
builtins.listToAttrs [ 1 ]
builtins.listToAttrs [ { name = 1; value = 1; } ]
builtins.removeAttrs 1 [ ]
builtins.removeAttrs { } 1
builtins.intersectAttrs 1 { }
builtins.catAttrs 1 [ ]
builtins.functionArgs 1
builtins.mapAttrs 1 { a = 1; }
builtins.mapAttrs (n: v: v) 1
builtins.hasAttr "a" 1
builtins.getAttr 1 { }
builtins.substring "a" 1 "x"
builtins.substring 0 "1" "x"
builtins.stringLength [ ]
builtins.match 1 "a"
builtins.split "a" 1
builtins.replaceStrings "a" "b" "c"
builtins.replaceStrings [ 1 ] [ "b" ] "c"
builtins.concatStringsSep 1 [ ]
builtins.concatStringsSep "," 1
builtins.hashString "sha256" 1
builtins.hashString 1 "a"
builtins.compareVersions 1 "a"
builtins.splitVersion 1
builtins.parseDrvName 1
builtins.fromJSON 1
builtins.fromTOML 1
builtins.toFile 1 "a"
builtins.toFile "a" 1
builtins.getEnv 1
builtins.readFile 1
builtins.pathExists 1
builtins.dirOf 1
builtins.baseNameOf 1
builtins.toPath 1
builtins.readDir "relative"
builtins.abort { }
builtins.throw [ ]
builtins.genericClosure 1
builtins.genericClosure { startSet = 1; operator = x: [ ]; }
builtins.genericClosure { startSet = [ ]; }
builtins.genericClosure { startSet = [ 1 ]; operator = x: [ ]; }
builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: 1; }
builtins.add "a" 1
builtins.sub "a" "b"
builtins.mul [ ] 1
builtins.div 1 "a"
builtins.lessThan { } 1
builtins.bitAnd 1.5 1
builtins.floor "1"
builtins.ceil null
builtins.isFunction
builtins.typeOf
builtins.seq
builtins.groupBy 1 [ 1 ]
builtins.groupBy (x: 1) [ 1 ]
builtins.partition 1 [ 1 ]
builtins.zipAttrsWith 1 [ { a = 1; } ]
builtins.zipAttrsWith (n: v: v) [ 1 ]
builtins.elem 1 1
builtins.unsafeDiscardStringContext 1
builtins.hasContext 1
builtins.getContext 1
builtins.placeholder 1
builtins.derivation 1
derivation { name = 1; system = "s"; builder = "/b"; }
builtins.scopedImport 1 ./data/add.nix
builtins.findFile 1 "a"
builtins.path 1
builtins.path { }
builtins.toXML
1 + null
null + 1
[ ] + [ ]
{ } + { }
./data + 1
1 - "a"
"a" * 2
[ 1 ] ++ 1
1 ++ [ 1 ]
{ } // 1
1 // { }
1.5 - true
