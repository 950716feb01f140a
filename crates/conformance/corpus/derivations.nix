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
(derivation { name = "env"; system = "s"; builder = "/b"; text = "quote \" backslash \\ newline \n tab \t unicode é"; }).drvPath
(derivation { name = "paf"; system = "s"; builder = "/b"; passAsFile = [ "big" ]; big = "content"; }).drvPath
(derivation { name = "sha1"; system = "s"; builder = "/b"; outputHashAlgo = "sha1"; outputHash = "a9993e364706816aba3e25717850c26c9cd0d89d"; }).outPath
(derivation { name = "rec"; system = "s"; builder = "/b"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"; }).outPath
(derivation { name = "sri"; system = "s"; builder = "/b"; outputHash = "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="; }).outPath
(derivation { name = "sri"; system = "s"; builder = "/b"; outputHash = "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="; }).outPath
(derivation { name = "bad"; system = "s"; builder = "/b"; outputHash = "nothex"; outputHashAlgo = "sha256"; }).outPath
(derivation { name = "bad"; system = "s"; builder = "/b"; outputHash = "abc"; }).outPath
(derivation { name = "mode"; system = "s"; builder = "/b"; outputHashMode = "weird"; outputHash = "a9993e364706816aba3e25717850c26c9cd0d89d"; outputHashAlgo = "sha1"; }).outPath
(derivation { name = "refs"; system = "s"; builder = "/b"; allowedReferences = [ ]; }).drvPath
(derivation { name = "use-dev"; system = "s"; builder = "/b"; dep = (derivation { name = "m"; system = "s"; builder = "/b"; outputs = [ "out" "dev" ]; }).dev; }).drvPath
(derivation { name = "ph"; system = "s"; builder = "/b"; args = [ (builtins.placeholder "out") ]; }).drvPath
(derivation { name = "dir-src"; system = "s"; builder = "/b"; src = ./data/tree; }).drvPath
(derivation { name = "two-deps"; system = "s"; builder = "/b"; a = derivation { name = "x"; system = "s"; builder = "/b"; }; b = derivation { name = "y"; system = "s"; builder = "/b"; }; }).drvPath
(derivation { name = "fod-dep"; system = "s"; builder = "/b"; src = derivation { name = "fixed"; system = "s"; builder = "/b"; outputHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; outputHashAlgo = "sha256"; }; }).drvPath
(derivation { name = "builder-drv"; system = "s"; builder = derivation { name = "sh"; system = "s"; builder = "/b"; }; }).drvPath
(derivation { name = "a"; system = "s"; builder = "/b"; args = [ 1 true null 1.5 ]; }).drvPath
(derivation { name = "a"; system = "s"; builder = "/b"; args = [ [ "nested" ] ]; }).drvPath
(derivation { name = "empty-out"; system = "s"; builder = "/b"; outputs = [ "" ]; }).outPath
(derivation { name = "drv"; system = "s"; builder = "/b"; outputs = [ "drv" ]; }).outPath
builtins.length (builtins.attrNames (derivation { name = "a"; system = "s"; builder = "/b"; outputs = [ "out" "lib" ]; }))
(derivation { name = "a"; system = "s"; builder = "/b"; outputs = [ "out" "lib" ]; }).lib.outputName
(derivation { name = "a"; system = "s"; builder = "/b"; outputs = [ "out" "lib" ]; }).lib.lib.out.outputName
builtins.unsafeDiscardOutputDependency "plain"
(derivation { name = "toolong-${builtins.concatStringsSep "" (builtins.genList (x: "abcdefghij") 22)}"; system = "s"; builder = "/b"; }).outPath
(derivation { name = ".dot"; system = "s"; builder = "/b"; }).outPath
(derivation { name = "a"; system = "s"; builder = "/b"; __structuredAttrs = true; nested = { x = [ 1 { y = null; } ]; }; }).outPath
# issue 13 cause 9: derivationStrict type-checks __contentAddressed and __impure
builtins.derivationStrict { name = "a"; system = "x"; builder = "/b"; __contentAddressed = "yes"; }
builtins.derivationStrict { name = "a"; system = "x"; builder = "/b"; __impure = 1; }
