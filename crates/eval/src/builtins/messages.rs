//! Builtins that write to the evaluation's stderr: `trace` (Nix 2.8) and what current Nix
//! added beside it (`warn`, `traceVerbose`, `break`), with the settings that steer them.

use super::Registry;
use crate::error::{err, ErrorKind, EvalError};
use crate::eval::Evaluator;
use crate::value::*;

/// Settings of current Nix's that change what these builtins do; all off by default, as
/// in Nix. A host sets them (`nixweb eval --abort-on-warn`, `--trace-verbose`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// `abort-on-warn`: `builtins.warn` fails the evaluation after printing, to reveal
    /// where the warning came from.
    pub abort_on_warn: bool,
    /// `trace-verbose`: `builtins.traceVerbose` traces; otherwise it only returns.
    pub trace_verbose: bool,
}

impl Settings {
    /// `--option NAME VALUE` for the settings above: `Ok(false)` for a name that is not
    /// one of them, an error for a value that is not a Boolean in Nix's spelling.
    pub fn set_option(&mut self, name: &str, value: &str) -> Result<bool, String> {
        let field = match name {
            "abort-on-warn" => &mut self.abort_on_warn,
            "trace-verbose" => &mut self.trace_verbose,
            _ => return Ok(false),
        };
        *field = match value {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(format!("'{value}' is not a Boolean")),
        };
        Ok(true)
    }
}

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
        if msg.s.starts_with('\n') {
            ev.print_stderr_parts(&[WARNING_LABEL, ":", &msg.s, "\n"]);
        } else {
            let indent = format!("\n{}", " ".repeat(WARNING_LABEL.len() + 2));
            ev.print_stderr(WARNING_LABEL, &msg.s.replace('\n', &indent));
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
        Value::String(s) => ev.print_stderr("trace", &s.s),
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
