# A todo list per browser, with state, and still pure: handlers read from req.db (a
# snapshot) and return the writes they want with their response (db.set, db.delete).
# nixweb commits them atomically, or runs the handler again if what it read has changed
# meanwhile. Whose list it is comes from the signed session: a browser's first visit gets
# a user id (the id of that request, unique), kept in its session cookie.
#
# Run it:  nixweb serve examples/todo     (lists in examples/todo/nixweb.db; nixweb.toml
#          turns CSRF checks on and keeps the session secret in examples/todo/session.key)
{ ... }:
let
  h = import <nixweb/html.nix>;
  inherit (builtins) filter length map stringLength substring toJSON toString;

  user = req: req.session.user or req.id;
  # Every answer keeps the browser's user id in its session (and gives it one on a first
  # visit).
  asUser = req: response:
    if req.session ? user then response else response // { session = { user = user req; }; };

  # Keys sort as strings, so ids are zero-padded: users/U/todos/0000000042.
  pad = n: let s = toString n; in substring 0 (10 - stringLength s) "0000000000" + s;
  prefixOf = req: "users/${user req}/todos/";
  keyOf = req: id: "${prefixOf req}${id}";
  counterOf = req: "users/${user req}/next-id";

  # The user's todos in key order (oldest first), as { id; title; done; }.
  todos = req:
    let prefix = prefixOf req; in
    map (entry: entry.value // { id = substring (stringLength prefix) (-1) entry.key; })
      (req.db.list { inherit prefix; limit = 1000; });

  item = todo: h.li { id = "todo-${todo.id}"; class = if todo.done then "done" else null; } [
    (h.input {
      type = "checkbox"; checked = todo.done; "aria-label" = "done";
      hx-post = "/todos/${todo.id}/toggle"; hx-target = "#list"; hx-swap = "outerHTML";
    })
    (h.span { class = "title"; } todo.title)
    (h.button {
      class = "delete"; "aria-label" = "delete";
      hx-delete = "/todos/${todo.id}"; hx-target = "#list"; hx-swap = "outerHTML";
    } "×")
  ];

  list = items: h.fragment [
    (h.ul { id = "list"; } (map item items))
    (h.p { id = "count"; } "${toString (length (filter (t: !t.done) items))} left")
  ];

  page = req: items: h.page {
    title = "Todo · nixweb";
    head = [
      (h.script { src = "/htmx.min.js"; } [ ])
      (h.style ''
        body { font-family: sans-serif; max-width: 32em; margin: 2em auto; }
        li { list-style: none; padding: .2em 0; } li.done .title { text-decoration: line-through; color: #888; }
        button.delete { border: none; background: none; color: #c00; cursor: pointer; }
      '')
    ];
  } [
    # HTMX sends the CSRF token with every request from inside this element.
    (h.main { hx-headers = toJSON { "X-CSRF-Token" = req.csrfToken; }; } [
      (h.h1 "Todo")
      (h.form {
        hx-post = "/todos"; hx-target = "#list"; hx-swap = "outerHTML";
        "hx-on::after-request" = "this.reset()"; method = "post"; action = "/todos";
      } [
        (h.csrfField req)
        (h.input { name = "title"; placeholder = "What needs doing?"; required = true; maxlength = 200; autofocus = true; })
        (h.button "Add")
      ])
      (h.div (list items))
    ])
  ];

  # After a change: HTMX gets the new list; a plain form post goes back to the page.
  answer = req: items: writes: asUser req (
    if req.headers."hx-request" or "" == "true"
    then { body = list items; db = writes; }
    else { redirect = "/"; status = 303; db = writes; });

  # One of the user's todos, or a 404 when another request deleted it first.
  withTodo = req: change:
    let
      id = req.params.id;
      current = req.db.get (keyOf req id);
    in
    if current == null then { status = 404; body = "no such todo"; }
    else change id current;
in
{
  GET = req: asUser req { body = page req (todos req); };

  "htmx.min.js".GET = ./node_modules/htmx.org/dist/htmx.min.js;

  todos = {
    GET = req: asUser req { json = todos req; };

    # Ids come from a counter read and written in the same transaction, so two requests
    # can never take the same one: the second is re-run with the new counter.
    POST = req:
      let
        title = req.form.title or req.json.title or "";
        next = req.db.get (counterOf req);
        id = pad (if next == null then 1 else next);
        todo = { inherit title; done = false; };
      in
      if builtins.match "[[:space:]]*" title != null || stringLength title > 200
      then { status = 400; body = "a todo needs a title of 1 to 200 characters"; }
      else answer req (todos req ++ [ (todo // { inherit id; }) ]) {
        set = { ${counterOf req} = (if next == null then 1 else next) + 1; ${keyOf req id} = todo; };
      };

    ":id" = {
      toggle.POST = req: withTodo req (id: todo:
        let toggled = todo // { done = !todo.done; };
        in answer req (map (t: if t.id == id then toggled // { inherit id; } else t) (todos req)) {
          set.${keyOf req id} = toggled;
        });

      DELETE = req: withTodo req (id: _:
        answer req (filter (t: t.id != id) (todos req)) { delete = [ (keyOf req id) ]; });
    };
  };
}
