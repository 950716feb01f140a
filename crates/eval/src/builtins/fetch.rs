//! Fetchers. The evaluator never touches the network: fetches go to the host's
//! `EvalIO::fetch`, and fail cleanly when the host offers none.

use super::Registry;
use crate::error::{err, EResult};
use crate::eval::Evaluator;
use crate::io::FetchRequest;
use crate::source::Pos;
use crate::value::*;

fn fetch(ev: &mut Evaluator, kind: &str, arg: &Thunk, pos: Pos) -> EResult<Value> {
    let v = ev.force(arg)?;
    let mut req = FetchRequest {
        kind: kind.to_string(),
        url: String::new(),
        name: None,
        sha256: None,
        rev: None,
        git_ref: None,
    };
    match &v {
        Value::Attrs(a) => {
            let get = |ev: &mut Evaluator, n: &str| -> EResult<Option<String>> {
                match a.get(n).cloned() {
                    Some(t) => {
                        let v = ev.force(&t)?;
                        let mut ctx = Context::new();
                        Ok(Some(
                            ev.coerce_to_string(&v, pos, false, false, &mut ctx)?
                                .into_owned(),
                        ))
                    }
                    None => Ok(None),
                }
            };
            req.url = get(ev, "url")?.unwrap_or_default();
            req.name = get(ev, "name")?;
            req.sha256 = get(ev, "sha256")?;
            req.rev = get(ev, "rev")?;
            req.git_ref = get(ev, "ref")?;
        }
        other => {
            let mut ctx = Context::new();
            req.url = ev
                .coerce_to_string(other, pos, false, false, &mut ctx)?
                .into_owned();
        }
    }
    match ev.io.fetch(&req) {
        None => err(format!("'{}' is not available in this engine", kind), pos),
        Some(Err(msg)) => err(msg, pos),
        Some(Ok(path)) => {
            let p = path.to_string_lossy().into_owned();
            let mut ctx = Context::new();
            ctx.insert(p.clone());
            let out = Value::String(NixStr::with_ctx(p, ctx));
            if kind == "fetchGit" || kind == "fetchMercurial" || kind == "fetchTree" {
                return Ok(super::mk_attrs(vec![("outPath", out)]));
            }
            Ok(out)
        }
    }
}

pub fn register(reg: &mut Registry) {
    reg.add("fetchurl", 1, |ev, a, pos| {
        fetch(ev, "fetchurl", &a[0], pos)
    });
    reg.add("fetchTarball", 1, |ev, a, pos| {
        fetch(ev, "fetchTarball", &a[0], pos)
    });
    reg.add("fetchGit", 1, |ev, a, pos| {
        fetch(ev, "fetchGit", &a[0], pos)
    });
    reg.add("fetchMercurial", 1, |ev, a, pos| {
        fetch(ev, "fetchMercurial", &a[0], pos)
    });
    reg.add("fetchTree", 1, |ev, a, pos| {
        fetch(ev, "fetchTree", &a[0], pos)
    });
}
