//! The `lang` and `corpus` commands: run the cases, print the table, reconcile the
//! failures with the expected-failures list. They return whether the run is green.

use crate::corpus::{self, Recorded};
use crate::engine::{self, EngineKind};
use crate::expected::{self, ExpectedList};
use crate::invocation::{Invocation, Outcome};
use crate::isolation::{parallel_map, Isolation};
use crate::lang::{self, Category, Verdict};
use crate::table::{self, Row};
use crate::{CorpusArgs, LangArgs, RunArgs, CRATE_DIR};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LANG_LIST_HEADER: &str = "\
# Nix 2.8 language tests that nixweb-eval does not pass yet (nixweb-conformance lang).
# One case per line, the reason after '#'. Regenerate with
#   cargo run -p nixweb-conformance -- lang --write-expected
# Reasons starting with `auto:` are regenerated; any other reason is kept.";

const CORPUS_LIST_HEADER: &str = "\
# Corpus cases (topic:line) that nixweb-eval does not pass yet (nixweb-conformance corpus).
# One case per line, the reason after '#'. Regenerate with
#   cargo run -p nixweb-conformance -- corpus --write-expected
# Reasons starting with `auto:` are regenerated; any other reason is kept.";

pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(CRATE_DIR)
}

pub(crate) fn repo_root() -> PathBuf {
    crate_dir().join("../..")
}

/// Absolute, without `..`, so it can be a working directory and a placeholder key.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub(crate) struct Setup {
    pub isolation: Isolation,
    list_path: Option<PathBuf>,
    pub list: ExpectedList,
    pub jobs: usize,
}

/// `default_list` is the embedded engine's list; `reference_list`, if any, the reference
/// engine's (suites whose truth is not Nix 2.8 allow it failures too).
pub(crate) fn setup(
    run: &RunArgs,
    default_list: &str,
    reference_list: Option<&str>,
) -> Result<Setup> {
    if run.write_expected && !run.only.is_empty() {
        bail!("--write-expected needs the whole suite; drop --only");
    }
    let engine = run.engine.unwrap_or_else(EngineKind::default_kind);
    if engine == EngineKind::Reference && !engine::reference_available() {
        bail!("the reference engine needs nix-instantiate on PATH");
    }
    // For lang and corpus the reference engine is the truth: by default it gets no
    // allowance for failures.
    let default_list = match engine {
        EngineKind::Embedded => Some(default_list),
        EngineKind::Reference => reference_list,
    };
    let list_path = run
        .expected
        .clone()
        .or_else(|| default_list.map(|name| crate_dir().join(name)));
    let mut list = match &list_path {
        Some(path) => ExpectedList::load(path)?,
        None => ExpectedList::default(),
    };
    list.retain(|id| run.selects(id));
    let jobs = run.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let isolation = Isolation::new(
        engine,
        Duration::from_secs(run.timeout),
        run.memory_limit_mb,
    )?;
    Ok(Setup {
        isolation,
        list_path,
        list,
        jobs,
    })
}

/// Writes or checks the expected-failures list; returns whether the run is green.
fn finish(
    setup: &Setup,
    run: &RunArgs,
    all_ids: Vec<&str>,
    failures: &BTreeMap<String, String>,
    header: &str,
    rerun_hint: &str,
) -> Result<bool> {
    if run.write_expected {
        let Some(path) = &setup.list_path else {
            bail!("--write-expected needs --expected FILE with the reference engine");
        };
        let list = setup.list.rewritten(failures, header);
        list.save(path)?;
        println!(
            "wrote {} expected failure(s) to {}",
            list.len(),
            path.display()
        );
        return Ok(true);
    }
    let failed: BTreeSet<String> = failures.keys().cloned().collect();
    let rec = setup.list.reconcile(all_ids, &failed);
    let broken = expected::report(&rec, setup.list_path.as_deref(), rerun_hint);
    Ok(!broken)
}

