//! Derivations instantiated the way the evaluator will, checked against the `.drv` files
//! and paths Nix 2.8 produced for the same attributes (see the expression in each test).

use std::collections::{BTreeMap, BTreeSet};

use nixweb_store::{
    instantiate, ContextElem, DerivationArgs, Error, FileIngestionMethod, Instantiated,
    KnownDerivations, StoreDir,
};

const SYS: &str = "x86_64-linux";

/// What derivationStrict collects: every attribute but `args` goes into env as a string.
fn args(name: &str, attrs: &[(&str, &str)], context: &[ContextElem]) -> DerivationArgs {
    let mut a = DerivationArgs::new(name);
    a.env.insert("name".into(), name.into());
    for (key, value) in attrs {
        a.env.insert((*key).into(), (*value).into());
        match *key {
            "builder" => a.builder = (*value).into(),
            "system" => a.system = (*value).into(),
            "outputHash" => a.output_hash = Some((*value).into()),
            "outputHashAlgo" => a.output_hash_algo = (*value).into(),
            "outputHashMode" => {
                a.output_hash_mode =
                    Some(FileIngestionMethod::parse_output_hash_mode(value).unwrap())
            }
            "outputs" => a.outputs = nixweb_store::split_outputs_string(value),
            _ => {}
        }
    }
    a.context = context.iter().cloned().collect();
    a
}

fn basic(name: &str, extra: &[(&str, &str)], context: &[ContextElem]) -> DerivationArgs {
    let mut attrs = vec![("builder", "/bin/sh"), ("system", SYS)];
    attrs.extend_from_slice(extra);
    args(name, &attrs, context)
}

fn out(i: &Instantiated, output: &str) -> String {
    i.output_paths[output].clone()
}

fn output_ctx(i: &Instantiated, output: &str) -> ContextElem {
    ContextElem::Output {
        drv: i.drv_path.clone(),
        output: output.into(),
    }
}

struct Fixture {
    store: StoreDir,
    known: KnownDerivations,
}

impl Fixture {
    fn new() -> Self {
        Self {
            store: StoreDir::default(),
            known: KnownDerivations::new(),
        }
    }
    fn inst(&mut self, a: &DerivationArgs) -> Instantiated {
        instantiate(&self.store, a, &mut self.known).unwrap()
    }
}

#[test]
fn simple_derivation_with_escaped_args() {
    // derivation { name = "hello"; system = sys; builder = "/bin/sh";
    //              args = [ "-c" "echo \"hi\"\n\ttab\\ \r" ]; }
    let mut f = Fixture::new();
    let mut a = basic("hello", &[], &[]);
    a.args = vec!["-c".into(), "echo \"hi\"\n\ttab\\ \r".into()];
    let d = f.inst(&a);
    assert_eq!(
        d.drv_path,
        "/nix/store/d0s7mddmnp4s3kyxc24ff7wsipk2xmsm-hello.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/mw24iz81c6a6sq2r6zc9qkm0yf8c3v03-hello"
    );
    assert_eq!(
        d.aterm,
        r#"Derive([("out","/nix/store/mw24iz81c6a6sq2r6zc9qkm0yf8c3v03-hello","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo \"hi\"\n\ttab\\ \r"],[("builder","/bin/sh"),("name","hello"),("out","/nix/store/mw24iz81c6a6sq2r6zc9qkm0yf8c3v03-hello"),("system","x86_64-linux")])"#
    );
    assert!(d.warnings.is_empty());
}

