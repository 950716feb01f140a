//! The evaluator's own compact expression tree. Variables are already resolved here:
//! lexical ones to (scope depth, slot) pairs, `with`-bound ones to a name looked up at run
//! time, builtins to a global slot. Nothing in this tree refers back to rnix.

use std::rc::Rc;

use crate::source::Pos;
use crate::value::Value;

pub type ExprRef = Rc<Expr>;

/// A literal's value (a number, string or path). Every use as an argument, element,
/// attribute or binding stores it inline in its thunk (`Thunk::value`), which allocates
/// nothing.
#[derive(Debug)]
pub struct Literal {
    pub value: Value,
}

impl Expr {
    pub fn lit(value: Value) -> Expr {
        Expr::Lit(Literal { value })
    }
}

#[derive(Debug)]
#[repr(u8)]
pub enum Expr {
    /// A number, string or path literal (relative paths are resolved while lowering).
    Lit(Literal),
    /// A string with `${}` parts; `parts` alternate freely between literals and expressions.
    Interp {
        parts: Vec<StrPart>,
        pos: Pos,
    },
    /// A path with interpolation: the literal prefix is already absolute.
    InterpPath {
        parts: Vec<StrPart>,
        pos: Pos,
    },
    /// `~/...`: resolved against `$HOME` at evaluation time.
    HomePath(Rc<str>, Pos),
    Var(Var, Pos),
    /// `builtins.NAME` where NAME is a builtin: the global `__NAME`, which is the same thunk
    /// (see `Lowerer::builtin_selected`). Evaluated as that global, without a search of
    /// the set; unlike a variable, a thunk of its own until forced, as a select is (Nix
    /// 2.8 prints `{ b = builtins.map; }` as `{ b = <CODE>; }`).
    Builtin(u32, Pos),
    Select {
        expr: ExprRef,
        path: Vec<AttrName>,
        default: Option<ExprRef>,
        pos: Pos,
    },
    HasAttr {
        expr: ExprRef,
        path: Vec<AttrName>,
    },
    Attrs(Rc<AttrsExpr>),
    Let(Rc<AttrsExpr>, ExprRef),
    List(Vec<ExprRef>),
    Lambda(Rc<Lambda>),
    Apply {
        fun: ExprRef,
        arg: ExprRef,
        pos: Pos,
    },
    If {
        cond: ExprRef,
        then: ExprRef,
        else_: ExprRef,
        pos: Pos,
    },
    Assert {
        cond: ExprRef,
        body: ExprRef,
        pos: Pos,
        text: Rc<str>,
    },
    With {
        namespace: ExprRef,
        body: ExprRef,
    },
    Not(ExprRef, Pos),
    Neg(ExprRef, Pos),
    Binary {
        op: BinOp,
        lhs: ExprRef,
        rhs: ExprRef,
        pos: Pos,
    },
    CurPos(Pos),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Impl,
    Update,
    Concat,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug)]
pub enum StrPart {
    Lit(Rc<str>),
    /// An interpolated expression and the position of its `${`.
    Expr(ExprRef, Pos),
}

#[derive(Debug, Clone)]
pub enum Var {
    /// `depth` scopes up from the current one, then `slot` in that scope.
    Local { depth: u32, slot: u32 },
    /// Not bound lexically: search the enclosing `with`s at run time.
    With(Rc<str>),
    /// A builtin from the base environment.
    Global(u32),
}

#[derive(Debug)]
pub enum AttrName {
    /// A name written out, with where it was found in the last set it was looked up in.
    Static(Rc<str>, crate::value::IndexHint),
    Dynamic(ExprRef, Pos),
}

#[derive(Debug)]
pub struct AttrDef {
    pub name: Rc<str>,
    pub value: ExprRef,
    pub pos: Pos,
}

/// An attribute set literal or the bindings of a `let`. When `rec` is set (always for `let`)
/// the values are evaluated in a new scope whose slots are `attrs` in order.
#[derive(Debug)]
pub struct AttrsExpr {
    pub rec: bool,
    pub attrs: Vec<AttrDef>,
    pub dynamic: Vec<(ExprRef, ExprRef, Pos)>,
    pub pos: Pos,
}

#[derive(Debug)]
pub struct Formal {
    pub name: Rc<str>,
    /// Where the name was found in the last argument set.
    pub hint: crate::value::IndexHint,
    pub default: Option<ExprRef>,
    pub pos: Pos,
}

