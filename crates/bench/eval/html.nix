# A 100,000-row HTML table: every row built by interpolation, every cell escaped with
# replaceStrings, the rows joined into one string.
let
  escape = builtins.replaceStrings [ "&" "<" ">" "\"" ] [ "&amp;" "&lt;" "&gt;" "&quot;" ];
  row = i:
    let n = toString i;
    in "<tr><td>${n}</td><td>${escape "item <${n}> & \"more\""}</td></tr>\n";
  html = "<table>\n${builtins.concatStringsSep "" (builtins.genList row 100000)}</table>\n";
in
builtins.stringLength html
