# The blog's first app: a page with a form, its POST, a nested route and a query echo.
# Run it:   nixweb serve examples/hello
# Try it:   curl localhost:8080/test/my/hello
{ query, ... }:
let
  h = import <nixweb/html.nix>;   # ships with nixweb: text in it is escaped
  page = h.page { title = "Hello from Nix"; };
in
{
  GET = page [
    (h.h1 "Hello from Nix")
    (h.form { method = "post"; } [
      (h.input { name = "name"; placeholder = "your name"; })
      (h.button "Greet me")
    ])
  ];
  POST = req: page (h.p "Hello, ${req.form.name or "stranger"}!");

  test.my.hello.GET = h.text "Hello, ${query.name or "world"}!";

  # GET /echo?a=1&b=2 → {"a":"1","b":"2"}
  echo.GET = { json = query; };
}
