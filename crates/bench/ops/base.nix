# The baseline the others build on: a list of 1,000,000 integers made lazily by genList.
builtins.length (builtins.genList (x: x) 1000000)
