//! Compares against the real `nix-instantiate` (Nix 2.8) on varied generated inputs: text
//! files, hashes, added directory trees and derivations with dependencies. Skipped, with a
//! message, when `nix-instantiate` is not on PATH. Nix runs in read-only mode, so nothing
//! is written to its store (the .drv comparison uses a throwaway chroot store).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use nixweb_store::{
    instantiate, ContextElem, DerivationArgs, Encoding, FileIngestionMethod, Hash, HashAlgo,
    KnownDerivations, LocalFs, StoreDir,
};

/// A small deterministic generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, chars: &'a str) -> &'a str {
        let i = self.below(chars.chars().count());
        let (start, c) = chars.char_indices().nth(i).unwrap();
        &chars[start..start + c.len_utf8()]
    }
    fn text(&mut self, alphabet: &str, min: usize, max: usize) -> String {
        let len = min + self.below(max - min + 1);
        (0..len).map(|_| self.pick(alphabet).to_owned()).collect()
    }
    fn name(&mut self) -> String {
        let first = self.text("abcXYZ019", 1, 1);
        first + &self.text("abcdefXYZ0123456789+-._?=", 0, 15)
    }
    fn contents(&mut self) -> String {
        self.text("ab \"\\\n\t\r${}'é€xyz\u{1}\u{7f}😀", 0, 40)
    }
}

