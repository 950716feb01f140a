# <nixweb/static.nix>: a folder of files as a route.
#
#   let static = import <nixweb/static.nix>; in {
#     assets = static.folder ./public { cacheControl = "public, max-age=3600"; };
#   }
#
# GET /assets/css/site.css serves ./public/css/site.css with its type, a strong ETag and
# Last-Modified, answering If-None-Match / If-Modified-Since with 304, Range with 206 (or
# 416), and HEAD. A folder's URL serves its index.html (redirecting /assets to /assets/);
# without one it is a 404, or a list of its files with `listing = true`. Names starting with
# a dot are 404 unless `hidden = true`. Nothing outside the folder is served, through `..`
# or symbolic links alike (docs/web.md).
{
  folder = root: { cacheControl ? null, listing ? false, hidden ? false }:
    let
      serve = path: {
        folder = { inherit root path listing hidden; };
        headers = if cacheControl == null then { } else { "Cache-Control" = cacheControl; };
      };
    in
    {
      GET = serve [ ];
      ":...path".GET = req: serve req.params.path;
    };
}