#[test]
fn multiple_outputs_and_escaped_env() {
    // outputs = [ "out" "dev" "lib" ]; FOO = "a\"b\\c\nd\re\tf$x";
    let mut f = Fixture::new();
    let d = f.inst(&basic(
        "multi",
        &[("outputs", "out dev lib"), ("FOO", "a\"b\\c\nd\re\tf$x")],
        &[],
    ));
    assert_eq!(
        d.drv_path,
        "/nix/store/7v4rhqsvd2a6ng3vkg1i5byfgazly9h8-multi.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/vkhjiv6vv84nnrx941yx4q911rr8xl79-multi"
    );
    assert_eq!(
        out(&d, "dev"),
        "/nix/store/znisajin8aawl0avkkq4vdisy4sgm12c-multi-dev"
    );
    assert_eq!(
        out(&d, "lib"),
        "/nix/store/rxzgn7alkw85ffml4ril7v54ipwi9jfp-multi-lib"
    );
    assert_eq!(
        d.aterm,
        r#"Derive([("dev","/nix/store/znisajin8aawl0avkkq4vdisy4sgm12c-multi-dev","",""),("lib","/nix/store/rxzgn7alkw85ffml4ril7v54ipwi9jfp-multi-lib","",""),("out","/nix/store/vkhjiv6vv84nnrx941yx4q911rr8xl79-multi","","")],[],[],"x86_64-linux","/bin/sh",[],[("FOO","a\"b\\c\nd\re\tf$x"),("builder","/bin/sh"),("dev","/nix/store/znisajin8aawl0avkkq4vdisy4sgm12c-multi-dev"),("lib","/nix/store/rxzgn7alkw85ffml4ril7v54ipwi9jfp-multi-lib"),("name","multi"),("out","/nix/store/vkhjiv6vv84nnrx941yx4q911rr8xl79-multi"),("outputs","out dev lib"),("system","x86_64-linux")])"#
    );
}

const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn fixed_flat() -> DerivationArgs {
    basic(
        "fixed-flat",
        &[("outputHash", HELLO_SHA256), ("outputHashAlgo", "sha256")],
        &[],
    )
}

#[test]
fn fixed_output_derivations() {
    let mut f = Fixture::new();
    let d = f.inst(&fixed_flat());
    assert_eq!(
        d.drv_path,
        "/nix/store/r3gghkxri3x461dlign4xjwarg3ckfss-fixed-flat.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/34653kz58l0k6y6mhmzz5lih5l1yxhi9-fixed-flat"
    );
    assert_eq!(
        d.aterm,
        r#"Derive([("out","/nix/store/34653kz58l0k6y6mhmzz5lih5l1yxhi9-fixed-flat","sha256","2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")],[],[],"x86_64-linux","/bin/sh",[],[("builder","/bin/sh"),("name","fixed-flat"),("out","/nix/store/34653kz58l0k6y6mhmzz5lih5l1yxhi9-fixed-flat"),("outputHash","2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),("outputHashAlgo","sha256"),("system","x86_64-linux")])"#
    );
    let rec_sri = basic(
        "fixed-rec",
        &[
            ("outputHashMode", "recursive"),
            (
                "outputHash",
                "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
            ),
        ],
        &[],
    );
    let d = f.inst(&rec_sri);
    assert_eq!(
        d.drv_path,
        "/nix/store/pz0ap791z7p0vsmfm758nrwjqm5dsgnq-fixed-rec.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/9gbml70xkzfi8fj6970zldwqpjyd756x-fixed-rec"
    );
    let sha1 = basic(
        "fixed-sha1",
        &[
            ("outputHashMode", "recursive"),
            ("outputHash", "sha1:9m1skbnr5i43n3yypvda5s65vhfwdx5a"),
        ],
        &[],
    );
    let d = f.inst(&sha1);
    assert_eq!(
        d.drv_path,
        "/nix/store/qqvw8lgldyc4xlnpmmqmza58gg9bl3ry-fixed-sha1.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/19vn2bwdhfm42bwjnyznssspdi6yyaw9-fixed-sha1"
    );
    let md5 = basic(
        "fixed-md5",
        &[
            ("outputHashAlgo", "md5"),
            ("outputHash", "XUFAKrxLKna5cZ2REBfFkg=="),
        ],
        &[],
    );
    let d = f.inst(&md5);
    assert_eq!(
        d.drv_path,
        "/nix/store/dagnjs9xqf2834s7cz8jprk7djpgmq60-fixed-md5.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/p717as10xpdmwxr7k3478zkbkd019kz0-fixed-md5"
    );
    let empty = basic(
        "empty-hash",
        &[("outputHash", ""), ("outputHashAlgo", "sha256")],
        &[],
    );
    let d = f.inst(&empty);
    assert_eq!(
        d.drv_path,
        "/nix/store/xccmzdiwlk1fnxk46yfv11fl7ancqa5n-empty-hash.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/azq18nw050xhq1brniza4jshwsfwkqd0-empty-hash"
    );
    assert_eq!(
        d.warnings,
        ["found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"]
    );
}

