//! Parsing (rnix) and lowering to `ast::Expr`. This pass also rejects what Nix rejects at
//! parse time but rnix accepts: duplicate attributes and formals, undefined variables, and
//! invalid merges of nested attribute paths. Variables are resolved here.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use rnix::ast::{self, AstToken, HasEntry, InterpolPart};
use rowan::ast::AstNode;

use crate::ast::*;
use crate::settings::{Diagnose, Lints};
use crate::source::Pos;
use crate::value::Value;

#[derive(Debug, Clone)]
pub struct ParseError {
    pub msg: String,
    pub pos: Pos,
    /// For duplicate definitions: where the first one is (appended as " at file:line:col").
    pub first: Option<Pos>,
}

type PResult<T> = Result<T, ParseError>;

/// Nix 2.8 accepts CR and CRLF line endings; rnix does not, so they become LF first.
pub fn normalise_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

enum Scope {
    Names(HashMap<Rc<str>, u32>),
    With,
}

pub struct Lowerer<'a> {
    file: u32,
    base_dir: &'a Path,
    globals: &'a HashMap<Rc<str>, u32>,
    scopes: Vec<Scope>,
    lints: Lints,
    warnings: Vec<(Pos, String)>,
}

/// A lowered file, and the warnings its lints found (message, at the literal).
pub struct Lowered {
    pub expr: ExprRef,
    pub warnings: Vec<(Pos, String)>,
}

/// Parses and lowers `text` (already newline-normalised). `base_dir` anchors relative paths;
/// `lints` say which literals to warn about or refuse, as current Nix's parser does.
pub fn parse_and_lower(
    text: &str,
    file: u32,
    base_dir: &Path,
    globals: &HashMap<Rc<str>, u32>,
    outer_scope: Option<&[Rc<str>]>,
    lints: Lints,
) -> PResult<Lowered> {
    // Parsing, lowering and dropping the syntax tree all recurse with the nesting of the
    // source; a long `a + b + ...` chain would overflow an ordinary thread stack. They run
    // on a generous stack of their own (only the pages used are ever touched).
    stacker::grow(64 * 1024 * 1024, || {
        parse_and_lower_here(text, file, base_dir, globals, outer_scope, lints)
    })
}

const MAX_SYNTAX_DEPTH: usize = 250_000;

fn parse_and_lower_here(
    text: &str,
    file: u32,
    base_dir: &Path,
    globals: &HashMap<Rc<str>, u32>,
    outer_scope: Option<&[Rc<str>]>,
    lints: Lints,
) -> PResult<Lowered> {
    crate::nesting::check(text).map_err(|e| ParseError {
        msg: e.msg,
        pos: Pos {
            file,
            offset: e.offset as u32,
        },
        first: None,
    })?;
    let parse = rnix::Root::parse(text);
    // rowan frees syntax trees recursively; one nested beyond what our parsing stack can
    // free is refused (Nix's own parser gives up far earlier) and deliberately leaked.
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    for event in parse.syntax().preorder() {
        match event {
            rnix::WalkEvent::Enter(_) => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            rnix::WalkEvent::Leave(_) => depth -= 1,
        }
    }
    if max_depth > MAX_SYNTAX_DEPTH {
        std::mem::forget(parse);
        return Err(ParseError {
            msg: "expression nested too deeply".into(),
            pos: Pos { file, offset: 0 },
            first: None,
        });
    }
    let first = parse
        .errors()
        .first()
        .map(|err| convert_parse_error(err, file, text));
    // rnix takes whatever token follows a parenthesised expression as its `)`.
    let paren = unclosed_paren(&parse.syntax(), file, text);
    match (first, paren) {
        (Some(e), Some(p)) => return Err(if p.pos.offset <= e.pos.offset { p } else { e }),
        (Some(e), None) | (None, Some(e)) => return Err(e),
        (None, None) => {}
    }
    if text.contains('\0') {
        refuse_nul_in_strings(&parse.syntax(), file)?;
    }
    let root = parse.tree();
    let expr = root.expr().ok_or_else(|| ParseError {
        msg: "syntax error, unexpected end of file".into(),
        pos: Pos {
            file,
            offset: text.len() as u32,
        },
        first: None,
    })?;
    let mut l = Lowerer {
        file,
        base_dir,
        globals,
        scopes: Vec::new(),
        lints,
        warnings: Vec::new(),
    };
    if let Some(names) = outer_scope {
        let map = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        l.scopes.push(Scope::Names(map));
    }
    let expr = l.lower(expr)?;
    Ok(Lowered {
        expr,
        warnings: l.warnings,
    })
}

/// A string literal (of a value or an attribute name) holding a NUL byte is refused, as
/// current Nix's lexer does (2.8 cut it short there); NUL elsewhere is rnix's to judge.
fn refuse_nul_in_strings(root: &rnix::SyntaxNode, file: u32) -> PResult<()> {
    for token in root
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if token.kind() != rnix::SyntaxKind::TOKEN_STRING_CONTENT {
            continue;
        }
        if let Err(msg) = crate::value::refuse_nul(token.text()) {
            return Err(ParseError {
                msg,
                pos: Pos {
                    file,
                    offset: u32::from(token.text_range().start()),
                },
                first: None,
            });
        }
    }
    Ok(())
}

fn convert_parse_error(err: &rnix::ParseError, file: u32, text: &str) -> ParseError {
    use rnix::ParseError as E;
    let (msg, offset) = match err {
        E::UnexpectedExtra(r)
            if text
                .get(usize::from(r.start())..usize::from(r.end()))
                .is_some_and(|t| t.trim().len() > 1 && t.trim().ends_with('/')) =>
        {
            (
                "path has a trailing slash".to_string(),
                usize::from(r.end()),
            )
        }
        E::UnexpectedExtra(r) => {
            let s: usize = r.start().into();
            let token = text.get(s..usize::from(r.end())).unwrap_or("").trim();
            let name = rnix::tokenize(token)
                .next()
                .map(|(kind, _)| bison_token_name(kind))
                .unwrap_or_else(|| format!("'{}'", token));
            (
                format!("syntax error, unexpected {}, expecting end of file", name),
                s,
            )
        }
        E::Unexpected(r) | E::UnexpectedDoubleBind(r) => {
            let s: usize = r.start().into();
            let e: usize = r.end().into();
            let token = text.get(s..e).unwrap_or("").trim();
            if token.len() > 1 && token.ends_with('/') {
                ("path has a trailing slash".to_string(), e)
            } else {
                // Name the first offending token as Nix's parser would.
                let first = rnix::tokenize(token).find(|(k, _)| {
                    !matches!(
                        k,
                        rnix::SyntaxKind::TOKEN_WHITESPACE | rnix::SyntaxKind::TOKEN_COMMENT
                    )
                });
                let name = match first {
                    Some((kind, _)) => bison_token_name(kind),
                    None => format!("'{}'", token),
                };
                (format!("syntax error, unexpected {}", name), s)
            }
        }
        E::UnexpectedWanted(got, r, wanted) => {
            let (s, e) = (usize::from(r.start()), usize::from(r.end()));
            let token = text.get(s..e).unwrap_or("");
            if token.len() > 1 && token.ends_with('/') && token.contains('/') {
                ("path has a trailing slash".to_string(), e)
            } else if wanted.contains(&rnix::SyntaxKind::TOKEN_STRING_END) {
                // An unterminated string: Nix reaches the end of the file inside it.
                let before = &text[..s.min(text.len())];
                let indented = before.rfind("''").map(|p| p as i64).unwrap_or(-1)
                    > before.rfind('"').map(|p| p as i64).unwrap_or(-1);
                let expected = if indented {
                    "IND_STR or DOLLAR_CURLY or IND_STRING_CLOSE"
                } else {
                    "'\"'"
                };
                (
                    format!(
                        "syntax error, unexpected end of file, expecting {}",
                        expected
                    ),
                    end_of_input(text),
                )
            } else {
                (
                    format!(
                        "syntax error, unexpected {}{}",
                        bison_token_name(*got),
                        expecting(wanted, &text[..s.min(text.len())])
                    ),
                    s,
                )
            }
        }
        E::DuplicatedArgs(r, name) => (
            format!("duplicate formal function argument '{}'", name),
            usize::from(r.start()),
        ),
        E::UnexpectedEOF => (
            "syntax error, unexpected end of file".to_string(),
            end_of_input(text),
        ),
        E::UnexpectedEOFWanted(wanted) => (
            format!(
                "syntax error, unexpected end of file{}",
                expecting(wanted, text)
            ),
            end_of_input(text),
        ),
        E::RecursionLimitExceeded => ("expression nested too deeply".to_string(), 0),
        _ => (format!("syntax error: {}", err), 0),
    };
    ParseError {
        msg,
        pos: Pos {
            file,
            offset: offset as u32,
        },
        first: None,
    }
}

