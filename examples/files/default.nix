# Files, sessions and error pages: a folder of static assets served with HTTP caching, a
# file upload, a session that remembers the visitor's name and last uploads, and the app's
# own 404 and 500 pages. Every text that came from a request is built into the page with
# <nixweb/html.nix>, which escapes it.
#
# Run it:  bash scripts/run-example files    (nixweb.toml turns CSRF checks on and keeps
#          the session secret in examples/files/session.key)
{ ... }:
let
  h = import <nixweb/html.nix>;
  static = import <nixweb/static.nix>;
  inherit (builtins) elemAt filter genList hashFile head length stringLength substring toString;

  # The session (a signed cookie, readable by the client: nothing secret in it).
  nameOf = req: req.session.name or null;
  uploadsOf = req: req.session.uploads or [ ];
  keep = 5;
  firstN = n: list: genList (elemAt list) (if length list < n then length list else n);
  shorten = n: s: if stringLength s > n then "${substring 0 n s}…" else s;

  layout = req: title: body: h.page {
    title = "${title} · files · nixweb";
    head = [
      (h.link { rel = "stylesheet"; href = "/assets/site.css"; })
      (h.link { rel = "icon"; href = "/assets/logo.svg"; })
    ];
  } [
    (h.header [
      (h.img { src = "/assets/logo.svg"; alt = ""; width = 32; height = 32; })
      (h.h1 (h.a { href = "/"; } "files"))
      (h.a { href = "/assets/about/"; } "about")
    ])
    (h.main body)
  ];

  greeting = req:
    if nameOf req == null then
      h.form { method = "post"; action = "/login"; } [
        (h.csrfField req)
        (h.label [ "Your name " (h.input { name = "name"; required = true; maxlength = 200; }) ])
        (h.button "Remember me")
      ]
    else
      h.form { method = "post"; action = "/logout"; } [
        (h.csrfField req)
        (h.p { id = "greeting"; } "Hello, ${nameOf req}!")
        (h.button "Forget me")
      ];

  uploadForm = req:
    h.form { method = "post"; action = "/upload"; enctype = "multipart/form-data"; } [
      (h.csrfField req)
      (h.input { type = "file"; name = "file"; required = true; })
      (h.button "Upload")
    ];

  uploadsTable = uploads:
    if uploads == [ ] then h.p "No uploads yet."
    else h.table { id = "uploads"; } [
      (h.tr [ (h.th "file") (h.th "type") (h.th "bytes") (h.th "sha256") ])
      (map (u: h.tr [ (h.td u.filename) (h.td u.contentType) (h.td (toString u.size)) (h.td { class = "hash"; } u.sha256) ]) uploads)
    ];

  home = req: layout req "Home" [
    (greeting req)
    (h.h2 "Upload a file")
    (uploadForm req)
    (h.h2 "Your last uploads")
    (uploadsTable (uploadsOf req))
  ];

  # What nixweb made of the upload (req.files), shown, and remembered in the session.
  uploaded = req: file:
    let
      entry = {
        filename = shorten 80 file.filename;
        inherit (file) contentType size;
        sha256 = hashFile "sha256" file.path;
      };
    in
    {
      body = layout req "Uploaded" [
        (h.h2 "Uploaded")
        (uploadsTable [ entry ])
        (if file.text == null then h.p "A binary file."
         else [ (h.p "Its text:") (h.pre { id = "preview"; } (shorten 2000 file.text)) ])
        (h.p (h.a { href = "/"; } "Back"))
      ];
      session = req.session // { uploads = firstN keep ([ entry ] ++ uploadsOf req); };
    };
in
{
  GET = home;

  login.POST = req: {
    redirect = "/"; status = 303;
    session = req.session // { name = shorten 200 (req.form.name or ""); };
  };
  logout.POST = { redirect = "/"; status = 303; session = null; };

  upload.POST = req:
    let files = filter (f: f.name == "file") req.files; in
    if files == [ ]
    then { status = 400; body = layout req "No file" [ (h.p { class = "error"; } "Choose a file to upload.") ]; }
    else uploaded req (head files);

  # /assets/site.css, /assets/logo.svg, /assets/about/ (its index.html): Content-Type,
  # ETag, Last-Modified, 304s, ranges, and the Cache-Control given here.
  assets = static.folder ./public { cacheControl = "public, max-age=3600"; };

  # A page that fails, to show the app's own 500 page.
  broken.GET = req: throw "this page is broken on purpose (req ${req.id})";

  # The app's own error pages (docs/web.md#the-apps-own-error-pages). req.error.message is
  # what went wrong, only with --dev.
  "404" = req: layout req "Not found" [
    (h.h2 "Not found")
    (h.p { id = "missing"; } "Nothing here at ${req.path}.")
  ];
  "500" = req: layout req "Something went wrong" [
    (h.h2 "Something went wrong")
    (h.p "The page could not be made (request ${req.id}).")
    (if req.error.message == null then null else h.pre { id = "message"; } req.error.message)
  ];
}