#[test]
fn dependencies_through_contexts() {
    let mut f = Fixture::new();
    let mut hello = basic("hello", &[], &[]);
    hello.args = vec!["-c".into(), "echo \"hi\"\n\ttab\\ \r".into()];
    let d1 = f.inst(&hello);
    let d3 = f.inst(&fixed_flat());
    let src = "/nix/store/qi890a9493c7dwya6c1v4f88ijm3hz8i-s"; // builtins.toFile "s" "x"
    assert_eq!(
        f.store
            .print(&f.store.make_text_path("s", b"x", &BTreeSet::new()).unwrap()),
        src
    );
    // d7 = derivation { name = "deps"; builder = "${d1}/bin/sh"; dep = "${d3}"; inherit src; }
    let builder = format!("{}/bin/sh", out(&d1, "out"));
    let dep = out(&d3, "out");
    let deps = args(
        "deps",
        &[
            ("builder", &builder),
            ("system", SYS),
            ("dep", &dep),
            ("src", src),
        ],
        &[
            output_ctx(&d1, "out"),
            output_ctx(&d3, "out"),
            ContextElem::Path(src.into()),
        ],
    );
    let d7 = f.inst(&deps);
    assert_eq!(
        d7.drv_path,
        "/nix/store/wz9d3cqx9b7j737qhbirq79jpbn961sw-deps.drv"
    );
    assert_eq!(
        out(&d7, "out"),
        "/nix/store/92hbprckzbsp3c23jay4gws50p1f7cvd-deps"
    );
    assert_eq!(
        d7.aterm,
        r#"Derive([("out","/nix/store/92hbprckzbsp3c23jay4gws50p1f7cvd-deps","","")],[("/nix/store/d0s7mddmnp4s3kyxc24ff7wsipk2xmsm-hello.drv",["out"]),("/nix/store/r3gghkxri3x461dlign4xjwarg3ckfss-fixed-flat.drv",["out"])],["/nix/store/qi890a9493c7dwya6c1v4f88ijm3hz8i-s"],"x86_64-linux","/nix/store/mw24iz81c6a6sq2r6zc9qkm0yf8c3v03-hello/bin/sh",[],[("builder","/nix/store/mw24iz81c6a6sq2r6zc9qkm0yf8c3v03-hello/bin/sh"),("dep","/nix/store/34653kz58l0k6y6mhmzz5lih5l1yxhi9-fixed-flat"),("name","deps"),("out","/nix/store/92hbprckzbsp3c23jay4gws50p1f7cvd-deps"),("src","/nix/store/qi890a9493c7dwya6c1v4f88ijm3hz8i-s"),("system","x86_64-linux")])"#
    );
    // d8 = derivation { name = "deep"; drv = d7.drvPath; }: the whole closure comes in.
    let deep = basic(
        "deep",
        &[("drv", &d7.drv_path)],
        &[ContextElem::DrvDeep(d7.drv_path.clone())],
    );
    let d8 = f.inst(&deep);
    assert_eq!(
        d8.drv_path,
        "/nix/store/vylpzbnbzv4n5gmkxw2qjv4ig242k3sg-deep.drv"
    );
    assert_eq!(
        out(&d8, "out"),
        "/nix/store/kbfh9y06ym91vlnxxcj7dz9yc33i54hx-deep"
    );
    assert_eq!(
        d8.aterm,
        r#"Derive([("out","/nix/store/kbfh9y06ym91vlnxxcj7dz9yc33i54hx-deep","","")],[("/nix/store/d0s7mddmnp4s3kyxc24ff7wsipk2xmsm-hello.drv",["out"]),("/nix/store/r3gghkxri3x461dlign4xjwarg3ckfss-fixed-flat.drv",["out"]),("/nix/store/wz9d3cqx9b7j737qhbirq79jpbn961sw-deps.drv",["out"])],["/nix/store/d0s7mddmnp4s3kyxc24ff7wsipk2xmsm-hello.drv","/nix/store/qi890a9493c7dwya6c1v4f88ijm3hz8i-s","/nix/store/r3gghkxri3x461dlign4xjwarg3ckfss-fixed-flat.drv","/nix/store/wz9d3cqx9b7j737qhbirq79jpbn961sw-deps.drv"],"x86_64-linux","/bin/sh",[],[("builder","/bin/sh"),("drv","/nix/store/wz9d3cqx9b7j737qhbirq79jpbn961sw-deps.drv"),("name","deep"),("out","/nix/store/kbfh9y06ym91vlnxxcj7dz9yc33i54hx-deep"),("system","x86_64-linux")])"#
    );
}

