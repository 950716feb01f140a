# Everything a request carries and everything a response can be.
# Run it:  nixweb serve examples/params     List it:  nixweb routes examples/params
{
  # Captures: ":id" takes one segment, ":...path" takes the rest as a list.
  users.":id".GET = req: { json = { id = req.params.id; }; };
  users.me.GET = { json = { id = "the current user"; }; };   # exact names win over captures
  files.":...path".GET = req: { json = { path = req.params.path; }; };

  # JSON in, JSON out, with a status and a header of our own.
  echo.POST = req: {
    status = 201;
    headers."X-Echo" = "yes";
    json = { received = req.json; };
  };

  # What the client sent.
  whoami.GET = req: {
    json = {
      inherit (req) method path segments cookies remoteAddr;
      userAgent = req.headers."user-agent" or null;
    };
  };

  teapot.GET = { status = 418; body = "I'm a teapot"; headers."Content-Type" = "text/plain"; };

  # Redirects: 302 unless a status says otherwise.
  old.GET = { redirect = "/users/me"; };
  moved.GET = { redirect = "/users/me"; status = 301; };

  # Cookies, checked like the rest of the response (Path=/, HttpOnly, SameSite=Lax unless
  # told otherwise); a list in headers gives a header several times.
  login.POST = {
    body = "welcome";
    cookies = { user = "abc"; theme = { value = "dark"; maxAge = 3600; httpOnly = false; }; };
    headers."X-Tags" = [ "a" "b" ];
  };

  # Files: a path is served with a type from its extension.
  "style.css".GET = ./static/style.css;
  static.":name".GET = req: { file = ./static + "/${req.params.name}"; };
}
