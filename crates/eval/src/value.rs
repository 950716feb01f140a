//! Runtime values: shared, immutable structures behind `Rc`, and memoised thunks.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use crate::ast::{ExprRef, Lambda};
use crate::scopes::scope_ref_dropping;
use crate::source::Pos;

pub type Symbol = Rc<str>;

/// String context: which store paths a string refers to, encoded as Nix does
/// (`/nix/store/x` plain, `=/nix/store/x.drv` whole derivation, `!out!/nix/store/x.drv`).
pub type Context = BTreeSet<String>;

/// A Nix string: its text and its context, behind one thin pointer so that a `Value`
/// stays two words. The text keeps the `String` it was built in (no copy into a fresh
/// allocation), or the attribute name it is (`attrNames`, `mapAttrs`: no copy of the
/// name); a path is a `NixStr` without context.
#[derive(Clone)]
pub struct NixStr(Rc<StrData>);

struct StrData {
    text: Text,
    /// `None` when empty, so that a plain string needs no set.
    ctx: Option<Box<Context>>,
}

enum Text {
    Built(String),
    Name(Symbol),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Built(s) => s,
            Text::Name(s) => s,
        }
    }
}

impl NixStr {
    pub fn plain(s: impl Into<String>) -> Self {
        NixStr(Rc::new(StrData {
            text: Text::Built(s.into()),
            ctx: None,
        }))
    }
    pub fn with_ctx(s: impl Into<String>, ctx: Context) -> Self {
        NixStr(Rc::new(StrData {
            text: Text::Built(s.into()),
            ctx: if ctx.is_empty() {
                None
            } else {
                Some(Box::new(ctx))
            },
        }))
    }
    pub fn as_str(&self) -> &str {
        self.0.text.as_str()
    }
    /// The context, if there is any (never an empty set).
    pub fn context(&self) -> Option<&Context> {
        self.0.ctx.as_deref()
    }
    /// The context's elements (none for a plain string).
    pub fn context_items(&self) -> impl Iterator<Item = &String> {
        self.context().into_iter().flatten()
    }
    pub fn has_context(&self) -> bool {
        self.0.ctx.is_some()
    }
    /// The text, without a copy when nothing else holds this string.
    pub fn into_string(self) -> String {
        match Rc::try_unwrap(self.0) {
            Ok(StrData {
                text: Text::Built(s),
                ..
            }) => s,
            Ok(data) => data.text.as_str().to_string(),
            Err(shared) => shared.text.as_str().to_string(),
        }
    }
    pub fn ptr_eq(&self, other: &NixStr) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for NixStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for NixStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for NixStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq for NixStr {
    fn eq(&self, other: &NixStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for NixStr {}

impl PartialOrd for NixStr {
    fn partial_cmp(&self, other: &NixStr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NixStr {
    fn cmp(&self, other: &NixStr) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl From<String> for NixStr {
    fn from(s: String) -> NixStr {
        NixStr::plain(s)
    }
}

impl From<&str> for NixStr {
    fn from(s: &str) -> NixStr {
        NixStr::plain(s)
    }
}

impl From<&String> for NixStr {
    fn from(s: &String) -> NixStr {
        NixStr::plain(s.as_str())
    }
}

/// An attribute name as a string, sharing the name's text.
impl From<Rc<str>> for NixStr {
    fn from(s: Rc<str>) -> NixStr {
        NixStr(Rc::new(StrData {
            text: Text::Name(s),
            ctx: None,
        }))
    }
}

impl From<std::borrow::Cow<'_, str>> for NixStr {
    fn from(s: std::borrow::Cow<'_, str>) -> NixStr {
        NixStr::plain(s.into_owned())
    }
}

/// Current Nix refuses a NUL byte in a string where text becomes a Nix string (source
/// literals, `fromTOML`); Nix 2.8 cut the string short there without a word. The message
/// shows each NUL as `␀`.
pub fn refuse_nul(s: &str) -> Result<(), String> {
    if !s.contains('\0') {
        return Ok(());
    }
    Err(format!(
        "input string '{}' cannot be represented as Nix string because it contains null bytes",
        s.replace('\0', "\u{2400}")
    ))
}

pub type PrimOpFn = fn(&mut crate::eval::Evaluator, &[Thunk], Pos) -> crate::error::EResult<Value>;

/// A builtin supplied by the host; may capture state.
pub type HostFn =
    Box<dyn Fn(&mut crate::eval::Evaluator, &[Thunk], Pos) -> crate::error::EResult<Value>>;

pub struct PrimOp {
    pub name: &'static str,
    pub arity: usize,
    pub func: PrimOpImpl,
}

/// Builtins are plain functions; host-registered ones may capture state.
pub enum PrimOpImpl {
    Native(PrimOpFn),
    Host(HostFn),
}

impl std::fmt::Debug for PrimOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<primop {}>", self.name)
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(NixStr),
    Path(NixStr),
    Attrs(Rc<Attrs>),
    List(Rc<Vec<Thunk>>),
    Lambda(Rc<Closure>),
    PrimOp(Rc<PrimOp>),
    PrimOpApp(Rc<PartialApp>),
}

/// A builtin given fewer arguments than it takes: the op and the arguments so far, in
/// one allocation.
#[derive(Debug)]
pub struct PartialApp {
    pub op: Rc<PrimOp>,
    pub args: Vec<Thunk>,
}

impl Value {
    pub fn str(s: impl Into<NixStr>) -> Value {
        Value::String(s.into())
    }

    /// Nix's type names as used in error messages ("an integer", "a set", ...).
    pub fn type_desc(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Path(_) => "a path",
            Value::Attrs(_) => "a set",
            Value::List(_) => "a list",
            Value::Lambda(_) => "a function",
            Value::PrimOp(_) => "a built-in function",
            Value::PrimOpApp(_) => "a partially applied built-in function",
        }
    }

    /// `builtins.typeOf` names.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Path(_) => "path",
            Value::Attrs(_) => "set",
            Value::List(_) => "list",
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) => "lambda",
        }
    }

