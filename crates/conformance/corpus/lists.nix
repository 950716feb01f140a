# Lists: construction, comparison, sort stability and the list builtins.
[ 1 2 3 ] ++ [ 4 ]
[ ] ++ [ ]
[ [ ] [ [ ] ] ]
[ (1 + 1) (x: x) ]
[ 1 "a" null true 1.5 { } [ ] ]
builtins.length [ ]
builtins.head [ 1 2 ]
builtins.head [ ]
builtins.tail [ 1 2 3 ]
builtins.tail [ ]
builtins.elemAt [ 1 2 3 ] 2
builtins.elemAt [ 1 2 3 ] 3
builtins.elemAt [ 1 2 3 ] (-1)
builtins.elem 2 [ 1 2 3 ]
builtins.elem [ 1 ] [ [ 1 ] ]
builtins.elem 1.0 [ 1 ]
builtins.genList (i: i * i) 5
builtins.genList (i: i) 0
builtins.genList (i: i) (-1)
builtins.map (x: x * 10) [ 1 2 3 ]
builtins.filter (x: x != null) [ 1 null 2 null ]
builtins.concatLists [ [ 1 ] [ ] [ 2 3 ] ]
builtins.concatLists [ 1 ]
builtins.concatMap (x: [ x x ]) [ 1 2 ]
builtins.foldl' (acc: x: acc + x) 0 [ 1 2 3 4 ]
builtins.foldl' (acc: x: acc ++ [ x ]) [ ] [ 1 2 3 ]
builtins.foldl' (acc: x: "${acc}${x}") "" [ "a" "b" "c" ]
builtins.foldl' (a: b: a) 0 [ ]
builtins.foldl' (a: b: a + b) 0 (builtins.genList (i: i) 100000)
builtins.any (x: x > 2) [ 1 2 3 ]
builtins.all (x: x > 0) [ ]
builtins.any (x: x) [ ]
builtins.sort builtins.lessThan [ 3 1 2 ]
builtins.sort (a: b: a > b) [ 3 1 2 ]
builtins.sort builtins.lessThan [ "b" "a" "B" "" ]
builtins.sort builtins.lessThan [ ]
builtins.sort (a: b: a.k < b.k) [ { k = 1; v = "a"; } { k = 0; v = "b"; } { k = 1; v = "c"; } { k = 0; v = "d"; } { k = 1; v = "e"; } ]
builtins.map (x: x.v) (builtins.sort (a: b: a.k < b.k) (builtins.genList (i: { k = builtins.bitAnd i 1; v = i; }) 20))
builtins.sort (a: b: false) [ 3 1 2 ]
builtins.sort (a: b: true) [ 1 2 ]
builtins.sort builtins.lessThan [ 1 "a" ]
builtins.partition (x: x > 2) [ 1 3 2 4 ]
builtins.groupBy (x: if x > 2 then "big" else "small") [ 1 3 2 4 ]
builtins.groupBy (x: x) [ ]
[ 1 2 ] == [ 1 2 ]
[ 1 2 ] == [ 2 1 ]
[ [ 1 ] ] == [ [ 1 ] ]
[ 1 ] == [ 1.0 ]
[ 1 2 ] < [ 1 3 ]
[ 1 2 ] < [ 1 2 3 ]
[ ] < [ 1 ]
[ 2 ] < [ 1 3 ]
[ 1 ] < [ "a" ]
[ [ 1 2 ] ] < [ [ 1 3 ] ]
[ 1 2 ] < [ 1 2 ]
[ 1 (throw "second never compared") ] < [ 2 0 ]
[ (x: x) ] == [ (x: x) ]
[ "a" ] < [ "b" ]
[ 1.5 ] < [ 2 ]
builtins.isList [ ]
builtins.listToAttrs (builtins.map (x: { name = x; value = x; }) [ "a" "b" ])
builtins.length (builtins.genList (x: x) 1000)
builtins.elemAt (builtins.genList (x: x * 2) 1000) 999
builtins.map (f: f 2) [ (x: x + 1) (x: x * 3) ]
builtins.head (builtins.tail (builtins.tail [ 1 2 3 ]))
builtins.tail [ 1 ]
builtins.filter (x: x) [ true 1 ]
builtins.map 1 [ 1 ]
builtins.length "abc"
