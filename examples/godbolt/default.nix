# godbolt: type C or C++ in the browser, press Run; Nix compiles and runs it in its build
# sandbox and the page shows what the compiler and the program printed.
# Run it:  npm ci --prefix examples/godbolt && nixweb serve examples/godbolt
let
  cc = import <nixweb/cc.nix> { };
  html = import <nixweb/html.nix>;
  inherit (html) escape;

  modules = ./node_modules;

  # GET sends the fields in the query (as the blog's page did), POST as a form.
  fields = req: if req.method == "POST" then req.form else req.query;

  wantsJson = req: builtins.match ".*application/json.*" (req.headers.accept or "") != null;

  section = title: class: text:
    if text == "" then "" else ''<h3>${title}</h3><pre class="${class}">${escape text}</pre>'';

  statusLine = r:
    if r.compilerTimedOut then "compilation timed out"
    else if !r.compiled then "compilation failed (exit status ${toString r.compilerExit})"
    else if r.timedOut then "Timeout: stopped after ${toString cc.limits.runSeconds} s"
    else "exit status ${toString r.exitCode}";

  resultHtml = r: ''
    <div class="result" data-exit="${if r.ran then toString r.exitCode else ""}" data-compiled="${if r.compiled then "yes" else "no"}">
    <p class="status">${escape (statusLine r)} <span class="toolchain">(${escape r.toolchain})</span></p>
    ${section "Compiler" "compiler-output" r.compilerOutput}
    ${section "Program output" "program-output" r.programOutput}
    </div>
  '';

  refuse = req: status: message:
    if wantsJson req then { inherit status; json = { error = message; }; }
    else { inherit status; body = ''<div class="result error"><p class="status">${escape message}</p></div>''; };

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

  page = html.page {
    title = "godbolt on nixweb";
    head = ''
      <link rel="stylesheet" href="/vendor/codemirror.css">
      <link rel="stylesheet" href="/style.css">
      <script src="/vendor/htmx.min.js"></script>
      <script src="/vendor/codemirror.js"></script>
      <script src="/vendor/clike.js"></script>
    '';
  } ''
    <h1>Compile and run, in the Nix sandbox</h1>
    <form id="compile-form" hx-post="/compile" hx-target="#output" hx-indicator="#running">
      <textarea id="code" name="code">${escape example}</textarea>
      <div class="controls">
        <label>Language
          <select name="language" id="language">
            <option value="c++" selected>C++</option>
            <option value="c">C</option>
          </select>
        </label>
        <label>Flags <input type="text" name="flags" id="flags" value="-O2" spellcheck="false"></label>
        <button type="submit" id="run">Run</button>
        <span id="running" class="htmx-indicator">running…</span>
      </div>
    </form>
    <div id="output" aria-live="polite"></div>
    <p class="limits">The program runs for at most ${toString cc.limits.runSeconds} s, with no
    network and no files of this machine; the last ${toString cc.limits.outputBytes} bytes of
    its output are shown.</p>
    <script src="/app.js"></script>
  '';
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