/// The first `(` whose expression is followed by something other than `)`, as the error
/// Nix gives there (rnix accepts any token as the closing parenthesis).
fn unclosed_paren(root: &rnix::SyntaxNode, file: u32, text: &str) -> Option<ParseError> {
    use rnix::SyntaxKind::{TOKEN_COMMENT, TOKEN_R_PAREN, TOKEN_WHITESPACE};
    let closing = |paren: &rnix::SyntaxNode| {
        paren
            .children_with_tokens()
            .filter(|c| !matches!(c.kind(), TOKEN_WHITESPACE | TOKEN_COMMENT))
            .last()
    };
    let (msg, offset) = root
        .descendants()
        .filter(|n| n.kind() == rnix::SyntaxKind::NODE_PAREN)
        .find_map(|paren| match closing(&paren) {
            Some(rowan::NodeOrToken::Token(t)) if t.kind() == TOKEN_R_PAREN => None,
            Some(rowan::NodeOrToken::Token(t)) => Some((
                format!(
                    "syntax error, unexpected {}, expecting ')'",
                    bison_token_name(t.kind())
                ),
                usize::from(t.text_range().start()),
            )),
            // Nothing followed: the end of the file.
            _ => Some((
                "syntax error, unexpected end of file, expecting ')'".to_string(),
                end_of_input(text),
            )),
        })?;
    Some(ParseError {
        msg,
        pos: Pos {
            file,
            offset: offset as u32,
        },
        first: None,
    })
}

/// Where Nix locates "unexpected end of file": the end of the last token its lexer
/// returned. Whitespace and comments are no tokens, and neither is the text of a string
/// that never ends (Nix's lexer returns a string's text only once it sees what follows it),
/// so an unterminated string is located at its opening quote, or at the end of its last
/// interpolation.
fn end_of_input(text: &str) -> usize {
    use rnix::SyntaxKind::*;
    // The ends of the last two tokens, and whether the last is a string's text (rnix
    // makes the text of a string that never ends an error token).
    let (mut before_last, mut last) = ((0, TOKEN_WHITESPACE), (0, TOKEN_WHITESPACE));
    let mut offset = 0;
    for (kind, token) in rnix::tokenize(text) {
        offset += token.len();
        if !matches!(kind, TOKEN_WHITESPACE | TOKEN_COMMENT) {
            (before_last, last) = (last, (offset, kind));
        }
    }
    let (end, kind) = match last.1 {
        TOKEN_STRING_CONTENT | TOKEN_ERROR => before_last,
        _ => last,
    };
    // Nix's token opening an indented string takes the rest of its line if it is blank.
    if kind == TOKEN_STRING_START && text[..end].ends_with("''") {
        let rest = &text[end..];
        let blank = rest.len() - rest.trim_start_matches(' ').len();
        if rest[blank..].starts_with('\n') {
            return end + blank + 1;
        }
    }
    end
}

/// Bison's ", expecting A or B" suffix (it lists at most four alternatives).
fn expecting(wanted: &[rnix::SyntaxKind], before: &str) -> String {
    use rnix::SyntaxKind::{TOKEN_IDENT, TOKEN_OR, TOKEN_STRING_END};
    if wanted.contains(&TOKEN_STRING_END) {
        return ", expecting '\"'".to_string();
    }
    if wanted.contains(&TOKEN_IDENT) && wanted.contains(&TOKEN_OR) {
        // After a '.', bison expects an attribute name; at the start of a binding it
        // has too many alternatives to list.
        if !before.trim_end().ends_with('.') {
            return String::new();
        }
        // An attribute name.
        return ", expecting ID or OR_KW or DOLLAR_CURLY or '\"'".to_string();
    }
    if wanted.is_empty() || wanted.len() > 4 {
        return String::new();
    }
    let names: Vec<String> = wanted.iter().map(|k| bison_token_name(*k)).collect();
    format!(", expecting {}", names.join(" or "))
}

/// How Nix 2.8's (bison) parser names a token in "unexpected ..." messages.
fn bison_token_name(kind: rnix::SyntaxKind) -> String {
    use rnix::SyntaxKind::*;
    let name = match kind {
        TOKEN_ADD => "'+'",
        TOKEN_SUB => "'-'",
        TOKEN_MUL => "'*'",
        TOKEN_DIV => "'/'",
        TOKEN_COLON => "':'",
        TOKEN_SEMICOLON => "';'",
        TOKEN_ASSIGN => "'='",
        TOKEN_COMMA => "','",
        TOKEN_DOT => "'.'",
        TOKEN_QUESTION => "'?'",
        TOKEN_AT => "'@'",
        TOKEN_INVERT => "'!'",
        TOKEN_LESS => "'<'",
        TOKEN_MORE => "'>'",
        TOKEN_L_BRACE => "'{'",
        TOKEN_R_BRACE => "'}'",
        TOKEN_L_BRACK => "'['",
        TOKEN_R_BRACK => "']'",
        TOKEN_L_PAREN => "'('",
        TOKEN_R_PAREN => "')'",
        TOKEN_REC => "REC",
        TOKEN_OR => "OR_KW",
        TOKEN_LET => "LET",
        TOKEN_IN => "IN",
        TOKEN_IF => "IF",
        TOKEN_THEN => "THEN",
        TOKEN_ELSE => "ELSE",
        TOKEN_ASSERT => "ASSERT",
        TOKEN_WITH => "WITH",
        TOKEN_INHERIT => "INHERIT",
        TOKEN_ELLIPSIS => "ELLIPSIS",
        TOKEN_EQUAL => "EQ",
        TOKEN_NOT_EQUAL => "NEQ",
        TOKEN_LESS_OR_EQ => "LEQ",
        TOKEN_MORE_OR_EQ => "GEQ",
        TOKEN_AND_AND => "AND",
        TOKEN_OR_OR => "OR",
        TOKEN_IMPLICATION => "IMPL",
        TOKEN_UPDATE => "UPDATE",
        TOKEN_CONCAT => "CONCAT",
        TOKEN_IDENT => "ID",
        TOKEN_INTEGER => "INT",
        TOKEN_FLOAT => "FLOAT",
        TOKEN_INTERPOL_START => "DOLLAR_CURLY",
        TOKEN_INTERPOL_END => "'}'",
        TOKEN_ERROR => "invalid token",
        TOKEN_STRING_START => "'\"'",
        other => return format!("{:?}", other),
    };
    name.to_string()
}

