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
//! A binding held from outside that may be part of a cycle of its own (a set holding the
//! binding that holds it) keeps its scope alive, since that scope is where a collection
//! finds the cycle. When such a holder is what the scope's body returned and is read right
//! after (`{ inherit response; }`), no later drop says when it lets go: such scopes wait in
//! a list that is tried again once it has doubled.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::value::{Env, Thunk, ThunkState, Value};

/// Called just before a reference to `env` is dropped.
#[inline]
pub fn scope_ref_dropping(env: &Rc<Env>) {
    let own = env.own_refs() as usize;
    if own != 0 && Rc::strong_count(env) == own + 1 {
        release_or_retry(env);
    }
}

thread_local! {
    /// Scopes held from outside only through their bindings, by what may let go soon.
    static RETRY: RefCell<Vec<Weak<Env>>> = const { RefCell::new(Vec::new()) };
    static RETRY_AT: Cell<usize> = const { Cell::new(MIN_RETRY) };
}

const MIN_RETRY: usize = 1024;

#[cold]
#[inline(never)]
fn release_or_retry(env: &Rc<Env>) {
    if free_self_held(env, 1) != Release::HeldFromOutside {
        return;
    }
    let due = RETRY
        .try_with(|waiting| {
            let Ok(mut waiting) = waiting.try_borrow_mut() else {
                return false;
            };
            waiting.push(Rc::downgrade(env));
            waiting.len() >= RETRY_AT.get()
        })
        .unwrap_or(false);
    if due {
        retry_releases();
    }
}

/// Tries the waiting scopes again (safe at any time: each is checked anew), and keeps
/// those still held from outside.
fn retry_releases() {
    let taken = RETRY.try_with(|waiting| {
        waiting
            .try_borrow_mut()
            .map(|mut waiting| std::mem::take(&mut *waiting))
            .ok()
    });
    let Ok(Some(waiting)) = taken else {
        return;
    };
    let mut still = Vec::new();
    for weak in waiting {
        let Some(env) = weak.upgrade() else { continue };
        // `env`, just upgraded, is the one reference from outside.
        if free_self_held(&env, 1) == Release::HeldFromOutside {
            still.push(weak);
        }
    }
    let _ = RETRY.try_with(|waiting| {
        if let Ok(mut waiting) = waiting.try_borrow_mut() {
            RETRY_AT.set((still.len() * 2).max(MIN_RETRY));
            waiting.append(&mut still);
        }
    });
}

/// What `free_self_held` found.
#[derive(PartialEq)]
enum Release {
    Done,
    /// Held by more than its own bindings and the caller's `outside` references.
    Alive,
    /// Held from outside only through its bindings, by what may let go soon.
    HeldFromOutside,
}

/// Whether a binding's state holds the scope `env` it belongs to, and nothing else holds
/// what does: an unevaluated binding, or a function defined there and not handed out.
fn refers_to_own_scope(state: &ThunkState, env: &Rc<Env>) -> bool {
    match state {
        ThunkState::Binding(_, of) => Rc::ptr_eq(of, env),
        ThunkState::Done(Value::Lambda(c)) => Rc::ptr_eq(&c.env, env) && Rc::strong_count(c) == 1,
        _ => false,
    }
}

/// Whether a thunk in this state refers to anything that could lead back to it.
fn may_close_a_cycle(state: &ThunkState) -> bool {
    match state {
        ThunkState::Done(v) => matches!(
            v,
            Value::Attrs(_) | Value::List(_) | Value::Lambda(_) | Value::PrimOpApp(_)
        ),
        ThunkState::Pending(..) | ThunkState::Binding(..) | ThunkState::Apply(..) => true,
        ThunkState::Blackhole => false,
    }
}

fn address(cell: &Rc<RefCell<ThunkState>>) -> usize {
    Rc::as_ptr(cell) as *const u8 as usize
}

/// Empties `env`'s bindings that hold it if they and the caller's `outside` references
/// are all that hold it, and nothing but the scope holds them or what they refer to.
fn free_self_held(env: &Rc<Env>, outside: usize) -> Release {
    let slots: &[Thunk] = &env.slots;
    // Bindings held more than once, with the references to each that go with the scope:
    // from its slots (`a = b;` shares one thunk), and from a set or list that one binding
    // alone holds (`req = req0 // { inherit params; }`). Sorted by address.
    let mut shared: Vec<(usize, usize)> = slots
        .iter()
        .filter_map(Thunk::lazy)
        .filter(|cell| Rc::strong_count(cell) > 1)
        .map(|cell| (address(cell), 1))
        .collect();
    shared.sort_unstable();
    shared.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 += 1;
        }
        same
    });
    let mut count_in = |t: &Thunk| {
        if let Some(cell) = t.lazy() {
            if let Ok(i) = shared.binary_search_by_key(&address(cell), |e| e.0) {
                shared[i].1 += 1;
            }
        }
    };
    for cell in slots.iter().filter_map(Thunk::lazy) {
        if Rc::strong_count(cell) != 1 {
            continue;
        }
        let Ok(state) = cell.try_borrow() else {
            return Release::Alive;
        };
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
    let mut counted: Vec<usize> = Vec::new();
    // A value stored inline refers to nothing: only cells matter.
    for cell in slots.iter().filter_map(Thunk::lazy) {
        let Ok(state) = cell.try_borrow() else {
            return Release::Alive;
        };
        let holders = Rc::strong_count(cell);
        let within = match holders {
            1 => 1,
            _ => shared
                .binary_search_by_key(&address(cell), |e| e.0)
                .map_or(0, |i| shared[i].1),
        };
        if !refers_to_own_scope(&state, env) {
            if holders > within && may_close_a_cycle(&state) {
                return Release::HeldFromOutside;
            }
            continue;
        }
        if holders != within {
            return Release::HeldFromOutside;
        }
        if holders > 1 {
            if counted.contains(&address(cell)) {
                continue;
            }
            counted.push(address(cell));
        }
        own += 1;
    }
    if own == 0 || Rc::strong_count(env) != own + outside {
        return Release::Alive;
    }
    env.set_own_refs(0);
    let mut taken = Vec::with_capacity(own);
    for cell in slots.iter().filter_map(Thunk::lazy) {
        if let Ok(mut state) = cell.try_borrow_mut() {
            if refers_to_own_scope(&state, env) {
                taken.push(std::mem::replace(&mut *state, ThunkState::Blackhole));
            }
        }
    }
    // Dropped only now, after every binding is emptied.
    drop(taken);
    Release::Done
}
