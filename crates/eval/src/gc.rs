//! Breaking reference cycles. Values are reference counted, and a `let`/`rec` scope (or a
//! function's default arguments) whose bindings capture the scope itself forms a cycle
//! that counting never frees. A scope that only its own bindings hold goes by itself
//! (`scopes.rs`); a collection is for the cycles left, through values (a set holding a
//! function of the scope, or the binding that holds the set). The evaluator remembers
//! such scopes, and the cells of their slots, weakly; `collect_garbage` marks everything
//! reachable from the given roots (plus globals and the import cache) and empties the
//! remembered cells that were not reached (those that refer to anything), which breaks
//! their cycles. The cells are remembered apart from their scope because a cycle can
//! outlive the scope: `let x = f x; in x` leaves `x`'s cell holding a value whose
//! unforced attributes hold `x`'s cell again, while nothing holds the `let` scope any more.
//! Dropping an evaluator empties all of them. A value stored inline in a thunk refers to
//! nothing (see `value::Thunk`), so every cycle goes through cells, and only cells are
//! emptied.

// Keys are addresses: a multiply-and-rotate hash is enough, and marking hashes every
// object the app keeps (SipHash made that a quarter of a collection).
use rustc_hash::FxHashSet;
use std::rc::Rc;

use crate::eval::Evaluator;
use crate::value::{Env, Lazy, Thunk, ThunkState, Value};

enum Item {
    Env(Rc<Env>),
    Thunk(Thunk),
    Lazy(Lazy),
    Value(Value),
}

