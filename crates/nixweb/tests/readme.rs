//! The README says what the code does: its headline snippet is served by the example it
//! names, and the flags of its usage block exist.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

fn routes(app: &std::path::Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_nixweb"))
        .arg("routes")
        .arg(app)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn every_route_of_the_headline_snippet_is_served_by_its_example() {
    let text = readme();
    let snippet = text
        .split("```nix\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a nix snippet in the README");
    let named = snippet
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the snippet's first line names its file");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("default.nix");
    std::fs::write(&file, snippet).unwrap();
    // Each (method, pattern) the snippet defines; the example may define more.
    let pairs = |rows: Vec<String>| -> Vec<String> {
        rows.iter()
            .flat_map(|row| {
                let (pattern, methods) = row.split_once(' ').unwrap();
                methods
                    .split(", ")
                    .map(move |method| format!("{method} {pattern}"))
            })
            .collect()
    };
    let example = pairs(routes(&repo().join(named)));
    let shown = pairs(routes(&file));
    assert!(shown.len() > 3, "{shown:?}");
    for route in &shown {
        assert!(
            example.contains(route),
            "the README's snippet has {route}, which {named} does not serve: {example:?}"
        );
    }
}

#[test]
fn the_usage_block_lists_only_flags_that_exist() {
    let text = readme();
    let usage = text
        .split("## Using it")
        .nth(1)
        .and_then(|rest| rest.split("\n\n`").next())
        .unwrap();
    let mut command = "";
    for line in usage.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"nixweb") {
            command = words[1];
        }
        for flag in words
            .iter()
            .map(|w| w.trim_start_matches('['))
            .filter(|w| w.starts_with("--"))
        {
            let flag = flag.split([']', '=', ' ']).next().unwrap();
            let help = Command::new(env!("CARGO_BIN_EXE_nixweb"))
                .args([command, "--help"])
                .output()
                .unwrap();
            let help = String::from_utf8_lossy(&help.stdout);
            assert!(
                help.contains(flag),
                "README: nixweb {command} {flag} does not exist"
            );
        }
    }
}