/// Removes `.`, `..` and repeated slashes without touching the filesystem, as Nix does.
pub fn canon_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(path.len());
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Where each of `b`'s names, in the order written, goes in name order.
fn name_order(b: &BAttrs) -> Vec<u32> {
    let mut by_name: Vec<usize> = (0..b.names.len()).collect();
    by_name.sort_unstable_by(|&i, &j| b.names[i].0.cmp(&b.names[j].0));
    let mut place = vec![0; by_name.len()];
    for (sorted, written) in by_name.into_iter().enumerate() {
        place[written] = sorted as u32;
    }
    place
}

// Attribute sets are built in two phases: first their shape (so that `a.b = 1; a.c = 2;`
// merge and duplicates are detected, as Nix's parser does), then their values are lowered
// in the right scope.
struct BAttrs {
    rec: bool,
    names: Vec<(Rc<str>, BVal, Pos)>,
    index: HashMap<Rc<str>, usize>,
    dynamic: Vec<(ast::Attr, BVal, Pos)>,
    pos: Pos,
}

enum BVal {
    Node(ast::Expr),
    Nested(BAttrs),
    InheritVar(Rc<str>, Pos),
    InheritFrom(ast::Expr, Rc<str>, Pos),
}

enum KeyName {
    Static(Rc<str>),
    Dynamic(ast::Attr),
}

fn strip_parens(mut e: ast::Expr) -> ast::Expr {
    while let ast::Expr::Paren(p) = &e {
        match p.expr() {
            Some(inner) => e = inner,
            None => break,
        }
    }
    e
}

impl<'a> Lowerer<'a> {
    fn pos_of(&self, node: &rnix::SyntaxNode) -> Pos {
        Pos {
            file: self.file,
            offset: u32::from(node.text_range().start()),
        }
    }

    fn err<T>(&self, msg: String, pos: Pos) -> PResult<T> {
        Err(ParseError {
            msg,
            pos,
            first: None,
        })
    }

    /// A lint found `msg` at `pos`: ignored, kept as a warning, or a parse error, as its
    /// setting says. The message names the setting, as current Nix's does.
    fn lint(&mut self, level: Diagnose, setting: &str, msg: String, pos: Pos) -> PResult<()> {
        let msg = format!("{msg} ({setting})");
        match level {
            Diagnose::Ignore => Ok(()),
            Diagnose::Warn => {
                self.warnings.push((pos, msg));
                Ok(())
            }
            Diagnose::Fatal => self.err(msg, pos),
        }
    }

    fn missing(&self, node: &rnix::SyntaxNode) -> ParseError {
        ParseError {
            msg: "syntax error, incomplete expression".into(),
            pos: self.pos_of(node),
            first: None,
        }
    }

    /// A lexical (non-builtin) binding of an operator's desugared name, if any.
    fn overridden(&self, name: &str, pos: Pos) -> Option<ExprRef> {
        match self.resolve(name, 0, pos) {
            Ok(v @ Var::Local { .. }) => Some(Rc::new(Expr::Var(v, pos))),
            _ => None,
        }
    }

    fn call2(&self, f: ExprRef, a: ExprRef, b: ExprRef, pos: Pos) -> ExprRef {
        Rc::new(Expr::Apply {
            fun: Rc::new(Expr::Apply {
                fun: f,
                arg: a,
                pos,
            }),
            arg: b,
            pos,
        })
    }

    fn resolve(&self, name: &str, skip: usize, pos: Pos) -> PResult<Var> {
        let mut has_with = false;
        for (depth, scope) in self.scopes.iter().rev().enumerate() {
            if depth < skip {
                continue;
            }
            match scope {
                Scope::Names(map) => {
                    if let Some(slot) = map.get(name) {
                        return Ok(Var::Local {
                            depth: (depth - skip) as u32,
                            slot: *slot,
                        });
                    }
                }
                Scope::With => has_with = true,
            }
        }
        if let Some(g) = self.globals.get(name) {
            return Ok(Var::Global(*g));
        }
        if has_with {
            return Ok(Var::With(name.into()));
        }
        self.err(format!("undefined variable '{}'", name), pos)
    }

    pub fn lower(&mut self, e: ast::Expr) -> PResult<ExprRef> {
        // Lowering recurses with the nesting of the source; grow the stack as needed.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.lower_node(e))
    }