impl Evaluator {
    /// Remembers a scope that may end up in a cycle, with the cells of its own bindings
    /// (`own`: not those it shares with other scopes and values, which whoever made them
    /// remembers, and which remembering with every scope that shares them would pile up).
    pub fn register_cyclic<'a>(&mut self, env: &Rc<Env>, own: impl IntoIterator<Item = &'a Thunk>) {
        self.cyclic_envs.push(Rc::downgrade(env));
        if self.cyclic_envs.len() >= self.cyclic_prune_at {
            self.cyclic_envs.retain(|w| w.strong_count() > 0);
            self.cyclic_prune_at = (self.cyclic_envs.len() * 2).max(4096);
        }
        self.cyclic_cells
            .extend(own.into_iter().filter_map(Thunk::lazy).map(Rc::downgrade));
        if self.cyclic_cells.len() >= self.cyclic_cells_prune_at {
            // A weak reference keeps a dead cell's memory: prune those regularly.
            self.cyclic_cells.retain(|w| w.strong_count() > 0);
            self.cyclic_cells_prune_at = (self.cyclic_cells.len() * 2).max(4096);
        }
    }

    /// Frees unreachable cyclic garbage. `roots` must include every value the host still
    /// holds: scopes reachable only from other values are emptied, and forcing a value
    /// that depended on them afterwards fails. Returns how many remembered scopes were
    /// found unreached (their cells, and those of scopes already gone, are emptied).
    pub fn collect_garbage(&mut self, roots: &[&Value]) -> usize {
        let mut marked: FxHashSet<usize> = FxHashSet::default();
        let mut work: Vec<Item> = roots.iter().map(|v| Item::Value((*v).clone())).collect();
        work.extend(self.globals.iter().cloned().map(Item::Thunk));
        work.extend(self.import_cache.values().cloned().map(Item::Value));
        while let Some(item) = work.pop() {
            match item {
                Item::Env(env) => {
                    if !marked.insert(Rc::as_ptr(&env) as usize) {
                        continue;
                    }
                    work.extend(env.slots.iter().cloned().map(Item::Thunk));
                    if let Some(p) = &env.parent {
                        work.push(Item::Env(p.clone()));
                    }
                    if let Some(w) = env.with() {
                        work.push(Item::Thunk(w.clone()));
                    }
                }
                // An inline value refers to nothing (see `Thunk`).
                Item::Thunk(t) => {
                    if let Some(cell) = t.lazy() {
                        work.push(Item::Lazy(cell.clone()));
                    }
                }
                Item::Lazy(cell) => {
                    if !marked.insert(Rc::as_ptr(&cell) as *const u8 as usize) {
                        continue;
                    }
                    match &*cell.borrow() {
                        ThunkState::Done(v) => work.push(Item::Value(v.clone())),
                        ThunkState::Pending(_, env) | ThunkState::Binding(_, env) => {
                            work.push(Item::Env(env.clone()))
                        }
                        ThunkState::Apply(f, arg) => {
                            work.push(Item::Lazy(f.clone()));
                            work.push(Item::Thunk(arg.clone()));
                        }
                        ThunkState::Blackhole => {}
                    }
                }
                Item::Value(v) => match v {
                    Value::Attrs(a) if marked.insert(Rc::as_ptr(&a) as *const u8 as usize) => {
                        work.extend(a.entries.iter().map(|e| Item::Thunk(e.value.clone())));
                    }
                    Value::List(l) if marked.insert(Rc::as_ptr(&l) as *const u8 as usize) => {
                        work.extend(l.iter().cloned().map(Item::Thunk));
                    }
                    Value::Lambda(c) => work.push(Item::Env(c.env.clone())),
                    Value::PrimOpApp(app) => work.extend(app.args.iter().cloned().map(Item::Thunk)),
                    _ => {}
                },
            }
        }
        let mut emptied = 0;
        self.cyclic_envs.retain(|weak| match weak.upgrade() {
            Some(env) if marked.contains(&(Rc::as_ptr(&env) as usize)) => true,
            Some(_) => {
                emptied += 1;
                false
            }
            None => false,
        });
        let mut dropped = Vec::new();
        for weak in std::mem::take(&mut self.cyclic_cells) {
            let Some(cell) = weak.upgrade() else { continue };
            // A cell still reached is alive, and no cycle through it is garbage (a slot
            // a scope shares with a kept value: a `let` renaming a variable, a formal
            // bound to an argument's attribute).
            if marked.contains(&(Rc::as_ptr(&cell) as *const u8 as usize)) {
                self.cyclic_cells.push(weak);
                continue;
            }
            if let Ok(mut s) = cell.try_borrow_mut() {
                // A plain value refers to nothing, so no cycle goes through it; and
                // it may be shared with what no root reaches but the program does
                // (`builtins.functionArgs`' sets, kept with their lambda).
                if holds_references(&s) {
                    dropped.push(std::mem::replace(&mut *s, ThunkState::Blackhole));
                }
            };
        }
        // Dropped only now, after every cycle is cut, so nothing is freed mid-walk.
        drop(dropped);
        emptied
    }

    /// Empties every remembered scope and every global (used when the evaluator goes
    /// away): globals refer to each other and to themselves (`builtins.builtins`), a cycle
    /// that would otherwise keep every builtin allocated after the evaluator is gone.
    fn break_all_cycles(&mut self) {
        let mut dropped = Vec::new();
        for global in self.globals.iter().filter_map(Thunk::lazy) {
            if let Ok(mut s) = global.try_borrow_mut() {
                dropped.push(std::mem::replace(&mut *s, ThunkState::Blackhole));
            }
        }
        self.cyclic_envs.clear();
        for cell in std::mem::take(&mut self.cyclic_cells)
            .iter()
            .filter_map(std::rc::Weak::upgrade)
        {
            // Plain values are no part of a cycle.
            if let Ok(mut s) = cell.try_borrow_mut() {
                if holds_references(&s) {
                    dropped.push(std::mem::replace(&mut *s, ThunkState::Blackhole));
                }
            }
        }
        drop(dropped);
    }
}

/// Whether a thunk refers to scopes or other thunks (so may be part of a cycle).
fn holds_references(state: &ThunkState) -> bool {
    match state {
        ThunkState::Done(v) => matches!(
            v,
            Value::Attrs(_) | Value::List(_) | Value::Lambda(_) | Value::PrimOpApp(..)
        ),
        ThunkState::Pending(..) | ThunkState::Binding(..) | ThunkState::Apply(..) => true,
        ThunkState::Blackhole => false,
    }
}

impl Drop for Evaluator {
    fn drop(&mut self) {
        self.break_all_cycles();
    }
}
