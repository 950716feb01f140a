//! `<nixweb/html.nix>`: text is escaped in content and attributes unless marked raw, and
//! markup is answered as HTML; both engines build the same bytes.

use super::common::{app, servers};
use nixweb_testkit::StatusCode;

const APP: &str = r#"
let h = import <nixweb/html.nix>; in {
  text.GET = req: h.p req.query.t;
  attr.GET = req: h.input { value = req.query.t; placeholder = [ "a" null req.query.t ]; };
  link.GET = req: h.a { href = req.query.t; } "go";
  mixed.GET = h.div { id = "x"; hidden = true; draggable = false; title = null; } [
    "a" (h.raw "<hr>") [ 1 null true false ] (h.b "&") (h.br { })
  ];
  body.GET = { status = 201; body = h.text "1 < 2"; };
  page.GET = h.page { title = "T <"; head = [ (h.style "b { color: red }") ]; } (h.p "x");
  template.GET = req: "<div>${h.b req.query.t}</div>";
  script.GET = req: h.script req.query.t;
  badAttr.GET = h.div { "a b" = "x"; } "y";
  badChild.GET = h.div (h.p { });
}
"#;

#[test]
fn text_is_escaped_and_markup_is_html_on_both_engines() {
    let dir = app(&[("default.nix", APP)]);
    let hostile = "\"><script>alert('x')</script>&";
    let escaped = "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;";
    let q = |path: &str, t: &str| {
        format!(
            "{path}?t={}",
            percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
        )
    };
    for (engine, server) in servers(dir.path(), &["--dev"]) {
        let cases = [
            (q("/text", hostile), format!("<p>{escaped}</p>")),
            (
                q("/attr", hostile),
                format!("<input placeholder=\"a {escaped}\" value=\"{escaped}\">"),
            ),
            (
                q("/link", " JaVa\tScRiPt:alert(1)"),
                "<a href=\"about:invalid#unsafe-url\">go</a>".into(),
            ),
            (
                q("/link", "/ok?a=1&b=2"),
                "<a href=\"/ok?a=1&amp;b=2\">go</a>".into(),
            ),
            (
                "/mixed".into(),
                "<div hidden id=\"x\">a<hr>1<b>&amp;</b><br></div>".into(),
            ),
            (
                "/page".into(),
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>T &lt;</title><style>b { color: red }</style></head><body><p>x</p></body></html>\n".into(),
            ),
            (
                q("/template", "<i>"),
                "<div><b>&lt;i&gt;</b></div>".into(),
            ),
            (q("/script", "if (a < b) go()"), "<script>if (a < b) go()</script>".into()),
        ];
        for (path, expected) in cases {
            let reply = server.get(&path);
            assert_eq!(reply.status(), StatusCode::OK, "{engine} {path}");
            assert_eq!(
                reply.headers()["content-type"],
                "text/html; charset=utf-8",
                "{engine} {path}"
            );
            assert_eq!(reply.text().unwrap(), expected, "{engine} {path}");
        }
        let body = server.get("/body");
        assert_eq!(body.status(), StatusCode::CREATED);
        assert_eq!(body.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(body.text().unwrap(), "1 &lt; 2");

        // What cannot be made safe is refused, saying why.
        for (path, message) in [
            (q("/script", "</SCRIPT><b>"), "would end the element"),
            ("/badAttr".into(), "is not a valid attribute name"),
            ("/badChild".into(), "a function"),
        ] {
            let reply = server.get(&path);
            assert_eq!(
                reply.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{engine} {path}"
            );
            let text = reply.text().unwrap();
            assert!(text.contains(message), "{engine} {path}: {text}");
        }
    }
}