    fn lower_node(&mut self, e: ast::Expr) -> PResult<ExprRef> {
        let pos = self.pos_of(e.syntax());
        let node = e.syntax().clone();
        let out = match e {
            ast::Expr::Paren(p) => {
                return self.lower(p.expr().ok_or_else(|| self.missing(&node))?);
            }
            ast::Expr::Root(r) => {
                return self.lower(r.expr().ok_or_else(|| self.missing(&node))?);
            }
            ast::Expr::Error(_) => return self.err("syntax error".into(), pos),
            ast::Expr::Literal(lit) => match lit.kind() {
                ast::LiteralKind::Integer(i) => match i.value() {
                    Ok(v) => Expr::lit(Value::Int(v)),
                    Err(_) => {
                        return self.err(format!("invalid integer '{}'", i.syntax().text()), pos)
                    }
                },
                ast::LiteralKind::Float(f) => {
                    let text = f.syntax().text().to_string();
                    let v = f.value().unwrap_or(0.0);
                    // Nix's lexer rejects literals that underflow or overflow a double.
                    let nonzero_digits = text
                        .split(['e', 'E'])
                        .next()
                        .unwrap_or("")
                        .chars()
                        .any(|c| c.is_ascii_digit() && c != '0');
                    if !v.is_finite() || (nonzero_digits && (v == 0.0 || !v.is_normal())) {
                        return self.err(format!("invalid float '{}'", text), pos);
                    }
                    Expr::lit(Value::Float(v))
                }
                ast::LiteralKind::Uri(u) => {
                    let text = u.syntax().text();
                    let level = self.lints.url_literals;
                    let verdict = if level == Diagnose::Fatal {
                        "disallowed"
                    } else {
                        "discouraged"
                    };
                    let msg = format!(
                        "URL literals are {verdict}. Consider using a string literal \"{text}\" instead"
                    );
                    self.lint(level, "lint-url-literals", msg, pos)?;
                    Expr::lit(Value::str(text.to_string()))
                }
            },
            ast::Expr::Str(s) => self.lower_str(&s)?,
            ast::Expr::PathAbs(p) => self.lower_path(p.parts(), pos, false)?,
            ast::Expr::PathRel(p) => self.lower_path(p.parts(), pos, false)?,
            ast::Expr::PathHome(p) => self.lower_path(p.parts(), pos, true)?,
            ast::Expr::PathSearch(p) => {
                // `<name>` is `__findFile __nixPath "name"`, resolved lexically as in Nix,
                // so both can be overridden by let bindings.
                let text = p
                    .content()
                    .map(|c| c.text().to_string())
                    .unwrap_or_default();
                let inner = text.trim_start_matches('<').trim_end_matches('>');
                let find = Rc::new(Expr::Var(self.resolve("__findFile", 0, pos)?, pos));
                let nix_path = Rc::new(Expr::Var(self.resolve("__nixPath", 0, pos)?, pos));
                Expr::Apply {
                    fun: Rc::new(Expr::Apply {
                        fun: find,
                        arg: nix_path,
                        pos,
                    }),
                    arg: Rc::new(Expr::lit(Value::str(inner))),
                    pos,
                }
            }
            ast::Expr::Ident(id) => {
                let name = id.syntax().text().to_string();
                Expr::Var(self.resolve(&name, 0, pos)?, pos)
            }
            ast::Expr::CurPos(_) => Expr::CurPos(pos),
            ast::Expr::List(l) => {
                let mut items = Vec::new();
                for it in l.items() {
                    if let ast::Expr::Lambda(lam) = &it {
                        // Nix's grammar does not allow an unparenthesised lambda here.
                        let colon = lam
                            .token_colon()
                            .map(|t| u32::from(t.text_range().start()))
                            .unwrap_or(pos.offset);
                        return self.err(
                            "syntax error, unexpected ':'".into(),
                            Pos {
                                file: self.file,
                                offset: colon,
                            },
                        );
                    }
                    items.push(self.lower(it)?);
                }
                Expr::List(items)
            }
            ast::Expr::Apply(a) => Expr::Apply {
                fun: self.lower(a.lambda().ok_or_else(|| self.missing(&node))?)?,
                arg: self.lower(a.argument().ok_or_else(|| self.missing(&node))?)?,
                pos,
            },
            ast::Expr::IfElse(i) => Expr::If {
                cond: self.lower(i.condition().ok_or_else(|| self.missing(&node))?)?,
                then: self.lower(i.body().ok_or_else(|| self.missing(&node))?)?,
                else_: self.lower(i.else_body().ok_or_else(|| self.missing(&node))?)?,
                pos,
            },
            ast::Expr::Assert(a) => {
                let c = a.condition().ok_or_else(|| self.missing(&node))?;
                let text: Rc<str> = crate::show::Show {
                    base: self.base_dir,
                }
                .show(&c)
                .into();
                Expr::Assert {
                    cond: self.lower(c)?,
                    body: self.lower(a.body().ok_or_else(|| self.missing(&node))?)?,
                    pos,
                    text,
                }
            }
            ast::Expr::With(w) => {
                let namespace = self.lower(w.namespace().ok_or_else(|| self.missing(&node))?)?;
                self.scopes.push(Scope::With);
                let body = self.lower(w.body().ok_or_else(|| self.missing(&node))?);
                self.scopes.pop();
                Expr::With {
                    namespace,
                    body: body?,
                }
            }
            ast::Expr::UnaryOp(u) => {
                let inner = self.lower(u.expr().ok_or_else(|| self.missing(&node))?)?;
                match u.operator() {
                    Some(ast::UnaryOpKind::Invert) => Expr::Not(inner, Pos::NONE),
                    Some(ast::UnaryOpKind::Negate) => match self.overridden("__sub", pos) {
                        Some(f) => {
                            let zero = Rc::new(Expr::lit(Value::Int(0)));
                            let call = self.call2(f, zero, inner, pos);
                            return Ok(call);
                        }
                        None => Expr::Neg(inner, pos),
                    },
                    None => return Err(self.missing(&node)),
                }
            }
            ast::Expr::BinOp(b) => {
                use ast::BinOpKind as K;
                let op = match b.operator() {
                    Some(K::Concat) => BinOp::Concat,
                    Some(K::Update) => BinOp::Update,
                    Some(K::Add) => BinOp::Add,
                    Some(K::Sub) => BinOp::Sub,
                    Some(K::Mul) => BinOp::Mul,
                    Some(K::Div) => BinOp::Div,
                    Some(K::And) => BinOp::And,
                    Some(K::Or) => BinOp::Or,
                    Some(K::Equal) => BinOp::Eq,
                    Some(K::NotEqual) => BinOp::Neq,
                    Some(K::Less) => BinOp::Lt,
                    Some(K::LessOrEq) => BinOp::Le,
                    Some(K::More) => BinOp::Gt,
                    Some(K::MoreOrEq) => BinOp::Ge,
                    Some(K::Implication) => BinOp::Impl,
                    _ => return self.err("syntax error, unexpected operator".into(), pos),
                };
                let lhs = self.lower(b.lhs().ok_or_else(|| self.missing(&node))?)?;
                let rhs = self.lower(b.rhs().ok_or_else(|| self.missing(&node))?)?;
                // Nix desugars these operators to calls of __sub, __lessThan, ... looked up
                // like variables, so a let binding can redefine them.
                let desugared = match op {
                    BinOp::Sub => Some(("__sub", false, false)),
                    BinOp::Mul => Some(("__mul", false, false)),
                    BinOp::Div => Some(("__div", false, false)),
                    BinOp::Lt => Some(("__lessThan", false, false)),
                    BinOp::Gt => Some(("__lessThan", true, false)),
                    BinOp::Le => Some(("__lessThan", true, true)),
                    BinOp::Ge => Some(("__lessThan", false, true)),
                    _ => None,
                };
                if let Some((name, swap, negate)) = desugared {
                    if let Some(f) = self.overridden(name, pos) {
                        let (a, b) = if swap { (rhs, lhs) } else { (lhs, rhs) };
                        let call = self.call2(f, a, b, pos);
                        return Ok(if negate {
                            Rc::new(Expr::Not(call, pos))
                        } else {
                            call
                        });
                    }
                }
                // Where Nix 2.8 reports errors of each operator: `+` at its right operand,
                // `//` and comparisons nowhere.
                let pos = match op {
                    BinOp::Add => b.rhs().map(|r| self.pos_of(r.syntax())).unwrap_or(pos),
                    BinOp::Update | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => Pos::NONE,
                    _ => pos,
                };
                Expr::Binary { op, lhs, rhs, pos }
            }
            ast::Expr::Select(s) => {
                let expr = self.lower(s.expr().ok_or_else(|| self.missing(&node))?)?;
                let mut path =
                    self.lower_attrpath(s.attrpath().ok_or_else(|| self.missing(&node))?)?;
                let default = match s.default_expr() {
                    Some(d) => Some(self.lower(d)?),
                    None => None,
                };
                let expr = match self.builtin_selected(&expr, &path) {
                    Some(global) => {
                        let builtin = Rc::new(Expr::Builtin(global, pos));
                        path.remove(0);
                        if path.is_empty() {
                            return Ok(builtin);
                        }
                        builtin
                    }
                    None => expr,
                };
                Expr::Select {
                    expr,
                    path,
                    default,
                    pos,
                }
            }
            ast::Expr::HasAttr(h) => Expr::HasAttr {
                expr: self.lower(h.expr().ok_or_else(|| self.missing(&node))?)?,
                path: self.lower_attrpath(h.attrpath().ok_or_else(|| self.missing(&node))?)?,
            },
            ast::Expr::AttrSet(set) => {
                let b = self.collect_attrs(&set, set.rec_token().is_some())?;
                Expr::Attrs(self.lower_battrs(b)?)
            }
            ast::Expr::LetIn(l) => {
                let mut b = self.new_battrs(true, pos);
                self.collect_entries(&mut b, l.entries())?;
                let body = l.body().ok_or_else(|| self.missing(&node))?;
                let (attrs, body) = self.lower_let(b, |me| me.lower(body))?;
                Expr::Let(attrs, body)
            }
            ast::Expr::LegacyLet(l) => {
                // `let { ...; body = e; }` is `rec { ...; body = e; }.body`.
                let mut b = self.new_battrs(true, pos);
                self.collect_entries(&mut b, l.entries())?;
                let attrs = self.lower_battrs(b)?;
                Expr::Select {
                    expr: Rc::new(Expr::Attrs(attrs)),
                    path: vec![AttrName::Static("body".into(), Default::default())],
                    default: None,
                    pos,
                }
            }
            ast::Expr::Lambda(lam) => self.lower_lambda(&lam, pos)?,
        };
        Ok(Rc::new(out))
    }

