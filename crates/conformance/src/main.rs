//! nixweb-conformance: checks nixweb-eval against Nix 2.8, and against today's Nix and
//! nixpkgs.
//!
//! It runs Nix 2.8's own language tests (`lang`, fetched by `fetch-tests.sh`), a
//! differential corpus written for this project (`corpus`, with answers recorded from the
//! real `nix-instantiate`), Nix's current language suite (`nix-current`) and the tests of
//! nixpkgs' current lib (`nixpkgs-lib`, modules.sh's checks among them), each case in a
//! child process with a timeout, and compares the failures with checked-in
//! expected-failure lists so CI stays green while the evaluator grows. It is not an evaluator and not a general test framework: it only knows how
//! `nix-instantiate --eval` / `--parse` behave.

mod commands;
mod corpus;
mod current_commands;
mod diff;
mod engine;
mod expected;
mod invocation;
mod isolation;
mod lang;
mod modules_sh;
mod nix_current;
mod nixpkgs_lib;
mod shell;
mod table;

use clap::{Args, Parser, Subcommand};
use engine::EngineKind;
use std::path::PathBuf;
use std::process::ExitCode;

/// The crate's directory, where the lists and the corpus live.
pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Parser)]
#[command(
    name = "nixweb-conformance",
    about = "Checks nixweb-eval against Nix 2.8"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Nix 2.8's official language tests (tests/lang), as tests/lang.sh does.
    Lang(LangArgs),
    /// Run the differential corpus in crates/conformance/corpus.
    Corpus(CorpusArgs),
    /// Run Nix's current language suite (tests/functional/lang), as its lang.sh does.
    NixCurrent(NixCurrentArgs),
    /// Run the tests of nixpkgs' current lib: misc.nix, systems.nix, fetchers.nix,
    /// path/tests/unit.nix and every check of modules.sh.
    NixpkgsLib(NixpkgsLibArgs),
    /// Internal: run one case in this process (the runner re-executes itself).
    #[command(hide = true)]
    RunOne {
        #[arg(long, value_enum)]
        engine: EngineKind,
        #[arg(long)]
        request: PathBuf,
        #[arg(long)]
        result: PathBuf,
        #[arg(long, default_value_t = 0)]
        memory_limit_mb: u64,
        #[arg(long, default_value_t = 0)]
        cpu_limit_secs: u64,
    },
}

/// Options shared by both suites.
#[derive(Args, Clone)]
pub struct RunArgs {
    /// Engine under test [default: embedded when built in, otherwise reference].
    #[arg(long, value_enum)]
    pub engine: Option<EngineKind>,
    /// Expected-failures list [default: the crate's list for the embedded engine, none
    /// for the reference engine, which must pass everything].
    #[arg(long)]
    pub expected: Option<PathBuf>,
    /// Rewrite the expected-failures list to the failures of this run (keeps reasons).
    #[arg(long)]
    pub write_expected: bool,
    /// Print every failure with expected vs actual.
    #[arg(short, long)]
    pub verbose: bool,
    /// Seconds before a case is killed and counted as failed.
    #[arg(long, default_value_t = 20)]
    pub timeout: u64,
    /// Address-space limit for an embedded-engine case, in MiB (0: none).
    #[arg(long, default_value_t = 4096)]
    pub memory_limit_mb: u64,
    /// Cases run at once [default: number of CPUs].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only the cases whose id contains this text (repeatable). The list is then
    /// checked for those cases only, and cannot be rewritten.
    #[arg(long = "only", value_name = "TEXT")]
    pub only: Vec<String>,
}

impl RunArgs {
    /// Whether a case id is selected by `--only`.
    pub fn selects(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|text| id.contains(text.as_str()))
    }
}

#[derive(Args)]
pub struct LangArgs {
    /// Directory holding lang/ and lang.sh [default: <repo>/.cache/nix-lang-tests].
    #[arg(long)]
    pub tests: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args)]
pub struct CorpusArgs {
    /// Corpus directory [default: crates/conformance/corpus].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Re-record every expected result from the real nix-instantiate, then stop.
    #[arg(long)]
    pub record: bool,
    /// Also run the real nix-instantiate and check that the records are still right.
    #[arg(long)]
    pub live: bool,
    /// Compare whole error messages, not just their first line.
    #[arg(long)]
    pub full_errors: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args)]
pub struct NixCurrentArgs {
    /// The suite's snapshot, holding tests/functional/lang [default:
    /// <repo>/../shared/nix-lang-tests].
    #[arg(long)]
    pub tests: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args)]
pub struct NixpkgsLibArgs {
    /// The snapshot holding nixpkgs' lib/ [default: <repo>/../shared/nixpkgs-lib].
    #[arg(long)]
    pub lib: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lang(args) => commands::lang(&args),
        Command::Corpus(args) => commands::corpus(&args),
        Command::NixCurrent(args) => current_commands::nix_current(&args),
        Command::NixpkgsLib(args) => current_commands::nixpkgs_lib(&args),
        Command::RunOne {
            engine,
            request,
            result,
            memory_limit_mb,
            cpu_limit_secs,
        } => isolation::run_one(engine, &request, &result, memory_limit_mb, cpu_limit_secs)
            .map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("nixweb-conformance: {err:#}");
            ExitCode::from(2)
        }
    }
}