#[derive(Debug)]
pub struct Formals {
    pub entries: Vec<Formal>,
    pub ellipsis: bool,
    /// Slot of the `@name` binding, if any (formals take slots 0..entries.len()).
    pub at_slot: Option<u32>,
    /// What `builtins.functionArgs` gives for this lambda, built the first time it is
    /// asked and shared after (callPackage asks once per package). Its thunks hold only
    /// Booleans, so sharing them can form no cycle.
    pub function_args: std::cell::OnceCell<Rc<crate::value::Attrs>>,
}

#[derive(Debug)]
pub struct Lambda {
    /// Slot 0 for `x: ...`; for formals see `Formals`.
    pub arg_name: Option<Rc<str>>,
    pub formals: Option<Formals>,
    pub body: ExprRef,
    pub slots: u32,
    pub pos: Pos,
    pub name: std::cell::RefCell<Option<Rc<str>>>,
}

// A deeply nested expression (a long `a + b + ...` chain, an `if ... else if ...` ladder)
// would be freed recursively, one stack frame per level. Dropping takes the children of
// the common nesting forms out first and frees them from a worklist instead.
thread_local! {
    static HOLE: ExprRef = Rc::new(Expr::CurPos(Pos::NONE));
}

fn take(slot: &mut ExprRef, out: &mut Vec<ExprRef>) {
    let hole = HOLE.with(|h| h.clone());
    out.push(std::mem::replace(slot, hole));
}

fn take_children(e: &mut Expr, out: &mut Vec<ExprRef>) {
    match e {
        Expr::Binary { lhs, rhs, .. } => {
            take(lhs, out);
            take(rhs, out);
        }
        Expr::Apply { fun, arg, .. } => {
            take(fun, out);
            take(arg, out);
        }
        Expr::If {
            cond, then, else_, ..
        } => {
            take(cond, out);
            take(then, out);
            take(else_, out);
        }
        Expr::Assert { cond, body, .. } => {
            take(cond, out);
            take(body, out);
        }
        Expr::With { namespace, body } => {
            take(namespace, out);
            take(body, out);
        }
        Expr::Let(a, body) => {
            take(body, out);
            if let Some(a) = Rc::get_mut(a) {
                for def in &mut a.attrs {
                    take(&mut def.value, out);
                }
            }
        }
        Expr::Not(inner, _) | Expr::Neg(inner, _) => take(inner, out),
        Expr::Select { expr, .. } | Expr::HasAttr { expr, .. } => take(expr, out),
        Expr::List(items) => out.append(items),
        Expr::Lambda(l) => {
            if let Some(l) = Rc::get_mut(l) {
                take(&mut l.body, out);
                if let Some(f) = &mut l.formals {
                    for formal in &mut f.entries {
                        if let Some(d) = &mut formal.default {
                            take(d, out);
                        }
                    }
                }
            }
        }
        Expr::Attrs(a) => {
            if let Some(a) = Rc::get_mut(a) {
                for def in &mut a.attrs {
                    take(&mut def.value, out);
                }
                for (k, v, _) in &mut a.dynamic {
                    take(k, out);
                    take(v, out);
                }
            }
        }
        Expr::Interp { parts, .. } | Expr::InterpPath { parts, .. } => {
            for part in parts {
                if let StrPart::Expr(e, _) = part {
                    take(e, out);
                }
            }
        }
        _ => {}
    }
}

impl Drop for Expr {
    fn drop(&mut self) {
        if !matches!(
            self,
            Expr::Binary { .. }
                | Expr::Apply { .. }
                | Expr::If { .. }
                | Expr::Assert { .. }
                | Expr::With { .. }
                | Expr::Let(..)
                | Expr::Not(..)
                | Expr::Neg(..)
                | Expr::Select { .. }
                | Expr::HasAttr { .. }
                | Expr::List(_)
                | Expr::Lambda(_)
                | Expr::Attrs(_)
                | Expr::Interp { .. }
                | Expr::InterpPath { .. }
        ) {
            return;
        }
        let mut work = Vec::new();
        take_children(self, &mut work);
        while let Some(child) = work.pop() {
            if let Ok(mut inner) = Rc::try_unwrap(child) {
                take_children(&mut inner, &mut work);
            }
        }
    }
}