#[test]
fn dependency_on_other_outputs_and_fixed_inputs() {
    let mut f = Fixture::new();
    let d2 = f.inst(&basic(
        "multi",
        &[("outputs", "out dev lib"), ("FOO", "a\"b\\c\nd\re\tf$x")],
        &[],
    ));
    // d9 = derivation { name = "devdep"; x = "${d2.dev} ${d2.lib}"; y = d2; }
    let x = format!("{} {}", out(&d2, "dev"), out(&d2, "lib"));
    let y = out(&d2, "out");
    let ctx = [
        output_ctx(&d2, "dev"),
        output_ctx(&d2, "lib"),
        output_ctx(&d2, "out"),
    ];
    let d9 = f.inst(&basic("devdep", &[("x", &x), ("y", &y)], &ctx));
    assert_eq!(
        d9.drv_path,
        "/nix/store/7zy7fwmlzdk2xlxqcmhg19hjpxl3aaw9-devdep.drv"
    );
    assert_eq!(
        out(&d9, "out"),
        "/nix/store/03wn2j5gzhbrnz5f9jjph09a2gn50l8x-devdep"
    );

    // d12 = derivation { name = "on-fixed"; a = d4; b = d5; c = d6; } (three fixed outputs)
    let d4 = f.inst(&basic(
        "fixed-rec",
        &[
            ("outputHashMode", "recursive"),
            (
                "outputHash",
                "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
            ),
        ],
        &[],
    ));
    let d5 = f.inst(&basic(
        "fixed-sha1",
        &[
            ("outputHashMode", "recursive"),
            ("outputHash", "sha1:9m1skbnr5i43n3yypvda5s65vhfwdx5a"),
        ],
        &[],
    ));
    let d6 = f.inst(&basic(
        "fixed-md5",
        &[
            ("outputHashAlgo", "md5"),
            ("outputHash", "XUFAKrxLKna5cZ2REBfFkg=="),
        ],
        &[],
    ));
    let (a, b, c) = (out(&d4, "out"), out(&d5, "out"), out(&d6, "out"));
    let ctx = [
        output_ctx(&d4, "out"),
        output_ctx(&d5, "out"),
        output_ctx(&d6, "out"),
    ];
    let d12 = f.inst(&basic("on-fixed", &[("a", &a), ("b", &b), ("c", &c)], &ctx));
    assert_eq!(
        d12.drv_path,
        "/nix/store/y2wdkvqj7h8b79gmy4i0alfajc44maic-on-fixed.drv"
    );
    assert_eq!(
        out(&d12, "out"),
        "/nix/store/3c5121k0ds579p9440x0wxw03fkl0rr8-on-fixed"
    );
}

