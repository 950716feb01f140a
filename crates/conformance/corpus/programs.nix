# Small programs in the style of nixpkgs' lib: many features working together.
#>
let
  foldr = op: nul: list:
    let len = builtins.length list;
        go = n: if n == len then nul else op (builtins.elemAt list n) (go (n + 1));
    in go 0;
in foldr (x: acc: [ x ] ++ acc) [ ] [ 1 2 3 ]
#<
#>
let
  fix = f: let x = f x; in x;
  extends = overlay: base: self: let super = base self; in super // overlay self super;
  base = self: { a = 1; b = self.a + 1; };
  overlay = self: super: { a = 10; c = super.b * 2; };
in fix (extends overlay base)
#<
#>
let
  mapAttrsRecursive = f: set:
    let recurse = path: builtins.mapAttrs (name: value:
          if builtins.isAttrs value then recurse (path ++ [ name ]) value
          else f (path ++ [ name ]) value);
    in recurse [ ] set;
in mapAttrsRecursive (path: v: builtins.concatStringsSep "." path + "=" + toString v) { a = { b = 1; c = { d = 2; }; }; e = 3; }
#<
#>
let
  optionalString = cond: s: if cond then s else "";
  optionals = cond: l: if cond then l else [ ];
in [ (optionalString true "yes") (optionalString false "no") ] ++ optionals false [ 1 ] ++ optionals true [ 2 ]
#<
#>
let
  range = first: last: if first > last then [ ] else builtins.genList (n: first + n) (last - first + 1);
  sum = builtins.foldl' (a: b: a + b) 0;
in { r = range 3 7; s = sum (range 1 100); empty = range 5 1; }
#<
#>
let
  splitString = sep: s: builtins.filter builtins.isString (builtins.split (builtins.replaceStrings [ "." ] [ "\\." ] sep) s);
in splitString "." "a.b..c"
#<
#>
let
  toUpper = builtins.replaceStrings
    (builtins.genList (i: builtins.substring i 1 "abcdefghijklmnopqrstuvwxyz") 26)
    (builtins.genList (i: builtins.substring i 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") 26);
in toUpper "Hello, World!"
#<
#>
let
  unique = list: builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ] list;
in unique [ 3 1 3 2 1 [ 1 ] [ 1 ] ]
#<
#>
let
  attrsToList = set: builtins.map (name: { inherit name; value = set.${name}; }) (builtins.attrNames set);
in builtins.listToAttrs (builtins.map (p: p // { value = p.value * 2; }) (attrsToList { x = 1; y = 2; }))
#<
#>
let
  pkgs = rec {
    hello = { name = "hello"; deps = [ libc ]; };
    libc = { name = "libc"; deps = [ ]; };
    app = { name = "app"; deps = [ hello libc ]; };
  };
  closure = builtins.genericClosure {
    startSet = [ { key = pkgs.app.name; pkg = pkgs.app; } ];
    operator = item: builtins.map (d: { key = d.name; pkg = d; }) item.pkg.deps;
  };
in builtins.map (i: i.key) closure
#<
#>
let
  drv = derivation {
    name = "hello-2.12";
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [ "-c" "echo hi > $out" ];
    src = ./data/hello.txt;
  };
in { inherit (drv) name outPath drvPath; parsed = builtins.parseDrvName drv.name; }
#<
#>
let
  versions = [ "1.10" "1.2" "1.2pre1" "1.2.1" "2" "1.2a" ];
in builtins.sort (a: b: builtins.compareVersions a b < 0) versions
#<
#>
let
  escapeShellArg = arg: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString arg) + "'";
in builtins.map escapeShellArg [ "plain" "it's" 42 ]
#<
#>
let
  counter = n: { value = n; next = counter (n + 1); };
  take = k: s: if k == 0 then [ ] else [ s.value ] ++ take (k - 1) s.next;
in take 5 (counter 10)
#<
#>
let
  config = builtins.fromJSON ''{"port": 8080, "hosts": ["a", "b"], "tls": {"enabled": false}}'';
  render = c: ''
    listen ${toString c.port};
    ${builtins.concatStringsSep "\n" (builtins.map (h: "server_name ${h};") c.hosts)}
    tls ${if c.tls.enabled then "on" else "off"};
  '';
in render config
#<
#>
let
  table = builtins.fromTOML ''
    [server]
    port = 8080
    [[server.routes]]
    path = "/"
    [[server.routes]]
    path = "/api"
  '';
in builtins.map (r: r.path) table.server.routes
#<
#>
let
  isEven = n: if n == 0 then true else isOdd (n - 1);
  isOdd = n: if n == 0 then false else isEven (n - 1);
in [ (isEven 100) (isOdd 7) ]
#<
#>
let
  attrs = { c = 3; a = 1; b = 2; };
in builtins.foldl' (acc: name: acc + name + "=" + toString attrs.${name} + ";") "" (builtins.attrNames attrs)
#<
#>
let
  xml = builtins.toXML { list = [ 1 "two" ]; flag = true; };
in builtins.stringLength xml > 0 && builtins.match ".*<bool value=\"true\" />.*" xml != null
#<
#>
let
  lib = import ./data/values.nix;
  f = { n, twice, ... }: n + twice;
in f lib
#<
