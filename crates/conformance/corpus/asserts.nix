# assert failures print the condition back as Nix 2.8's expression printer shows it.
assert false; 1
assert 1 == 2; 1
assert 1 != 1; 1
assert !true; 1
assert true && false; 1
assert false || false; 1
assert false -> false; 1
let x = 1; in assert x < 0; 1
let x = 1; in assert x <= 0; 1
let x = 1; in assert x > 1; 1
let x = 1; in assert x >= 2; 1
assert { a = false; }.a; 1
assert { a = 1; }.b or false; 1
assert { a = 1; } ? b; 1
assert { a = 1; } ? a.b; 1
assert [ 1 ] == [ 2 ]; 1
assert [ ] == [ 1 "a" ]; 1
assert { } == { a = 1; }; 1
assert "a" == "b"; 1
assert "a${"b"}" == "c"; 1
assert ''x'' == "y"; 1
assert 1 + 1 == 3; 1
assert 2 * 3 - 1 == 4; 1
assert 6 / 2 == 4; 1
assert [ 1 ] ++ [ 2 ] == [ ]; 1
assert { a = 1; } // { b = 2; } == { }; 1
assert (x: x) 1 == 2; 1
assert builtins.isString 1; 1
assert builtins.elem 3 [ 1 2 ]; 1
assert let y = 1; in y == 2; 1
assert with { z = false; }; z; 1
assert if true then false else true; 1
assert rec { a = false; }.a; 1
assert null == 1; 1
assert 1.5 == 2; 1
assert (-1) == 1; 1
assert ./data == ./other; 1
assert ({ a ? 1, ... }: false) { }; 1
assert (assert true; false); 1
assert "${toString 1}" == "2"; 1
assert { a.b = 1; }.a.b == 2; 1
assert { ${"dyn"} = false; }.dyn; 1
assert builtins.true == false; 1
assert __typeOf 1 == "string"; 1
assert "\n\t\"\\$" == ""; 1
assert (let inherit ({ q = false; }) q; in q); 1
assert <nix/fetchurl.nix> == ./x; 1
assert "x" + "y" == "z"; 1
assert - 1 == 1; 1
assert !(1 == 1); 1
