# Integers, floats, arithmetic corners and number printing.
1 + 2 * 3 - 4 / 2
7 / 2
(-7 / 2)
7 / -2
7.0 / 2
1 / 0
1.0 / 0
1 / 0.0
0.0 / 0.0 == 0.0 / 0.0
9223372036854775807
(-9223372036854775807 - 1)
9223372036854775807 + 1
(-9223372036854775808)
9223372036854775807 * 2
(-9223372036854775807 - 1) / -1
9223372036854775808
0.1 + 0.2
1.5
1.0
100.0
1e10
1e-5
123456789.0
1234567.0
0.000001
1e21
1.5e300 * 1.5e300
(-0.0)
0.1
3.14159265358979
2.0 / 3
1 + 1.0
1 == 1.0
1 < 1.5
builtins.typeOf (1 + 1.0)
builtins.typeOf 1
builtins.typeOf 1.0
builtins.floor 2.7
builtins.ceil 2.1
builtins.floor (-2.5)
builtins.ceil (-2.5)
builtins.floor 3
builtins.div 7 2
builtins.div (-7) 2
builtins.div 7.5 2
builtins.mul 3 4
builtins.sub 1 10
builtins.add 1.5 1
builtins.lessThan 1 2
builtins.lessThan 2.5 2
builtins.bitAnd 12 10
builtins.bitOr 12 10
builtins.bitXor 12 10
builtins.bitAnd (-1) 255
builtins.fromJSON "1e2"
builtins.fromJSON "12"
builtins.fromJSON "-0"
builtins.fromJSON "1.0"
builtins.toJSON 1.0
builtins.toJSON 0.1
builtins.toJSON 1e100
builtins.toJSON (1.0 / 3)
builtins.toJSON 123456789012
toString 123456789012.5
toString 1.0e-7
toString 5.0e6
builtins.ceil 1e30
(-(-5))
(- 5)
(-(1.5))
5 - -5
2 - 3
builtins.isInt 1
builtins.isFloat 1
builtins.isFloat 1.
.5
1 < "a"
1 + true
builtins.div 1 0
builtins.div 1.0 0
1.0 / 0.0
builtins.floor (1.0 / 0)
00012
1.e2
1.2e+3
builtins.typeOf 1e3
9223372036854775807 * 9223372036854775807
(-9223372036854775807 - 1) * (-1)
(-9223372036854775807 - 1) - 1
4611686018427387904 * 2
4611686018427387904 * 4
builtins.add 9223372036854775807 1
builtins.sub (-9223372036854775807) 2
builtins.mul 3037000500 3037000500
builtins.div (-9223372036854775807 - 1) (-1)
builtins.bitXor (-1) 9223372036854775807
builtins.bitAnd 9223372036854775807 (-9223372036854775807 - 1)
builtins.toString 9223372036854775807
builtins.toJSON (-9223372036854775807 - 1)
builtins.fromJSON "-9223372036854775809"
builtins.fromJSON "18446744073709551615"
builtins.fromJSON "18446744073709551616"
builtins.toJSON 9.0e15
builtins.toJSON 1.0e16
builtins.toJSON 1.0e17
builtins.toJSON 0.000001
builtins.toJSON 0.0000001
builtins.toJSON (-0.0)
builtins.toJSON 2.5e-8
builtins.toJSON 1.7976931348623157e308
builtins.toJSON 2.2250738585072014e-308
