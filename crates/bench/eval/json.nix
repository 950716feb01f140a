# A JSON round trip of 50,000 records.
let
  records = builtins.genList (i: { id = i; name = "user ${toString i}"; tags = [ "a" "b" ]; score = i * 1.5; active = i / 2 * 2 == i; }) 50000;
  back = builtins.fromJSON (builtins.toJSON records);
in builtins.length back + (builtins.elemAt back 49999).id
