//! NAR serialisation and the store paths of added trees, recorded from Nix 2.8 on the tree
//! that `make_tree` builds (`nix-store --dump`, `"${./tree}"`, `filterSource`, `path`).

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use nixweb_store::nar::{self, Filter};
use nixweb_store::{FileIngestionMethod, LocalFs, NodeKind, SourceTree, StoreDir};

/// tree/{b.txt, a.sh (0755), Upper, sub/z (empty), sub/link -> ../b.txt, sub/deeper/x.dat}
fn make_tree(parent: &Path) -> std::path::PathBuf {
    let tree = parent.join("tree");
    fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    fs::write(tree.join("b.txt"), "hello\n").unwrap();
    fs::write(tree.join("a.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(tree.join("a.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(tree.join("b.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(tree.join("Upper"), "U").unwrap();
    fs::write(tree.join("sub/z"), "").unwrap();
    symlink("../b.txt", tree.join("sub/link")).unwrap();
    fs::write(tree.join("sub/deeper/x.dat"), "12345678").unwrap();
    tree
}

fn source_path(root: &Path, name: Option<&str>, filter: Option<&mut Filter<'_>>) -> String {
    let store = StoreDir::default();
    let (path, _) = store
        .path_for_source(&LocalFs, root, name, FileIngestionMethod::Recursive, filter)
        .unwrap();
    store.print(&path)
}

#[test]
fn nar_of_tree_matches_nix_store_dump() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    let bytes = nar::nar_bytes(&LocalFs, &tree).unwrap();
    // nix-store --dump tree | wc -c ; | sha256sum
    assert_eq!(bytes.len(), 1624);
    let hash = nixweb_store::Hash::digest(nixweb_store::HashAlgo::Sha256, &bytes);
    assert_eq!(
        hash.to_base16(),
        "77e388c3b77b162fc56b94054db2ec44c90b7d29c3f314992c77f50f1ab0502b"
    );
    // nix-hash --type sha256 --base32 tree
    let streamed = nar::nar_hash(&LocalFs, &tree, None).unwrap();
    assert_eq!(
        streamed.to_base32(),
        "0ashn0d0zxbp5jci9wy355yhpja4xjr4s1cldg2jy5kvnz1qiqvp"
    );
}

#[test]
fn nar_of_single_nodes_matches_nix() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    let regular = nar::nar_bytes(&LocalFs, &tree.join("b.txt")).unwrap();
    let mut expected = Vec::new();
    for s in [
        "nix-archive-1",
        "(",
        "type",
        "regular",
        "contents",
        "hello\n",
        ")",
    ] {
        expected.extend((s.len() as u64).to_le_bytes());
        expected.extend(s.as_bytes());
        expected.extend(std::iter::repeat_n(0, (8 - s.len() % 8) % 8));
    }
    assert_eq!(regular, expected);
    let sha = |p: &str| {
        let bytes = nar::nar_bytes(&LocalFs, &tree.join(p)).unwrap();
        nixweb_store::Hash::digest(nixweb_store::HashAlgo::Sha256, &bytes).to_base16()
    };
    assert_eq!(
        sha("a.sh"),
        "5e0accf02cedede5e4119ffa15e79e79a5fb1fb9bc43c3d434f33227a14477a0"
    );
    assert_eq!(
        sha("sub/link"),
        "915e68b5c0f2656da25a34aaa00901f21705704406781b4fad7ffb1008fd2feb"
    );
}

#[test]
fn added_paths_match_nix() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    // "${./tree}"
    assert_eq!(
        source_path(&tree, None, None),
        "/nix/store/052p62wqb2r1zgrkcl2p7d08zqpr27qd-tree"
    );
    // builtins.path { path = ./tree; name = "renamed"; }
    assert_eq!(
        source_path(&tree, Some("renamed"), None),
        "/nix/store/j273b88dgwfnwq2mdsvdgp68wsl47xbh-renamed"
    );
    // builtins.path { path = ./tree; name = ""; } is named after the base name too.
    assert_eq!(
        source_path(&tree, Some(""), None),
        "/nix/store/052p62wqb2r1zgrkcl2p7d08zqpr27qd-tree"
    );
    // "${./tree/a.sh}", "${./tree/sub/link}" (the link itself, not its target)
    assert_eq!(
        source_path(&tree.join("a.sh"), None, None),
        "/nix/store/2jxj1wj1ayj8mp7dy46l4pyd1h0pqq2b-a.sh"
    );
    assert_eq!(
        source_path(&tree.join("sub/link"), None, None),
        "/nix/store/h77p8v43q902ln4wxix913b4ar05c0n7-link"
    );
    // builtins.path { path = ./tree/b.txt; recursive = false; }
    let store = StoreDir::default();
    let (flat, hash) = store
        .path_for_source(
            &LocalFs,
            &tree.join("b.txt"),
            None,
            FileIngestionMethod::Flat,
            None,
        )
        .unwrap();
    assert_eq!(
        store.print(&flat),
        "/nix/store/1kv9di6mrkishsy42wxagk0ai0l718ac-b.txt"
    );
    assert_eq!(hash.algo(), nixweb_store::HashAlgo::Sha256);
}

#[test]
fn filtered_paths_match_nix() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    // builtins.filterSource (p: t: t != "symlink") ./tree
    let mut seen = Vec::new();
    let mut no_symlinks = |p: &Path, kind: NodeKind| {
        seen.push(
            p.strip_prefix(&tree)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
        Ok(kind.filter_type() != "symlink")
    };
    assert_eq!(
        source_path(&tree, None, Some(&mut no_symlinks)),
        "/nix/store/173fzbgqplrz4llq1q5pg9p1vgr5q6qi-tree"
    );
    // The filter sees every entry below the root, in NAR order, never the root.
    assert_eq!(
        seen,
        [
            "Upper",
            "a.sh",
            "b.txt",
            "sub",
            "sub/deeper",
            "sub/deeper/x.dat",
            "sub/link",
            "sub/z"
        ]
    );
    // builtins.filterSource (p: t: baseNameOf p != "sub") ./tree: the directory goes whole.
    let mut no_sub = |p: &Path, _: NodeKind| Ok(p.file_name().unwrap() != "sub");
    assert_eq!(
        source_path(&tree, None, Some(&mut no_sub)),
        "/nix/store/k1llir1ph2b6wg7j10w58xv0zba446zy-tree"
    );
    // The filter can fail the whole operation.
    let mut failing = |_: &Path, _: NodeKind| Err(nixweb_store::Error::NoOutputs);
    let store = StoreDir::default();
    assert!(store
        .path_for_source(
            &LocalFs,
            &tree,
            None,
            FileIngestionMethod::Recursive,
            Some(&mut failing)
        )
        .is_err());
}

/// A tree served from memory, as the evaluator's own I/O layer would.
struct OneFile;

impl SourceTree for OneFile {
    fn node_kind(&self, path: &Path) -> std::io::Result<NodeKind> {
        match path.to_str() {
            Some("/virtual/b.txt") => Ok(NodeKind::Regular { executable: false }),
            _ => Err(std::io::ErrorKind::NotFound.into()),
        }
    }
    fn read_file(&self, _: &Path) -> std::io::Result<Vec<u8>> {
        Ok(b"hello\n".to_vec())
    }
    fn read_dir(&self, _: &Path) -> std::io::Result<Vec<(String, NodeKind)>> {
        Err(std::io::ErrorKind::NotADirectory.into())
    }
    fn read_link(&self, _: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::InvalidInput.into())
    }
}

