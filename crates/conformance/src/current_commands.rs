//! The `nix-current` and `nixpkgs-lib` commands: suites of today's Nix and nixpkgs, read
//! from snapshots outside the repository. Each engine has its own expected-failures list:
//! nixweb-eval's says what it does not do yet, Nix 2.8's what changed or came after 2.8.

use crate::commands::{absolute, judge_lang, repo_root, report, run_all, setup, Judged, Suite};
use crate::engine::EngineKind;
use crate::lang::Category;
use crate::nix_current;
use crate::nixpkgs_lib::{self, Group};
use crate::{NixCurrentArgs, NixpkgsLibArgs};
use anyhow::Result;

const NIX_CURRENT_HEADER: &str = "\
# Cases of Nix's current language suite (../shared/nix-lang-tests) that nixweb-eval does
# not pass yet (nixweb-conformance nix-current). One case per line, the reason after '#'.
# Regenerate with
#   cargo run -p nixweb-conformance -- nix-current --write-expected
# Reasons starting with `auto:` are regenerated; any other reason is kept.
# crates/conformance/CURRENT.md sorts these by cause.";

const NIX_CURRENT_NIX28_HEADER: &str = "\
# Cases of Nix's current language suite (../shared/nix-lang-tests) that Nix 2.8 does not
# pass (nixweb-conformance nix-current --engine reference): what Nix changed or added
# after 2.8. One case per line, the reason after '#'. Regenerate with
#   cargo run -p nixweb-conformance -- nix-current --engine reference --write-expected";

const NIXPKGS_LIB_HEADER: &str = "\
# Tests of nixpkgs' current lib (../shared/nixpkgs-lib) that nixweb-eval does not pass
# yet (nixweb-conformance nixpkgs-lib): modules.sh checks by line. One case per line, the
# reason after '#'. Regenerate with
#   cargo run -p nixweb-conformance -- nixpkgs-lib --write-expected
# Reasons starting with `auto:` are regenerated; any other reason is kept.
# crates/conformance/CURRENT.md sorts these by cause.";

const NIXPKGS_LIB_NIX28_HEADER: &str = "\
# Tests of nixpkgs' current lib (../shared/nixpkgs-lib) that Nix 2.8 does not pass
# (nixweb-conformance nixpkgs-lib --engine reference): what today's lib needs of a Nix
# newer than 2.8. One case per line, the reason after '#'. Regenerate with
#   cargo run -p nixweb-conformance -- nixpkgs-lib --engine reference --write-expected";

/// The header a new list gets: the one for the engine that runs.
fn header<'a>(run: &crate::RunArgs, embedded: &'a str, reference: &'a str) -> &'a str {
    match run.engine.unwrap_or_else(EngineKind::default_kind) {
        EngineKind::Embedded => embedded,
        EngineKind::Reference => reference,
    }
}

pub fn nix_current(args: &NixCurrentArgs) -> Result<bool> {
    let dir = match &args.tests {
        Some(dir) => dir.clone(),
        None => repo_root().join(nix_current::DEFAULT_DIR),
    };
    let scratch = tempfile::Builder::new()
        .prefix("nixweb-nix-current-")
        .tempdir()?;
    let snapshot = absolute(&nix_current::suite_dir(&dir)?)?;
    let suite_dir = nix_current::with_symlinks(&snapshot, scratch.path())?;
    if suite_dir != snapshot {
        println!(
            "note: the snapshot holds upstream's symlinks as plain files; running a copy with \
             them restored"
        );
    }
    let setup = setup(
        &args.run,
        "nix-current-expected-failures.txt",
        Some("nix-current-nix28-failures.txt"),
    )?;
    let mut cases = nix_current::discover(&suite_dir)?;
    cases.retain(|case| args.run.selects(&case.id));
    let outcomes = run_all(&setup, "nix-current", &snapshot, &cases, |c| &c.invocation);
    let outcomes: Vec<_> = cases
        .iter()
        .zip(outcomes)
        .map(|(case, outcome)| nix_current::normalise(case, outcome))
        .collect();

    // Messages in current Nix's layout, counted apart from pass or fail.
    let (mut okay, mut fail) = ((0, 0), (0, 0));
    for (case, outcome) in cases.iter().zip(&outcomes) {
        let Some(matches) = nix_current::stderr_matches(&suite_dir, case, outcome)? else {
            continue;
        };
        let count = if case.category == Category::EvalFail {
            &mut fail
        } else {
            &mut okay
        };
        count.1 += 1;
        count.0 += usize::from(matches);
    }
    let notes = [format!(
        "stderr exactly as current Nix prints it (.err.exp; reported, not judged): \
         eval-okay {} of {}, eval-fail {} of {}",
        okay.0, okay.1, fail.0, fail.1
    )];

    let judged = judge_lang(&cases, &outcomes);
    let rows: Vec<&str> = Category::ALL.iter().map(|c| c.label()).collect();
    let suite = Suite {
        title: "Nix's current lang tests",
        rows: &rows,
        header: header(&args.run, NIX_CURRENT_HEADER, NIX_CURRENT_NIX28_HEADER),
        rerun_hint: "nixweb-conformance nix-current --write-expected",
    };
    report(&setup, &args.run, &suite, judged, &notes)
}

pub fn nixpkgs_lib(args: &NixpkgsLibArgs) -> Result<bool> {
    let dir = match &args.lib {
        Some(dir) => dir.clone(),
        None => repo_root().join(nixpkgs_lib::DEFAULT_DIR),
    };
    nixpkgs_lib::check_dir(&dir)?;
    let root = absolute(&dir)?;
    let setup = setup(
        &args.run,
        "nixpkgs-lib-expected-failures.txt",
        Some("nixpkgs-lib-nix28-failures.txt"),
    )?;
    let mut cases = nixpkgs_lib::discover(&root)?;
    cases.retain(|case| args.run.selects(&case.id));
    let outcomes = run_all(&setup, "nixpkgs-lib", &root, &cases, |c| &c.invocation);
    let judged = cases
        .iter()
        .zip(&outcomes)
        .map(|(case, outcome)| Judged {
            id: &case.id,
            row: case.group.label(),
            verdict: nixpkgs_lib::judge(case, outcome),
        })
        .collect();
    let rows: Vec<&str> = Group::ALL.iter().map(|g| g.label()).collect();
    let suite = Suite {
        title: "nixpkgs lib tests",
        rows: &rows,
        header: header(&args.run, NIXPKGS_LIB_HEADER, NIXPKGS_LIB_NIX28_HEADER),
        rerun_hint: "nixweb-conformance nixpkgs-lib --write-expected",
    };
    report(&setup, &args.run, &suite, judged, &[])
}
