//! `hashString` (hashFile lives with the path builtins) over the store crate's hashes.

use super::Registry;
use crate::error::{err, EResult};
use crate::source::Pos;
use crate::value::Value;
use nixweb_store::{Hash, HashAlgo};

pub fn parse_algo(name: &str, pos: Pos) -> EResult<HashAlgo> {
    match HashAlgo::parse_opt(name) {
        Some(a) => Ok(a),
        None => err(format!("unknown hash algorithm '{}'", name), pos),
    }
}

pub fn register(reg: &mut Registry) {
    reg.add("hashString", 2, |ev, a, pos| {
        let algo = ev.force_string(&a[0], pos)?;
        let s = ev.force_string(&a[1], pos)?;
        let algo = parse_algo(&algo.s, pos)?;
        Ok(Value::str(Hash::digest(algo, s.s.as_bytes()).to_base16()))
    });
}
