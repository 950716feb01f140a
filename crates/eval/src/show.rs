//! Prints an expression the way Nix 2.8's `Expr::show` does, for messages such as
//! "assertion '(x == 1)' failed". Works on the rnix tree, before lowering.

use rnix::ast::{self, HasEntry, InterpolPart};
use rowan::ast::AstNode;

use crate::print::escape_string;

fn attr_text(a: &ast::Attr) -> String {
    match a {
        ast::Attr::Ident(i) => i.syntax().text().to_string(),
        ast::Attr::Str(s) => show_str(s),
        ast::Attr::Dynamic(d) => format!("${{{}}}", d.expr().map(|e| show(&e)).unwrap_or_default()),
    }
}

fn attr_path(p: Option<ast::Attrpath>) -> String {
    p.map(|p| {
        p.attrs()
            .map(|a| attr_text(&a))
            .collect::<Vec<_>>()
            .join(".")
    })
    .unwrap_or_default()
}

fn show_str(s: &ast::Str) -> String {
    let parts: Vec<String> = s
        .normalized_parts()
        .into_iter()
        .map(|p| match p {
            InterpolPart::Literal(l) => escape_string(&l),
            InterpolPart::Interpolation(i) => i.expr().map(|e| show(&e)).unwrap_or_default(),
        })
        .collect();
    match parts.len() {
        0 => "\"\"".to_string(),
        1 if !s
            .normalized_parts()
            .iter()
            .any(|p| matches!(p, InterpolPart::Interpolation(_))) =>
        {
            parts[0].clone()
        }
        _ => format!("({})", parts.join(" + ")),
    }
}

fn sub(e: Option<ast::Expr>) -> String {
    e.map(|e| show(&e)).unwrap_or_default()
}

fn entries(h: &impl HasEntry) -> String {
    let mut out = String::new();
    for e in h.entries() {
        match e {
            ast::Entry::Inherit(i) => {
                for a in i.attrs() {
                    out.push_str(&format!("inherit {}; ", attr_text(&a)));
                }
            }
            ast::Entry::AttrpathValue(v) => {
                out.push_str(&format!(
                    "{} = {}; ",
                    attr_path(v.attrpath()),
                    sub(v.value())
                ));
            }
        }
    }
    out
}

pub fn show(e: &ast::Expr) -> String {
    use ast::BinOpKind as K;
    match e {
        ast::Expr::Paren(p) => sub(p.expr()),
        ast::Expr::Root(r) => sub(r.expr()),
        ast::Expr::Ident(i) => i.syntax().text().to_string(),
        ast::Expr::Literal(l) => l.syntax().text().to_string(),
        ast::Expr::Str(s) => show_str(s),
        ast::Expr::Select(s) => {
            let mut out = format!("({}).{}", sub(s.expr()), attr_path(s.attrpath()));
            if let Some(d) = s.default_expr() {
                out.push_str(&format!(" or {}", show(&d)));
            }
            out
        }
        ast::Expr::HasAttr(h) => format!("(({}) ? {})", sub(h.expr()), attr_path(h.attrpath())),
        ast::Expr::List(l) => {
            let mut out = "[ ".to_string();
            for i in l.items() {
                out.push_str(&format!("({}) ", show(&i)));
            }
            out.push(']');
            out
        }
        ast::Expr::AttrSet(a) => {
            let rec = if a.rec_token().is_some() { "rec " } else { "" };
            format!("{}{{ {}}}", rec, entries(a))
        }
        ast::Expr::LetIn(l) => format!("(let {}in {})", entries(l), sub(l.body())),
        ast::Expr::With(w) => format!("(with {}; {})", sub(w.namespace()), sub(w.body())),
        ast::Expr::IfElse(i) => format!(
            "(if {} then {} else {})",
            sub(i.condition()),
            sub(i.body()),
            sub(i.else_body())
        ),
        ast::Expr::Assert(a) => format!("assert {}; {}", sub(a.condition()), sub(a.body())),
        ast::Expr::Apply(a) => {
            // Nix flattens curried calls into one call node.
            let mut args = vec![sub(a.argument())];
            let mut f = a.lambda();
            while let Some(ast::Expr::Apply(inner)) = f.clone() {
                args.push(sub(inner.argument()));
                f = inner.lambda();
            }
            args.reverse();
            format!("({} {})", sub(f), args.join(" "))
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
                                Some(d) => format!("{} ? {}", name, show(&d)),
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
            format!("({}: {})", param, sub(l.body()))
        }
        ast::Expr::UnaryOp(u) => match u.operator() {
            Some(ast::UnaryOpKind::Invert) => format!("(! {})", sub(u.expr())),
            _ => format!("(__sub 0 {})", sub(u.expr())),
        },
        ast::Expr::BinOp(b) => {
            let (l, r) = (sub(b.lhs()), sub(b.rhs()));
            match b.operator() {
                Some(K::Sub) => format!("(__sub {} {})", l, r),
                Some(K::Mul) => format!("(__mul {} {})", l, r),
                Some(K::Div) => format!("(__div {} {})", l, r),
                Some(K::Less) => format!("(__lessThan {} {})", l, r),
                Some(K::More) => format!("(__lessThan {} {})", r, l),
                Some(K::LessOrEq) => format!("(! (__lessThan {} {}))", r, l),
                Some(K::MoreOrEq) => format!("(! (__lessThan {} {}))", l, r),
                Some(op) => {
                    let s = match op {
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
