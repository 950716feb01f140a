//! Hashes, encodings, text and fixed-output paths, with expectations recorded from Nix 2.8.

use std::collections::BTreeSet;

use nixweb_store::{
    placeholder, Encoding, Error, FileIngestionMethod, Hash, HashAlgo, StoreDir, StorePath,
};

const HELLO: &[u8] = b"hello";

#[test]
fn hash_string_base16_matches_nix() {
    // nix-instantiate --eval -E 'builtins.hashString "<algo>" "hello"'
    let cases = [
        (HashAlgo::Md5, "5d41402abc4b2a76b9719d911017c592"),
        (HashAlgo::Sha1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
        (HashAlgo::Sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        (HashAlgo::Sha512, "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"),
    ];
    for (algo, hex) in cases {
        assert_eq!(Hash::digest(algo, HELLO).to_base16(), hex, "{algo}");
    }
}

#[test]
fn encodings_match_nix_hash() {
    // nix-hash --to-base32, nix hash to-sri, nix hash to-base64
    let cases = [
        (HashAlgo::Md5, "4jqlbi14cxf6wpcajbphm40hax", "md5-XUFAKrxLKna5cZ2REBfFkg=="),
        (HashAlgo::Sha1, "9m1skbnr5i43n3yypvda5s65vhfwdx5a", "sha1-qvTGHdzF6KLavt4PO0gs2a6pQ00="),
        (HashAlgo::Sha256, "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic", "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="),
        (HashAlgo::Sha512, "11w1pmwfdpz9pisbhp5qiv38q6dmidq2ipcqykw3p0sb6yrqcij79rwcwcjbxyzwbdal349qbxrncbk7pmd6snljrfpiwv2pljd4wcv", "sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw=="),
    ];
    for (algo, base32, sri) in cases {
        let hash = Hash::digest(algo, HELLO);
        assert_eq!(hash.to_base32(), base32);
        assert_eq!(hash.to_sri(), sri);
        let base64 = sri.split_once('-').unwrap().1;
        assert_eq!(hash.encode(Encoding::Base64, false), base64);
        assert_eq!(
            hash.encode(Encoding::Base32, true),
            format!("{algo}:{base32}")
        );
        // Every printed form parses back.
        for text in [
            hash.to_base16(),
            base32.to_owned(),
            base64.to_owned(),
            sri.to_owned(),
            format!("{algo}:{base32}"),
            format!("{algo}:{}", hash.to_base16().to_uppercase()),
            format!("{algo}:{base64}"),
        ] {
            assert_eq!(Hash::parse_any(&text, Some(algo)).unwrap(), hash, "{text}");
        }
        assert_eq!(Hash::parse_sri(sri).unwrap(), hash);
    }
}

fn parse_error(text: &str, algo: Option<HashAlgo>) -> String {
    Hash::parse_allow_empty(text, algo).unwrap_err().to_string()
}

#[test]
fn hash_parse_errors_are_worded_as_nix() {
    // Each message was produced by Nix 2.8 for `outputHash = <text>`.
    assert_eq!(
        parse_error("abc", None),
        "hash 'abc' does not include a type, nor is the type otherwise known from context"
    );
    assert_eq!(
        parse_error("", None),
        "empty hash requires explicit hash type"
    );
    assert_eq!(parse_error("sha256-AAAA", None), "invalid SRI hash 'AAAA'");
    assert_eq!(
        parse_error("sha256-AA#A", None),
        "invalid character in Base64 string: ''"
    );
    assert_eq!(
        parse_error("md5:abc", Some(HashAlgo::Sha1)),
        "hash 'md5:abc' should have type 'sha1'"
    );
    assert_eq!(parse_error("foo:abc", None), "unknown hash algorithm 'foo'");
    assert_eq!(
        parse_error("sha256:xyz", None),
        "hash 'xyz' has wrong length for hash type 'sha256'"
    );
    assert_eq!(
        parse_error(
            "sha256:0000000000000000000000000000000000000000000000000000000000000g00",
            None
        ),
        "invalid base-16 hash '0000000000000000000000000000000000000000000000000000000000000g00'"
    );
    assert_eq!(
        parse_error(
            "sha256:e000000000000000000000000000000000000000000000000000",
            None
        ),
        "invalid base-32 hash 'e000000000000000000000000000000000000000000000000000'"
    );
    assert_eq!(
        parse_error("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", None),
        "invalid base-64 hash 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='"
    );
    // Nix stops reading base-64 at the first '=' and accepts this.
    assert!(Hash::parse_any(
        "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=extra",
        None
    )
    .is_ok());
}

#[test]
fn empty_output_hash_is_zero_with_nix_warning() {
    let (hash, warning) = Hash::parse_allow_empty("", Some(HashAlgo::Sha256)).unwrap();
    assert_eq!(hash, Hash::zero(HashAlgo::Sha256));
    assert_eq!(
        warning.as_deref(),
        Some("found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='")
    );
}

#[test]
fn compress_hash_folds_by_xor() {
    let bytes: Vec<u8> = (0u8..16)
        .map(|i| i.wrapping_mul(37).wrapping_add(3))
        .collect();
    let hash = Hash::from_bytes(HashAlgo::Md5, &bytes).unwrap();
    // Byte i goes into i % 5, computed by hand.
    assert_eq!(hash.compress(5), vec![228, 83, 244, 189, 206]);
    assert_eq!(hash.compress(16), bytes);
}

#[test]
fn placeholders_match_nix() {
    assert_eq!(
        placeholder("out"),
        "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"
    );
    assert_eq!(
        placeholder("dev"),
        "/02qcpld1y6xhs5gz9bchpxaw0xdhmsp5dv88lh25r2ss44kh8dxz"
    );
}

#[test]
fn to_file_paths_match_nix() {
    let store = StoreDir::default();
    let none = BTreeSet::new();
    let a = store.make_text_path("a", b"b", &none).unwrap();
    assert_eq!(
        store.print(&a),
        "/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"
    );
    // builtins.toFile "c" "${a} x": the context becomes the references.
    let contents = format!("{} x", store.print(&a));
    let c = store
        .make_text_path("c", contents.as_bytes(), &BTreeSet::from([a.clone()]))
        .unwrap();
    assert_eq!(
        store.print(&c),
        "/nix/store/rp1mmivny08qp2ixzm1dkpn42fgd13jf-c"
    );
    // Two references, written in sorted order whatever order they appear in.
    let z = store.make_text_path("z", b"q", &none).unwrap();
    let contents = format!("{}{} x", store.print(&z), store.print(&a));
    let c2 = store
        .make_text_path("c", contents.as_bytes(), &BTreeSet::from([z, a]))
        .unwrap();
    assert_eq!(
        store.print(&c2),
        "/nix/store/i59r4vil0gcxqsgpksnsh9d9lj7bp5rx-c"
    );
}

#[test]
fn fixed_output_paths_match_nix() {
    // Output paths of fixed-output derivations recorded from Nix 2.8.
    let store = StoreDir::default();
    let flat = Hash::parse_any(
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        Some(HashAlgo::Sha256),
    )
    .unwrap();
    let path = store
        .make_fixed_output_path(FileIngestionMethod::Flat, &flat, "fixed-flat")
        .unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/34653kz58l0k6y6mhmzz5lih5l1yxhi9-fixed-flat"
    );
    let path = store
        .make_fixed_output_path(FileIngestionMethod::Recursive, &flat, "fixed-rec")
        .unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/9gbml70xkzfi8fj6970zldwqpjyd756x-fixed-rec"
    );
    let sha1 = Hash::parse_any("sha1:9m1skbnr5i43n3yypvda5s65vhfwdx5a", None).unwrap();
    let path = store
        .make_fixed_output_path(FileIngestionMethod::Recursive, &sha1, "fixed-sha1")
        .unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/19vn2bwdhfm42bwjnyznssspdi6yyaw9-fixed-sha1"
    );
    let md5 = Hash::parse_any("XUFAKrxLKna5cZ2REBfFkg==", Some(HashAlgo::Md5)).unwrap();
    let path = store
        .make_fixed_output_path(FileIngestionMethod::Flat, &md5, "fixed-md5")
        .unwrap();
    assert_eq!(
        store.print(&path),
        "/nix/store/p717as10xpdmwxr7k3478zkbkd019kz0-fixed-md5"
    );
}