    /// The global a select from the global `builtins` starts with, when its first name is
    /// a builtin's: `builtins.isAttrs` is the global `__isAttrs`, one thunk that every
    /// setter of builtins (`builtins::install_registry`, `register_host`,
    /// `set_builtin_thunk`) keeps the same as the set's, so no search of the set is needed
    /// at run time. None for anything else (a missing name fails at run time, lazily).
    fn builtin_selected(&self, expr: &Expr, path: &[AttrName]) -> Option<u32> {
        let (Expr::Var(Var::Global(g), _), Some(AttrName::Static(name, _))) = (expr, path.first())
        else {
            return None;
        };
        if self.globals.get("builtins") != Some(g) {
            return None;
        }
        self.globals.get(format!("__{}", name).as_str()).copied()
    }

    fn lower_str(&mut self, s: &ast::Str) -> PResult<Expr> {
        let mut parts = Vec::new();
        for part in string_parts(s) {
            match part {
                InterpolPart::Literal(l) => {
                    if !l.is_empty() {
                        parts.push(StrPart::Lit(l.into()))
                    }
                }
                InterpolPart::Interpolation(i) => {
                    let inner = i.expr().ok_or_else(|| self.missing(i.syntax()))?;
                    let ipos = self.pos_of(i.syntax());
                    parts.push(StrPart::Expr(self.lower(inner)?, ipos));
                }
            }
        }
        Ok(match parts.as_slice() {
            [] => Expr::lit(Value::str("")),
            [StrPart::Lit(l)] => Expr::lit(Value::str(l.clone())),
            _ => Expr::Interp {
                parts,
                pos: self.pos_of(s.syntax()),
            },
        })
    }

    fn lower_path(
        &mut self,
        raw: Vec<InterpolPart<ast::PathContent>>,
        pos: Pos,
        home: bool,
    ) -> PResult<Expr> {
        let mut parts = Vec::new();
        for (i, part) in raw.into_iter().enumerate() {
            match part {
                InterpolPart::Literal(l) => {
                    let mut text = l.text().to_string();
                    if i == 0 {
                        self.lint_path(&text, home, pos)?;
                    }
                    if i == 0 && !home && !text.starts_with('/') {
                        text = format!("{}/{}", self.base_dir.display(), text);
                    }
                    parts.push(StrPart::Lit(text.into()));
                }
                InterpolPart::Interpolation(it) => {
                    let inner = it.expr().ok_or_else(|| self.missing(it.syntax()))?;
                    let ipos = self.pos_of(it.syntax());
                    parts.push(StrPart::Expr(self.lower(inner)?, ipos));
                }
            }
        }
        if home {
            if let [StrPart::Lit(l)] = parts.as_slice() {
                return Ok(Expr::HomePath(l.trim_start_matches('~').into(), pos));
            }
            // `~/${x}`: the home directory, then the rest as any interpolated path.
            if let Some(StrPart::Lit(l)) = parts.first_mut() {
                *l = l.trim_start_matches('~').into();
            }
            let home_dir = Rc::new(Expr::HomePath("".into(), pos));
            parts.insert(0, StrPart::Expr(home_dir, pos));
        }
        if let [StrPart::Lit(l)] = parts.as_slice() {
            return Ok(Expr::lit(Value::Path(canon_path(l).into())));
        }
        Ok(Expr::InterpPath { parts, pos })
    }

    /// Current Nix's lints on a path literal's first segment.
    fn lint_path(&mut self, literal: &str, home: bool, pos: Pos) -> PResult<()> {
        let not_portable = |kind: &str| {
            format!(
                "{kind} path literals are not portable. Consider replacing path literal \
                 '{literal}' by a string, relative path, or parameter"
            )
        };
        let setting = "lint-absolute-path-literals";
        if home {
            self.lint(
                self.lints.absolute_paths,
                setting,
                not_portable("home"),
                pos,
            )
        } else if literal.starts_with('/') {
            self.lint(
                self.lints.absolute_paths,
                setting,
                not_portable("absolute"),
                pos,
            )
        } else if !literal.starts_with('.') {
            let msg = format!(
                "relative path literal '{literal}' should be prefixed with '.' for clarity: \
                 './{literal}'"
            );
            self.lint(self.lints.short_paths, "lint-short-path-literals", msg, pos)
        } else {
            Ok(())
        }
    }

    fn key_name(&mut self, attr: &ast::Attr) -> PResult<KeyName> {
        match attr {
            ast::Attr::Ident(id) => Ok(KeyName::Static(id.syntax().text().to_string().into())),
            ast::Attr::Str(s) => Ok(match const_str(s) {
                Some(v) => KeyName::Static(v.into()),
                None => KeyName::Dynamic(attr.clone()),
            }),
            ast::Attr::Dynamic(d) => {
                if let Some(ast::Expr::Str(s)) = d.expr().map(strip_parens) {
                    if let Some(v) = const_str(&s) {
                        return Ok(KeyName::Static(v.into()));
                    }
                }
                Ok(KeyName::Dynamic(attr.clone()))
            }
        }
    }

    fn lower_dynamic_key(&mut self, attr: &ast::Attr) -> PResult<ExprRef> {
        match attr {
            ast::Attr::Ident(id) => Ok(Rc::new(Expr::lit(Value::str(
                id.syntax().text().to_string(),
            )))),
            ast::Attr::Str(s) => Ok(Rc::new(self.lower_str(s)?)),
            ast::Attr::Dynamic(d) => {
                let inner = d.expr().ok_or_else(|| self.missing(d.syntax()))?;
                self.lower(inner)
            }
        }
    }

    fn lower_attrpath(&mut self, path: ast::Attrpath) -> PResult<Vec<AttrName>> {
        let mut out = Vec::new();
        for a in path.attrs() {
            let pos = self.pos_of(a.syntax());
            match self.key_name(&a)? {
                KeyName::Static(s) => out.push(AttrName::Static(s, Default::default())),
                KeyName::Dynamic(attr) => {
                    out.push(AttrName::Dynamic(self.lower_dynamic_key(&attr)?, pos))
                }
            }
        }
        Ok(out)
    }

    fn new_battrs(&self, rec: bool, pos: Pos) -> BAttrs {
        BAttrs {
            rec,
            names: Vec::new(),
            index: HashMap::new(),
            dynamic: Vec::new(),
            pos,
        }
    }

    fn collect_attrs(&mut self, set: &ast::AttrSet, rec: bool) -> PResult<BAttrs> {
        let mut b = self.new_battrs(rec, self.pos_of(set.syntax()));
        self.collect_entries(&mut b, set.entries())?;
        Ok(b)
    }

