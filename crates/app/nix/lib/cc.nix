# <nixweb/cc.nix>: compile and run a C or C++ program inside the Nix build sandbox.
#
#   cc = import <nixweb/cc.nix> { };          # or { pkgs = …; limits = { runSeconds = 5; }; }
#   result = cc.run { code = "int main(){}"; language = "c++"; flags = "-O2"; };
#
# The program is built by a derivation, read back with import-from-derivation, so the app
# needs the nix engine with `sandbox = true` and `sandbox-fallback = false`. The builder
# refuses to run code when it can see the host's /etc/passwd, i.e. when it is not sandboxed.
#
# Toolchain: pkgs.gcc when nixpkgs is given or on the search path; otherwise the host's
# gcc, which the sandbox can only see with `extra-sandbox-paths = /bin /usr /lib /lib64`.
#
# Every limit is enforced inside the build, so abuse yields a normal result rather than a
# failed build; Nix's own `timeout` option is only the backstop.
{ pkgs ? (
    let found = builtins.tryEval (import <nixpkgs>);
    in if found.success then found.value { } else null
  )
, limits ? { }  # overrides for the defaults below, e.g. { runSeconds = 5; }
}:

let
  inherit (builtins) filter isString match readFile split stringLength toFile;

  nixpkgsToolchain = {
    name = "nixpkgs gcc ${pkgs.gcc.version or ""}";
    shell = "${pkgs.bash}/bin/bash";
    # glibc.bin for iconv, which keeps invalid UTF-8 out of the result.
    path = builtins.concatStringsSep ":"
      (map (p: "${p}/bin") (filter (p: p != null) [ pkgs.gcc pkgs.coreutils (pkgs.glibc.bin or null) ]));
  };
  hostToolchain = {
    name = "host gcc";
    shell = "/bin/bash";
    path = "/usr/bin:/bin";
  };

  languages = {
    "c" = { compiler = "gcc"; file = "main.c"; };
    "c++" = { compiler = "g++"; file = "main.cpp"; };
  };

  # One flag: a dash, then letters, digits and = + , . : / _ -. No spaces, quotes or `@file`.
  flagPattern = "-[A-Za-z0-9][A-Za-z0-9=+,.:/_-]*";
  words = s: filter (w: isString w && w != "") (split "[ \t\n]+" s);
  # Refused although well-formed: -o moves the program away from where the builder runs it;
  # dumps and saved temporaries fill the disk; plugins, wrappers and spec files run other code.
  deniedPattern = "-o.*|-fdump.*|-save-temps.*|-fplugin.*|-wrapper|-specs.*";
  badFlags = flags:
    filter (w: match flagPattern w == null || match deniedPattern w != null) (words flags);

  # The builder. Limits are set in subshells, so the builder itself can always finish and
  # write its report: one file per fact, read back by `run`.
  builderScript = toFile "nixweb-cc-builder.sh" ''
    set -u -f
    cd "$TMPDIR"
    mkdir -p "$out"
    echo 0 > "$out/compile.timeout"; echo 0 > "$out/run.timeout"; echo none > "$out/run.status"

    # Text Nix and JSON can carry: no NUL bytes, and (where iconv exists) valid UTF-8.
    if command -v iconv > /dev/null; then
      validUtf8() { iconv -c -f UTF-8 -t UTF-8 2>/dev/null; true; }
    else
      validUtf8() { cat; }
    fi
    clean() { tail -c "$outputBytes" | tr -d '\000' | validUtf8; }

    # In Nix's sandbox /etc/passwd is Nix's own; the host's means there is no sandbox.
    read -r firstUser < /etc/passwd || firstUser=
    case "$firstUser" in
      "root:x:0:0:Nix build user:"*) ;;
      *) echo "refusing to run code outside the Nix build sandbox (set sandbox = true and sandbox-fallback = false)" > "$out/compile.log"
         echo 126 > "$out/compile.status"; cp "$out/compile.log" "$out/output.log"; exit 0 ;;
    esac

    cp "$source" "$file"
    read -r -a flagWords <<< "$flags"
    started=$SECONDS
    ( ulimit -v "$compileMemoryKiB" -f "$fileKiB"
      exec timeout -k 1 "$compileSeconds" "$compiler" "''${flagWords[@]}" -o program "$file" ) > compile.raw 2>&1 < /dev/null
    status=$?
    if [ "$status" -ge 124 ] && [ $((SECONDS - started)) -ge "$compileSeconds" ]; then
      echo 1 > "$out/compile.timeout"
      echo "Compilation timed out after $compileSeconds s" >> compile.raw
    fi
    echo "$status" > "$out/compile.status"
    clean < compile.raw > "$out/compile.log"
    : > run.raw
    if [ "$status" = 0 ]; then
      # The program may not create files: only run.raw, opened here, is writable.
      chmod a-w . 2>/dev/null
      started=$SECONDS
      ( ulimit -v "$runMemoryKiB" -f "$fileKiB" -u "$processes"
        exec timeout -k 1 "$runSeconds" ./program ) > run.raw 2>&1 < /dev/null
      status=$?
      # Whatever the program left behind (a fork bomb's children) goes now; the builder is
      # process 1 of the sandbox, which kill -1 spares.
      kill -KILL -1 2>/dev/null
      chmod u+w .
      if [ "$status" -ge 124 ] && [ $((SECONDS - started)) -ge "$runSeconds" ]; then
        echo 1 > "$out/run.timeout"
        echo "Timeout: the program ran for more than $runSeconds s and was stopped" >> run.raw
      elif [ "$status" = 153 ]; then
        [ -n "$(tail -c 1 run.raw)" ] && echo >> run.raw
        echo "Output limit: the program wrote more than $fileKiB KiB (output or a file) and was stopped" >> run.raw
      fi
      echo "$status" > "$out/run.status"
      clean < run.raw > "$out/run.log"
    fi
    cat compile.raw run.raw | clean > "$out/output.log"
  '';

  givenLimits = limits;  # the argument; inside the set below, `limits` is the merged one
