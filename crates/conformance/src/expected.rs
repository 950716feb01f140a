//! Expected-failure lists: the cases an engine is known not to pass yet, each with a
//! reason. A run is green when exactly the listed cases fail.
//!
//! File format: one case id per line, the reason after `#`; lines that start with `#`
//! are comments and are kept (at the top) when the file is rewritten.

use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Marks a reason the runner wrote; anything else was written by a person and is kept.
pub const AUTO: &str = "auto: ";

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExpectedList {
    header: Vec<String>,
    /// case id -> reason
    entries: BTreeMap<String, String>,
}

/// How the actual failures compare with the list.
#[derive(Debug, Default, PartialEq)]
pub struct Reconciliation {
    /// Failed, but not listed: the engine got worse (or the case is new).
    pub regressions: Vec<String>,
    /// Listed, but passed: the list must be updated.
    pub now_passing: Vec<String>,
    /// Listed, but no such case exists any more.
    pub unknown: Vec<String>,
    /// Failed and listed.
    pub expected_failures: usize,
}

impl Reconciliation {
    pub fn is_clean(&self) -> bool {
        self.regressions.is_empty() && self.now_passing.is_empty() && self.unknown.is_empty()
    }
}

impl ExpectedList {
    pub fn parse(text: &str) -> Self {
        let mut list = ExpectedList::default();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with('#') {
                if list.entries.is_empty() {
                    list.header.push(line.trim_end().to_owned());
                }
                continue;
            }
            let (id, reason) = match trimmed.split_once('#') {
                Some((id, reason)) => (id.trim(), reason.trim()),
                None => (trimmed, ""),
            };
            list.entries.insert(id.to_owned(), reason.to_owned());
        }
        list
    }

    /// A missing file is an empty list.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Keeps only the entries whose id satisfies `keep` (for runs over part of a suite).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.entries.retain(|id, _| keep(id));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn reconcile<'a>(
        &self,
        all_cases: impl IntoIterator<Item = &'a str>,
        failed: &BTreeSet<String>,
    ) -> Reconciliation {
        let all: BTreeSet<&str> = all_cases.into_iter().collect();
        let mut rec = Reconciliation::default();
        for id in failed {
            if self.contains(id) {
                rec.expected_failures += 1;
            } else {
                rec.regressions.push(id.clone());
            }
        }
        for id in self.entries.keys() {
            if !all.contains(id.as_str()) {
                rec.unknown.push(id.clone());
            } else if !failed.contains(id) {
                rec.now_passing.push(id.clone());
            }
        }
        rec
    }

    /// The list that matches `failures` (id -> fresh reason), keeping the header comments
    /// and the hand-written reasons of cases that still fail. Generated reasons carry the
    /// [`AUTO`] prefix and are refreshed, so they follow the evaluator's current error.
    pub fn rewritten(&self, failures: &BTreeMap<String, String>, default_header: &str) -> Self {
        let header = if self.header.is_empty() {
            default_header.lines().map(str::to_owned).collect()
        } else {
            self.header.clone()
        };
        let entries = failures
            .iter()
            .map(|(id, fresh)| {
                let reason = match self.entries.get(id) {
                    Some(kept) if !kept.is_empty() && !kept.starts_with(AUTO) => kept.clone(),
                    _ => format!("{AUTO}{fresh}"),
                };
                (id.clone(), reason)
            })
            .collect();
        ExpectedList { header, entries }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str(line);
            out.push('\n');
        }
        let width = self.entries.keys().map(|k| k.len()).max().unwrap_or(0);
        for (id, reason) in &self.entries {
            // Reasons are single-line by construction; flatten anything else.
            let reason = reason.replace(['\n', '\r'], " ");
            if reason.is_empty() {
                out.push_str(&format!("{id}\n"));
            } else {
                out.push_str(&format!("{id:width$}  # {reason}\n"));
            }
        }
        out
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.render()).with_context(|| format!("writing {}", path.display()))
    }
}

/// Prints what is out of line and returns whether the run should fail.
pub fn report(rec: &Reconciliation, list_path: Option<&Path>, rerun_hint: &str) -> bool {
    let list = list_path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(no expected-failures list)".to_owned());
    for id in &rec.regressions {
        println!("REGRESSION  {id}  (fails, not in {list})");
    }
    for id in &rec.now_passing {
        println!("NOW PASSES  {id}  (listed in {list})");
    }
    for id in &rec.unknown {
        println!("UNKNOWN     {id}  (listed in {list}, no such case)");
    }
    if rec.is_clean() {
        return false;
    }
    println!(
        "\n{} regression(s), {} listed case(s) now passing, {} unknown listed case(s).\n\
         If this is intended, rerun with --write-expected to update the list: {rerun_hint}",
        rec.regressions.len(),
        rec.now_passing.len(),
        rec.unknown.len()
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parse_reads_ids_and_reasons() {
        let list = ExpectedList::parse("# header\n\na  # why a\nb\n  c #why c  \n");
        assert!(list.contains("a") && list.contains("b") && list.contains("c"));
        assert_eq!(list.entries["a"], "why a");
        assert_eq!(list.entries["b"], "");
        assert_eq!(list.entries["c"], "why c");
        assert_eq!(list.header, ["# header"]);
    }

    #[test]
    fn reconcile_finds_regressions_new_passes_and_unknowns() {
        let list = ExpectedList::parse("a # x\nb # y\ngone # z\n");
        let rec = list.reconcile(["a", "b", "c"], &set(&["a", "c"]));
        assert_eq!(rec.regressions, ["c"]);
        assert_eq!(rec.now_passing, ["b"]);
        assert_eq!(rec.unknown, ["gone"]);
        assert_eq!(rec.expected_failures, 1);
        assert!(!rec.is_clean());
    }

    #[test]
    fn reconcile_is_clean_when_failures_match_the_list() {
        let list = ExpectedList::parse("a # x\n");
        assert!(list.reconcile(["a", "b"], &set(&["a"])).is_clean());
    }

    #[test]
    fn rewrite_keeps_old_reasons_and_header() {
        let old =
            ExpectedList::parse("# mine\na # hand-written\nb # fixed now\nd # auto: old error\n");
        let failures: BTreeMap<String, String> = [("a", "err a"), ("c", "err c"), ("d", "new")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let new = old.rewritten(&failures, "# default");
        assert_eq!(
            new.render(),
            "# mine\na  # hand-written\nc  # auto: err c\nd  # auto: new\n"
        );
        assert_eq!(ExpectedList::parse(&new.render()), new);
    }
}
