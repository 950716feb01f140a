# An endpoint that calls a JSON API with builtins.fetchurl, as the blog did.
# fetchurl without a hash fetches anew on every request (nixweb passes Nix
# `--option tarball-ttl 0`), so every request sees a fresh number.
#
# The API's address comes from the RANDOM_API environment variable, so that
# tests can point it at a server of their own; it must answer a JSON list of
# numbers, like [42].
{ ... }:
let
  fromEnv = builtins.getEnv "RANDOM_API";
  api = if fromEnv != "" then fromEnv
        else "https://www.randomnumberapi.com/api/v1.0/random?min=1&max=100&count=1";
  # A name of our own: the URL's last segment (with ? and &) is no valid store name.
  fetchNumbers = builtins.fetchurl { url = api; name = "random-numbers.json"; };
in
{
  GET = req:
    let numbers = builtins.fromJSON (builtins.readFile fetchNumbers);
    in { json = { number = builtins.head numbers; }; };
}