#[test]
fn structured_attrs_take_the_json_from_the_evaluator() {
    // derivation { name = "structured"; __structuredAttrs = true; list = [ 1 "two" { three = 3; } ];
    //              nested = { b = true; a = null; }; outputs = [ "out" "doc" ]; }
    let json = r#"{"builder":"/bin/sh","list":[1,"two",{"three":3}],"name":"structured","nested":{"a":null,"b":true},"outputs":["out","doc"],"system":"x86_64-linux"}"#;
    let mut a = DerivationArgs::new("structured");
    a.builder = "/bin/sh".into();
    a.system = SYS.into();
    a.outputs = vec!["out".into(), "doc".into()];
    a.env = BTreeMap::from([("__json".to_owned(), json.to_owned())]);
    let d = Fixture::new().inst(&a);
    assert_eq!(
        d.drv_path,
        "/nix/store/c12jwgnm3y3lyjkw75m4f1lznx074lk5-structured.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/dxkn3k399nmmh6xj3606jkb0538984mj-structured"
    );
    assert_eq!(
        out(&d, "doc"),
        "/nix/store/lm7g6sfxsx1mpsq5lz2gpnsxhnvhj2wx-structured-doc"
    );
}

fn error_of(a: &DerivationArgs) -> String {
    instantiate(&StoreDir::default(), a, &mut KnownDerivations::new())
        .unwrap_err()
        .to_string()
}

#[test]
fn errors_are_worded_as_nix() {
    // (derivation {}).drvPath
    assert_eq!(
        Error::MissingName.to_string(),
        "attribute 'name' missing for call to 'derivationStrict'"
    );
    assert_eq!(
        error_of(&args("a", &[("system", SYS)], &[])),
        "required attribute 'builder' missing"
    );
    assert_eq!(
        error_of(&args("a", &[("builder", "b")], &[])),
        "required attribute 'system' missing"
    );
    assert_eq!(
        error_of(&basic("a.drv", &[], &[])),
        "derivation names are not allowed to end in '.drv'"
    );
    assert_eq!(
        error_of(&basic(
            "a",
            &[("outputs", "out dev"), ("outputHash", HELLO_SHA256)],
            &[]
        )),
        "multiple outputs are not supported in fixed-output derivations"
    );
    assert_eq!(
        error_of(&basic("a", &[("outputs", "out out")], &[])),
        "duplicate derivation output 'out'"
    );
    assert_eq!(
        error_of(&basic("a", &[("outputs", "drv")], &[])),
        "invalid derivation output name 'drv'"
    );
    assert_eq!(
        error_of(&basic("a", &[("outputs", " ")], &[])),
        "derivation cannot have an empty set of outputs"
    );
    assert_eq!(
        error_of(&basic("a", &[("outputHash", "")], &[])),
        "empty hash requires explicit hash type"
    );
    assert_eq!(
        error_of(&basic(
            "a",
            &[("outputHash", "abc"), ("outputHashAlgo", "foo")],
            &[]
        )),
        "hash 'abc' does not include a type, nor is the type otherwise known from context"
    );
    assert_eq!(
        FileIngestionMethod::parse_output_hash_mode("text")
            .unwrap_err()
            .to_string(),
        "invalid value 'text' for 'outputHashMode' attribute"
    );
    let mut ca = basic("a", &[], &[]);
    ca.content_addressed = true;
    assert_eq!(
        error_of(&ca),
        "experimental Nix feature 'ca-derivations' is disabled; use '--extra-experimental-features ca-derivations' to override"
    );
    // A name Nix rejects is reported on the first path made from it.
    let err = instantiate(
        &StoreDir::default(),
        &basic("a b", &[], &[]),
        &mut KnownDerivations::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::IllegalNameCharacter { character: ' ', .. }),
        "{err}"
    );
    // An input derivation nobody told us about cannot be hashed.
    let unknown = "/nix/store/d0s7mddmnp4s3kyxc24ff7wsipk2xmsm-hello.drv";
    let ctx = [ContextElem::Output {
        drv: unknown.into(),
        output: "out".into(),
    }];
    assert!(matches!(
        instantiate(
            &StoreDir::default(),
            &basic("a", &[], &ctx),
            &mut KnownDerivations::new()
        ),
        Err(Error::UnknownDerivation(_))
    ));
}

