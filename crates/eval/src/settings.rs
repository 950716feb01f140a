//! Settings of current Nix's that change what the evaluator does, all off by default as
//! in Nix: a host turns them on (`nixweb eval --abort-on-warn`, `--lint-url-literals
//! fatal`, `--option NAME VALUE`).

/// How a lint treats what it finds (Nix's `ignore`, `warn`, `fatal`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Diagnose {
    #[default]
    Ignore,
    /// A warning on stderr; evaluation goes on.
    Warn,
    /// A parse error.
    Fatal,
}

/// The parser's lints on literals.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lints {
    /// `lint-absolute-path-literals`: `/abs` and `~/home` paths.
    pub absolute_paths: Diagnose,
    /// `lint-short-path-literals`: relative paths that do not start with `.`.
    pub short_paths: Diagnose,
    /// `lint-url-literals`: unquoted URLs.
    pub url_literals: Diagnose,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// `abort-on-warn`: `builtins.warn` fails the evaluation after printing, to reveal
    /// where the warning came from.
    pub abort_on_warn: bool,
    /// `trace-verbose`: `builtins.traceVerbose` traces; otherwise it only returns.
    pub trace_verbose: bool,
    pub lints: Lints,
    /// `max-call-depth`: nested function calls allowed before "stack overflow" (current
    /// Nix's; without it, the evaluator's own bound).
    pub max_call_depth: Option<u32>,
}

impl Settings {
    /// `--option NAME VALUE` (and `--NAME VALUE` for the lints): `Ok(false)` for a name
    /// that is not one of these settings, an error for a value Nix would refuse.
    pub fn set_option(&mut self, name: &str, value: &str) -> Result<bool, String> {
        let lint = match name {
            "abort-on-warn" => &mut self.abort_on_warn,
            "trace-verbose" => &mut self.trace_verbose,
            "lint-absolute-path-literals" => {
                return set_lint(&mut self.lints.absolute_paths, value)
            }
            "lint-short-path-literals" => return set_lint(&mut self.lints.short_paths, value),
            "lint-url-literals" => return set_lint(&mut self.lints.url_literals, value),
            "max-call-depth" => {
                let depth = value
                    .parse()
                    .map_err(|_| format!("'{value}' is not a valid integer"))?;
                self.max_call_depth = Some(depth);
                return Ok(true);
            }
            _ => return Ok(false),
        };
        *lint = match value {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(format!("'{value}' is not a Boolean")),
        };
        Ok(true)
    }
}

fn set_lint(level: &mut Diagnose, value: &str) -> Result<bool, String> {
    *level = match value {
        "ignore" => Diagnose::Ignore,
        "warn" => Diagnose::Warn,
        "fatal" => Diagnose::Fatal,
        _ => return Err(format!("'{value}' is not one of ignore, warn or fatal")),
    };
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_set_only_their_own_setting() {
        let mut s = Settings::default();
        assert_eq!(s.set_option("abort-on-warn", "true"), Ok(true));
        assert_eq!(s.set_option("lint-url-literals", "fatal"), Ok(true));
        assert_eq!(s.set_option("substituters", ""), Ok(false));
        assert!(s.abort_on_warn && !s.trace_verbose);
        assert_eq!(s.lints.url_literals, Diagnose::Fatal);
        assert_eq!(s.lints.short_paths, Diagnose::Ignore);
        assert!(s.set_option("trace-verbose", "maybe").is_err());
        assert!(s.set_option("lint-short-path-literals", "loud").is_err());
        assert_eq!(s.set_option("max-call-depth", "100"), Ok(true));
        assert_eq!(s.max_call_depth, Some(100));
        assert!(s.set_option("max-call-depth", "deep").is_err());
    }
}
