# derivation: store paths, outputs, attribute handling and errors.
(derivation { name = "a"; system = "x86_64-linux"; builder = "/bin/sh"; }).outPath
(derivation { name = "a"; system = "x86_64-linux"; builder = "/bin/sh"; }).drvPath
(derivation { name = "a"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo" ]; }).outPath
(derivation { name = "a"; system = "x86_64-linux"; builder = "/bin/sh"; extra = 1; list = [ 1 "a" ]; b = true; n = null; }).drvPath
(derivation { name = "multi"; system = "s"; builder = "/b"; outputs = [ "out" "dev" "doc" ]; }).dev.outPath
(derivation { name = "multi"; system = "s"; builder = "/b"; outputs = [ "out" "dev" ]; }).outputs
(derivation { name = "multi"; system = "s"; builder = "/b"; outputs = [ "bin" "out" ]; }).outputName
(derivation { name = "multi"; system = "s"; builder = "/b"; outputs = [ "bin" "out" ]; }).outPath
builtins.attrNames (derivation { name = "a"; system = "s"; builder = "/b"; })
(derivation { name = "a"; system = "s"; builder = "/b"; }).type
(derivation { name = "a"; system = "s"; builder = "/b"; }).all
derivation { name = "a"; system = "s"; builder = "/b"; }
toString (derivation { name = "a"; system = "s"; builder = "/b"; })
"${derivation { name = "a"; system = "s"; builder = "/b"; }}"
(derivation { name = "dep"; system = "s"; builder = "/b"; src = derivation { name = "in"; system = "s"; builder = "/b"; }; }).outPath
(derivation { name = "file-dep"; system = "s"; builder = "/b"; src = ./data/hello.txt; }).drvPath
(derivation { name = "fixed"; system = "s"; builder = "/b"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat"; outputHashAlgo = "sha256"; }).outPath
(derivation { name = "fixed"; system = "s"; builder = "/b"; outputHash = "0000000000000000000000000000000000000000000000000000"; outputHashAlgo = "sha256"; outputHashMode = "recursive"; }).outPath
(derivation { name = "fixed"; system = "s"; builder = "/b"; outputHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; outputHashAlgo = "sha256"; }).outPath
(derivation { name = "fixed"; system = "s"; builder = "/other"; outputHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; outputHashAlgo = "sha256"; }).outPath
(derivation { name = "fixed"; system = "s"; builder = "/b"; outputHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; outputHashAlgo = "sha256"; }).drvPath
(derivation { name = "json"; system = "s"; builder = "/b"; __structuredAttrs = true; x = [ 1 ]; }).drvPath
(derivation { name = "ign"; system = "s"; builder = "/b"; __ignoreNulls = true; n = null; }).drvPath
(derivation { name = "ign"; system = "s"; builder = "/b"; }).drvPath
derivation { name = "bad name!"; system = "s"; builder = "/b"; }
(derivation { name = "bad name!"; system = "s"; builder = "/b"; }).outPath
(derivation { system = "s"; builder = "/b"; }).outPath
(derivation { name = "a"; builder = "/b"; }).outPath
(derivation { name = "a"; system = "s"; }).outPath
(derivation { name = "a"; system = "s"; builder = "/b"; outputs = [ ]; }).outPath
(derivation { name = "a"; system = "s"; builder = "/b"; outputs = [ "out" "out" ]; }).outPath
(derivation { name = "a"; system = "s"; builder = "/b"; x = x: x; }).outPath
(derivation { name = "a"; system = "s"; builder = "/b"; x = { }; }).outPath
(derivation { name = "a"; system = "s"; builder = "/b"; x = 1.5; }).drvPath
(derivation { name = "a"; system = "s"; builder = "/b"; x = { outPath = "o"; }; }).drvPath
builtins.isAttrs (derivation { name = "a"; system = "s"; builder = "/b"; })
(derivation { name = "a"; system = "s"; builder = "/b"; }) == (derivation { name = "a"; system = "s"; builder = "/b"; })
builtins.parseDrvName "hello-2.10"
builtins.parseDrvName "hello-world-1.0pre"
builtins.parseDrvName "nodigits"
builtins.parseDrvName "a-1-b-2"
builtins.parseDrvName "-1"
builtins.placeholder "out"
builtins.placeholder "dev"
builtins.storeDir
builtins.unsafeDiscardStringContext (derivation { name = "a"; system = "s"; builder = "/b"; }).drvPath
(derivation { name = "a-1.0"; system = "s"; builder = "/b"; }).name
(derivationStrict { name = "s"; system = "s"; builder = "/b"; })
