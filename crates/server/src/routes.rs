//! The app's route table, as `nixweb routes` prints it and `serve` checks it at start-up.
//!
//! One evaluation of the router's "routes" mode lists the whole table. When that fails, a
//! subtree somewhere does not evaluate; the table is then walked one node at a time (the
//! router's "node" mode), so every route that works is listed and each subtree that fails
//! is marked with its own error instead of the one error hiding everything.

use crate::explain::in_app_terms;
use crate::render::{Failure, Place};
use axum::body::Body;
use nixweb_app::engine::{Engine, RouterCall, RouterMode};
use nixweb_app::outcome::{self, InvalidResponse, Route};
use nixweb_app::request::{Request, RequestParts};
use std::sync::Arc;
use std::time::Duration;

/// Nodes evaluated one at a time at most (each is a process with the Nix engine), and how
/// deep: a tree that refers to itself would otherwise be walked forever.
const MAX_NODES: usize = 500;
const MAX_DEPTH: usize = 32;

/// A row of the table: a route, or a subtree that failed to evaluate.
#[derive(Debug)]
pub enum Row {
    Route(Route),
    Failed { pattern: String, failure: Failure },
}

/// The table. Fails as a whole only when the route tree itself does not evaluate.
pub async fn table(
    engine: &dyn Engine,
    timeout: Duration,
    show_trace: bool,
) -> Result<Vec<Row>, Failure> {
    let listed = async {
        let result = run(engine, RouterMode::Routes, &[], timeout).await?;
        outcome::parse_routes(&result).map_err(Failure::InvalidResponse)
    };
    match listed.await {
        Ok(routes) => Ok(routes.into_iter().map(Row::Route).collect()),
        Err(failure) if failure.is_the_apps() => {
            let mut walk = Walk {
                engine,
                timeout,
                show_trace,
                rows: Vec::new(),
                nodes: 0,
            };
            walk.node(Vec::new()).await?;
            Ok(walk.rows)
        }
        Err(failure) => Err(failure),
    }
}

struct Walk<'a> {
    engine: &'a dyn Engine,
    timeout: Duration,
    show_trace: bool,
    rows: Vec<Row>,
    nodes: usize,
}

impl Walk<'_> {
    /// Lists the node at `names` and, depth first, its children. Fails only for the root.
    async fn node(&mut self, names: Vec<String>) -> Result<(), Failure> {
        let mut pending = vec![names];
        while let Some(names) = pending.pop() {
            let pattern = format!("/{}", names.join("/"));
            if self.nodes == MAX_NODES || names.len() > MAX_DEPTH {
                self.rows.push(Row::Failed {
                    pattern,
                    failure: Failure::InvalidResponse(InvalidResponse(format!(
                        "not listed: the table was walked one node at a time, and stops at {MAX_NODES} nodes and {MAX_DEPTH} levels"
                    ))),
                });
                continue;
            }
            self.nodes += 1;
            let listed = run(self.engine, RouterMode::Node, &names, self.timeout).await;
            let node = match listed {
                Ok(node) => node,
                Err(failure) if names.is_empty() => {
                    return Err(Failure::InApp {
                        place: Place::RouteTree(self.engine.app_file().to_owned()),
                        failure: Box::new(in_app_terms(self.engine, self.show_trace, failure)),
                    })
                }
                Err(failure) => {
                    let failure = in_app_terms(self.engine, self.show_trace, failure);
                    self.rows.push(Row::Failed { pattern, failure });
                    continue;
                }
            };
            if node["kind"] != "node" {
                continue;
            }
            let methods: Vec<String> = node["methods"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect();
            if !methods.is_empty() {
                let pattern = if names.is_empty() {
                    "/".into()
                } else {
                    pattern
                };
                self.rows.push(Row::Route(Route { pattern, methods }));
            }
            let children = node["children"].as_array().cloned().unwrap_or_default();
            // Reversed onto the stack, so children come out in the router's order.
            for child in children.iter().rev().filter_map(|c| c.as_str()) {
                let mut below = names.clone();
                below.push(child.to_owned());
                pending.push(below);
            }
        }
        Ok(())
    }
}

/// Runs the router in `mode` on a synthetic `GET` whose segments are `names`, as they are.
async fn run(
    engine: &dyn Engine,
    mode: RouterMode,
    names: &[String],
    timeout: Duration,
) -> Result<serde_json::Value, Failure> {
    let request: http::Request<Body> = http::Request::get("/")
        .body(Body::empty())
        .expect("a static request");
    let (parts, _) = request.into_parts();
    let mut request = Request::new(&RequestParts {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: b"",
        remote_addr: None,
        id: "routes",
        time: 0,
    })
    .map_err(Failure::BadRequest)?;
    request.segments = names.to_vec();
    engine
        .run_router(RouterCall {
            mode,
            request: Arc::new(request),
            timeout,
            state: None,
            traces: Arc::new(nixweb_app::trace::Traces::new(
                "routes",
                nixweb_app::trace::DEFAULT_LIMIT,
            )),
        })
        .await
        .map_err(Failure::Engine)
}
