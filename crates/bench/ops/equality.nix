# == of two lists of 100,000 small sets, each built by genList.
let a = builtins.genList (x: { v = x; w = [ x ]; }) 100000; b = builtins.genList (x: { v = x; w = [ x ]; }) 100000; in a == b
