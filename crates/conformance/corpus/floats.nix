# Float literals and printing (Nix prints floats with up to 6 significant digits in
# --eval output, toString uses %f, toJSON uses shortest round-trip form).
1.0e10
1.0e-5
1.0e21
1.0e15
1.0e16
1.5e300 * 1.5e300
(-1.5e300) * 1.5e300
1.0e300 * 1.0e300 - 1.0e300 * 1.0e300
1.0e-320
1.0e-400
2.5e-3
0.000123456789
123456.7
1234567.8
999999.9
9999999.0
0.1 * 3
1.0 / 3.0
2.0 / 3.0
100.0 / 7.0
toString (1.0 / 3.0)
toString 1.0e-10
toString 1.0e10
toString 123456789.123
builtins.toJSON (1.0 / 3.0)
builtins.toJSON 1.0e-3
builtins.toJSON 1.0e10
builtins.toJSON 1.0e21
builtins.toJSON 5.0e-324
builtins.toJSON (1.5e300 * 1.5e300)
builtins.floor 1.0e18
builtins.floor 1.0e19
builtins.ceil (-0.5)
builtins.floor (-0.0)
0.1 + 0.2 == 0.3
0.5 + 0.25 == 0.75
1.0 == 1
builtins.typeOf 1.0e3
1.0e3 + 1
builtins.div 1.0e3 3
builtins.fromJSON "1.0e3"
builtins.fromJSON "2.5E-1"
builtins.toXML 0.1
builtins.toXML (1.0 / 3.0)
[ 1.0 2.50 0.125 ]
builtins.sort builtins.lessThan [ 2.5 1 1.5 (-1.0e10) ]
builtins.lessThan 1 1.0
1 + 0.5 * 2
1.0e2 == 100
