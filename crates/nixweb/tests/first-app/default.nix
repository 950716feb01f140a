# A first app, as someone new to nixweb writes it (issue 15): a form that posts JSON, a
# capture, a handler that throws, a syntax error, a fetch and a header read.
# crates/nixweb/tests/first_app.rs walks through it and reads what nixweb says.
let
  h = import <nixweb/html.nix>;
in
{
  # A page whose form posts JSON to /greet.
  GET = h.page { title = "First app"; } [
    (h.form { id = "greet"; } [
      (h.input { name = "name"; placeholder = "your name"; })
      (h.button "Greet me")
    ])
    (h.p { id = "answer"; } "")
    (h.script ''
      document.getElementById("greet").onsubmit = async (event) => {
        event.preventDefault();
        const name = new FormData(event.target).get("name");
        const reply = await fetch("/greet", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name }),
        });
        document.getElementById("answer").textContent = (await reply.json()).greeting;
      };
    '')
  ];
  # The same as a plain form post.
  POST = req: h.p "Hello, ${req.form.name or "stranger"}!";

  greet.POST = req: { json = { greeting = "Hello, ${req.json.name}!"; }; };

  users.":id".GET = req: { json = { id = req.params.id; }; };
  users.":id".DELETE = req: throw "user ${req.params.id} cannot be deleted: there is no database yet";

  notes.GET = import ./notes.nix;

  # The upstream's address comes from the environment (nixweb.toml lets the app see it).
  quote.GET = req:
    let quote = builtins.fromJSON (builtins.readFile (builtins.fetchurl (builtins.getEnv "QUOTES_URL")));
    in { json = { inherit (quote) text; }; };

  whoami.GET = req: h.text "You came with ${req.headers."user-agent" or "no user agent"}";
}
