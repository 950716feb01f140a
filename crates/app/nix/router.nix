# The nixweb router: the one place where a request meets an app's route tree.
#
# Every engine evaluates this file, so route resolution cannot differ between them.
# It is called with
#   appFile     the app's entry file (a string holding an absolute path)
#   requestFile a JSON file { request = the request attrset (docs/app-contract.md);
#               dbUrl = where to read state over HTTP, or null; }
#   mode        "handle" (resolve and run one request), "routes" (list the route table),
#               "route" (say which handler the request goes to and where it is defined,
#               without running it: for error messages) or "node" (the methods and child
#               names of the node the request's segments name, exactly: for listing the
#               routes of an app whose table fails as a whole, one node at a time), or
#               "error" (the app's own page for request.error, docs/web.md)
#   dbPrimops   optional { get; list; } reading the request's state snapshot; without it,
#               state is read over HTTP from the request file's dbUrl (the Nix engine's way)
# and returns a value made only of JSON-representable data: the engine serialises it and
# nixweb's Rust side checks it (crates/app/src/outcome.rs).
#
# Without requestFile it returns `request: mode: …` instead, for engines that keep their
# evaluator between requests: everything here that does not depend on the request (these
# definitions, the imported app, a route tree that is not a function) is then evaluated
# once, not once per request.
{ appFile
, requestFile ? null
, mode ? "handle"
, dbPrimops ? null
}:

