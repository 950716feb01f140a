# A service registry on nixpkgs' current lib (issue 13): a service's config, posted as
# JSON, is checked against option declarations with lib.evalModules, and names are
# turned into slugs with lib.strings. Serve it with `-I nixpkgs=<nixpkgs checkout>`.
let
  lib = import <nixpkgs/lib>;

  schema =
    { lib, ... }:
    {
      options = {
        name = lib.mkOption {
          type = lib.types.strMatching "[A-Za-z][A-Za-z0-9 -]*";
          description = "The service's name, as people read it.";
        };
        port = lib.mkOption {
          type = lib.types.port;
          default = 8080;
        };
        tags = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
        };
      };
    };

  evaluate = config: lib.evalModules { modules = [ schema { inherit config; } ]; };

  # What is wrong with a posted config, in words: the module system's own checks (each
  # option's type), before anything forces a bad value.
  problems =
    config:
    let
      options = (evaluate { }).options;
    in
    if !builtins.isAttrs config then
      [ "the config must be a JSON object" ]
    else
      lib.concatMap (
        name:
        if !(options ? ${name}) then
          [ "there is no option `${name}' (options: ${lib.concatStringsSep ", " (builtins.attrNames options)})" ]
        else if options.${name}.type.check config.${name} then
          [ ]
        else
          [ "`${name}' must be ${options.${name}.type.description}" ]
      ) (builtins.attrNames config);

  describe =
    config:
    let
      checked = (evaluate config).config;
    in
    {
      inherit (checked) name port tags;
      slug = lib.strings.toLower (lib.strings.replaceStrings [ " " ] [ "-" ] checked.name);
      summary = "${checked.name} on port ${toString checked.port}${
        lib.strings.optionalString (checked.tags != [ ]) " (${lib.strings.concatStringsSep ", " checked.tags})"
      }";
    };
in
{
  services.POST =
    req:
    let
      wrong = problems req.json;
    in
    if wrong == [ ] then
      { json = describe req.json; }
    else
      {
        status = 422;
        json.errors = wrong;
      };

  # The same config, trusted as it is: a bad one fails in the module system, whose
  # message is what the log and the --dev page show.
  services.unchecked.POST = req: { json = describe req.json; };

  version.GET = { json = lib.version; };
}
