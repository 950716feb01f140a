# Benchmark (d): an HTML table of 1,000 rows rendered from a list on every request.
let
  rows = builtins.genList (i: { id = i; name = "row ${toString i}"; square = i * i; }) 1000;
  row = r: "<tr><td>${toString r.id}</td><td>${r.name}</td><td>${toString r.square}</td></tr>";
in
{
  GET = req: "<table>${builtins.concatStringsSep "\n" (map row rows)}</table>";
}
