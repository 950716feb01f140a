//! `toXML` and `nix-instantiate --xml` output, in Nix 2.8's format.

use std::collections::HashSet;

use super::Registry;
use crate::error::EResult;
use crate::eval::Evaluator;
use crate::print::format_float;
use crate::source::Pos;
use crate::value::*;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Enough for a line's markup besides its indentation and its value.
const LINE_BYTES: usize = 64;

struct XmlWriter<'a> {
    out: String,
    depth: usize,
    location: bool,
    strict: bool,
    ctx: &'a mut Context,
    drvs_seen: HashSet<String>,
}

impl XmlWriter<'_> {
    fn indent(&mut self) {
        self.out.extend(std::iter::repeat_n(' ', 2 * self.depth));
    }

    /// Checks that the evaluation may hold the document once the next line is added (a
    /// deep document's indentation alone grows with the square of its depth).
    fn reserve(&self, ev: &Evaluator, bytes: usize) -> EResult<()> {
        let line = self.depth * 2 + bytes + LINE_BYTES;
        ev.reserve_append(self.out.len(), self.out.capacity(), line, Pos::NONE)
    }
    fn attrs_str(attrs: &[(&str, String)]) -> String {
        let mut sorted: Vec<_> = attrs.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        sorted
            .iter()
            .map(|(k, v)| format!(" {}=\"{}\"", k, escape(v)))
            .collect()
    }
    fn empty(&mut self, name: &str, attrs: &[(&str, String)]) {
        self.indent();
        self.out
            .push_str(&format!("<{}{} />\n", name, Self::attrs_str(attrs)));
    }
    fn open(&mut self, name: &str, attrs: &[(&str, String)]) {
        self.indent();
        self.out
            .push_str(&format!("<{}{}>\n", name, Self::attrs_str(attrs)));
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{}>\n", name));
    }

    fn pos_attrs(&self, ev: &Evaluator, pos: Pos, attrs: &mut Vec<(&str, String)>) {
        if !self.location || pos.is_none() {
            return;
        }
        if let Some((line, col)) = ev.sources.line_col(pos) {
            attrs.push(("column", col.to_string()));
            attrs.push(("line", line.to_string()));
            attrs.push(("path", ev.sources.origin(pos)));
        }
    }

    fn thunk(&mut self, ev: &mut Evaluator, t: &Thunk) -> EResult<()> {
        if self.strict {
            let v = ev.force(t)?;
            self.value(ev, &v)
        } else {
            match t.get() {
                Some(v) => self.value(ev, &v),
                None => {
                    self.empty("unevaluated", &[]);
                    Ok(())
                }
            }
        }
    }

    fn attr_list(&mut self, ev: &mut Evaluator, a: &Attrs) -> EResult<()> {
        for attr in &a.entries {
            let mut xattrs = vec![("name", attr.name.to_string())];
            self.pos_attrs(ev, attr.pos, &mut xattrs);
            self.open("attr", &xattrs);
            self.thunk(ev, &attr.value)?;
            self.close("attr");
        }
        Ok(())
    }

    fn value(&mut self, ev: &mut Evaluator, v: &Value) -> EResult<()> {
        match v {
            Value::Attrs(_) | Value::List(_) => ev.nested(Pos::NONE, |ev| self.value_here(ev, v)),
            _ => self.value_here(ev, v),
        }
    }

    fn value_here(&mut self, ev: &mut Evaluator, v: &Value) -> EResult<()> {
        self.reserve(ev, 0)?;
        match v {
            Value::Int(i) => self.empty("int", &[("value", i.to_string())]),
            Value::Bool(b) => self.empty("bool", &[("value", b.to_string())]),
            Value::String(s) => {
                if let Some(c) = s.context() {
                    self.ctx.extend(c.iter().cloned());
                }
                self.reserve(ev, s.as_str().len())?;
                self.empty("string", &[("value", s.as_str().to_string())])
            }
            Value::Path(p) => self.empty("path", &[("value", p.to_string())]),
            Value::Null => self.empty("null", &[]),
            Value::Float(f) => self.empty("float", &[("value", format_float(*f))]),
            Value::Attrs(a) => {
                if ev.is_derivation(a)? {
                    let mut xattrs = Vec::new();
                    let mut drv_path = None;
                    if let Some(t) = a.get("drvPath").cloned() {
                        if let Value::String(s) = ev.force(&t)? {
                            drv_path = Some(s.as_str().to_string());
                            xattrs.push(("drvPath", s.as_str().to_string()));
                        }
                    }
                    if let Some(t) = a.get("outPath").cloned() {
                        if let Value::String(s) = ev.force(&t)? {
                            xattrs.push(("outPath", s.as_str().to_string()));
                        }
                    }
                    self.open("derivation", &xattrs);
                    let first = match &drv_path {
                        Some(p) if !p.is_empty() => self.drvs_seen.insert(p.clone()),
                        _ => false,
                    };
                    if first {
                        self.attr_list(ev, a)?;
                    } else {
                        self.empty("repeated", &[]);
                    }
                    self.close("derivation");
                } else {
                    self.open("attrs", &[]);
                    self.attr_list(ev, a)?;
                    self.close("attrs");
                }
            }
            Value::List(l) => {
                self.open("list", &[]);
                for t in l.iter() {
                    self.thunk(ev, t)?;
                }
                self.close("list");
            }
            Value::Lambda(c) => {
                let mut xattrs = Vec::new();
                self.pos_attrs(ev, c.lambda.pos, &mut xattrs);
                self.open("function", &xattrs);
                match &c.lambda.formals {
                    Some(f) => {
                        let mut pattrs = Vec::new();
                        if f.ellipsis {
                            pattrs.push(("ellipsis", "1".to_string()));
                        }
                        if let Some(n) = &c.lambda.arg_name {
                            pattrs.push(("name", n.to_string()));
                        }
                        let mut names: Vec<&str> = f.entries.iter().map(|e| &*e.name).collect();
                        names.sort();
                        if names.is_empty() {
                            self.empty("attrspat", &pattrs);
                        } else {
                            self.open("attrspat", &pattrs);
                            for n in names {
                                self.empty("attr", &[("name", n.to_string())]);
                            }
                            self.close("attrspat");
                        }
                    }
                    None => {
                        let n = c.lambda.arg_name.as_deref().unwrap_or("").to_string();
                        self.empty("varpat", &[("name", n)]);
                    }
                }
                self.close("function");
            }
            Value::PrimOp(_) | Value::PrimOpApp(..) => self.empty("unevaluated", &[]),
        }
        Ok(())
    }
}

/// The whole document, as `--xml` and `toXML` print it.
pub fn to_xml(
    ev: &mut Evaluator,
    v: &Value,
    location: bool,
    strict: bool,
    ctx: &mut Context,
) -> EResult<String> {
    let mut w = XmlWriter {
        out: String::from("<?xml version='1.0' encoding='utf-8'?>\n<expr>\n"),
        depth: 1,
        location,
        strict,
        ctx,
        drvs_seen: HashSet::new(),
    };
    w.value(ev, v)?;
    w.out.push_str("</expr>\n");
    Ok(w.out)
}

pub fn register(reg: &mut Registry) {
    reg.add("toXML", 1, |ev, a, _| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = to_xml(ev, &v, false, true, &mut ctx)?;
        Ok(Value::String(NixStr::with_ctx(s, ctx)))
    });
}
