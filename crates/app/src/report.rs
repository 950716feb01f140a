//! What an error report says about where an error happened, in the app's terms.
//!
//! Engines hand back Nix's message with its whole trace (both print it as Nix 2.8 does), and
//! the router can say which handler a request goes to ([`HandlerRoute`], from its "route"
//! mode). This module turns the two into what a person fixing the app needs: the route and
//! the handler's definition first, then the app's own frames, with nixweb's frames (its
//! router and library, in a temporary folder) left out unless asked for.

use crate::engine::SourceLocation;
use crate::RuntimeFiles;
use serde_json::Value;

/// The handler a request went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerRoute {
    /// The method attribute that answers (`GET` for a HEAD request without `HEAD`).
    pub method: String,
    /// The route's pattern, as `nixweb routes` lists it: `/users/:id`.
    pub pattern: String,
    /// Where the method attribute is defined.
    pub definition: Option<SourceLocation>,
}

impl HandlerRoute {
    /// From the router's "route" mode: None when no handler answers the request.
    pub fn from_router(value: &Value) -> Option<HandlerRoute> {
        let route = value.get("route").filter(|r| r.is_object())?;
        let definition = match (route["file"].as_str(), route["line"].as_u64()) {
            (Some(file), Some(line)) => Some(SourceLocation {
                file: file.into(),
                line: line as usize,
                column: 1,
            }),
            _ => None,
        };
        Some(HandlerRoute {
            method: route["method"].as_str()?.to_owned(),
            pattern: route["pattern"].as_str()?.to_owned(),
            definition,
        })
    }
}

impl std::fmt::Display for HandlerRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.pattern)?;
        if let Some(at) = &self.definition {
            write!(f, " (handler at {}:{})", at.file.display(), at.line)?;
        }
        Ok(())
    }
}

/// Frames shown at most; the rest are counted.
const MAX_FRAMES: usize = 32;

/// The first place a Nix error message names in the app's files (not in nixweb's own).
pub fn first_app_location(message: &str, own: &RuntimeFiles) -> Option<SourceLocation> {
    Trace::parse(message)
        .blocks()
        .filter_map(|block| block.location())
        .find(|location| !own.contains(&location.file))
}

/// Nix's message with nixweb's own frames hidden (unless `show_all`), and the first place
/// in the app's files it mentions, for the source excerpt.
pub fn app_trace(
    message: &str,
    own: &RuntimeFiles,
    show_all: bool,
) -> (String, Option<SourceLocation>) {
    let trace = Trace::parse(message);
    let first_in_app = trace
        .blocks()
        .filter_map(|block| block.location())
        .find(|location| !own.contains(&location.file));
    let mut out: Vec<&str> = Vec::new();
    let mut hidden = 0;
    let mut shown = 0;
    let mut left_out = 0;
    // The head: the message, and its excerpt unless that is in nixweb's files.
    let mut previous_own = false;
    match trace.head.location() {
        Some(at) if own.contains(&at.file) && !show_all => {
            out.extend(&trace.head.lines[..trace.head.at_line.expect("located")]);
            hidden += 1;
            previous_own = true;
        }
        _ => out.extend(&trace.head.lines),
    }
    for frame in &trace.frames {
        // A frame without a place (Nix's outermost call) belongs with the one before it.
        let own_frame = match frame.location() {
            Some(at) => own.contains(&at.file),
            None => previous_own,
        };
        previous_own = own_frame;
        if own_frame && !show_all {
            hidden += 1;
        } else if shown >= MAX_FRAMES && !show_all {
            left_out += 1;
        } else {
            out.extend(&frame.lines);
            shown += 1;
        }
    }
    while out.last().is_some_and(|line| line.trim().is_empty()) {
        out.pop();
    }
    let mut text = out.join("\n");
    if left_out > 0 {
        text.push_str(&format!("\n\n       … and {left_out} more frames"));
    }
    if hidden > 0 {
        text.push_str(&format!(
            "\n\n       ({hidden} of nixweb's own frames hidden; --show-trace shows them)"
        ));
    }
    (text, first_in_app)
}

/// A Nix error message split into its head (the message and its excerpt) and the frames
/// of its trace, each starting with a line `       … while …`.
struct Trace<'a> {
    head: Block<'a>,
    frames: Vec<Block<'a>>,
}

struct Block<'a> {
    lines: Vec<&'a str>,
    /// The index of the block's `at FILE:LINE:COLUMN:` line.
    at_line: Option<usize>,
}

