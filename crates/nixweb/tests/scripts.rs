//! The set-up scripts a person runs first (README): they say what they install and build as
//! they go, and install Nix only where it is needed.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn packages(args: &[&str]) -> Vec<String> {
    let out = Command::new("bash")
        .arg(repo().join("scripts/setup"))
        .arg("--list")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn nix_is_installed_only_where_an_example_or_the_tests_need_it() {
    // Each example on the embedded engine needs no Debian package at all.
    for example in ["hello", "params", "random", "todo", "files"] {
        assert!(
            packages(&[example]).is_empty(),
            "{example}: {:?}",
            packages(&[example])
        );
    }
    assert_eq!(
        packages(&["godbolt"]),
        ["nix-bin"],
        "godbolt runs on the Nix engine"
    );
    let all = packages(&[]);
    for needed in ["nix-bin", "chromium", "chromium-driver"] {
        assert!(
            all.iter().any(|p| p == needed),
            "the tests need {needed}: {all:?}"
        );
    }
}

#[test]
fn run_example_says_it_builds_before_cargo_starts_and_lets_cargo_show_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    // Stands in for cargo: says it ran, and with what.
    let fake = dir.path().join("cargo");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" > {}\necho 'fake cargo runs' >&2\n",
            calls.display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let out = Command::new("bash")
        .arg(repo().join("scripts/run-example"))
        .args(["hello", "--port", "0"])
        .env("CARGO", &fake)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let building = stderr
        .find("run-example: building nixweb")
        .unwrap_or_else(|| panic!("no word of the build: {stderr}"));
    assert!(
        building < stderr.find("fake cargo runs").unwrap(),
        "{stderr}"
    );
    let args = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        args.trim(),
        "run --release -p nixweb -- serve examples/hello --port 0"
    );
}

#[test]
fn the_test_script_announces_each_step_and_lets_every_tool_show_its_progress() {
    let script = std::fs::read_to_string(repo().join("scripts/test")).unwrap();
    for line in script
        .lines()
        .filter(|l| l.trim_start().starts_with("cargo "))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            !words.contains(&"-q") && !words.contains(&"--quiet"),
            "quiet: {line}"
        );
    }
    let steps = script.lines().filter(|l| l.starts_with("step \"")).count();
    assert!(steps >= 5, "{script}");
    for said in ["PostgreSQL", "left running", "installing what is missing"] {
        assert!(script.contains(said), "scripts/test does not say {said:?}");
    }
}