    pub fn is_function(&self) -> bool {
        matches!(
            self,
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_)
        )
    }

    pub fn list(items: Vec<Thunk>) -> Value {
        Value::List(Rc::new(items))
    }

    pub fn attrs(a: Attrs) -> Value {
        Value::Attrs(Rc::new(a))
    }
}

pub struct Closure {
    pub lambda: Rc<Lambda>,
    pub env: Rc<Env>,
}

impl Drop for Closure {
    fn drop(&mut self) {
        scope_ref_dropping(&self.env);
    }
}

impl std::fmt::Debug for Closure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<lambda>")
    }
}

/// A run-time scope: one per let/rec/lambda/with.
pub struct Env {
    pub slots: Slots,
    pub parent: Option<Rc<Env>>,
}

impl Env {
    /// The (lazy) attribute set of a `with` scope.
    pub fn with(&self) -> Option<&Thunk> {
        match &self.slots {
            Slots::With(ns) => Some(ns),
            _ => None,
        }
    }

    /// How many of a `let` scope's bindings hold the scope (see `Slots::Let`).
    #[inline]
    pub(crate) fn own_refs(&self) -> u32 {
        match &self.slots {
            Slots::Let(_, own) => own.get(),
            _ => 0,
        }
    }

    pub(crate) fn set_own_refs(&self, n: u32) {
        if let Slots::Let(_, own) = &self.slots {
            own.set(n);
        }
    }

    /// One of the scope's own bindings no longer holds it.
    pub(crate) fn own_ref_gone(&self) {
        self.set_own_refs(self.own_refs().saturating_sub(1));
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(parent) = &self.parent {
            scope_ref_dropping(parent);
        }
    }
}

