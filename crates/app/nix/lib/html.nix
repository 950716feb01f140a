# <nixweb/html.nix>: small helpers for writing HTML from handlers.
rec {
  # Escapes text for HTML element content and attribute values.
  escape = builtins.replaceStrings [ "&" "<" ">" "\"" "'" ] [ "&amp;" "&lt;" "&gt;" "&quot;" "&#39;" ];

  # A complete page: page { title = "…"; head = "…"; } "<body html>"
  page = { title ? "nixweb", head ? "" }: body: ''
    <!doctype html>
    <html><head><meta charset="utf-8"><title>${escape title}</title>${head}</head>
    <body>${body}</body></html>
  '';
}
