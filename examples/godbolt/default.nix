# godbolt: type C or C++ in the browser, press Run; Nix compiles and runs it in its build
# sandbox and the page shows what the compiler and the program printed.
# Run it:  npm ci --prefix examples/godbolt && nixweb serve examples/godbolt
let
  cc = import <nixweb/cc.nix> { };
  h = import <nixweb/html.nix>;

  modules = ./node_modules;

  # GET sends the fields in the query (as the blog's page did), POST as a form.
  fields = req: if req.method == "POST" then req.form else req.query;

  wantsJson = req: builtins.match ".*application/json.*" (req.headers.accept or "") != null;

  section = title: class: text:
    if text == "" then null else [ (h.h3 title) (h.pre { inherit class; } text) ];

  statusLine = r:
    if r.compilerTimedOut then "compilation timed out"
    else if !r.compiled then "compilation failed (exit status ${toString r.compilerExit})"
    else if r.timedOut then "Timeout: stopped after ${toString cc.limits.runSeconds} s"
    else "exit status ${toString r.exitCode}";

  resultHtml = r: h.div {
    class = "result";
    data-exit = if r.ran then toString r.exitCode else "";
    data-compiled = if r.compiled then "yes" else "no";
  } [
    (h.p { class = "status"; } [ (statusLine r) " " (h.span { class = "toolchain"; } "(${r.toolchain})") ])
    (section "Compiler" "compiler-output" r.compilerOutput)
    (section "Program output" "program-output" r.programOutput)
  ];

  refuse = req: status: message:
    if wantsJson req then { inherit status; json = { error = message; }; }
    else { inherit status; body = h.div { class = "result error"; } (h.p { class = "status"; } message); };

  compile = req:
    let
      f = fields req;
      args = {
        code = f.code or "";
        language = f.language or f.lang or "c++";
        flags = f.flags or "";
      };
      problem = cc.check args;
    in
    if !(f ? code) then refuse req 400 "missing parameter: code"
    else if builtins.stringLength args.code > cc.limits.codeBytes then refuse req 413 problem
    else if problem != null then refuse req 400 problem
    else
      let r = cc.run args;
      in if wantsJson req then { json = r; } else resultHtml r;

  example = ''
    #include <iostream>

    int main() {
        std::cout << "Hello World" << std::endl;
        return 0;
    }
  '';

  page = h.page {
    title = "godbolt on nixweb";
    head = [
      (h.link { rel = "stylesheet"; href = "/vendor/codemirror.css"; })
      (h.link { rel = "stylesheet"; href = "/style.css"; })
      (h.script { src = "/vendor/htmx.min.js"; } [ ])
      (h.script { src = "/vendor/codemirror.js"; } [ ])
      (h.script { src = "/vendor/clike.js"; } [ ])
    ];
  } [
    (h.h1 "Compile and run, in the Nix sandbox")
    (h.form { id = "compile-form"; hx-post = "/compile"; hx-target = "#output"; hx-indicator = "#running"; } [
      (h.textarea { id = "code"; name = "code"; } example)
      (h.div { class = "controls"; } [
        (h.label [
          "Language "
          (h.select { name = "language"; id = "language"; } [
            (h.option { value = "c++"; selected = true; } "C++")
            (h.option { value = "c"; } "C")
          ])
        ])
        " "
        (h.label [ "Flags " (h.input { type = "text"; name = "flags"; id = "flags"; value = "-O2"; spellcheck = "false"; }) ])
        " "
        (h.button { type = "submit"; id = "run"; } "Run")
        " "
        (h.span { id = "running"; class = "htmx-indicator"; } "running…")
      ])
    ])
    (h.div { id = "output"; "aria-live" = "polite"; } [ ])
    (h.p { class = "limits"; } ''
      The program runs for at most ${toString cc.limits.runSeconds} s, with no
      network and no files of this machine; the last ${toString cc.limits.outputBytes} bytes of
      its output are shown.'')
    (h.script { src = "/app.js"; } [ ])
  ];
in
{
  GET = page;
  compile = { GET = compile; POST = compile; };
  "style.css".GET = ./static/style.css;
  "app.js".GET = ./static/app.js;
  vendor = {
    "htmx.min.js".GET = modules + "/htmx.org/dist/htmx.min.js";
    "codemirror.js".GET = modules + "/codemirror/lib/codemirror.js";
    "codemirror.css".GET = modules + "/codemirror/lib/codemirror.css";
    "clike.js".GET = modules + "/codemirror/mode/clike/clike.js";
  };
}
