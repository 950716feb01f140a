//! `hashString` (hashFile lives with the path builtins) and `convertHash` (added after
//! Nix 2.8) over the store crate's hashes.

use super::Registry;
use crate::error::{err, EResult};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::{Thunk, Value};
use nixweb_store::{Encoding, Hash, HashAlgo};

pub fn parse_algo(name: &str, pos: Pos) -> EResult<HashAlgo> {
    match HashAlgo::parse_opt(name) {
        Some(a) => Ok(a),
        None => err(format!("unknown hash algorithm '{}'", name), pos),
    }
}

/// A hash format's name as current Nix's `parseHashFormat` reads it; `base32` is the
/// old name of `nix32` and gets current Nix's deprecation warning.
fn parse_format(ev: &mut Evaluator, name: &str, pos: Pos) -> EResult<Encoding> {
    Ok(match name {
        "base16" => Encoding::Base16,
        "nix32" => Encoding::Base32,
        "base32" => {
            ev.print_stderr(
                "warning",
                r#""base32" is a deprecated alias for hash format "nix32"."#,
            );
            Encoding::Base32
        }
        "base64" => Encoding::Base64,
        "sri" => Encoding::Sri,
        _ => {
            return err(
                format!(
                    "unknown hash format '{}', expect 'base16', 'base32', 'base64', or 'sri'",
                    name
                ),
                pos,
            )
        }
    })
}

/// `convertHash { hash; hashAlgo ? <from the hash>; toHashFormat; }`: the hash (any form
/// `Hash::parse_any` reads) written in another format, as current Nix has it.
fn convert_hash(ev: &mut Evaluator, a: &[Thunk], pos: Pos) -> EResult<Value> {
    let args = ev.force_attrs(&a[0], pos)?;
    let required = |name: &str| match args.get(name) {
        Some(t) => Ok(t.clone()),
        None => err(format!("attribute '{}' missing", name), pos),
    };
    let hash = ev.force_string(&required("hash")?, pos)?;
    let algo = match args.get("hashAlgo").cloned() {
        Some(t) => Some(parse_algo(ev.force_string(&t, pos)?.as_str(), pos)?),
        None => None,
    };
    let format = ev.force_string(&required("toHashFormat")?, pos)?;
    let format = parse_format(ev, &format, pos)?;
    match Hash::parse_any(&hash, algo) {
        Ok(h) => Ok(Value::str(h.encode(format, format == Encoding::Sri))),
        Err(e) => err(e.to_string(), pos),
    }
}

pub fn register(reg: &mut Registry) {
    reg.add("convertHash", 1, convert_hash);
    reg.add("hashString", 2, |ev, a, pos| {
        let algo = ev.force_string(&a[0], pos)?;
        let s = ev.force_string(&a[1], pos)?;
        let algo = parse_algo(algo.as_str(), pos)?;
        Ok(Value::str(
            Hash::digest(algo, s.as_str().as_bytes()).to_base16(),
        ))
    });
}