#[test]
fn custom_source_trees_and_io_errors() {
    let store = StoreDir::default();
    let (path, _) = store
        .path_for_source(
            &OneFile,
            Path::new("/virtual/b.txt"),
            None,
            FileIngestionMethod::Flat,
            None,
        )
        .unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/1kv9di6mrkishsy42wxagk0ai0l718ac-b.txt"
    );
    let err = store
        .path_for_source(
            &OneFile,
            Path::new("/virtual/missing"),
            None,
            FileIngestionMethod::Recursive,
            None,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "getting status of '/virtual/missing': entity not found"
    );
    // Real OS errors read like Nix's, without Rust's "(os error 2)".
    let err = store
        .path_for_source(
            &LocalFs,
            Path::new("/nonexistent/x"),
            None,
            FileIngestionMethod::Flat,
            None,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "opening file '/nonexistent/x': No such file or directory"
    );
}

#[test]
fn base_names_follow_nix() {
    assert_eq!(nar::base_name(Path::new("/a/b/tree")), "tree");
    assert_eq!(nar::base_name(Path::new("/a/b/tree/")), "tree");
    assert_eq!(nar::base_name(Path::new("/")), "");
}

#[test]
fn expected_hashes_of_added_paths() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    let store = StoreDir::default();
    let rec = FileIngestionMethod::Recursive;
    // builtins.path { path = ./tree; sha256 = "0ashn0d0zxbp5jci9wy355yhpja4xjr4s1cldg2jy5kvnz1qiqvp"; }
    let good = nixweb_store::Hash::parse_any(
        "0ashn0d0zxbp5jci9wy355yhpja4xjr4s1cldg2jy5kvnz1qiqvp",
        Some(nixweb_store::HashAlgo::Sha256),
    )
    .unwrap();
    let path = store
        .path_for_source_expecting(&LocalFs, &tree, None, rec, None, &good)
        .unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/052p62wqb2r1zgrkcl2p7d08zqpr27qd-tree"
    );
    let zero = nixweb_store::Hash::zero(nixweb_store::HashAlgo::Sha256);
    let err = store
        .path_for_source_expecting(&LocalFs, &tree, None, rec, None, &zero)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "store path mismatch in (possibly filtered) path added from '{}'",
            tree.display()
        )
    );
}

#[test]
fn copying_paths_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    let store = StoreDir::default();
    let path = store.copy_path_to_store(&LocalFs, &tree).unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/052p62wqb2r1zgrkcl2p7d08zqpr27qd-tree"
    );
    // "${./x.drv}" in Nix 2.8
    fs::write(dir.path().join("x.drv"), "").unwrap();
    assert_eq!(
        store
            .copy_path_to_store(&LocalFs, &dir.path().join("x.drv"))
            .unwrap_err()
            .to_string(),
        "file names are not allowed to end in '.drv'"
    );
}

#[test]
fn bad_names_of_added_paths() {
    let dir = tempfile::tempdir().unwrap();
    let tree = make_tree(dir.path());
    let store = StoreDir::default();
    let rec = FileIngestionMethod::Recursive;
    // builtins.path { path = ./tree; name = "a b"; }
    let err = store
        .path_for_source(&LocalFs, &tree, Some("a b"), rec, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "store path 'hjj6vc22qcpjm2nh6gwq1k29qd6if0pw-a b' contains illegal character ' '"
    );
    // … with sha256 = "sha256:000…": the expected path is made (and fails) first.
    let zero = nixweb_store::Hash::zero(nixweb_store::HashAlgo::Sha256);
    let err = store
        .path_for_source_expecting(&LocalFs, &tree, Some("a b"), rec, None, &zero)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "store path 'mrlc43by4xlm6cr8163bcqrr712bh2k2-a b' contains illegal character ' '"
    );
}
