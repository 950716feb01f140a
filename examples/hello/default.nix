# The blog's first app: a page with a form, its POST, a nested route and a query echo.
# Run it:   nixweb serve examples/hello
# Try it:   curl localhost:8080/test/my/hello
{ query, ... }:
let
  html = import <nixweb/html.nix>;   # ships with nixweb
  page = html.page { title = "Hello from Nix"; };
in
{
  GET = page ''
    <h1>Hello from Nix</h1>
    <form method="post"><input name="name" placeholder="your name"><button>Greet me</button></form>
  '';
  POST = req: page "<p>Hello, ${html.escape (req.form.name or "stranger")}!</p>";

  test.my.hello.GET = "Hello, ${query.name or "world"}!";

  # GET /echo?a=1&b=2 → {"a":"1","b":"2"}
  echo.GET = { json = query; };
}