#[test]
fn context_elements_round_trip() {
    for text in [
        "/nix/store/qi890a9493c7dwya6c1v4f88ijm3hz8i-s",
        "=/nix/store/x.drv",
        "!dev!/nix/store/x.drv",
    ] {
        assert_eq!(ContextElem::parse(text).unwrap().encode(), text);
    }
    assert_eq!(
        ContextElem::parse("!dev!/nix/store/x.drv").unwrap(),
        ContextElem::Output {
            drv: "/nix/store/x.drv".into(),
            output: "dev".into()
        }
    );
    assert!(ContextElem::parse("!nodrv").is_err());
}

#[test]
fn drv_files_parse_back_to_the_same_text_and_hashes() {
    let mut f = Fixture::new();
    let mut hello = basic("hello", &[], &[]);
    hello.args = vec!["-c".into(), "echo \"hi\"\n\ttab\\ \r".into()];
    let d1 = f.inst(&hello);
    let d3 = f.inst(&fixed_flat());
    let builder = format!("{}/bin/sh", out(&d1, "out"));
    let dep = out(&d3, "out");
    let deps = args(
        "deps",
        &[("builder", &builder), ("system", SYS), ("dep", &dep)],
        &[output_ctx(&d1, "out"), output_ctx(&d3, "out")],
    );
    let d7 = f.inst(&deps);
    for d in [&d1, &d3, &d7] {
        let path = f.store.parse(&d.drv_path).unwrap();
        let parsed = nixweb_store::Derivation::from_aterm(&f.store, &path, &d.aterm).unwrap();
        assert_eq!(parsed, d.derivation);
        assert_eq!(parsed.to_aterm(&f.store).unwrap(), d.aterm);
    }
    // A fresh table that learns d1 and d3 from their .drv files computes the same d7.
    let mut fresh = KnownDerivations::new();
    for d in [&d1, &d3] {
        fresh
            .insert_drv_file(&f.store, &d.drv_path, &d.aterm)
            .unwrap();
    }
    let again = instantiate(&f.store, &deps, &mut fresh).unwrap();
    assert_eq!(again.drv_path, d7.drv_path);
    assert!(nixweb_store::Derivation::from_aterm(
        &f.store,
        &f.store.parse(&d1.drv_path).unwrap(),
        "Derive([(\"out\""
    )
    .is_err());
}

#[test]
fn to_file_records_references_and_rejects_derivations() {
    let store = StoreDir::default();
    let mut known = KnownDerivations::new();
    let a = nixweb_store::to_file(&store, &mut known, "a", b"b", &BTreeSet::new()).unwrap();
    assert_eq!(a, "/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a");
    let contents = format!("{a} x");
    let c = nixweb_store::to_file(
        &store,
        &mut known,
        "c",
        contents.as_bytes(),
        &BTreeSet::from([a.clone()]),
    )
    .unwrap();
    assert_eq!(c, "/nix/store/rp1mmivny08qp2ixzm1dkpn42fgd13jf-c");
    let closure = known.closure(&store.parse(&c).unwrap());
    assert_eq!(closure.len(), 2);
    // let d = derivation {name="a"; system="x"; builder="b";}; in builtins.toFile "f" "${d}"
    let ctx = BTreeSet::from(["!out!/nix/store/nnqh7675wghd0xmrywqm2yh9psrkk13q-a.drv".to_owned()]);
    assert_eq!(
        nixweb_store::to_file(&store, &mut known, "f", b"", &ctx).unwrap_err().to_string(),
        "in 'toFile': the file named 'f' must not contain a reference to a derivation but contains (!out!/nix/store/nnqh7675wghd0xmrywqm2yh9psrkk13q-a.drv)"
    );
    // Its drvPath: `derivation {name="a"; system="x"; builder="b";}`.
    let d = instantiate(
        &store,
        &args("a", &[("system", "x"), ("builder", "b")], &[]),
        &mut known,
    )
    .unwrap();
    assert_eq!(
        d.drv_path,
        "/nix/store/nnqh7675wghd0xmrywqm2yh9psrkk13q-a.drv"
    );
}

