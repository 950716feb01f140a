//! Prints an expression the way Nix 2.8's `Expr::show` does, for messages such as
//! "assertion '(x == 1)' failed". Works on the rnix tree, before lowering, so it redoes
//! the few rewrites Nix's parser makes (nested attribute paths, `inherit (e)`, `<...>`,
//! operators that are calls, absolute paths).

use std::path::Path;

use rnix::ast::{self, HasEntry, InterpolPart};
use rowan::ast::AstNode;

use crate::lower::canon_path;

/// Shows expressions of one file; `base` anchors relative paths.
pub struct Show<'a> {
    pub base: &'a Path,
}

fn const_text(s: &ast::Str) -> Option<String> {
    let mut out = String::new();
    for p in s.normalized_parts() {
        match p {
            InterpolPart::Literal(l) => out.push_str(&l),
            InterpolPart::Interpolation(_) => return None,
        }
    }
    Some(out)
}

/// Nix's `Expr::show` escapes every `$`, unlike value printing.
fn show_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Show<'_> {
    fn attr_text(&self, a: &ast::Attr) -> String {
        match a {
            ast::Attr::Ident(i) => i.syntax().text().to_string(),
            ast::Attr::Str(s) => const_text(s).unwrap_or_else(|| self.string(s)),
            ast::Attr::Dynamic(d) => match d.expr() {
                Some(ast::Expr::Str(s)) if const_text(&s).is_some() => {
                    const_text(&s).unwrap_or_default()
                }
                e => format!("${{{}}}", self.opt(e)),
            },
        }
    }

    fn attr_path(&self, p: Option<ast::Attrpath>) -> String {
        p.map(|p| {
            p.attrs()
                .map(|a| self.attr_text(&a))
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
    }

    fn string(&self, s: &ast::Str) -> String {
        let parts = s.normalized_parts();
        let interpolated = parts
            .iter()
            .any(|p| matches!(p, InterpolPart::Interpolation(_)));
        let shown: Vec<String> = parts
            .into_iter()
            .map(|p| match p {
                InterpolPart::Literal(l) => show_literal(&l),
                InterpolPart::Interpolation(i) => self.opt(i.expr()),
            })
            .collect();
        match shown.len() {
            0 => "\"\"".to_string(),
            1 if !interpolated => shown[0].clone(),
            _ => format!("({})", shown.join(" + ")),
        }
    }

    fn opt(&self, e: Option<ast::Expr>) -> String {
        e.map(|e| self.show(&e)).unwrap_or_default()
    }

    fn entries(&self, h: &impl HasEntry) -> String {
        let mut out = String::new();
        for e in h.entries() {
            match e {
                ast::Entry::Inherit(i) => {
                    let from = i.from().and_then(|f| f.expr());
                    for a in i.attrs() {
                        let name = self.attr_text(&a);
                        match &from {
                            // `inherit (e) x;` is `x = (e).x;` in Nix's tree.
                            Some(f) => {
                                out.push_str(&format!("{} = ({}).{}; ", name, self.show(f), name))
                            }
                            None => out.push_str(&format!("inherit {}; ", name)),
                        }
                    }
                }
                ast::Entry::AttrpathValue(v) => {
                    // `a.b = v;` is a nested set in Nix's tree.
                    let path: Vec<String> = v
                        .attrpath()
                        .map(|p| p.attrs().map(|a| self.attr_text(&a)).collect())
                        .unwrap_or_default();
                    let mut value = self.opt(v.value());
                    for name in path.iter().skip(1).rev() {
                        value = format!("{{ {} = {}; }}", name, value);
                    }
                    let first = path.first().cloned().unwrap_or_default();
                    out.push_str(&format!("{} = {}; ", first, value));
                }
            }
        }
        out
    }

    pub fn show(&self, e: &ast::Expr) -> String {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.show_node(e))
    }

    fn show_node(&self, e: &ast::Expr) -> String {
        use ast::BinOpKind as K;
        match e {
            ast::Expr::Paren(p) => self.opt(p.expr()),
            ast::Expr::Root(r) => self.opt(r.expr()),
            ast::Expr::Ident(i) => i.syntax().text().to_string(),
            ast::Expr::Literal(l) => l.syntax().text().to_string(),
            ast::Expr::Str(s) => self.string(s),
            ast::Expr::PathRel(p) => {
                let text = p.syntax().text().to_string();
                canon_path(&format!("{}/{}", self.base.display(), text))
            }
            ast::Expr::PathAbs(p) => canon_path(&p.syntax().text().to_string()),
            ast::Expr::PathSearch(p) => {
                let text = p.syntax().text().to_string();
                let name = text.trim_start_matches('<').trim_end_matches('>');
                format!("(__findFile __nixPath {})", show_literal(name))
            }
            ast::Expr::Select(s) => {
                let mut out = format!("({}).{}", self.opt(s.expr()), self.attr_path(s.attrpath()));
                if let Some(d) = s.default_expr() {
                    out.push_str(&format!(" or ({})", self.show(&d)));
                }
                out
            }
            ast::Expr::HasAttr(h) => {
                format!(
                    "(({}) ? {})",
                    self.opt(h.expr()),
                    self.attr_path(h.attrpath())
                )
            }
            ast::Expr::List(l) => {
                let mut out = "[ ".to_string();
                for i in l.items() {
                    out.push_str(&format!("({}) ", self.show(&i)));
                }
                out.push(']');
                out
            }
            ast::Expr::AttrSet(a) => {
                let rec = if a.rec_token().is_some() { "rec " } else { "" };
                format!("{}{{ {}}}", rec, self.entries(a))
            }
            ast::Expr::LetIn(l) => format!("(let {}in {})", self.entries(l), self.opt(l.body())),
            ast::Expr::With(w) => {
                format!("(with {}; {})", self.opt(w.namespace()), self.opt(w.body()))
            }
            ast::Expr::IfElse(i) => format!(
                "(if {} then {} else {})",
                self.opt(i.condition()),
                self.opt(i.body()),
                self.opt(i.else_body())
            ),
            ast::Expr::Assert(a) => {
                format!("assert {}; {}", self.opt(a.condition()), self.opt(a.body()))
            }
            ast::Expr::Apply(a) => {
                // Nix flattens curried calls into one call node.
                let mut args = vec![self.opt(a.argument())];
                let mut f = a.lambda();
                while let Some(ast::Expr::Apply(inner)) = f.clone() {
                    args.push(self.opt(inner.argument()));
                    f = inner.lambda();
                }
                args.reverse();
                format!("({} {})", self.opt(f), args.join(" "))
            }
            ast::Expr::Lambda(l) => {
                let param = match l.param() {
                    Some(ast::Param::IdentParam(i)) => i
                        .ident()
                        .map(|i| i.syntax().text().to_string())
                        .unwrap_or_default(),
                    Some(ast::Param::Pattern(p)) => {
                        let mut items: Vec<String> = p
                            .pat_entries()
                            .map(|e| {
                                let name = e
                                    .ident()
                                    .map(|i| i.syntax().text().to_string())
                                    .unwrap_or_default();
                                match e.default() {
                                    Some(d) => format!("{} ? {}", name, self.show(&d)),
                                    None => name,
                                }
                            })
                            .collect();
                        if p.ellipsis_token().is_some() {
                            items.push("...".into());
                        }
                        let mut out = format!("{{ {} }}", items.join(", "));
                        if let Some(b) = p.pat_bind().and_then(|b| b.ident()) {
                            out.push_str(&format!("@{}", b.syntax().text()));
                        }
                        out
                    }
                    None => String::new(),
                };
                format!("({}: {})", param, self.opt(l.body()))
            }
            ast::Expr::UnaryOp(u) => match u.operator() {
                Some(ast::UnaryOpKind::Invert) => format!("(! {})", self.opt(u.expr())),
                _ => format!("(__sub 0 {})", self.opt(u.expr())),
            },
            ast::Expr::BinOp(op) => {
                let (l, r) = (self.opt(op.lhs()), self.opt(op.rhs()));
                match op.operator() {
                    Some(K::Sub) => format!("(__sub {} {})", l, r),
                    Some(K::Mul) => format!("(__mul {} {})", l, r),
                    Some(K::Div) => format!("(__div {} {})", l, r),
                    Some(K::Less) => format!("(__lessThan {} {})", l, r),
                    Some(K::More) => format!("(__lessThan {} {})", r, l),
                    Some(K::LessOrEq) => format!("(! (__lessThan {} {}))", r, l),
                    Some(K::MoreOrEq) => format!("(! (__lessThan {} {}))", l, r),
                    Some(k) => {
                        let s = match k {
                            K::Add => "+",
                            K::Equal => "==",
                            K::NotEqual => "!=",
                            K::And => "&&",
                            K::Or => "||",
                            K::Implication => "->",
                            K::Update => "//",
                            K::Concat => "++",
                            _ => "?",
                        };
                        format!("({} {} {})", l, s, r)
                    }
                    None => String::new(),
                }
            }
            other => other.syntax().text().to_string(),
        }
    }
}