    fn collect_entries(
        &mut self,
        b: &mut BAttrs,
        entries: impl Iterator<Item = ast::Entry>,
    ) -> PResult<()> {
        for entry in entries {
            match entry {
                ast::Entry::Inherit(inh) => {
                    let from = inh.from().and_then(|f| f.expr());
                    for attr in inh.attrs() {
                        let mut pos = self.pos_of(attr.syntax());
                        // Nix 2.8 records an inherited name's position one column early.
                        pos.offset = pos.offset.saturating_sub(1);
                        let name = match self.key_name(&attr)? {
                            KeyName::Static(s) => s,
                            KeyName::Dynamic(_) => {
                                return self
                                    .err("dynamic attributes not allowed in inherit".into(), pos)
                            }
                        };
                        if let Some(&i) = b.index.get(&name) {
                            return self.dup_attr(&name, pos, b.names[i].2);
                        }
                        let val = match &from {
                            Some(f) => BVal::InheritFrom(f.clone(), name.clone(), pos),
                            None => BVal::InheritVar(name.clone(), pos),
                        };
                        b.index.insert(name.clone(), b.names.len());
                        b.names.push((name, val, pos));
                    }
                }
                ast::Entry::AttrpathValue(apv) => {
                    let node = apv.syntax().clone();
                    let path: Vec<ast::Attr> = apv
                        .attrpath()
                        .ok_or_else(|| self.missing(&node))?
                        .attrs()
                        .collect();
                    let value = apv.value().ok_or_else(|| self.missing(&node))?;
                    let pos = self.pos_of(&node);
                    self.add_attr(b, &path, value, pos)?;
                }
            }
        }
        Ok(())
    }

    fn dup_attr<T>(&self, name: &str, pos: Pos, first: Pos) -> PResult<T> {
        Err(ParseError {
            msg: format!("attribute '{}' already defined", name),
            pos,
            first: Some(first),
        })
    }

    fn make_value(&mut self, value: ast::Expr) -> PResult<BVal> {
        match strip_parens(value.clone()) {
            ast::Expr::AttrSet(set) => Ok(BVal::Nested(
                self.collect_attrs(&set, set.rec_token().is_some())?,
            )),
            _ => Ok(BVal::Node(value)),
        }
    }

    fn add_attr(
        &mut self,
        mut b: &mut BAttrs,
        path: &[ast::Attr],
        value: ast::Expr,
        pos: Pos,
    ) -> PResult<()> {
        let (last, prefix) = path.split_last().ok_or_else(|| ParseError {
            msg: "syntax error, empty attribute path".into(),
            pos,
            first: None,
        })?;
        for attr in prefix {
            match self.key_name(attr)? {
                KeyName::Static(name) => {
                    let idx = match b.index.get(&name) {
                        Some(&i) => {
                            if !matches!(b.names[i].1, BVal::Nested(_)) {
                                return self.dup_attr(&path_text(path), pos, b.names[i].2);
                            }
                            i
                        }
                        None => {
                            let nested = self.new_battrs(false, pos);
                            b.index.insert(name.clone(), b.names.len());
                            b.names.push((name, BVal::Nested(nested), pos));
                            b.names.len() - 1
                        }
                    };
                    b = match &mut b.names[idx].1 {
                        BVal::Nested(n) => n,
                        _ => unreachable!(),
                    };
                }
                KeyName::Dynamic(a) => {
                    let nested = self.new_battrs(false, pos);
                    b.dynamic.push((a, BVal::Nested(nested), pos));
                    b = match &mut b.dynamic.last_mut().unwrap().1 {
                        BVal::Nested(n) => n,
                        _ => unreachable!(),
                    };
                }
            }
        }
        let val = self.make_value(value)?;
        match self.key_name(last)? {
            KeyName::Static(name) => {
                if let Some(&i) = b.index.get(&name) {
                    match (&mut b.names[i].1, val) {
                        (BVal::Nested(existing), BVal::Nested(new)) => {
                            for (n, v, p) in new.names {
                                if let Some(&j) = existing.index.get(&n) {
                                    return self.dup_attr(&n, existing.names[j].2, p);
                                }
                                existing.index.insert(n.clone(), existing.names.len());
                                existing.names.push((n, v, p));
                            }
                        }
                        _ => return self.dup_attr(&path_text(path), pos, b.names[i].2),
                    }
                } else {
                    b.index.insert(name.clone(), b.names.len());
                    b.names.push((name, val, pos));
                }
            }
            KeyName::Dynamic(a) => b.dynamic.push((a, val, pos)),
        }
        Ok(())
    }

    fn lower_bval(&mut self, v: BVal, rec_scope: bool, name: &Rc<str>) -> PResult<ExprRef> {
        match v {
            BVal::Node(e) => {
                let out = self.lower(e)?;
                // As Nix 2.8's `ExprLambda::setName`: a curried function's inner lambdas
                // take the name too (`f = a: b: …` reports 'f' for either call).
                let mut e = &out;
                while let Expr::Lambda(l) = &**e {
                    *l.name.borrow_mut() = Some(name.clone());
                    e = &l.body;
                }
                Ok(out)
            }
            BVal::Nested(n) => Ok(Rc::new(Expr::Attrs(self.lower_battrs(n)?))),
            BVal::InheritVar(n, pos) => {
                // `inherit x;` in a rec set or let refers to the scope outside it.
                let skip = if rec_scope { 1 } else { 0 };
                let var = self.resolve(&n, skip, pos)?;
                let var = match var {
                    Var::Local { depth, slot } if rec_scope => Var::Local {
                        depth: depth + 1,
                        slot,
                    },
                    v => v,
                };
                Ok(Rc::new(Expr::Var(var, pos)))
            }
            BVal::InheritFrom(from, n, pos) => {
                let expr = self.lower(from)?;
                Ok(Rc::new(Expr::Select {
                    expr,
                    path: vec![AttrName::Static(n, Default::default())],
                    default: None,
                    pos,
                }))
            }
        }
    }

    /// A rec set's or let's scope: each name's slot is its place in name order (`order`,
    /// from `name_order`; see `AttrsExpr::attrs`).
    fn push_names(&mut self, b: &BAttrs, order: &[u32]) {
        let map = b
            .names
            .iter()
            .zip(order)
            .map(|((n, _, _), slot)| (n.clone(), *slot))
            .collect();
        self.scopes.push(Scope::Names(map));
    }

    fn lower_battrs(&mut self, b: BAttrs) -> PResult<Rc<AttrsExpr>> {
        let rec = b.rec;
        let order = name_order(&b);
        if rec {
            self.push_names(&b, &order);
        }
        let result = self.lower_battrs_values(b, order);
        if rec {
            self.scopes.pop();
        }
        result
    }

    /// The set's values, lowered in the order written (which error a set with several
    /// reports) and kept in name order (`order`, from `name_order`).
    fn lower_battrs_values(&mut self, b: BAttrs, order: Vec<u32>) -> PResult<Rc<AttrsExpr>> {
        let rec = b.rec;
        let mut sorted: Vec<Option<AttrDef>> = b.names.iter().map(|_| None).collect();
        for ((name, v, pos), place) in b.names.into_iter().zip(order) {
            let value = self.lower_bval(v, rec, &name)?;
            sorted[place as usize] = Some(AttrDef { name, value, pos });
        }
        let attrs = sorted.into_iter().flatten().collect();
        let mut dynamic = Vec::new();
        for (key, v, pos) in b.dynamic {
            let k = self.lower_dynamic_key(&key)?;
            let value = self.lower_bval(v, rec, &"".into())?;
            dynamic.push((k, value, pos));
        }
        Ok(Rc::new(AttrsExpr::new(rec, attrs, dynamic, b.pos)))
    }

    fn lower_let(
        &mut self,
        b: BAttrs,
        body: impl FnOnce(&mut Self) -> PResult<ExprRef>,
    ) -> PResult<(Rc<AttrsExpr>, ExprRef)> {
        if !b.dynamic.is_empty() {
            return self.err(
                "dynamic attributes not allowed in let".into(),
                b.dynamic[0].2,
            );
        }
        let order = name_order(&b);
        self.push_names(&b, &order);
        let attrs = self.lower_battrs_values(b, order);
        let body = attrs.and_then(|a| body(self).map(|bd| (a, bd)));
        self.scopes.pop();
        body
    }