#[test]
fn odd_outputs_and_platforms() {
    let store = StoreDir::default();
    let mut known = KnownDerivations::new();
    // derivation {name="a"; system="x\"y"; builder="b";}: the platform is written unescaped.
    let d = instantiate(
        &store,
        &args("a", &[("system", "x\"y"), ("builder", "b")], &[]),
        &mut known,
    )
    .unwrap();
    assert_eq!(
        d.drv_path,
        "/nix/store/2afij04icmvlmadp7rmafidlsajs6hvl-a.drv"
    );
    assert!(d.aterm.contains(r#","x"y","b","#));
    // derivation {name="a"; system="x"; builder="b"; outputs=["bin" "a b"];}: three outputs.
    let d = instantiate(
        &store,
        &args(
            "a",
            &[("system", "x"), ("builder", "b"), ("outputs", "bin a b")],
            &[],
        ),
        &mut known,
    )
    .unwrap();
    assert_eq!(
        d.drv_path,
        "/nix/store/qjrgxxi35xk8agnjlrfxrydv9ir243m5-a.drv"
    );
    assert_eq!(
        d.output_paths["bin"],
        "/nix/store/76bhxslmaqlsj75fsdfk2qmmal0b0xkq-a-bin"
    );
    assert_eq!(d.output_paths.len(), 3);
}

#[test]
fn structured_attrs_json_assembled_here_matches_nix() {
    use nixweb_store::structured_attrs::{json_string, structured_attrs_json};
    // derivation { name = "s"; system = "x"; builder = "b"; __structuredAttrs = true;
    //              f = [ 0.1 1.0 1.0e20 ]; s = builtins.fromJSON "\"\\b\""; }
    let (name, system, builder, s) = (
        json_string("s"),
        json_string("x"),
        json_string("b"),
        json_string("\u{8}"),
    );
    let json = structured_attrs_json([
        ("system", system.as_str()),
        ("s", s.as_str()),
        ("name", name.as_str()),
        ("f", "[0.1,1,1e+20]"),
        ("builder", builder.as_str()),
    ]);
    let mut a = DerivationArgs::new("s");
    a.builder = "b".into();
    a.system = "x".into();
    a.env.insert("__json".into(), json);
    let d = Fixture::new().inst(&a);
    assert_eq!(
        d.drv_path,
        "/nix/store/m18vgrw236ciq7gk6855apdw58ibwkwf-s.drv"
    );
    assert_eq!(
        out(&d, "out"),
        "/nix/store/8ad4kvfznppjp35xaqms5yzg8pfvwzz1-s"
    );
}

#[test]
fn other_store_directories() {
    // nix-instantiate --store 'dummy://?store=/tmp/xstore' --eval --strict -E
    //   '[(builtins.toFile "a" "b") (derivation {…}).outPath (derivation {…}).drvPath]'
    let store = StoreDir::new("/tmp/xstore");
    let mut known = KnownDerivations::new();
    let file = nixweb_store::to_file(&store, &mut known, "a", b"b", &BTreeSet::new()).unwrap();
    assert_eq!(file, "/tmp/xstore/a3i9jjqpd5hb7hjmcz54lv3kdiz250xd-a");
    let d = instantiate(
        &store,
        &args("a", &[("system", "x"), ("builder", "b")], &[]),
        &mut known,
    )
    .unwrap();
    assert_eq!(
        d.output_paths["out"],
        "/tmp/xstore/nsqsia5ncs67ld3d0cn45rwf6drk90gy-a"
    );
    assert_eq!(
        d.drv_path,
        "/tmp/xstore/prn2q6nw9545a84q14wryf46yp84saml-a.drv"
    );
}
