# A router-like workload, 20,000 times: calls with attrset pattern formals, a large `let`,
# selection, `//`, removeAttrs, intersectAttrs, functionArgs, elem, filter, attrNames,
# string interpolation and a JSON round trip per "request".
let
  inherit (builtins) attrNames elem filter functionArgs intersectAttrs removeAttrs length;
  methods = [ "GET" "HEAD" "POST" "PUT" "DELETE" "PATCH" "OPTIONS" ];
  isMethod = name: elem name methods;
  tree = {
    users = { GET = { params, query, ... }: { status = 200; body = "users ${query.page or "1"}"; }; ":id" = { GET = { params, ... }: { json = { id = params.id; }; }; }; };
    posts = { POST = req: { status = 201; }; GET = { method, path, ... }: { body = "${method} ${path}"; }; };
  };
  callWithRequest = f: req:
    let formals = functionArgs f;
    in if formals == { } then f req else f (intersectAttrs formals req);
  handle = { method, path, segments, headers ? { }, query ? { }, dbUrl ? null, ... }@request:
    let
      req0 = removeAttrs request [ "dbUrl" ] // { db = null; };
      seg0 = builtins.head segments;
      node = tree.${seg0} or { };
      names = filter (n: !(isMethod n)) (attrNames node);
      capture = filter (n: builtins.substring 0 1 n == ":") names;
      params = if builtins.length segments > 1 && capture != [ ] then { id = builtins.elemAt segments 1; } else { };
      child = if params != { } then node.${builtins.head capture} else node;
      leaf = child.${method} or null;
      req = req0 // { inherit params; };
      a1 = method; a2 = path; a3 = seg0; a4 = length segments; a5 = headers.host or "localhost";
      a6 = "${a5}${a2}"; a7 = a4 + 1; a8 = a7 * 2; a9 = a8 - a4; a10 = [ a1 a2 a3 ];
      b1 = { x = a1; y = a2; }; b2 = b1 // { z = a3; }; b3 = b2.z; b4 = b2 ? x; b5 = attrNames b2;
      b6 = removeAttrs b2 [ "x" ]; b7 = intersectAttrs { y = 1; } b2; b8 = length b5; b9 = elem "y" b5; b10 = b6.y;
      c1 = query.page or "1"; c2 = "page-${c1}"; c3 = builtins.stringLength c2; c4 = c3 + a9; c5 = [ c1 c2 ];
      c6 = if b9 then "yes" else "no"; c7 = "${c6}/${b3}"; c8 = b7.y; c9 = builtins.isAttrs b6; c10 = a10 ++ c5;
      d1 = { inherit a1 a2 a3; }; d2 = d1 // b1; d3 = attrNames d2; d4 = length d3; d5 = d4 + c4;
      response = if leaf == null then { status = 404; } else callWithRequest leaf req;
    in {
      inherit response;
      summary = "${method} ${path} ${toString d5} ${c7} ${c8} ${toString (length c10)} ${toString b4} ${toString b8}";
    };
  mkRequest = i: builtins.fromJSON (builtins.toJSON {
    method = if i / 3 * 3 == i then "POST" else "GET";
    path = "/users/${toString i}";
    segments = if i / 2 * 2 == i then [ "users" (toString i) ] else [ "posts" ];
    headers = { host = "example.org"; accept = "*/*"; };
    query = { page = toString (i / 7); };
    dbUrl = "http://localhost:1234";
  });
  results = builtins.genList (i: builtins.toJSON (handle (mkRequest i))) 20000;
in builtins.stringLength (builtins.concatStringsSep "\n" results)