/// `text` on one printable line (control characters escaped), cut at `limit` chars.
pub(crate) fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\r' => " ".to_owned(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect();
    if flat.chars().count() <= limit {
        flat
    } else {
        let cut: String = flat.chars().take(limit).collect();
        format!("{cut}…")
    }
}

/// Both texts from a little before where they first differ, so that a short reason
/// shows the difference rather than a long shared beginning.
fn from_first_difference(a: &str, b: &str) -> (String, String) {
    const CONTEXT: usize = 20;
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    if common <= 2 * CONTEXT {
        return (a.to_owned(), b.to_owned());
    }
    let skip = common - CONTEXT;
    let cut = |t: &str| format!("…{}", t.chars().skip(skip).collect::<String>());
    (cut(a), cut(b))
}

/// `text` indented, at most 60 lines of at most 400 characters: enough to see a
/// difference, not a 100,000-deep value.
fn indent(text: &str) -> String {
    const LINES: usize = 60;
    let mut out: String = text
        .lines()
        .take(LINES)
        .map(|l| format!("    {}\n", one_line(l, 400)))
        .collect();
    let more = text.lines().count().saturating_sub(LINES);
    if more > 0 {
        out.push_str(&format!("    … {more} more line(s)\n"));
    }
    out
}

pub fn lang(args: &LangArgs) -> Result<bool> {
    let tests_dir = match &args.tests {
        Some(dir) => dir.clone(),
        None => repo_root().join(".cache/nix-lang-tests"),
    };
    lang::check_tests_dir(&tests_dir)?;
    let tests_dir = absolute(&tests_dir)?;
    let setup = setup(&args.run, "expected-failures.txt", None)?;
    let mut cases = lang::discover(&tests_dir)?;
    cases.retain(|case| args.run.selects(&case.id));
    let outcomes = run_all(&setup, "lang", &tests_dir, &cases, |case| &case.invocation);
    let judged = judge_lang(&cases, &outcomes);
    let labels: Vec<&str> = Category::ALL.iter().map(|c| c.label()).collect();
    let suite = Suite {
        title: "Nix 2.8 lang tests",
        rows: &labels,
        header: LANG_LIST_HEADER,
        rerun_hint: "nixweb-conformance lang --write-expected",
    };
    report(&setup, &args.run, &suite, judged, &[])
}

/// Announces the run, then runs every case in a child of its own, `setup.jobs` at once.
pub(crate) fn run_all<C: Sync>(
    setup: &Setup,
    suite: &str,
    from: &Path,
    cases: &[C],
    invocation: impl Fn(&C) -> &Invocation + Sync,
) -> Vec<Outcome> {
    println!(
        "nixweb-conformance {suite}: {} cases from {}, engine {}",
        cases.len(),
        from.display(),
        setup.isolation.engine().name()
    );
    parallel_map(cases, setup.jobs, |case| {
        setup.isolation.run(invocation(case))
    })
}

/// lang.sh's verdicts, each in its category's row.
pub(crate) fn judge_lang<'a>(cases: &'a [lang::Case], outcomes: &[Outcome]) -> Vec<Judged<'a>> {
    cases
        .iter()
        .zip(outcomes)
        .map(|(case, outcome)| Judged {
            id: &case.id,
            row: case.category.label(),
            verdict: lang::judge(case, outcome),
        })
        .collect()
}

/// One case's verdict, and the row of the table it counts in.
pub(crate) struct Judged<'a> {
    pub id: &'a str,
    pub row: &'static str,
    pub verdict: Verdict,
}

/// How a suite is reported: its table's title and rows (in order), and its list's header.
pub(crate) struct Suite<'a> {
    pub title: &'a str,
    pub rows: &'a [&'static str],
    pub header: &'a str,
    pub rerun_hint: &'a str,
}

