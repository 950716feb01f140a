# String contexts: what carries them, what discards them, what they look like.
builtins.hasContext "plain"
builtins.hasContext "${./data/hello.txt}"
builtins.getContext "plain"
builtins.getContext "${./data/hello.txt}"
builtins.getContext (derivation { name = "c"; system = "s"; builder = "/b"; }).outPath
builtins.getContext (derivation { name = "c"; system = "s"; builder = "/b"; }).drvPath
builtins.getContext (derivation { name = "c"; system = "s"; builder = "/b"; outputs = [ "out" "dev" ]; }).dev.outPath
builtins.getContext "${derivation { name = "c"; system = "s"; builder = "/b"; }}-suffix"
builtins.hasContext (builtins.unsafeDiscardStringContext "${./data/hello.txt}")
builtins.getContext (builtins.unsafeDiscardOutputDependency (derivation { name = "c"; system = "s"; builder = "/b"; }).drvPath)
builtins.hasContext (builtins.substring 0 3 "${./data/hello.txt}")
builtins.hasContext (builtins.substring 0 0 "${./data/hello.txt}")
builtins.hasContext (toString ./data/hello.txt)
builtins.hasContext (builtins.toJSON { p = "${./data/hello.txt}"; })
builtins.hasContext (builtins.replaceStrings [ "a" ] [ "b" ] "${./data/hello.txt}")
builtins.hasContext (builtins.concatStringsSep "," [ "a" "${./data/hello.txt}" ])
builtins.attrNames (builtins.getContext ("${./data/hello.txt}" + "${./data/add.nix}"))
builtins.length (builtins.attrNames (builtins.getContext "${./data/hello.txt}${./data/hello.txt}"))
builtins.hasContext (builtins.toFile "f" "content")
builtins.toFile "f" "content"
builtins.toFile "with-ref" "${./data/hello.txt}"
builtins.toFile "bad/name" "x"
builtins.toFile "d" "${derivation { name = "c"; system = "s"; builder = "/b"; }}"
builtins.hasContext (builtins.unsafeDiscardStringContext (builtins.toFile "f" "x"))
builtins.getContext (builtins.appendContext "x" { })
builtins.getContext (builtins.appendContext "/nix/store/lfngsssysp6h1v4ccqg23c52s9sjl779-x" { "/nix/store/lfngsssysp6h1v4ccqg23c52s9sjl779-x" = { path = true; }; })
builtins.storePath "/nix/store/lfngsssysp6h1v4ccqg23c52s9sjl779-x"
"${./data/hello.txt}" == "${./data/hello.txt}"
builtins.unsafeDiscardStringContext "${./data/hello.txt}" == "${./data/hello.txt}"
builtins.attrNames { ${builtins.unsafeDiscardStringContext "${./data/hello.txt}"} = 1; }
builtins.attrNames { ${"${./data/hello.txt}"} = 1; }
builtins.match "(.*)" "${./data/hello.txt}"
builtins.hasContext (builtins.elemAt (builtins.match "(.*)" "${./data/hello.txt}") 0)
builtins.hasContext (builtins.head (builtins.split "-" "${./data/hello.txt}"))
builtins.hasContext (builtins.baseNameOf "${./data/hello.txt}")
builtins.hasContext (builtins.dirOf "${./data/hello.txt}")
let d = derivation { name = "m"; system = "s"; builder = "/b"; outputs = [ "out" "dev" ]; }; in builtins.getContext "${d.out}${d.dev}"
let d = derivation { name = "m"; system = "s"; builder = "/b"; }; in builtins.getContext "${d.drvPath}${d}"
let d = derivation { name = "m"; system = "s"; builder = "/b"; }; in builtins.getContext (builtins.appendContext "x" { ${d.drvPath} = { outputs = [ "out" ]; }; })
let d = derivation { name = "m"; system = "s"; builder = "/b"; }; in builtins.getContext (builtins.appendContext "x" { ${d.drvPath} = { allOutputs = true; }; })
builtins.appendContext "x" { "/not/a/store/path" = { path = true; }; }
builtins.getContext (builtins.toFile "a" "b")
builtins.getContext (builtins.toFile "ref" "${builtins.toFile "a" "b"}")
builtins.toFile "ref" "${builtins.toFile "a" "b"}"
builtins.getContext (builtins.storePath "/nix/store/lfngsssysp6h1v4ccqg23c52s9sjl779-x")
builtins.getContext (toString (derivation { name = "m"; system = "s"; builder = "/b"; }))
builtins.getContext (builtins.toJSON { d = derivation { name = "m"; system = "s"; builder = "/b"; }; })
builtins.hasContext (builtins.toXML "${./data/hello.txt}")
builtins.getContext (builtins.concatStringsSep "" (builtins.map (n: "${derivation { name = n; system = "s"; builder = "/b"; }}") [ "a" "b" ]))
builtins.getContext (builtins.substring 0 44 (derivation { name = "m"; system = "s"; builder = "/b"; }).outPath)
builtins.attrNames (builtins.getContext (builtins.unsafeDiscardOutputDependency (derivation { name = "m"; system = "s"; builder = "/b"; }).drvPath))
(derivation { name = "ctx"; system = "s"; builder = "/b"; x = builtins.unsafeDiscardStringContext "${./data/hello.txt}"; }).drvPath
(derivation { name = "ctx"; system = "s"; builder = "/b"; x = "${./data/hello.txt}"; }).drvPath
(derivation { name = "ctx"; system = "s"; builder = "/b"; x = builtins.unsafeDiscardOutputDependency (derivation { name = "m"; system = "s"; builder = "/b"; }).drvPath; }).drvPath
