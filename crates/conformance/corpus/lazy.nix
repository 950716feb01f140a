#! --eval
# Values printed without --strict: what shows of the parts never forced.
{ a = 1; b = 1 + 1; }
[ 1 (2 + 3) ]
{ f = x: x; }
let y = 123; in { x = y; }
let y = 1 + 1; in { x = y; }
# issue 13 cause 10: a variable bound to an evaluated value prints that value
rec { x = y; y = 123; }
rec { a = 1; b = a; c = b; }
let a = "s"; b = a; in { c = b; }
rec { p = q; q = r; r = [ 1 ]; }
