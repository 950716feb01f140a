//! Builtins that write to the evaluation's stderr: `trace` (Nix 2.8) and what current Nix
//! added beside it (`warn`, `traceVerbose`, `break`), steered by `crate::settings`.

use super::Registry;
use crate::error::{err, ErrorKind, EvalError};
use crate::eval::Evaluator;
use crate::value::*;

/// What current Nix prints before a warning; continuation lines line up after it.
const WARNING_LABEL: &str = "evaluation warning";

pub fn register(reg: &mut Registry) {
    reg.add("trace", 2, |ev, a, _| {
        trace(ev, &a[0])?;
        ev.force(&a[1])
    });
    reg.add("traceVerbose", 2, |ev, a, _| {
        if ev.settings.trace_verbose {
            trace(ev, &a[0])?;
        }
        ev.force(&a[1])
    });
    reg.add("warn", 2, |ev, a, pos| {
        let msg = match ev.force(&a[0])? {
            Value::String(s) => s,
            // Current Nix's wording: the builtin is newer than 2.8's messages.
            other => {
                return err(
                    format!(
                        "expected a string but found {}: {}",
                        other.type_desc(),
                        crate::print::print_value_capped(&other, 200)
                    ),
                    pos,
                )
            }
        };
        // A message starting with a newline is not indented under the label.
        if msg.as_str().starts_with('\n') {
            ev.print_stderr_parts(&[WARNING_LABEL, ":", msg.as_str(), "\n"]);
        } else {
            let indent = format!("\n{}", " ".repeat(WARNING_LABEL.len() + 2));
            ev.print_stderr(WARNING_LABEL, &msg.replace('\n', &indent));
        }
        if ev.settings.abort_on_warn {
            // Not catchable by tryEval, as in current Nix.
            return Err(EvalError::new(
                ErrorKind::Eval,
                "aborting to reveal stack trace of warning, as abort-on-warn is set",
                pos,
            ));
        }
        ev.force(&a[1])
    });
    // Outside current Nix's debugger, `break` returns its argument.
    reg.add("break", 1, |ev, a, _| ev.force(&a[0]));
}

fn trace(ev: &mut Evaluator, message: &Thunk) -> crate::error::EResult<()> {
    let v = ev.force(message)?;
    match &v {
        Value::String(s) => ev.print_stderr("trace", s.as_str()),
        // Printed no further than what can still be kept (and a little past, so the
        // dropped part counts).
        other => {
            let room = ev.stderr_room();
            let text = crate::print::print_value_capped(other, room.saturating_add(4096));
            ev.print_stderr("trace", &text);
        }
    }
    Ok(())
}