    fn lower_lambda(&mut self, lam: &ast::Lambda, pos: Pos) -> PResult<Expr> {
        let node = lam.syntax().clone();
        let param = lam.param().ok_or_else(|| self.missing(&node))?;
        let body_node = lam.body().ok_or_else(|| self.missing(&node))?;
        match param {
            ast::Param::IdentParam(ip) => {
                let name: Rc<str> = ip
                    .ident()
                    .ok_or_else(|| self.missing(&node))?
                    .syntax()
                    .text()
                    .to_string()
                    .into();
                let mut map = HashMap::new();
                map.insert(name.clone(), 0);
                self.scopes.push(Scope::Names(map));
                let body = self.lower(body_node);
                self.scopes.pop();
                Ok(Expr::Lambda(Rc::new(Lambda {
                    arg_name: Some(name),
                    formals: None,
                    body: body?,
                    slots: 1,
                    pos,
                    name: Default::default(),
                })))
            }
            ast::Param::Pattern(pat) => {
                let mut map: HashMap<Rc<str>, u32> = HashMap::new();
                let mut names = Vec::new();
                for entry in pat.pat_entries() {
                    let id = entry.ident().ok_or_else(|| self.missing(&node))?;
                    let name: Rc<str> = id.syntax().text().to_string().into();
                    if map.contains_key(&name) {
                        return self.err(
                            format!("duplicate formal function argument '{}'", name),
                            self.pos_of(id.syntax()),
                        );
                    }
                    map.insert(name.clone(), names.len() as u32);
                    names.push((name, entry.default(), self.pos_of(id.syntax())));
                }
                let mut at_name = None;
                if let Some(bind) = pat.pat_bind() {
                    let id = bind.ident().ok_or_else(|| self.missing(&node))?;
                    let name: Rc<str> = id.syntax().text().to_string().into();
                    if map.contains_key(&name) {
                        return self.err(
                            format!("duplicate formal function argument '{}'", name),
                            self.pos_of(id.syntax()),
                        );
                    }
                    map.insert(name.clone(), names.len() as u32);
                    at_name = Some(name);
                }
                let slots = names.len() as u32 + at_name.is_some() as u32;
                let at_slot = at_name.as_ref().map(|_| names.len() as u32);
                self.scopes.push(Scope::Names(map));
                let result = (|| {
                    let mut entries = Vec::new();
                    for (name, default, pos) in names {
                        let default = match default {
                            Some(d) => Some(self.lower(d)?),
                            None => None,
                        };
                        entries.push(Formal {
                            name,
                            default,
                            pos,
                            hint: Default::default(),
                        });
                    }
                    let body = self.lower(body_node)?;
                    Ok((entries, body))
                })();
                self.scopes.pop();
                let (entries, body) = result?;
                Ok(Expr::Lambda(Rc::new(Lambda {
                    arg_name: at_name,
                    formals: Some(Formals {
                        entries,
                        ellipsis: pat.ellipsis_token().is_some(),
                        at_slot,
                        function_args: Default::default(),
                    }),
                    body,
                    slots,
                    pos,
                    name: Default::default(),
                })))
            }
        }
    }
}

/// The parts of a string literal with escapes resolved and, for indented strings,
/// indentation stripped as Nix 2.8 does. Its lexer makes each escape its own token, and
/// 2.8 lets such a token end a line's indentation without measuring its text, but treats
/// it as text when stripping (so an escaped newline starts a line whose spaces get stripped).
pub fn string_parts(s: &ast::Str) -> Vec<InterpolPart<String>> {
    let indented = s.syntax().first_token().is_some_and(|t| t.text() == "''");
    if !indented {
        return s.normalized_parts();
    }
    enum Seg {
        Text(String, bool),
        Interp(ast::Interpol),
    }
    let mut segs: Vec<Seg> = Vec::new();
    let mut first = true;
    for part in s.parts() {
        match part {
            InterpolPart::Literal(l) => {
                let mut raw = l.syntax().text();
                if first {
                    if let Some(p) = raw.find('\n') {
                        if raw[..p].chars().all(|c| c == ' ') {
                            raw = &raw[p + 1..];
                        }
                    }
                }
                for (text, escaped) in lex_indented(raw) {
                    segs.push(Seg::Text(text, escaped));
                }
            }
            InterpolPart::Interpolation(i) => segs.push(Seg::Interp(i)),
        }
        first = false;
    }
    // Minimum indentation; interpolations and escapes end a line's leading whitespace
    // (an escape's own text, even a newline, is not measured).
    let mut at_start = true;
    let mut min_indent = usize::MAX;
    let mut cur = 0;
    for seg in &segs {
        match seg {
            Seg::Interp(_) | Seg::Text(_, true) => {
                if at_start {
                    at_start = false;
                    min_indent = min_indent.min(cur);
                }
            }
            Seg::Text(text, false) => {
                for c in text.chars() {
                    if at_start {
                        if c == ' ' {
                            cur += 1;
                        } else if c == '\n' {
                            cur = 0;
                        } else {
                            at_start = false;
                            min_indent = min_indent.min(cur);
                        }
                    } else if c == '\n' {
                        at_start = true;
                        cur = 0;
                    }
                }
            }
        }
    }
    // Strip it from every line, and drop a final line of only spaces.
    let mut out: Vec<InterpolPart<String>> = Vec::new();
    let mut at_start = true;
    let mut dropped = 0;
    let n = segs.len();
    for (i, seg) in segs.into_iter().enumerate() {
        match seg {
            Seg::Interp(e) => {
                at_start = false;
                dropped = 0;
                out.push(InterpolPart::Interpolation(e));
            }
            Seg::Text(text, _) => {
                let mut s2 = String::with_capacity(text.len());
                for c in text.chars() {
                    if at_start {
                        if c == ' ' {
                            if dropped >= min_indent {
                                s2.push(c);
                            }
                            dropped += 1;
                        } else if c == '\n' {
                            dropped = 0;
                            s2.push(c);
                        } else {
                            at_start = false;
                            dropped = 0;
                            s2.push(c);
                        }
                    } else {
                        s2.push(c);
                        if c == '\n' {
                            at_start = true;
                        }
                    }
                }
                if i + 1 == n {
                    if let Some(p) = s2.rfind('\n') {
                        if s2[p + 1..].chars().all(|c| c == ' ') {
                            s2.truncate(p + 1);
                        }
                    }
                }
                // Adjacent texts are one literal to the evaluator.
                match out.last_mut() {
                    Some(InterpolPart::Literal(prev)) => prev.push_str(&s2),
                    _ => out.push(InterpolPart::Literal(s2)),
                }
            }
        }
    }
    out
}