/// Prints the failures and the table (with `notes` under it), then writes or checks the
/// expected-failures list; returns whether the run is green.
pub(crate) fn report(
    setup: &Setup,
    run: &RunArgs,
    suite: &Suite,
    judged: Vec<Judged>,
    notes: &[String],
) -> Result<bool> {
    let mut rows: Vec<Row> = suite.rows.iter().map(|label| Row::new(*label)).collect();
    let mut failures = BTreeMap::new();
    for case in &judged {
        let row = rows
            .iter_mut()
            .find(|row| row.label == case.row)
            .expect("every case's row is in the table");
        row.total += 1;
        match &case.verdict {
            Verdict::Pass => row.passed += 1,
            Verdict::Fail { reason, detail } => {
                let listed = setup.list.contains(case.id);
                if listed {
                    row.expected_failures += 1;
                }
                if run.verbose || !listed {
                    println!("FAIL {}: {}", case.id, one_line(reason, 200));
                }
                if run.verbose {
                    print!("{}", indent(detail));
                }
                failures.insert(case.id.to_owned(), one_line(reason, 120));
            }
        }
    }
    println!("\n{}", table::render(suite.title, &rows));
    for note in notes {
        println!("{note}");
    }
    let ids = judged.iter().map(|c| c.id).collect();
    finish(setup, run, ids, &failures, suite.header, suite.rerun_hint)
}

pub fn corpus(args: &CorpusArgs) -> Result<bool> {
    let dir = absolute(
        &args
            .dir
            .clone()
            .unwrap_or_else(|| crate_dir().join("corpus")),
    )?;
    let mut cases = corpus::discover(&dir)?;
    if !args.record {
        cases.retain(|case| args.run.selects(&case.id));
    }
    let invocations: Vec<_> = cases.iter().map(|c| corpus::invocation(c, &dir)).collect();
    let run_args = RunArgs {
        engine: args
            .record
            .then_some(EngineKind::Reference)
            .or(args.run.engine),
        ..args.run.clone()
    };
    let setup = setup(&run_args, "corpus-expected-failures.txt", None)?;
    let engine = setup.isolation.engine();

    if args.record {
        let outcomes = parallel_map(&invocations, setup.jobs, |i| setup.isolation.run(i));
        if let Some((case, outcome)) = cases.iter().zip(&outcomes).find(|(_, o)| o.exit_code < 0) {
            bail!(
                "nix-instantiate did not run {}: {}",
                case.id,
                outcome.stderr
            );
        }
        let results: Vec<Recorded> = outcomes
            .iter()
            .map(|o| Recorded::from_outcome(o, &dir))
            .collect();
        corpus::save_records(&dir, &cases, &results)?;
        let errors = results
            .iter()
            .filter(|r| matches!(r, Recorded::Error(_)))
            .count();
        println!(
            "recorded {} cases ({} values, {} errors) from nix-instantiate into {}",
            cases.len(),
            cases.len() - errors,
            errors,
            dir.display()
        );
        return Ok(true);
    }

    println!(
        "nixweb-conformance corpus: {} cases from {}, engine {}",
        cases.len(),
        dir.display(),
        engine.name()
    );
    let records = corpus::load_records(&dir)?;
    if args.run.only.is_empty() {
        let keys: BTreeSet<(String, String)> = cases
            .iter()
            .map(|c| (c.topic.clone(), c.expr.clone()))
            .collect();
        let orphans = records.keys().filter(|k| !keys.contains(*k)).count();
        if orphans > 0 {
            println!("note: {orphans} recorded answer(s) belong to no case; --record drops them");
        }
    }
    let outcomes = parallel_map(&invocations, setup.jobs, |i| setup.isolation.run(i));
    let actual: Vec<Recorded> = outcomes
        .iter()
        .map(|o| Recorded::from_outcome(o, &dir))
        .collect();

    let mut problems = 0;
    // How many recorded errors the engine reproduces whole (positions and code frames too),
    // a finer measure than the first-line comparison that decides pass or fail.
    let (mut error_cases, mut errors_in_full) = (0, 0);
    if args.live {
        problems += check_records_live(&setup, &cases, &invocations, &actual, &records, &dir)?;
    }

    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for ((case, actual), outcome) in cases.iter().zip(&actual).zip(&outcomes) {
        let row = rows
            .entry(case.topic.as_str())
            .or_insert_with(|| Row::new(case.topic.clone()));
        row.total += 1;
        let Some(want) = records.get(&(case.topic.clone(), case.expr.clone())) else {
            println!("UNRECORDED {}: {}", case.id, case.expr);
            problems += 1;
            continue;
        };
        if let Recorded::Error(_) = want {
            error_cases += 1;
            if want.matches(actual, true) {
                errors_in_full += 1;
            }
        }
        if want.matches(actual, args.full_errors) {
            row.passed += 1;
            continue;
        }
        let listed = setup.list.contains(&case.id);
        if listed {
            row.expected_failures += 1;
        }
        // A timeout or crash says more than the (empty) error block it becomes.
        let got = if outcome.exit_code < 0 {
            outcome.summary()
        } else {
            actual.headline()
        };
        let (got_part, want_part) = from_first_difference(&got, &want.headline());
        let reason = format!(
            "got {}; want {}",
            one_line(&got_part, 80),
            one_line(&want_part, 80)
        );
        if args.run.verbose || !listed {
            println!("FAIL {}: {}", case.id, case.expr);
            println!("    want: {}", one_line(&want.headline(), 300));
            println!("    got:  {}", one_line(&got, 300));
        }
        failures.insert(case.id.clone(), reason);
    }
    let rows: Vec<Row> = rows.into_values().collect();
    println!("\n{}", table::render("corpus topic", &rows));
    println!("error messages matching in full (not just their first line): {errors_in_full} of {error_cases}");
    if problems > 0 {
        println!(
            "{problems} case(s) unrecorded or recorded wrongly: \
             run `nixweb-conformance corpus --record` where nix-instantiate is installed"
        );
    }
    let ids = cases.iter().map(|c| c.id.as_str()).collect();
    let green = finish(
        &setup,
        &args.run,
        ids,
        &failures,
        CORPUS_LIST_HEADER,
        "nixweb-conformance corpus --write-expected",
    )?;
    Ok(green && problems == 0)
}