/// The bindings of a scope. Most scopes are single-argument lambdas, so one binding is
/// stored inline, saving an allocation per call. A `with` scope has no bindings and
/// carries its namespace in their place (which keeps `Env` at four words).
pub enum Slots {
    One(Thunk),
    Many(Box<[Thunk]>),
    With(Thunk),
    /// A `let` scope's bindings (or a call's, when it has defaults to evaluate), and how
    /// many of them hold the scope: those not yet evaluated (`ThunkState::Binding`) and
    /// those that are functions defined there. Only a hint for `scope_ref_dropping`
    /// (`scopes.rs`), kept where the enum has room for it.
    Let(Box<[Thunk]>, std::cell::Cell<u32>),
}

impl Slots {
    pub fn empty() -> Slots {
        Slots::Many(Box::new([]))
    }
}

impl std::ops::Deref for Slots {
    type Target = [Thunk];
    fn deref(&self) -> &[Thunk] {
        match self {
            Slots::One(t) => std::slice::from_ref(t),
            Slots::Many(b) | Slots::Let(b, _) => b,
            Slots::With(_) => &[],
        }
    }
}

impl From<Vec<Thunk>> for Slots {
    fn from(mut v: Vec<Thunk>) -> Slots {
        if v.len() == 1 {
            Slots::One(v.pop().unwrap())
        } else {
            Slots::Many(v.into_boxed_slice())
        }
    }
}

impl FromIterator<Thunk> for Slots {
    fn from_iter<I: IntoIterator<Item = Thunk>>(iter: I) -> Slots {
        Slots::from(iter.into_iter().collect::<Vec<_>>())
    }
}

/// A held value: either a value stored inline (no allocation), or a shared cell that is
/// computed at most once, which every holder sees (`Done` once forced).
///
/// Only a value that refers to nothing is stored inline (see `stores_inline`), so that:
/// - no cycle goes through an inline value: the cycle collector (`gc.rs`) breaks cycles
///   by emptying cells, and a value that holds no thunk, scope or closure can close no
///   cycle, whenever it was copied;
/// - no identity Nix 2.8 shows is lost: functions compare by their cell (`[ f ] == [ f ]`),
///   a NaN is equal to itself only as the same cell, and a list of one or two elements
///   prints as «repeated» by the cell that holds it; all of these stay in cells;
/// - dropping an inline value never recurses, so `Drop` bounds its depth through cells
///   alone.
#[derive(Clone)]
pub struct Thunk(Repr);

#[derive(Clone)]
enum Repr {
    Ready(Value),
    Lazy(Lazy),
}

/// A shared, memoised cell.
pub type Lazy = Rc<RefCell<ThunkState>>;

/// Sets what `cell` holds. What it held is mostly a black hole (`Thunk::blackhole`'s, or
/// the one forcing leaves), which owns nothing: that costs no drop call.
#[inline(always)]
pub(crate) fn fill_cell(cell: &Lazy, state: ThunkState) {
    let was = std::mem::replace(&mut *cell.borrow_mut(), state);
    match was {
        ThunkState::Blackhole => std::mem::forget(was),
        other => drop(other),
    }
}

/// What a thunk holds, borrowed (`Thunk::view`).
pub enum Held<'a> {
    Ready(&'a Value),
    Lazy(&'a Lazy),
}

/// Whether `v` is stored inline in a thunk (see `Thunk`): scalars, strings and paths.
pub fn stores_inline(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::String(_) | Value::Path(_) => true,
        Value::Float(f) => !f.is_nan(),
        Value::Attrs(_)
        | Value::List(_)
        | Value::Lambda(_)
        | Value::PrimOp(_)
        | Value::PrimOpApp(_) => false,
    }
}

pub enum ThunkState {
    Done(Value),
    Pending(ExprRef, Rc<Env>),
    /// A binding of a `let` (or a default of a call) not yet evaluated, in the scope it
    /// belongs to, which counts it in its `own_refs`.
    Binding(ExprRef, Rc<Env>),
    /// Lazy application of a function (a cell, so that the many applications a `map`
    /// makes share one, and the state stays three words) to an argument, used by
    /// builtins such as `map` and `genList`.
    Apply(Lazy, Thunk),
    Blackhole,
}