in
rec {
  toolchain = if pkgs != null then nixpkgsToolchain else hostToolchain;

  limits = {
    codeBytes = 65536;     # larger code is refused before anything is built
    runSeconds = 10;       # the program's wall-clock limit
    compileSeconds = 10;   # the compiler's
    outputBytes = 4096;    # kept from the end of each of compiler and program output
    compileMiB = 1024;     # address space of each compiler process
    runMiB = 256;          # address space of each process of the program
    fileMiB = 16;          # largest file a process may write (output floods stop here)
    processes = 32;        # processes and threads of the build user: fork bombs stop here
    # Per-process limits bound the program's memory only together: at worst
    # processes × runMiB (8 GiB) per build, times the builds that run at once.
  } // givenLimits;

  # Why `args` cannot be run, or null when it can.
  check = { code, language ? "c++", flags ? "", ... }:
    if !(languages ? ${language}) then "unknown language '${language}' (use c or c++)"
    else if stringLength code > limits.codeBytes then "the code is larger than ${toString limits.codeBytes} bytes"
    else if badFlags flags != [ ] then "flag not allowed: ${builtins.head (badFlags flags)}"
    else null;

  # The derivation that compiles and runs `code`. Same code and flags: same derivation, so
  # Nix answers a repeated request from its store without building again.
  build = { code, language ? "c++", flags ? "" }@args:
    let
      problem = check args;
      lang = languages.${language};
    in
    if problem != null then throw "nixweb cc: ${problem}"
    else derivation {
      name = "nixweb-cc-run";
      system = builtins.currentSystem;
      builder = toolchain.shell;
      args = [ builderScript ];
      source = toFile lang.file code;
      inherit (lang) compiler file;
      inherit flags;
      PATH = toolchain.path;
      runSeconds = toString limits.runSeconds;
      compileSeconds = toString limits.compileSeconds;
      outputBytes = toString limits.outputBytes;
      compileMemoryKiB = toString (limits.compileMiB * 1024);
      runMemoryKiB = toString (limits.runMiB * 1024);
      fileKiB = toString (limits.fileMiB * 1024);
      processes = toString limits.processes;
    };

  # Builds and returns what happened:
  #   { compiled; compilerExit; compilerOutput; ran; exitCode; timedOut; programOutput;
  #     output; toolchain; storePath; }
  # compilerOutput and programOutput are each the last outputBytes of what was printed;
  # output is the last outputBytes of both together, as the blog's page showed them.
  run = args:
    let
      out = build args;
      read = name: readFile "${out}/${name}";
      number = name: builtins.fromJSON (read name);
      compilerExit = number "compile.status";
      compilerOutput = read "compile.log";
      ran = compilerExit == 0 && (read "run.status") != "none";
      exitCode = if ran then number "run.status" else null;
      programOutput = if ran then read "run.log" else "";
    in
    {
      compiled = compilerExit == 0;
      inherit compilerExit compilerOutput ran exitCode programOutput;
      timedOut = ran && number "run.timeout" == 1;
      compilerTimedOut = number "compile.timeout" == 1;
      output = read "output.log";
      toolchain = toolchain.name;
      # The store path holding the result: nothing roots it, so garbage collection frees it.
      storePath = out.outPath;
    };
}
