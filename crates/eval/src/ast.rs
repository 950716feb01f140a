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
    /// Sorted by name (names are unique), as a set's entries are: a set is built from
    /// them without sorting.
    pub attrs: Vec<AttrDef>,
    pub dynamic: Vec<(ExprRef, ExprRef, Pos)>,
    pub pos: Pos,
    /// How each slot of the recursive scope is filled, one entry per attribute (see
    /// `SlotPlan`); empty unless `rec`.
    pub plan: Vec<SlotPlan>,
    /// Whether the bindings include `__overrides`, which replaces slots after the fact.
    pub overrides: bool,
}

/// How the recursive scope of a `let` or `rec` set fills one slot. Nix 2.8's
/// `maybeThunk` gives a binding that is a literal or a variable the binding's value
/// itself rather than a thunk of it: `rec { x = y; y = 123; }` prints `x = 123`, and the
/// two are one value (pointer-equal). Which bindings share what depends only on the
/// expression, so it is worked out once here rather than at every evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotPlan {
    /// A literal, or a variable bound outside the scope: that value or thunk.
    Outer,
    /// A variable naming another binding of the scope that is not itself such a variable
    /// (the end of the chain `a = b; b = c; c = …;`): that binding's thunk.
    Alias(u32),
    /// Anything else: a thunk of its own, evaluated in the scope. A cycle of variables
    /// (`a = b; b = a;`) keeps its own thunks, and so its infinite recursion.
    Own,
}

impl AttrsExpr {
    pub fn new(
        rec: bool,
        attrs: Vec<AttrDef>,
        dynamic: Vec<(ExprRef, ExprRef, Pos)>,
        pos: Pos,
    ) -> AttrsExpr {
        // With `__overrides`, Nix 2.8 shares nothing.
        let overrides = attrs.iter().any(|d| &*d.name == "__overrides");
        let plan = match rec {
            false => Vec::new(),
            true if overrides => vec![SlotPlan::Own; attrs.len()],
            true => slot_plans(&attrs),
        };
        AttrsExpr {
            rec,
            attrs,
            dynamic,
            pos,
            plan,
            overrides,
        }
    }
}

fn slot_plans(attrs: &[AttrDef]) -> Vec<SlotPlan> {
    let own_var = |i: usize| match &*attrs[i].value {
        Expr::Var(Var::Local { depth: 0, slot }, _) => Some(*slot as usize),
        _ => None,
    };
    (0..attrs.len())
        .map(|i| match &*attrs[i].value {
            Expr::Lit(_) | Expr::Var(Var::Global(_), _) => SlotPlan::Outer,
            Expr::Var(Var::Local { depth, .. }, _) if *depth > 0 => SlotPlan::Outer,
            _ => {
                let mut target = i;
                let mut hops = 0;
                while let Some(next) = own_var(target) {
                    hops += 1;
                    if next == i || hops > attrs.len() {
                        break;
                    }
                    target = next;
                }
                match target != i && own_var(target).is_none() {
                    true => SlotPlan::Alias(target as u32),
                    false => SlotPlan::Own,
                }
            }
        })
        .collect()
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
