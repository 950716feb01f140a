# <nixweb/html.nix>: HTML that is safe by default.
#
#   let h = import <nixweb/html.nix>; in
#   h.page { title = "Hello"; } [
#     (h.h1 "Hello, ${req.query.name or "world"}!")         # text: escaped
#     (h.a { href = "/users/${id}"; class = [ "btn" ]; } "profile")
#     (h.input { type = "checkbox"; checked = done; })      # true: bare, false/null: left out
#     (h.raw "<svg>…</svg>")                                # trusted markup, as it is
#   ]
#
# Every element function takes children, or attributes and then children. A child is text
# (escaped), a number, markup (an element, `raw`, `text`), a list of children, or null/true/
# false (nothing). Attribute values are escaped too. The result is markup: returned by a
# handler (or as `body`), it is sent as text/html. Markup also interpolates as its HTML
# ("${h.b x}"), so it can go into a hand-written template that is then passed to `raw`.
#
# Not made safe by escaping (they are code, not text): the content of <script> and <style>
# (a string there is taken as it is, and refused if it would close the element), event
# handler attributes (onclick…) and `style`. URL attributes (href, src, action…) whose
# scheme is javascript: or vbscript: are replaced with "about:invalid#unsafe-url".
let
  inherit (builtins)
    attrNames concatMap concatStringsSep elem filter isAttrs isBool isFloat isFunction isInt
    isList isPath isString listToAttrs map match replaceStrings toString typeOf;

  # The marker the router looks for (crates/app/nix/router.nix): markup is HTML.
  markup = html: { _type = "nixweb-html"; inherit html; __toString = htmlOf; };
  htmlOf = self: self.html;
  isMarkup = v: isAttrs v && v._type or null == "nixweb-html";

  escape = replaceStrings [ "&" "<" ">" "\"" "'" ] [ "&amp;" "&lt;" "&gt;" "&quot;" "&#39;" ];

  fail = msg: throw "nixweb html: ${msg}";

  # A child as HTML text.
  child = where: c:
    if isString c then escape c
    else if isMarkup c then c.html
    else if isInt c || isFloat c then toString c
    else if c == null || isBool c then ""
    else if isList c then concatStringsSep "" (map (child where) c)
    else if isFunction c then fail "a child of ${where} is a function (an element still waiting for its children?)"
    else if isPath c then fail "a child of ${where} is a path; give `toString path` to show its name"
    else if isAttrs c then fail "a child of ${where} is an attribute set that is not markup (attributes go first: h.div { … } [ … ])"
    else fail "a child of ${where} is a ${typeOf c}";

  # Names the HTML parser cannot misread: no spaces, quotes, `=`, `>` or `/`.
  validTag = name: match "[A-Za-z][A-Za-z0-9-]*" name != null;
  validAttr = name: match "[A-Za-z_:@][A-Za-z0-9_:.@-]*" name != null;

  urlAttributes = [ "href" "src" "action" "formaction" "poster" "cite" "background" "xlink:href" "srcset" "data" "ping" ];
  # A URL the browser would run as script. Browsers drop tabs and newlines anywhere in a URL
  # and leading spaces and control characters, and schemes are case-insensitive.
  runsScript = value:
    match "[[:space:][:cntrl:]]*([jJ][aA][vV][aA]|[vV][bB])[sS][cC][rR][iI][pP][tT][[:space:]]*:.*"
      (replaceStrings [ "\t" "\n" "\r" ] [ "" "" "" ] value) != null;

  attrValue = element: name: v:
    if isMarkup v then v.html
    else if isString v then
      escape (if elem name urlAttributes && runsScript v then "about:invalid#unsafe-url" else v)
    else if isInt v || isFloat v then toString v
    else if isList v then concatStringsSep " " (map (attrValue element name) (filter (x: x != null && x != false) v))
    else fail "attribute ${name} of <${element}> is a ${typeOf v}; give a string, a number, a list, true, false or null";

  attributes = element: attrs:
    concatStringsSep "" (concatMap
      (name:
        let v = attrs.${name}; in
        if !(validAttr name) then fail "${builtins.toJSON name} is not a valid attribute name (of <${element}>)"
        else if v == null || v == false then [ ]
        else if v == true then [ " ${name}" ]
        else [ " ${name}=\"${attrValue element name v}\"" ])
      (attrNames attrs));

  # Elements that have no content and no end tag.
  voidTags = [ "area" "base" "br" "col" "embed" "hr" "img" "input" "link" "meta" "source" "track" "wbr" ];
  # Elements whose content the browser does not parse as HTML: text is taken as it is, so it
  # is refused if it would end the element early.
  rawTextTags = [ "script" "style" ];

  rawText = name: c:
    let
      text = if isString c then c else if isList c then concatStringsSep "" (map (rawText name) c) else child "<${name}>" c;
      upper = replaceStrings [ "s" "c" "r" "i" "p" "t" "y" "l" "e" ] [ "S" "C" "R" "I" "P" "T" "Y" "L" "E" ];
    in
    if replaceStrings [ "</${upper name}" ] [ "" ] (upper text) != upper text
    then fail "the text of <${name}> holds </${name}, which would end the element"
    else text;

  render = name: attrs: children:
    if !(validTag name) then fail "${builtins.toJSON name} is not a valid element name"
    else markup "<${name}${attributes name attrs}>${
      if elem name rawTextTags then rawText name children else child "<${name}>" children}</${name}>";

  # element "p" "text", element "p" [ … ], element "p" { class = "x"; } [ … ]
  element = name:
    if elem name voidTags then
      (attrs:
        if isAttrs attrs && !(isMarkup attrs) then
          (if validTag name then markup "<${name}${attributes name attrs}>" else fail "${builtins.toJSON name} is not a valid element name")
        else fail "<${name}> has no content: give it attributes only (h.${name} { … })")
    else
      (first:
        if isAttrs first && !(isMarkup first)
        then children: render name first children
        else render name { } first);

  tags = [
    "a" "abbr" "address" "article" "aside" "audio" "b" "blockquote" "body" "button" "canvas"
    "caption" "code" "colgroup" "datalist" "dd" "del" "details" "dfn" "dialog" "div" "dl" "dt"
    "em" "fieldset" "figcaption" "figure" "footer" "form" "h1" "h2" "h3" "h4" "h5" "h6" "head"
    "header" "hgroup" "html" "i" "iframe" "ins" "kbd" "label" "legend" "li" "main" "mark" "menu"
    "meter" "nav" "noscript" "object" "ol" "optgroup" "option" "output" "p" "picture" "pre"
    "progress" "q" "s" "samp" "script" "search" "section" "select" "slot" "small" "span" "strong"
    "style" "sub" "summary" "sup" "table" "tbody" "td" "template" "textarea" "tfoot" "th" "thead"
    "time" "title" "tr" "u" "ul" "var" "video"
  ] ++ voidTags;
in
listToAttrs (map (name: { inherit name; value = element name; }) tags) // {
  inherit element escape isMarkup;

  # Trusted markup, inserted as it is. Never give it text that came from a request.
  raw = html: if isString html then markup html else fail "raw takes a string, not a ${typeOf html}";

  # Text (escaped) as markup, with no element around it: h.text "a < b".
  text = s: markup (if isString s then escape s else child "text" s);

  # Children side by side, as one piece of markup.
  fragment = children: markup (child "a fragment" children);

  # The HTML of any child, as a string.
  toHTML = c: child "toHTML" c;

  # A whole document. `head` holds more children of <head> (styles, scripts).
  page = { title ? "nixweb", head ? [ ], lang ? "en" }: body:
    markup "<!doctype html>\n${(element "html" { inherit lang; } [
      (element "head" [ (element "meta" { charset = "utf-8"; }) (element "title" title) head ])
      (element "body" body)
    ]).html}\n";

  # The hidden form field carrying the request's CSRF token (docs/app-contract.md), for
  # apps that turn CSRF checks on; nothing when they are off.
  csrfField = req:
    if req.csrfToken or null == null then markup ""
    else element "input" { type = "hidden"; name = "_csrf"; value = req.csrfToken; };
}