/// A Nix string literal for arbitrary text (no interpolation).
fn nix_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn nix_available() -> bool {
    Command::new("nix-instantiate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Evaluates a list of strings with Nix and returns them (they must not contain newlines).
fn nix_eval_lines(dir: &Path, items: &[String]) -> Vec<String> {
    let expr = format!("builtins.concatStringsSep \"\\n\" [ {} ]", items.join(" "));
    let output = Command::new("nix-instantiate")
        .args(["--readonly-mode", "--eval", "-E", &expr])
        .current_dir(dir)
        .output()
        .expect("running nix-instantiate");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "nix failed on {expr}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let quoted = stdout.trim();
    quoted[1..quoted.len() - 1]
        .split("\\n")
        .map(str::to_owned)
        .collect()
}

#[test]
fn agrees_with_live_nix_on_generated_inputs() {
    if !nix_available() {
        eprintln!("skipping: nix-instantiate is not on PATH, nothing to compare against");
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let store = StoreDir::default();
    let dir = tempfile::tempdir().unwrap();
    let mut nix_items = Vec::new();
    let mut ours = Vec::new();

    // toFile, and hashString in all algorithms.
    for _ in 0..4 {
        let (name, contents) = (rng.name(), rng.contents());
        nix_items.push(format!(
            "(builtins.toFile {} {})",
            nix_string(&name),
            nix_string(&contents)
        ));
        ours.push(
            store.print(
                &store
                    .make_text_path(&name, contents.as_bytes(), &BTreeSet::new())
                    .unwrap(),
            ),
        );
        for algo in [
            HashAlgo::Md5,
            HashAlgo::Sha1,
            HashAlgo::Sha256,
            HashAlgo::Sha512,
        ] {
            nix_items.push(format!(
                "(builtins.hashString \"{algo}\" {})",
                nix_string(&contents)
            ));
            ours.push(Hash::digest(algo, contents.as_bytes()).to_base16());
        }
    }

    // A generated tree added with "${./tree}".
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    for i in 0..6 {
        let sub = if i % 3 == 0 {
            tree.clone()
        } else {
            tree.join(format!("d{}", i % 3))
        };
        std::fs::create_dir_all(&sub).unwrap();
        let file = sub.join(rng.name());
        std::fs::write(&file, rng.contents()).unwrap();
        if rng.below(2) == 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    // The link's target exists: `builtins.path { recursive = false; }` reads through it.
    let target = rng.name();
    std::fs::write(tree.join(&target), rng.contents()).unwrap();
    std::os::unix::fs::symlink(&target, tree.join("link")).unwrap();
    nix_items.push("\"${./tree}\"".into());
    let (added, _) = store
        .path_for_source(&LocalFs, &tree, None, FileIngestionMethod::Recursive, None)
        .unwrap();
    ours.push(store.print(&added));
    nix_items.push(
        "(builtins.filterSource (p: t: t != \"symlink\" && baseNameOf p != \"d1\") ./tree)".into(),
    );
    let mut filter = |p: &Path, kind: nixweb_store::NodeKind| {
        Ok(kind.filter_type() != "symlink" && p.file_name().unwrap() != "d1")
    };
    let (filtered, _) = store
        .path_for_source(
            &LocalFs,
            &tree,
            None,
            FileIngestionMethod::Recursive,
            Some(&mut filter),
        )
        .unwrap();
    ours.push(store.print(&filtered));
    let flat_name = rng.name();
    nix_items.push(format!(
        "(builtins.path {{ path = ./tree/link; name = {}; recursive = false; }})",
        nix_string(&flat_name)
    ));
    let (flat, _) = store
        .path_for_source(
            &LocalFs,
            &tree.join("link"),
            Some(&flat_name),
            FileIngestionMethod::Flat,
            None,
        )
        .unwrap();
    ours.push(store.print(&flat));

    // Fixed-output paths for random algorithms, methods and encodings.
    for _ in 0..4 {
        let algo = [
            HashAlgo::Md5,
            HashAlgo::Sha1,
            HashAlgo::Sha256,
            HashAlgo::Sha512,
        ][rng.below(4)];
        let hash = Hash::digest(algo, rng.contents().as_bytes());
        let encoding = [
            Encoding::Base16,
            Encoding::Base32,
            Encoding::Base64,
            Encoding::Sri,
        ][rng.below(4)];
        let recursive = rng.below(2) == 0;
        let name = rng.name().trim_end_matches(".drv").to_owned() + "f";
        nix_items.push(format!(
            "(derivation {{ name = {}; builder = \"b\"; system = \"s\"; outputHashAlgo = \"{algo}\"; outputHash = \"{}\"; outputHashMode = \"{}\"; }}).drvPath",
            nix_string(&name),
            hash.encode(encoding, false),
            if recursive { "recursive" } else { "flat" }
        ));
        let mut a = DerivationArgs::new(&name);
        a.builder = "b".into();
        a.system = "s".into();
        a.output_hash = Some(hash.encode(encoding, false));
        a.output_hash_algo = algo.name().into();
        a.output_hash_mode = Some(if recursive {
            FileIngestionMethod::Recursive
        } else {
            FileIngestionMethod::Flat
        });
        for (k, v) in [
            ("name", name.as_str()),
            ("builder", "b"),
            ("system", "s"),
            ("outputHashAlgo", algo.name()),
        ] {
            a.env.insert(k.into(), v.into());
        }
        a.env
            .insert("outputHash".into(), hash.encode(encoding, false));
        a.env.insert(
            "outputHashMode".into(),
            if recursive { "recursive" } else { "flat" }.into(),
        );
        ours.push(
            instantiate(&store, &a, &mut KnownDerivations::new())
                .unwrap()
                .drv_path,
        );
    }

    // A derivation with generated attributes and outputs, and one that depends on it.
    let mut known = KnownDerivations::new();
    let name = rng.name().trim_end_matches(".drv").to_owned() + "x";
    let mut outputs = vec![["out", "bin"][rng.below(2)].to_owned()];
    for extra in ["dev", "lib", "doc"] {
        if rng.below(2) == 0 {
            outputs.insert(rng.below(outputs.len() + 1), extra.to_owned());
        }
    }
    let mut attrs: Vec<(String, String)> = (0..3)
        .map(|i| (format!("k{i}{}", rng.name()), rng.contents()))
        .collect();
    attrs.push(("builder".into(), "/bin/sh".into()));
    attrs.push(("system".into(), "x86_64-linux".into()));
    let cmd_args: Vec<String> = (0..2).map(|_| rng.contents()).collect();
    let mut expr = format!("derivation {{ name = {}; outputs = [", nix_string(&name));
    for o in &outputs {
        write!(expr, " {}", nix_string(o)).unwrap();
    }
    expr.push_str(" ]; args = [");
    for a in &cmd_args {
        write!(expr, " {}", nix_string(a)).unwrap();
    }
    expr.push_str(" ];");
    for (k, v) in &attrs {
        write!(expr, " {} = {};", nix_string(k), nix_string(v)).unwrap();
    }
    expr.push_str(" }");
    let mut a = DerivationArgs::new(&name);
    a.builder = "/bin/sh".into();
    a.system = "x86_64-linux".into();
    a.args = cmd_args;
    a.outputs = outputs.clone();
    a.env = attrs.iter().cloned().collect();
    a.env.insert("name".into(), name.clone());
    a.env.insert("outputs".into(), outputs.join(" "));
    let first = instantiate(&store, &a, &mut known).unwrap();
    nix_items.push(format!("({expr}).drvPath"));
    ours.push(first.drv_path.clone());
    for o in &outputs {
        nix_items.push(format!("({expr}).{o}.outPath"));
        ours.push(first.output_paths[o].clone());
    }

    let used = outputs[rng.below(outputs.len())].clone();
    let hash = Hash::digest(HashAlgo::Sha256, rng.contents().as_bytes());
    let dep_expr = format!(
        "derivation {{ name = \"dep\"; builder = \"/bin/sh\"; system = \"x86_64-linux\"; input = \"${{({expr}).{used}}}/x\"; outputHashMode = \"recursive\"; outputHash = \"{}\"; }}",
        hash.to_sri()
    );
    let mut b = DerivationArgs::new("dep");
    b.builder = "/bin/sh".into();
    b.system = "x86_64-linux".into();
    b.output_hash = Some(hash.to_sri());
    b.output_hash_mode = Some(FileIngestionMethod::Recursive);
    for (k, v) in [
        ("name", "dep"),
        ("builder", "/bin/sh"),
        ("system", "x86_64-linux"),
        ("outputHashMode", "recursive"),
    ] {
        b.env.insert(k.into(), v.into());
    }
    b.env.insert("outputHash".into(), hash.to_sri());
    b.env
        .insert("input".into(), format!("{}/x", first.output_paths[&used]));
    b.context.insert(ContextElem::Output {
        drv: first.drv_path.clone(),
        output: used.clone(),
    });
    let second = instantiate(&store, &b, &mut known).unwrap();
    nix_items.push(format!("({dep_expr}).drvPath"));
    ours.push(second.drv_path.clone());
    let top_expr = format!(
        "derivation {{ name = \"top\"; builder = \"/bin/sh\"; system = \"x86_64-linux\"; a = {dep_expr}; }}"
    );
    let mut c = DerivationArgs::new("top");
    c.builder = "/bin/sh".into();
    c.system = "x86_64-linux".into();
    for (k, v) in [
        ("name", "top"),
        ("builder", "/bin/sh"),
        ("system", "x86_64-linux"),
    ] {
        c.env.insert(k.into(), v.into());
    }
    c.env.insert("a".into(), second.output_paths["out"].clone());
    c.context.insert(ContextElem::Output {
        drv: second.drv_path.clone(),
        output: "out".into(),
    });
    let third = instantiate(&store, &c, &mut known).unwrap();
    nix_items.push(format!("({top_expr}).outPath"));
    ours.push(third.output_paths["out"].clone());

    let theirs = nix_eval_lines(dir.path(), &nix_items);
    assert_eq!(theirs.len(), ours.len());
    for ((item, theirs), ours) in nix_items.iter().zip(&theirs).zip(&ours) {
        assert_eq!(theirs, ours, "seed {seed}: {item}");
    }
    eprintln!(
        "{} values agree with nix-instantiate, e.g. {}",
        ours.len(),
        ours[ours.len() - 1]
    );
}

/// Lets Nix write real `.drv` files into a throwaway chroot store and compares them byte
/// for byte with our ATerm text, for a chain with a `toFile` reference, a fixed output,
/// another output and a deep `drvPath` dependency.
#[test]
fn drv_files_agree_with_live_nix() {
    if !nix_available() {
        eprintln!("skipping: nix-instantiate is not on PATH, nothing to compare against");
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let store = StoreDir::default();
    let mut known = KnownDerivations::new();
    let base = |name: &str| {
        let mut a = DerivationArgs::new(name);
        a.builder = "/bin/sh".into();
        a.system = "x86_64-linux".into();
        for (k, v) in [
            ("name", name),
            ("builder", "/bin/sh"),
            ("system", "x86_64-linux"),
        ] {
            a.env.insert(k.into(), v.into());
        }
        a
    };
    let common = "builder = \"/bin/sh\"; system = \"x86_64-linux\";";

    let (c1, c2) = (rng.contents(), rng.contents());
    let f1 =
        nixweb_store::to_file(&store, &mut known, "f1", c1.as_bytes(), &BTreeSet::new()).unwrap();
    let f2_text = format!("{c2}{f1}");
    let f2 = nixweb_store::to_file(
        &store,
        &mut known,
        "f2",
        f2_text.as_bytes(),
        &BTreeSet::from([f1.clone()]),
    )
    .unwrap();
    let arg = rng.contents();
    let mut a1 = base("one");
    a1.args = vec![arg.clone()];
    a1.outputs = vec!["out".into(), "dev".into()];
    a1.env.insert("outputs".into(), "out dev".into());
    a1.env.insert("src".into(), f2.clone());
    a1.context.insert(ContextElem::Path(f2.clone()));
    let d1 = instantiate(&store, &a1, &mut known).unwrap();

    let hash = Hash::digest(HashAlgo::Sha256, rng.contents().as_bytes());
    let mut a2 = base("two");
    a2.output_hash = Some(hash.to_sri());
    a2.env.insert("outputHash".into(), hash.to_sri());
    let d2 = instantiate(&store, &a2, &mut known).unwrap();

    let mut a3 = base("three");
    a3.env.insert("dep".into(), d1.output_paths["dev"].clone());
    a3.env
        .insert("fixed".into(), d2.output_paths["out"].clone());
    a3.context.insert(ContextElem::Output {
        drv: d1.drv_path.clone(),
        output: "dev".into(),
    });
    a3.context.insert(ContextElem::Output {
        drv: d2.drv_path.clone(),
        output: "out".into(),
    });
    let d3 = instantiate(&store, &a3, &mut known).unwrap();

    let mut a4 = base("four");
    a4.env.insert("deep".into(), d3.drv_path.clone());
    a4.context.insert(ContextElem::DrvDeep(d3.drv_path.clone()));
    let d4 = instantiate(&store, &a4, &mut known).unwrap();

    let expr = format!(
        "let f1 = builtins.toFile \"f1\" {c1}; f2 = builtins.toFile \"f2\" ({c2} + \"${{f1}}\");
             d1 = derivation {{ name = \"one\"; {common} args = [ {arg} ]; outputs = [ \"out\" \"dev\" ]; src = f2; }};
             d2 = derivation {{ name = \"two\"; {common} outputHash = \"{sri}\"; }};
             d3 = derivation {{ name = \"three\"; {common} dep = d1.dev; fixed = d2; }};
         in derivation {{ name = \"four\"; {common} deep = d3.drvPath; }}",
        c1 = nix_string(&c1),
        c2 = nix_string(&c2),
        arg = nix_string(&arg),
        sri = hash.to_sri(),
    );
    let root = tempfile::tempdir().unwrap();
    let output = Command::new("nix-instantiate")
        .arg("--store")
        .arg(format!("local?root={}", root.path().display()))
        .args(["-E", &expr])
        .output()
        .expect("running nix-instantiate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        d4.drv_path,
        "seed {seed}"
    );

    let written = root.path().join("nix/store");
    let mut names: Vec<String> = std::fs::read_dir(&written)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut ours: Vec<String> = [
        &f1,
        &f2,
        &d1.drv_path,
        &d2.drv_path,
        &d3.drv_path,
        &d4.drv_path,
    ]
    .iter()
    .map(|p| p.rsplit('/').next().unwrap().to_owned())
    .collect();
    ours.sort();
    assert_eq!(names, ours, "seed {seed}");
    for d in [&d1, &d2, &d3, &d4] {
        let file = written.join(d.drv_path.rsplit('/').next().unwrap());
        assert_eq!(
            std::fs::read_to_string(file).unwrap(),
            d.aterm,
            "seed {seed}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(written.join(f2.rsplit('/').next().unwrap())).unwrap(),
        f2_text
    );
    eprintln!(
        "{} store objects and 4 .drv texts agree with nix-instantiate",
        names.len()
    );
}