/// Splits an indented string's text into plain runs and escapes (two quotes before `$`,
/// `'` or `\x`), resolved; the flag marks escapes.
fn lex_indented(raw: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut plain = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.peek() == Some(&'\'') {
            chars.next();
            let escaped = match chars.next() {
                Some('$') => "$".to_string(),
                Some('\'') => "''".to_string(),
                Some('\\') => match chars.next() {
                    Some('n') => "\n".to_string(),
                    Some('r') => "\r".to_string(),
                    Some('t') => "\t".to_string(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                Some(other) => {
                    plain.push_str("''");
                    plain.push(other);
                    continue;
                }
                None => {
                    plain.push_str("''");
                    continue;
                }
            };
            if !plain.is_empty() {
                out.push((std::mem::take(&mut plain), false));
            }
            out.push((escaped, true));
        } else {
            plain.push(c);
        }
    }
    if !plain.is_empty() {
        out.push((plain, false));
    }
    out
}

fn path_text(path: &[ast::Attr]) -> String {
    path.iter()
        .map(|a| {
            let constant = match a {
                ast::Attr::Ident(i) => Some(i.syntax().text().to_string()),
                ast::Attr::Str(s) => const_str(s),
                ast::Attr::Dynamic(d) => match d.expr().map(strip_parens) {
                    Some(ast::Expr::Str(s)) => const_str(&s),
                    _ => None,
                },
            };
            constant.unwrap_or_else(|| a.syntax().text().to_string())
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn const_str(s: &ast::Str) -> Option<String> {
    let mut out = String::new();
    for p in string_parts(s) {
        match p {
            InterpolPart::Literal(l) => out.push_str(&l),
            InterpolPart::Interpolation(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(text: &str) -> PResult<ExprRef> {
        let mut globals = HashMap::new();
        globals.insert(Rc::from("builtins"), 0);
        globals.insert(Rc::from("__findFile"), 1);
        globals.insert(Rc::from("__nixPath"), 2);
        globals.insert(Rc::from("__sub"), 3);
        parse_and_lower(
            text,
            0,
            Path::new("/base"),
            &globals,
            None,
            Lints::default(),
        )
        .map(|l| l.expr)
    }

    #[test]
    fn rejects_what_nix_rejects_at_parse_time() {
        for (text, msg) in [
            ("{ x = 1; x = 2; }", "attribute 'x' already defined"),
            ("{ a.b = 1; a = 2; }", "attribute 'a' already defined"),
            (
                "{ a.b = 1; a = { c = 2; b = 3; }; }",
                "attribute 'b' already defined",
            ),
            (
                "let { x = 1; inherit x; body = x; }",
                "attribute 'x' already defined",
            ),
            ("{x, y, x}: x", "duplicate formal function argument 'x'"),
            (
                "args@{args, x}: x",
                "duplicate formal function argument 'args'",
            ),
            ("x: y", "undefined variable 'y'"),
            ("[ a: a ]", "syntax error, unexpected ':'"),
            ("1.0e-400", "invalid float '1.0e-400'"),
        ] {
            let e = lower(text).expect_err(text);
            assert_eq!(e.msg, msg, "{text}");
        }
    }

    #[test]
    fn accepts_merges_and_crlf() {
        lower("{ a.b = 1; a.c = 2; a = { d = 3; }; }").unwrap();
        lower("{ a = { b = 1; }; a.c = 2; }").unwrap();
        let text = normalise_newlines("let\r\n  x = 1;\r\nin x");
        lower(&text).unwrap();
    }

    #[test]
    fn resolves_variables_lexically_before_with() {
        let e = lower("let a = 1; in with { a = 2; }; a").unwrap();
        let Expr::Let(_, body) = &*e else { panic!() };
        let Expr::With { body, .. } = &**body else {
            panic!()
        };
        assert!(matches!(
            &**body,
            Expr::Var(Var::Local { depth: 1, slot: 0 }, _)
        ));
        let e = lower("with { a = 2; }; b").unwrap();
        let Expr::With { body, .. } = &*e else {
            panic!()
        };
        assert!(matches!(&**body, Expr::Var(Var::With(n), _) if &**n == "b"));
    }

    #[test]
    fn a_builtin_selected_from_builtins_is_its_global() {
        // `__sub` is global 3, `builtins` global 0 (see `lower` above).
        let e = lower("builtins.sub").unwrap();
        assert!(matches!(&*e, Expr::Builtin(3, _)), "{e:?}");
        let e = lower("builtins.sub.x or 1").unwrap();
        let Expr::Select { expr, path, .. } = &*e else {
            panic!("{e:?}")
        };
        assert!(matches!(&**expr, Expr::Builtin(3, _)));
        assert!(matches!(&path[..], [AttrName::Static(n, _)] if &**n == "x"));
        // Not a builtin's name, or not the global `builtins`: selected at run time.
        for text in [
            "builtins.nope",
            "let builtins = { sub = 1; }; in builtins.sub",
        ] {
            let mut e = lower(text).unwrap();
            if let Expr::Let(_, body) = &*e {
                e = body.clone();
            }
            assert!(matches!(&*e, Expr::Select { .. }), "{text}: {e:?}");
        }
    }

    #[test]
    fn indented_strings_strip_like_nix_2_8() {
        // Recorded from nix-instantiate 2.8: an escaped newline starts a line whose
        // spaces are stripped, but escapes do not count when measuring indentation.
        let text = "''\n  a\n    b ${\"x\"}\n  ''${y} $x ''\\n ''\\t tab\n''";
        let e = lower(text).unwrap();
        let Expr::Interp { parts, .. } = &*e else {
            panic!("{e:?}")
        };
        let StrPart::Lit(last) = parts.last().unwrap() else {
            panic!()
        };
        assert_eq!(&**last, "\n${y} $x \n\t tab\n");
    }

    #[test]
    fn escapes_end_a_lines_indentation() {
        // Recorded from nix-instantiate 2.8: the escape at column 2 makes the minimum 2.
        for (text, want) in [
            ("''\n    a\n  ''\\n  b\n''", "  a\n\nb\n"),
            ("''\n    a\n   ''$\n''", " a\n$\n"),
        ] {
            let e = lower(text).unwrap();
            let Expr::Lit(Literal {
                value: Value::String(s),
                ..
            }) = &*e
            else {
                panic!("{e:?}")
            };
            assert_eq!(s.as_str(), want, "{text}");
        }
    }

    #[test]
    fn relative_paths_resolve_against_the_base_directory() {
        let e = lower("./a/../b/./c").unwrap();
        assert!(
            matches!(&*e, Expr::Lit(Literal { value: Value::Path(p), .. }) if p.as_str() == "/base/b/c")
        );
        assert_eq!(canon_path("/a//b/../c/"), "/a/c");
    }

    #[test]
    fn a_recursive_scope_plans_which_bindings_share_a_thunk() {
        use crate::ast::SlotPlan::{Alias, Outer, Own};
        fn plan_of(e: &Expr) -> (Vec<crate::ast::SlotPlan>, bool) {
            match e {
                Expr::Lambda(l) => plan_of(&l.body),
                Expr::Let(a, _) | Expr::Attrs(a) => (a.plan.clone(), a.overrides),
                other => panic!("{other:?}"),
            }
        }
        let plan = |text: &str| plan_of(&lower(text).unwrap());
        // Slots are in name order: a literal and variables from outside are shared, a
        // chain of this scope's variables ends at the binding that is not one, a cycle of
        // them keeps its own thunks.
        assert_eq!(
            plan("x: let a = b; b = c; c = x + 1; d = 2; e = x; f = builtins; in a").0,
            [Alias(2), Alias(2), Own, Outer, Outer, Outer]
        );
        // Written out of order, the slots are still in name order.
        assert_eq!(
            plan("x: let c = x + 1; b = c; a = b; in a").0,
            [Alias(2), Alias(2), Own]
        );
        assert_eq!(plan("rec { a = b; b = a; c = a; }").0, [Own, Own, Own]);
        assert_eq!(plan("x: { a = 1; b = x; }").0, []);
        assert_eq!(
            plan("rec { a = 1; b = a; __overrides = {}; }"),
            (vec![Own, Own, Own], true)
        );
    }
}
