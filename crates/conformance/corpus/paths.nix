# Paths: literals, normalisation, concatenation, and the path builtins.
./data
./data/
./data/../data/hello.txt
./data/./hello.txt
./data//hello.txt
/absolute/path
/a/b/../c
/a/./b
/.
/
builtins.typeOf ./data
./data + "/x"
./data + "x"
./data + "/../y"
./data + ./x
./data + /x
/x + "/y"
builtins.toString ./data
"${./data/tree/sub}"
builtins.baseNameOf ./data/hello.txt
builtins.baseNameOf "/a/b/"
builtins.baseNameOf "/a/b"
builtins.baseNameOf "a"
builtins.baseNameOf ""
builtins.baseNameOf "/"
builtins.dirOf ./data/hello.txt
builtins.dirOf "/a/b/"
builtins.dirOf "/a/b"
builtins.dirOf "a"
builtins.dirOf "/"
builtins.dirOf "a/b"
builtins.dirOf ""
builtins.pathExists ./data/hello.txt
builtins.pathExists ./data/nope
builtins.pathExists ./data/hello.txt/
builtins.pathExists "/"
builtins.readFile ./data/hello.txt
builtins.readFile ./data/nope
builtins.readFile ./data
builtins.readDir ./data/tree
builtins.readDir ./data/nope
import ./data/add.nix { y = 2; }
import ./data/tree
(import ./data/values.nix).n
builtins.typeOf (import ./data/values.nix).self
builtins.hashFile "sha256" ./data/hello.txt
builtins.hashFile "md5" ./data/hello.txt
builtins.hashFile "sha1" ./data/hello.txt
builtins.hashFile "sha512" ./data/hello.txt
builtins.hashFile "sha3" ./data/hello.txt
./data == ./data
./data == "${./data}"
./data == toString ./data
./data < ./data/hello.txt
builtins.isPath ./data
builtins.isPath "/data"
builtins.toPath "/a/../b"
builtins.toPath "relative"
<nixpkgs>
<nix/fetchurl.nix> != null
builtins.findFile [ { path = toString ./data; prefix = "d"; } ] "d/hello.txt"
builtins.findFile [ { path = toString ./data; prefix = ""; } ] "hello.txt"
builtins.findFile [ ] "missing"
builtins.nixPath
builtins.baseNameOf (builtins.path { path = ./data/hello.txt; })
builtins.path { path = ./data/hello.txt; name = "renamed"; }
builtins.path { path = ./data/tree; filter = p: t: t != "directory"; }
builtins.path { path = ./data/tree; }
builtins.filterSource (p: t: true) ./data/tree
"${./data/tree}"
~/x != null
builtins.readFile "/dev/null"
# issue 13 cause 8: interpolation in home paths
let x = "a"; in builtins.isPath ~/${x}
