# The blog's first app: a page with a form, its POST, a nested route and a query echo.
# Run it:   nixweb serve examples/hello
# Try it:   curl localhost:8080/test/my/hello
{ query, ... }:
let
  escape = builtins.replaceStrings [ "&" "<" ">" "\"" "'" ] [ "&amp;" "&lt;" "&gt;" "&quot;" "&#39;" ];
  page = body: ''
    <!doctype html>
    <html><head><meta charset="utf-8"><title>Hello from Nix</title></head>
    <body>${body}</body></html>
  '';
in
{
  GET = page ''
    <h1>Hello from Nix</h1>
    <form method="post"><input name="name" placeholder="your name"><button>Greet me</button></form>
  '';
  POST = req: page "<p>Hello, ${escape (req.form.name or "stranger")}!</p>";

  test.my.hello.GET = "Hello, ${query.name or "world"}!";

  # GET /echo?a=1&b=2 → {"a":"1","b":"2"}
  echo.GET = { json = query; };
}
