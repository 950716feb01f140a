# The nixweb router: the one place where a request meets an app's route tree.
#
# Every engine evaluates this file, so route resolution cannot differ between them.
# It is called with
#   appFile     the app's entry file (a string holding an absolute path)
#   requestFile a JSON file holding the request attrset (see docs/app-contract.md)
#   mode        "handle" (resolve and run one request) or "routes" (list the route table)
# and returns a value made only of JSON-representable data: the engine serialises it and
# nixweb's Rust side checks it (crates/app/src/outcome.rs).
{ appFile, requestFile, mode ? "handle" }:

let
  inherit (builtins)
    attrNames concatLists elem filter functionArgs head intersectAttrs isAttrs isFunction
    isPath isString length substring tail typeOf;

  request = builtins.fromJSON (builtins.readFile requestFile);

  methods = [ "GET" "HEAD" "POST" "PUT" "DELETE" "PATCH" "OPTIONS" ];
  isMethod = name: elem name methods;

  # Attribute names that capture URL segments: ":name" takes one, ":...name" the rest.
  isRestCapture = name: substring 0 4 name == ":...";
  isOneCapture = name: substring 0 1 name == ":" && !(isRestCapture name);
  captureName = name: if isRestCapture name then substring 4 (-1) name else substring 1 (-1) name;

  isCallable = v: isFunction v || (isAttrs v && v ? __functor);

  # Call an app function the way callPackage does: a function with formals gets only the
  # attributes it names; a plain `req: …` function gets the whole request.
  callWithRequest = f: req:
    let formals = if isFunction f then functionArgs f else { };
    in if formals == { } then f req else f (intersectAttrs formals req);

  routeTree = app:
    let tree = if isCallable app then callWithRequest app request else app;
    in if isAttrs tree then tree
       else throw "nixweb: the app must evaluate to a route tree (an attribute set), or to a function returning one, but it gave a ${typeOf tree}";

  hasMethods = node: builtins.any isMethod (attrNames node);
  childNames = node: filter (name: !(isMethod name)) (attrNames node);

  # Find the node for `segments`, trying exact names first, then ":name" captures (in name
  # order), then ":...name" captures (which take one or more segments). Returns null or
  # { node; params; }. Backtracks, so /a/x finds ":p".x even when an exact `a` exists.
  resolve = node: segments: params:
    if segments == [ ] then
      (if hasMethods node then { inherit node params; } else null)
    else
      let
        segment = head segments;
        rest = tail segments;
        names = childNames node;
        exact =
          if !(isMethod segment) && node ? ${segment} && isAttrs node.${segment}
          then resolve node.${segment} rest params
          else null;
        tryCaptures = candidates:
          if candidates == [ ] then null
          else
            let
              name = head candidates;
              child = node.${name};
              found =
                if !(isAttrs child) then null
                else if isRestCapture name then
                  (if hasMethods child then { node = child; params = params // { ${captureName name} = segments; }; } else null)
                else resolve child rest (params // { ${captureName name} = segment; });
            in if found != null then found else tryCaptures (tail candidates);
      in
      if exact != null then exact
      else tryCaptures (filter isOneCapture names ++ filter isRestCapture names);

  allowedMethods = node:
    let defined = filter (m: node ? ${m}) methods;
    in defined
      ++ (if node ? GET && !(node ? HEAD) then [ "HEAD" ] else [ ])
      ++ (if node ? OPTIONS then [ ] else [ "OPTIONS" ]);

  responseKeys = [ "status" "headers" "body" "json" "file" "redirect" ];

  # Reduce what a handler returned to plain data. Paths become strings here, on purpose:
  # serialising a path would copy it into the Nix store.
  describeResponse = r:
    if isString r then { kind = "string"; body = r; }
    else if isPath r then { kind = "path"; file = toString r; }
    else if isAttrs r then
      {
        kind = "attrs";
        unknown = filter (k: !(elem k responseKeys)) (attrNames r);
        status = r.status or null;
        headers = r.headers or { };
        present = filter (k: r ? ${k}) [ "body" "json" "file" "redirect" ];
        body = r.body or null;
        json = r.json or null;
        file = if r ? file && (isPath r.file || isString r.file) then toString r.file else r.file or null;
        redirect = r.redirect or null;
      }
    else { kind = "invalid"; type = typeOf r; };

  handle = tree:
    let
      found = resolve tree request.segments { };
      node = found.node;
      method = request.method;
      leafName =
        if node ? ${method} then method
        else if method == "HEAD" && node ? GET then "GET"
        else null;
      leaf = node.${leafName};
      req = request // { params = found.params; };
    in
    if found == null then { outcome = "notFound"; }
    else if leafName == null then
      (if method == "OPTIONS"
       then { outcome = "options"; allow = allowedMethods node; }
       else { outcome = "methodNotAllowed"; allow = allowedMethods node; })
    else {
      outcome = "response";
      response = describeResponse (if isCallable leaf then leaf req else leaf);
    };

  # The route table: one row per node that has methods.
  routes = tree:
    let
      walk = node: prefix:
        let
          here = if hasMethods node then [ { pattern = if prefix == "" then "/" else prefix; methods = allowedMethods node; } ] else [ ];
          below = concatLists (map
            (name:
              let child = node.${name};
              in if isAttrs child && !(isCallable child) then walk child "${prefix}/${name}" else [ ])
            (childNames node));
        in here ++ below;
    in { outcome = "routes"; routes = walk tree ""; };

  tree = routeTree (import appFile);
in
if mode == "routes" then routes tree
else if mode == "handle" then handle tree
else throw "nixweb router: unknown mode ${mode}"