#[test]
fn store_names_are_checked_as_nix_does() {
    let store = StoreDir::default();
    let none = BTreeSet::new();
    let err = store.make_text_path("a b", b"x", &none).unwrap_err();
    assert_eq!(
        err.to_string(),
        "store path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' contains illegal character ' '"
    );
    let err = store.make_text_path("", b"x", &none).unwrap_err();
    assert_eq!(
        err.to_string(),
        "store path '9r1mh2rc3s3i33vpdw86kqqyvy9i1y4w-' has an empty name"
    );
    // builtins.toFile "é" "x": Nix names the first byte only.
    let err = store.make_text_path("é", b"x", &none).unwrap_err();
    assert_eq!(
        err.to_string(),
        "store path 'fcwpaxmwcvmm1sss1scshna3sn7asxa4-é' contains illegal character '\u{FFFD}'"
    );
    // A leading dot is still fine in Nix 2.8.
    let dot = store.make_text_path(".a", b"x", &none).unwrap();
    assert_eq!(
        store.print(&dot),
        "/nix/store/asd5znqvqny47n2kaa06zr46k6b2hx9h-.a"
    );
    assert!(matches!(
        store.make_text_path(&"x".repeat(212), b"x", &none),
        Err(Error::NameTooLong(_))
    ));
    assert!(store.make_text_path(&"x".repeat(211), b"x", &none).is_ok());
}

#[test]
fn store_paths_parse_and_print() {
    let store = StoreDir::default();
    let path = store
        .parse("/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a")
        .unwrap();
    assert_eq!(path.hash_part(), "g76zcpqc540lrc8i6g7xy6ip0npn2hnp");
    assert_eq!(path.name(), "a");
    assert!(!path.is_derivation());
    assert_eq!(
        store
            .parse("/nix/store//./g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a/")
            .unwrap(),
        path
    );
    assert_eq!(
        store
            .parse_containing("/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a/bin/sh")
            .unwrap(),
        path
    );
    assert_eq!(
        store
            .parse("/tmp/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a")
            .unwrap_err()
            .to_string(),
        "path '/tmp/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a' is not in the Nix store"
    );
    assert!(matches!(
        StorePath::from_base_name("e76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"),
        Err(Error::IllegalHashCharacter { .. })
    ));
    assert!(matches!(
        StorePath::from_base_name("short"),
        Err(Error::StorePathTooShort(_))
    ));
    // Another store directory gives other paths.
    let other = StoreDir::new("/other/store");
    let moved = other.make_text_path("a", b"b", &BTreeSet::new()).unwrap();
    assert_ne!(moved.hash_part(), path.hash_part());
    assert!(other.print(&moved).starts_with("/other/store/"));
}