impl Drop for ThunkState {
    fn drop(&mut self) {
        if let ThunkState::Pending(_, env) | ThunkState::Binding(_, env) = self {
            scope_ref_dropping(env);
        }
    }
}

impl ThunkState {
    /// `f` applied to `arg`, lazily.
    pub fn apply(f: &Thunk, arg: Thunk) -> ThunkState {
        ThunkState::Apply(f.to_lazy(), arg)
    }
}

impl std::fmt::Debug for Thunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.get() {
            Some(v) => write!(f, "{:?}", v),
            None => write!(f, "<thunk>"),
        }
    }
}

impl Thunk {
    /// A thunk of a computed value: inline when `stores_inline`, else a cell.
    #[inline]
    pub fn value(v: Value) -> Thunk {
        if stores_inline(&v) {
            Thunk(Repr::Ready(v))
        } else {
            Thunk::cell(ThunkState::Done(v))
        }
    }
    /// A new cell in `state`, never inline: for a binding a host re-points later
    /// (`fill`).
    pub fn cell(state: ThunkState) -> Thunk {
        Thunk(Repr::Lazy(Rc::new(RefCell::new(state))))
    }
    pub fn pending(e: ExprRef, env: Rc<Env>) -> Thunk {
        Thunk::cell(ThunkState::Pending(e, env))
    }
    pub fn apply(f: Thunk, arg: Thunk) -> Thunk {
        Thunk::cell(ThunkState::apply(&f, arg))
    }
    /// A thunk to be filled in later with `fill` (`rec` and `let` slots, defaults of
    /// formals).
    pub fn blackhole() -> Thunk {
        Thunk::cell(ThunkState::Blackhole)
    }
    /// The value if already computed (inlined: the evaluator's fast path for variables).
    #[inline(always)]
    pub fn get(&self) -> Option<Value> {
        match &self.0 {
            Repr::Ready(v) => Some(v.clone()),
            Repr::Lazy(c) => match &*c.borrow() {
                ThunkState::Done(v) => Some(v.clone()),
                _ => None,
            },
        }
    }
    /// The shared cell, unless the value is stored inline.
    #[inline]
    pub fn lazy(&self) -> Option<&Lazy> {
        match &self.0 {
            Repr::Ready(_) => None,
            Repr::Lazy(c) => Some(c),
        }
    }
    #[inline]
    pub fn view(&self) -> Held<'_> {
        match &self.0 {
            Repr::Ready(v) => Held::Ready(v),
            Repr::Lazy(c) => Held::Lazy(c),
        }
    }
    /// The cell, or a new one holding the inline value.
    pub fn to_lazy(&self) -> Lazy {
        match &self.0 {
            Repr::Ready(v) => Rc::new(RefCell::new(ThunkState::Done(v.clone()))),
            Repr::Lazy(c) => c.clone(),
        }
    }
    /// Sets what a cell holds (`blackhole`'s, or a host's re-pointed binding).
    ///
    /// # Panics
    /// On a value stored inline, which has no cell to set: a caller's mistake.
    pub fn fill(&self, state: ThunkState) {
        fill_cell(self.lazy().expect("only a cell is filled"), state);
    }
    /// The thunk to hold in a new place (a binding, an element, an argument): a cell
    /// already computed to a value that is stored inline is copied out of it, so that
    /// the new holder does not keep the cell alive.
    #[inline]
    pub fn held(&self) -> Thunk {
        if let Repr::Lazy(c) = &self.0 {
            if let ThunkState::Done(v) = &*c.borrow() {
                if stores_inline(v) {
                    return Thunk(Repr::Ready(v.clone()));
                }
            }
        }
        self.clone()
    }
    /// Whether both are the same cell (inline values have no identity).
    pub fn ptr_eq(&self, other: &Thunk) -> bool {
        match (&self.0, &other.0) {
            (Repr::Lazy(a), Repr::Lazy(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: Symbol,
    pub value: Thunk,
    pub pos: Pos,
}

/// Where a name was found last time in a set (see `Attrs::get_attr_hinted`).
#[derive(Clone, Debug, Default)]
pub struct IndexHint(std::cell::Cell<u32>);

/// An attribute set: entries sorted by name (byte order, as Nix prints them).
#[derive(Clone, Debug, Default)]
pub struct Attrs {
    pub entries: Vec<Attr>,
}

impl Attrs {
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// Builds from unsorted entries; later duplicates are the caller's problem.
    pub fn from_unsorted(mut entries: Vec<Attr>) -> Attrs {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Attrs { entries }
    }

    pub fn get(&self, name: &str) -> Option<&Thunk> {
        self.get_attr(name).map(|a| &a.value)
    }

    pub fn get_attr(&self, name: &str) -> Option<&Attr> {
        self.index_of(name).map(|i| &self.entries[i])
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.entries.binary_search_by(|a| (*a.name).cmp(name)).ok()
    }

    /// `get_attr`, trying first the index `hint` remembers. One select or formal meets
    /// sets of one shape again and again (`builtins.length`, `args.stdenv`), where the
    /// name sits where it sat last time: one comparison instead of a binary search. The
    /// hint is only a guess, checked against the name, so any hint does for any set.
    #[inline]
    pub fn get_attr_hinted(&self, name: &str, hint: &IndexHint) -> Option<&Attr> {
        if let Some(a) = self.entries.get(hint.0.get() as usize) {
            if *a.name == *name {
                return Some(a);
            }
        }
        let i = self.index_of(name)?;
        hint.0.set(i as u32);
        Some(&self.entries[i])
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get_attr(name).is_some()
    }

    /// Inserts or replaces.
    pub fn insert(&mut self, name: Symbol, value: Thunk, pos: Pos) {
        match self.entries.binary_search_by(|a| a.name.cmp(&name)) {
            Ok(i) => self.entries[i].value = value,
            Err(i) => self.entries.insert(i, Attr { name, value, pos }),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `self // other`: a sorted merge.
    pub fn update(&self, other: &Attrs) -> Attrs {
        let (a, b) = (&self.entries, &other.entries);
        // A few names over a large set (an overlay, a fold adding one attribute at a
        // time): each of the few is found by binary search and the runs of the large set
        // in between are copied whole, instead of comparing names one pair at a time.
        if b.len().saturating_mul(16) < a.len() {
            return Attrs {
                entries: splice_few(a, b, Side::FewWin),
            };
        }
        if a.len().saturating_mul(16) < b.len() {
            return Attrs {
                entries: splice_few(b, a, Side::ManyWin),
            };
        }
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].name.cmp(&b[j].name) {
                std::cmp::Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(b[j].clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        Attrs { entries: out }
    }
}

/// Which side of `splice_few` wins where both have a name.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    FewWin,
    ManyWin,
}

/// `many` and `few` merged (both sorted by name), finding each of `few` in `many` by
/// binary search from where the last one went.
fn splice_few(many: &[Attr], few: &[Attr], winner: Side) -> Vec<Attr> {
    let mut out = Vec::with_capacity(many.len() + few.len());
    let mut from = 0;
    for attr in few {
        let rest = &many[from..];
        match rest.binary_search_by(|m| m.name.cmp(&attr.name)) {
            Ok(k) => {
                out.extend_from_slice(&rest[..k]);
                out.push(match winner {
                    Side::FewWin => attr.clone(),
                    Side::ManyWin => rest[k].clone(),
                });
                from += k + 1;
            }
            Err(k) => {
                out.extend_from_slice(&rest[..k]);
                out.push(attr.clone());
                from += k;
            }
        }
    }
    out.extend_from_slice(&many[from..]);
    out
}

// Dropping a long chain of thunks (a lazily built accumulator, a list nested a million
// deep) would recurse once per link and overflow the stack. Thunk contents are dropped
// recursively up to a bound, then deferred to a list the outermost drop drains. The list
// is always empty when no drop is running, so no value outlives its evaluator in it.
thread_local! {
    static DROP_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static DEFERRED_DROPS: RefCell<Vec<ThunkState>> = const { RefCell::new(Vec::new()) };
}

const MAX_DROP_DEPTH: u32 = 256;

impl Drop for Thunk {
    #[inline]
    fn drop(&mut self) {
        // An inline value refers to nothing (see `Thunk`): it drops without recursing.
        if let Repr::Lazy(cell) = &self.0 {
            if Rc::strong_count(cell) == 1 {
                drop_last(cell);
            }
        }
    }
}

/// Empties a cell whose last holder goes, dropping what it held within the depth bound.
#[inline(never)]
fn drop_last(cell: &Lazy) {
    let state = match cell.try_borrow_mut() {
        Ok(mut s) => match &*s {
            ThunkState::Blackhole => return,
            ThunkState::Done(v) if stores_inline(v) || matches!(v, Value::PrimOp(_)) => return,
            _ => std::mem::replace(&mut *s, ThunkState::Blackhole),
        },
        Err(_) => return,
    };
    let depth = DROP_DEPTH.with(|d| d.get());
    if depth >= MAX_DROP_DEPTH {
        DEFERRED_DROPS.with(|d| d.borrow_mut().push(state));
        return;
    }
    DROP_DEPTH.with(|d| d.set(depth + 1));
    drop(state);
    if depth == 0 {
        while let Some(next) = DEFERRED_DROPS.with(|d| d.borrow_mut().pop()) {
            drop(next);
        }
    }
    DROP_DEPTH.with(|d| d.set(depth));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(names: &[&str]) -> Attrs {
        Attrs::from_unsorted(
            names
                .iter()
                .map(|n| Attr {
                    name: (*n).into(),
                    value: Thunk::value(Value::str(*n)),
                    pos: Pos::NONE,
                })
                .collect(),
        )
    }

    /// Values are returned in two registers and copied as two words; a thunk is two
    /// words (a value inline, or a cell: the compiler uses `Value`'s tag for the choice),
    /// a cell one allocation of 48 bytes, a scope four words. These are layout facts the
    /// evaluator's speed rests on.
    #[test]
    fn values_and_thunks_stay_small() {
        use std::mem::size_of;
        assert_eq!(size_of::<Value>(), 16);
        assert_eq!(size_of::<crate::error::EResult<Value>>(), 16);
        assert_eq!(size_of::<NixStr>(), 8);
        assert_eq!(size_of::<Thunk>(), 16);
        assert_eq!(size_of::<Option<Thunk>>(), 16);
        assert!(size_of::<ThunkState>() <= 32, "{}", size_of::<ThunkState>());
        // An `Rc`'s allocation: two counts, then the `RefCell`.
        let thunk_allocation = 2 * size_of::<usize>() + size_of::<RefCell<ThunkState>>();
        assert!(thunk_allocation <= 48, "{thunk_allocation}");
        assert_eq!(size_of::<Slots>(), 24);
        assert_eq!(size_of::<Env>(), 32);
        assert_eq!(size_of::<Attr>(), 40);
    }

    #[test]
    fn a_string_keeps_its_text_and_only_a_real_context() {
        let plain = NixStr::with_ctx(String::from("abc"), Context::new());
        assert!(!plain.has_context());
        assert_eq!(plain.context(), None);
        let ctx: Context = ["/nix/store/x".to_string()].into();
        let with = NixStr::with_ctx("abc", ctx.clone());
        assert_eq!(with.context(), Some(&ctx));
        assert_eq!(with, plain);
        assert_eq!(&*with, "abc");
        let shared = with.clone();
        assert!(shared.ptr_eq(&with));
        assert_eq!(shared.into_string(), "abc");
        assert_eq!(NixStr::plain("x").into_string(), "x");
        let name: Symbol = "n".into();
        let named = NixStr::from(name.clone());
        assert!(std::ptr::eq(named.as_ptr(), name.as_ptr()));
        assert_eq!(named.as_str(), "n");
        assert_eq!(named.into_string(), "n");
    }

    #[test]
    fn a_hint_is_only_a_guess() {
        let small = attrs(&["a", "b"]);
        let large = attrs(&["a", "b", "c", "d", "e"]);
        let hint = IndexHint::default();
        let name = |found: Option<&Attr>| found.map(|a| a.name.to_string());
        assert_eq!(name(large.get_attr_hinted("d", &hint)), Some("d".into()));
        // The hint (3) now points past the small set, then at another name, then right.
        assert_eq!(name(small.get_attr_hinted("b", &hint)), Some("b".into()));
        assert_eq!(name(large.get_attr_hinted("e", &hint)), Some("e".into()));
        assert_eq!(name(large.get_attr_hinted("e", &hint)), Some("e".into()));
        assert_eq!(name(small.get_attr_hinted("e", &hint)), None);
        assert_eq!(name(large.get_attr_hinted("zz", &hint)), None);
        assert_eq!(name(Attrs::new().get_attr_hinted("a", &hint)), None);
        assert_eq!(name(large.get_attr_hinted("a", &hint)), Some("a".into()));
    }

    #[test]
    fn update_of_a_few_names_over_many_agrees_with_the_merge() {
        let names = |a: &Attrs| -> Vec<(String, String)> {
            a.entries
                .iter()
                .map(|e| {
                    let v = match e.value.get() {
                        Some(Value::String(s)) => s.to_string(),
                        other => format!("{other:?}"),
                    };
                    (e.name.to_string(), v)
                })
                .collect()
        };
        let tagged = |list: &[&str], tag: &str| {
            Attrs::from_unsorted(
                list.iter()
                    .map(|n| Attr {
                        name: (*n).into(),
                        value: Thunk::value(Value::str(format!("{tag}{n}"))),
                        pos: Pos::NONE,
                    })
                    .collect(),
            )
        };
        let many: Vec<String> = (0..100).map(|i| format!("k{i:02}")).collect();
        let many: Vec<&str> = many.iter().map(|s| &**s).collect();
        let many = tagged(&many, "m");
        for few in [
            &["a"][..],
            &["zz"],
            &["k00"],
            &["k99"],
            &["k05", "k050", "k17", "zz"],
            &["a", "k10", "k11"],
        ] {
            let few = tagged(few, "f");
            // Few enough to be spliced in; inserting them one at a time is what both
            // orders must give.
            assert!(few.len() * 16 < many.len());
            let mut want = many.clone();
            for e in &few.entries {
                want.insert(e.name.clone(), e.value.clone(), e.pos);
            }
            assert_eq!(names(&many.update(&few)), names(&want));
            let mut want = few.clone();
            for e in &many.entries {
                want.insert(e.name.clone(), e.value.clone(), e.pos);
            }
            assert_eq!(names(&few.update(&many)), names(&want));
        }
    }

    #[test]
    fn attrs_are_sorted_and_update_prefers_the_right() {
        let a = attrs(&["b", "a", "c"]);
        let names: Vec<&str> = a.entries.iter().map(|e| &*e.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let mut right = attrs(&["c", "d"]);
        right.insert("c".into(), Thunk::value(Value::Int(1)), Pos::NONE);
        let merged = a.update(&right);
        assert_eq!(merged.len(), 4);
        assert!(matches!(
            merged.get("c").unwrap().get(),
            Some(Value::Int(1))
        ));
        assert!(merged.get("zz").is_none());
    }
}