/// With `--live`: asks the real nix-instantiate again and counts records that no longer
/// match it (or are missing), so stale records cannot hide.
fn check_records_live(
    setup: &Setup,
    cases: &[corpus::Case],
    invocations: &[crate::invocation::Invocation],
    actual: &[Recorded],
    records: &BTreeMap<(String, String), Recorded>,
    dir: &Path,
) -> Result<usize> {
    let live: Vec<Recorded> = if setup.isolation.engine() == EngineKind::Reference {
        actual.to_vec()
    } else {
        if !engine::reference_available() {
            bail!("--live needs nix-instantiate on PATH");
        }
        let reference = Isolation::new(EngineKind::Reference, Duration::from_secs(60), 0)?;
        parallel_map(invocations, setup.jobs, |i| {
            Recorded::from_outcome(&reference.run(i), dir)
        })
    };
    let mut stale = 0;
    for (case, live) in cases.iter().zip(&live) {
        match records.get(&(case.topic.clone(), case.expr.clone())) {
            Some(recorded) if recorded == live => {}
            Some(recorded) => {
                stale += 1;
                println!(
                    "STALE {}: recorded {}; nix-instantiate now says {}",
                    case.id,
                    one_line(&recorded.headline(), 100),
                    one_line(&live.headline(), 100)
                );
            }
            // Reported once, by the main loop.
            None => {}
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn differences_are_shown_where_they_start() {
        use super::from_first_difference;
        let shared = "error: a long shared beginning of the message, ";
        let (a, b) = from_first_difference(&format!("{shared}x"), &format!("{shared}y"));
        assert!(
            a.starts_with('…') && a.ends_with('x') && b.ends_with('y'),
            "{a} {b}"
        );
        assert!(a.chars().count() < shared.len());
        assert_eq!(
            from_first_difference("ab", "ac"),
            ("ab".into(), "ac".into())
        );
    }

    #[test]
    fn one_line_flattens_escapes_and_cuts() {
        assert_eq!(one_line("a\nb\u{0}c", 80), "a b\\u{0}c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
