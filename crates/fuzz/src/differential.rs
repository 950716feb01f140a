//! Generated programs through nixweb's evaluator and `nix-instantiate --eval --strict`,
//! counting where they disagree: one fails and the other does not, or both print values
//! that differ. (Both failing counts as agreement: messages are compared by the
//! conformance suites, not here.) A program nixweb stops at one of its limits (depth,
//! steps, memory, time, regex work) where Nix goes on is counted apart, not kept: those
//! bounds are the point of the embedded evaluator. Disagreements are kept in
//! `findings/differential/` with both answers; `crates/conformance/DIFFERENTIAL.md` lists
//! them with their reasons.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nixweb_eval::{Evaluator, StdIO};

use crate::gen;
use crate::rng::Rng;

/// What one side answered: the printed value, or that it failed.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Value(String),
    Failed,
    /// nixweb stopped at one of its limits.
    Limited(nixweb_eval::Limit),
    /// Nix took longer than the bound (not compared).
    TimedOut,
}

pub fn nixweb(program: &str) -> Answer {
    let mut ev = Evaluator::with_limits(Arc::new(StdIO), crate::targets::limits());
    let printed = ev.eval_expr_str(program, Path::new("/")).and_then(|v| {
        ev.force_deep(&v)
            .map(|_| nixweb_eval::print::print_value(&v))
    });
    match printed {
        Ok(text) => Answer::Value(text),
        Err(e) => match e.kind {
            nixweb_eval::ErrorKind::Limit(limit) => Answer::Limited(limit),
            _ => Answer::Failed,
        },
    }
}

pub fn nix(program: &str) -> Answer {
    // In a file: programs may be longer than a command line.
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), program).expect("the program");
    let output = Command::new("timeout")
        // Nix checks for SIGTERM only between steps: inside a std::regex match it goes on
        // for minutes, so KILL follows two seconds later.
        .args(["-k", "2", "10", "nix-instantiate", "--eval", "--strict"])
        .args(["--option", "substituters", ""])
        .arg(file.path())
        .output()
        .expect("nix-instantiate runs (scripts/setup installs it)");
    match output.status.code() {
        Some(0) => Answer::Value(
            String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_owned(),
        ),
        // 124: stopped by TERM; 137: by the KILL after it.
        Some(124 | 137) => Answer::TimedOut,
        _ => Answer::Failed,
    }
}

pub fn campaign(length: Duration, seed: u64) {
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let (mut programs, mut agree, mut timed_out, mut limited) = (0u64, 0u64, 0u64, 0u64);
    let mut disagreements = Vec::new();
    println!(
        "differential: {:.0} minutes from seed {seed}",
        length.as_secs_f64() / 60.0
    );
    while started.elapsed() < length {
        let program = gen::program(&mut rng, true);
        programs += 1;
        let (ours, theirs) = (nixweb(&program), nix(&program));
        let both_failed =
            matches!(ours, Answer::Failed | Answer::Limited(_)) && theirs == Answer::Failed;
        if theirs == Answer::TimedOut {
            timed_out += 1;
        } else if ours == theirs || both_failed {
            agree += 1;
        } else if let Answer::Limited(_) = ours {
            limited += 1;
        } else {
            let (ours, theirs) = (shown(&ours), shown(&theirs));
            let text = format!("# nixweb: {ours}\n# nix:    {theirs}\n{program}\n");
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("findings/differential");
            std::fs::create_dir_all(&dir).expect("the findings folder");
            let path = dir.join(format!(
                "{:016x}.nix",
                crate::content_hash(program.as_bytes())
            ));
            std::fs::write(&path, text).expect("the finding");
            disagreements.push(path);
        }
    }
    println!(
        "differential: {programs} programs, {agree} agree, {} disagree, {limited} stopped by \
         nixweb's limits, {timed_out} too slow for Nix",
        disagreements.len()
    );
}

/// An answer for a finding's header: one line, its first 2,000 characters.
fn shown(answer: &Answer) -> String {
    let text = format!("{answer:?}");
    match text.char_indices().nth(2000) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text,
    }
}