let
  inherit (builtins)
    attrNames concatLists concatStringsSep elem elemAt filter functionArgs genList head
    intersectAttrs isAttrs isFunction isList isPath isString length mapAttrs substring tail
    typeOf;

  # State (docs/state.md): reads go through req.db, writes come back in the response.
  checkKey = key:
    if isString key && builtins.match "[!-~]{1,512}" key != null then key
    else throw "nixweb: a state key must be 1 to 512 printable ASCII characters without spaces, not ${builtins.toJSON key}";
  listSpec = spec:
    let s = if isString spec then { prefix = spec; } else spec;
    in {
      prefix = s.prefix or "";
      after = if s.after or null == null then null else checkKey s.after;
      limit = s.limit or 100;
    };
  dbOverHttp = base:
    let
      encode = builtins.replaceStrings [ "%" "&" "#" "+" "?" "=" "\"" "<" ">" "\\" "^" "`" "{" "|" "}" ]
        [ "%25" "%26" "%23" "%2B" "%3F" "%3D" "%22" "%3C" "%3E" "%5C" "%5E" "%60" "%7B" "%7C" "%7D" ];
      fetchJSON = url: builtins.fromJSON (builtins.readFile (builtins.fetchurl { inherit url; name = "nixweb-state-read"; }));
    in {
      get = key: fetchJSON "${base}/get?key=${encode (checkKey key)}";
      list = spec:
        let s = listSpec spec;
        in fetchJSON ("${base}/list?prefix=${encode s.prefix}&limit=${toString s.limit}"
          + (if s.after == null then "" else "&after=${encode s.after}"));
    };
  dbFromPrimops = p: {
    get = key: p.get (checkKey key);
    list = spec: let s = listSpec spec; in p.list s.prefix s.after s.limit;
  };
  noDb = {
    get = _: throw "nixweb: this request has no state: no database is configured";
    list = _: throw "nixweb: this request has no state: no database is configured";
  };
  primopsDb = if dbPrimops != null then dbFromPrimops dbPrimops else null;
  dbAt = dbUrl:
    if primopsDb != null then primopsDb
    else if dbUrl != null then dbOverHttp dbUrl
    else noDb;

  methods = [ "GET" "HEAD" "POST" "PUT" "DELETE" "PATCH" "OPTIONS" ];
  methodSet = builtins.listToAttrs (map (name: { inherit name; value = true; }) methods);
  isMethod = name: methodSet ? ${name};

  # Attribute names that capture URL segments: ":name" takes one, ":...name" the rest.
  isRestCapture = name: substring 0 4 name == ":...";
  captureName = name: if isRestCapture name then substring 4 (-1) name else substring 1 (-1) name;

  isCallable = v: isFunction v || (isAttrs v && v ? __functor);

  # Call an app function the way callPackage does: a function with formals gets only the
  # attributes it names; a plain `req: …` function gets the whole request.
  # Given the function alone, it returns the function to call with the request, so the
  # formals are looked at once.
  callWithRequest = f:
    let formals = if isFunction f then functionArgs f else { };
    in if formals == { } then f else req: f (intersectAttrs formals req);

  checkTree = tree:
    if isAttrs tree then tree
    else throw "nixweb: the app must evaluate to a route tree (an attribute set), or to a function returning one, but it gave a ${typeOf tree}";

  hasMethods = node: intersectAttrs methodSet node != { };
  childNames = node: filter (name: !(isMethod name)) (attrNames node);

  # Find the node for `segments`, trying exact names first, then ":name" captures (in name
  # order), then ":...name" captures (which take one or more segments). Returns null or
  # { node; params; taken; } (`taken`: the attribute names taken, for the route's pattern).
  # Backtracks, so /a/x finds ":p".x even when an exact `a` exists.
  resolve = node: segments: params: taken:
    if segments == [ ] then
      (if hasMethods node then { inherit node params taken; } else null)
    else
      let
        segment = head segments;
        rest = tail segments;
        exactChild = if methodSet ? ${segment} then null else node.${segment} or null;
        exact = if isAttrs exactChild then resolve exactChild rest params (taken ++ [ segment ]) else null;
        tryCaptures = candidates:
          if candidates == [ ] then null
          else
            let
              name = head candidates;
              child = node.${name};
              found =
                if !(isAttrs child) then null
                else if isRestCapture name then
                  (if hasMethods child then { node = child; params = params // { ${captureName name} = segments; }; taken = taken ++ [ name ]; } else null)
                else resolve child rest (params // { ${captureName name} = segment; }) (taken ++ [ name ]);
            in if found != null then found else tryCaptures (tail candidates);
        # Capture names start with ":", which no method name does: one pass over the
        # names, with no call per name for what is not a capture.
        captures = filter (name: substring 0 1 name == ":") (attrNames node);
      in
      if exact != null then exact
      else tryCaptures (filter (name: !(isRestCapture name)) captures ++ filter isRestCapture captures);

  allowedMethods = node:
    let defined = filter (m: node ? ${m}) methods;
    in defined
      ++ (if node ? GET && !(node ? HEAD) then [ "HEAD" ] else [ ])
      ++ (if node ? OPTIONS then [ ] else [ "OPTIONS" ]);

  responseKeys = [ "status" "headers" "body" "json" "file" "redirect" "folder" "db" "cookies" "session" ];

  # A value bound for the state store must be plain data; say where it is not.
  storable = where: v:
    if isFunction v || (isAttrs v && v ? __functor) then throw "nixweb: ${where} is a function, which cannot be stored"
    else if isPath v then throw "nixweb: ${where} is a path, which cannot be stored (store toString of it)"
    else if isAttrs v then
      (if v.type or null == "derivation" then throw "nixweb: ${where} is a derivation, which cannot be stored"
       else mapAttrs (name: storable "${where}.${name}") v)
    else if isList v then genList (i: storable "${where}.${toString i}" (elemAt v i)) (length v)
    else v;

  describeWrites = w:
    let unknown = filter (k: k != "set" && k != "delete") (attrNames w);
    in
    if !(isAttrs w) then throw "nixweb: db must be { set = { KEY = VALUE; }; delete = [ KEY ]; }, not ${typeOf w}"
    else if unknown != [ ] then throw "nixweb: db has unknown attribute(s) ${concatStringsSep ", " unknown}; it takes set and delete"
    else if !(isAttrs (w.set or { })) then throw "nixweb: db.set must be an attribute set of keys to values"
    else if !(isList (w.delete or [ ])) then throw "nixweb: db.delete must be a list of keys"
    else {
      set = mapAttrs (key: value: storable "db.set.${builtins.toJSON key}" value) (w.set or { });
      delete = map (key: if isString key then key else throw "nixweb: db.delete holds ${typeOf key}, not a key") (w.delete or [ ]);
    };

  # A static folder (<nixweb/static.nix>); its root, like a file, as a string.
  describeFolder = f:
    if isAttrs f then f // { root = if isPath (f.root or null) then toString f.root else f.root or null; }
    else f;

  # Markup made with <nixweb/html.nix> (its `_type` marks it): a page of HTML.
  isMarkup = v: isAttrs v && v._type or null == "nixweb-html";
  htmlOf = v: if isMarkup v then v.html else v;

  # Reduce what a handler returned to plain data. Paths become strings here, on purpose:
  # serialising a path would copy it into the Nix store.
  describeResponse = r:
    if isString r then { kind = "string"; body = r; }
    else if isMarkup r then { kind = "string"; body = r.html; }
    else if isPath r then { kind = "path"; file = toString r; }
    else if isAttrs r then
      {
        kind = "attrs";
        unknown = filter (k: !(elem k responseKeys)) (attrNames r);
        status = r.status or null;
        headers = r.headers or { };
        present = filter (k: r ? ${k}) [ "body" "json" "file" "redirect" "folder" ];
        body = htmlOf (r.body or null);
        json = r.json or null;
        file = if r ? file && (isPath r.file || isString r.file) then toString r.file else r.file or null;
        redirect = r.redirect or null;
        folder = if r ? folder then describeFolder r.folder else null;
        db = if r ? db then describeWrites r.db else null;
        cookies = r.cookies or null;
        # Absent: the session stays; null: it ends; a set: its new data.
        session = if r ? session then { value = if r.session == null then null else storable "session" r.session; } else null;
      }
    else { kind = "invalid"; type = typeOf r; };

  # The attribute of `node` that answers `method`, or null.
  leafFor = node: method:
    if node ? ${method} then method
    else if method == "HEAD" && node ? GET then "GET"
    else null;

  # The node `segments` name through exact children alone (no captures), or null: the
  # path `resolve` tries first, and the one most requests take. Walked without `resolve`'s
  # calls and scopes per segment, which made routing most of the router's cost per request.
  exactNode = builtins.foldl' (node: segment:
    if node != null && !(methodSet ? ${segment}) && isAttrs (node.${segment} or null) then node.${segment} else null);

  # What `resolve` finds from the root: by the exact path when it ends at a node with
  # methods (where `resolve` would stop too), else by `resolve` itself.
  find = tree: segments:
    let exact = exactNode tree segments;
    in if exact != null && hasMethods exact then { node = exact; params = { }; taken = segments; }
    else resolve tree segments { } [ ];

  handle = request: req0: tree:
    let
      found = find tree request.segments;
      node = found.node;
      method = request.method;
      leafName = leafFor node method;
      leaf = node.${leafName};
      req = req0 // { params = found.params; };
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

  # Which handler `request` goes to, without running it: its method and route pattern, and
  # the file and line where it is defined. Null when no handler answers it.
  locate = request: tree:
    let
      found = find tree request.segments;
      leafName = leafFor found.node request.method;
      pos = builtins.unsafeGetAttrPos leafName found.node;
    in {
      outcome = "route";
      route =
        if found == null || leafName == null then null
        else {
          method = leafName;
          pattern = "/" + concatStringsSep "/" found.taken;
          file = if pos == null then null else pos.file;
          line = if pos == null then null else pos.line;
        };
    };

  # The node at exactly `names` (no captures): its methods, if it has any, and the names of
  # its children, unevaluated, so a child that fails cannot fail its parent's listing.
  # `kind` is "other" for something that is not a node (a string, a function…).
  nodeAt = tree: names:
    let node = builtins.foldl' (n: name: n.${name}) tree names;
    in
    if isAttrs node && !(isCallable node) then {
      outcome = "node";
      kind = "node";
      methods = if hasMethods node then allowedMethods node else [ ];
      children = childNames node;
    }
    else { outcome = "node"; kind = "other"; };

  # The app's own error page (docs/web.md): the root's "404", "405", "500" or "504", when
  # it is a handler rather than a route. Its answer has the error's status unless it says.
  handleError = request: req0: tree:
    let
      status = request.error.status;
      handler = tree.${toString status} or null;
      withStatus = r:
        if isString r || isMarkup r then { inherit status; body = r; }
        else if isPath r then { inherit status; file = r; }
        else if isAttrs r then { inherit status; } // r
        else r;
    in
    if handler == null || (isAttrs handler && !(isCallable handler) && hasMethods handler)
    then { outcome = "noErrorPage"; }
    else {
      outcome = "response";
      response = describeResponse (withStatus (if isCallable handler then handler req0 else handler));
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

  app = import appFile;
  # An app that is a plain route tree is the same for every request.
  fixedTree = if isCallable app then null else checkTree app;
  callApp = callWithRequest app;

  serveWith = db: request: mode:
    let
      req0 = request // { inherit db; };
      tree = if fixedTree != null then fixedTree else checkTree (callApp req0);
    in
    if mode == "handle" then handle request req0 tree
    else if mode == "routes" then routes tree
    else if mode == "route" then locate request tree
    else if mode == "node" then nodeAt tree request.segments
    else if mode == "error" then handleError request req0 tree
    else throw "nixweb router: unknown mode ${mode}";
  serve = serveWith (dbAt null);
in
if requestFile == null then serve
else
  let input = builtins.fromJSON (builtins.readFile requestFile);
  in serveWith (dbAt input.dbUrl) input.request mode
