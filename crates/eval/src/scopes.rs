//! Freeing a `let` scope that only its own bindings still hold.
//!
//! A scope refers to itself through its bindings not yet evaluated (each a thunk of the
//! scope: `ThunkState::Binding`) and through the functions it defines (each a closure of
//! the scope). Counting never frees such a cycle, and Nix code leaves bindings unevaluated
//! all the time (`let … unused = …; in …`, a default `extra ? null` no caller needs), so
//! without this every such scope stayed until a collection (`gc.rs`), which the one-shot
//! CLI never runs.
//!
//! Each scope counts those bindings (`Slots::Let`, `Env::own_refs`). Just before any
//! reference to a scope is dropped (a thunk's, a closure's, a child scope's, the
//! evaluator's own while it runs the body), `scope_ref_dropping` compares the scope's
//! count of references with that number. When they show the one going is the last from
//! outside, `free_self_held` checks the reference counts one by one and empties those
//! bindings, which frees the scope. The counts are the proof: a scope or a binding that
//! anything else can still reach is never touched.
//!
//! What such a scope leaves behind that something outside still holds (a binding handed
//! out, a cell in a cycle through a value) stays, and a collection still finds any cycle
//! through it: `gc.rs` remembers the cells of these scopes apart from the scope.

use std::cell::RefCell;
use std::rc::Rc;

use crate::value::{Env, Thunk, ThunkState, Value};

/// Called just before a reference to `env` is dropped.
#[inline]
pub fn scope_ref_dropping(env: &Rc<Env>) {
    let own = env.own_refs() as usize;
    if own != 0 && Rc::strong_count(env) == own + 1 {
        free_self_held(env);
    }
}

/// Called when a binding of `env` has been evaluated to `v`: unless `v` is a function of
/// `env` (which still holds it), the binding no longer counts among `env`'s own.
pub(crate) fn binding_evaluated(env: &Rc<Env>, v: &Value) {
    if !is_function_of(v, env) {
        env.own_ref_gone();
    }
}

fn is_function_of(v: &Value, env: &Rc<Env>) -> bool {
    matches!(v, Value::Lambda(c) if Rc::ptr_eq(&c.env, env))
}

/// Whether a binding's state holds the scope `env` it belongs to, and nothing else holds
/// what does: an unevaluated binding, or a function defined there and not handed out.
fn refers_to_own_scope(state: &ThunkState, env: &Rc<Env>) -> bool {
    match state {
        ThunkState::Binding(_, of) => Rc::ptr_eq(of, env),
        ThunkState::Done(v @ Value::Lambda(c)) => {
            is_function_of(v, env) && Rc::strong_count(c) == 1
        }
        _ => false,
    }
}

fn address(cell: &Rc<RefCell<ThunkState>>) -> usize {
    Rc::as_ptr(cell) as *const u8 as usize
}

/// Empties `env`'s bindings that hold it if they and the reference being dropped are all
/// that hold it, and nothing but the scope holds them.
#[cold]
#[inline(never)]
fn free_self_held(env: &Rc<Env>) {
    // A value stored inline refers to nothing: only cells matter.
    let cells = || env.slots.iter().filter_map(Thunk::lazy);
    let mut own = 0;
    let mut shared = false;
    for cell in cells() {
        let Ok(state) = cell.try_borrow() else {
            return;
        };
        if refers_to_own_scope(&state, env) {
            match Rc::strong_count(cell) {
                1 => own += 1,
                _ => shared = true,
            }
        }
    }
    if shared {
        match own_shared_within(env) {
            Some(n) => own += n,
            None => return,
        }
    }
    if own == 0 || Rc::strong_count(env) != own + 1 {
        return;
    }
    env.set_own_refs(0);
    let mut taken = Vec::with_capacity(own);
    for cell in cells() {
        if let Ok(mut state) = cell.try_borrow_mut() {
            if refers_to_own_scope(&state, env) {
                taken.push(std::mem::replace(&mut *state, ThunkState::Blackhole));
            }
        }
    }
    // Dropped only now, after every binding is emptied.
    drop(taken);
}

/// How many of `env`'s bindings that hold it are held more than once, all of them from
/// within the scope; `None` if one is held from outside (handed out: whoever holds it may
/// still need the scope). References that go with the scope are those from its slots
/// (`a = b;` shares one thunk) and from a set or list that one binding alone holds
/// (`also = [ a unused ]`).
fn own_shared_within(env: &Rc<Env>) -> Option<usize> {
    let cells = || env.slots.iter().filter_map(Thunk::lazy);
    // (address, references from within), sorted by address.
    let mut within: Vec<(usize, usize)> = cells()
        .filter(|cell| Rc::strong_count(cell) > 1)
        .map(|cell| (address(cell), 1))
        .collect();
    within.sort_unstable();
    within.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 += 1;
        }
        same
    });
    let mut count_in = |t: &Thunk| {
        if let Some(cell) = t.lazy() {
            if let Ok(i) = within.binary_search_by_key(&address(cell), |e| e.0) {
                within[i].1 += 1;
            }
        }
    };
    for cell in cells().filter(|cell| Rc::strong_count(cell) == 1) {
        let state = cell.try_borrow().ok()?;
        match &*state {
            ThunkState::Done(Value::Attrs(a)) if Rc::strong_count(a) == 1 => {
                a.entries.iter().for_each(|e| count_in(&e.value))
            }
            ThunkState::Done(Value::List(l)) if Rc::strong_count(l) == 1 => {
                l.iter().for_each(&mut count_in)
            }
            _ => {}
        }
    }
    let mut own = 0;
    for cell in cells().filter(|cell| Rc::strong_count(cell) > 1) {
        let state = cell.try_borrow().ok()?;
        if !refers_to_own_scope(&state, env) {
            continue;
        }
        let i = within.binary_search_by_key(&address(cell), |e| e.0).ok()?;
        match within[i].1 {
            // Counted at its first slot.
            0 => continue,
            n if n != Rc::strong_count(cell) => return None,
            _ => {
                within[i].1 = 0;
                own += 1;
            }
        }
    }
    Some(own)
}