impl<'a> Trace<'a> {
    fn parse(message: &'a str) -> Trace<'a> {
        let mut blocks = vec![Vec::new()];
        for line in message.lines() {
            if line.trim_start().starts_with("… ") && line.starts_with(' ') {
                blocks.push(Vec::new());
            }
            blocks.last_mut().expect("one block at least").push(line);
        }
        let mut blocks = blocks.into_iter().map(Block::new);
        let head = blocks.next().expect("one block at least");
        Trace {
            head,
            frames: blocks.collect(),
        }
    }

    fn blocks(&self) -> impl Iterator<Item = &Block<'a>> {
        std::iter::once(&self.head).chain(&self.frames)
    }
}

impl<'a> Block<'a> {
    fn new(lines: Vec<&'a str>) -> Block<'a> {
        let at_line = lines.iter().position(|line| parse_at(line).is_some());
        Block { lines, at_line }
    }

    fn location(&self) -> Option<SourceLocation> {
        parse_at(self.lines[self.at_line?])
    }
}

/// `       at /path/file.nix:12:5:` → the location.
fn parse_at(line: &str) -> Option<SourceLocation> {
    let rest = line.trim_start().strip_prefix("at ")?.strip_suffix(':')?;
    let (rest, column) = rest.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    Some(SourceLocation {
        file: file.into(),
        line: line.parse().ok()?,
        column: column.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> RuntimeFiles {
        RuntimeFiles {
            router: "/tmp/nw/router.nix".into(),
            lib: "/tmp/nw/lib".into(),
        }
    }

    const THROWN: &str = "error: no such user

       … while evaluating 'GET'

       at /srv/app/default.nix:2:16:

            1| {
            2|   throws.GET = req: throw \"no such user\";
             |                ^

       … from call site

       at /tmp/nw/router.nix:191:60:

            191|       response = describeResponse (leaf req);
               |                                    ^

       … while evaluating 'page'

       at /tmp/nw/lib/html.nix:3:9:

            3|   page = x: x;

       … from call site

       at /srv/app/default.nix:9:3:

            9|   GET = page 1;

       … while evaluating 'serveWith'

       at /tmp/nw/router.nix:259:28:

            259|   serveWith = db: request: mode:

       … from call site
";

    #[test]
    fn nixwebs_frames_are_hidden_and_the_apps_kept_in_order() {
        let (text, at) = app_trace(THROWN, &own(), false);
        assert!(!text.contains("/tmp/nw/"), "{text}");
        assert!(text.starts_with("error: no such user\n"), "{text}");
        let first = text.find("/srv/app/default.nix:2:16").unwrap();
        let second = text.find("/srv/app/default.nix:9:3").unwrap();
        assert!(first < second, "{text}");
        assert!(
            text.ends_with("(4 of nixweb's own frames hidden; --show-trace shows them)"),
            "{text}"
        );
        assert_eq!(
            at,
            Some(SourceLocation {
                file: "/srv/app/default.nix".into(),
                line: 2,
                column: 16
            })
        );
        let (all, _) = app_trace(THROWN, &own(), true);
        assert_eq!(all, THROWN.trim_end());
    }

    #[test]
    fn an_error_in_nixwebs_own_file_keeps_its_message_not_its_excerpt() {
        let message = "error: nixweb: the app /srv/a.nix must evaluate to a route tree\n\n       at /tmp/nw/router.nix:97:10:\n\n             97|     else throw \"…\";\n";
        let (text, at) = app_trace(message, &own(), false);
        assert!(
            text.starts_with("error: nixweb: the app /srv/a.nix must"),
            "{text}"
        );
        assert!(!text.contains("router.nix"), "{text}");
        assert_eq!(at, None, "no place in the app is named");
    }

    #[test]
    fn long_traces_are_cut() {
        let mut message = String::from("error: deep\n");
        for line in 1..=100 {
            message.push_str(&format!(
                "\n       … from call site\n\n       at /srv/a.nix:{line}:1:\n"
            ));
        }
        let (text, _) = app_trace(&message, &own(), false);
        assert!(text.contains("/srv/a.nix:32:1") && !text.contains("/srv/a.nix:33:1"));
        assert!(text.ends_with("… and 68 more frames"), "{text}");
    }

    #[test]
    fn the_route_names_its_handler() {
        let value = serde_json::json!({"outcome": "route", "route": {"method": "GET", "pattern": "/users/:id", "file": "/srv/a.nix", "line": 5}});
        let route = HandlerRoute::from_router(&value).unwrap();
        assert_eq!(
            route.to_string(),
            "GET /users/:id (handler at /srv/a.nix:5)"
        );
        assert_eq!(
            HandlerRoute::from_router(&serde_json::json!({"outcome": "route", "route": null})),
            None
        );
    }
}
