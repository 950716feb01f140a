//! The behaviour every backend must have, written once against `dyn StateBackend`; each
//! backend's test file instantiates it with `backend_suite!`.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nixweb_state::{StateBackend, StateError, Value, Writes};
use serde_json::json;

/// Declares one `#[test]` per suite function, each on a fresh store from `$fresh(name)`,
/// which returns None when the backend is skipped.
#[macro_export]
macro_rules! backend_suite {
    ($fresh:path) => {
        $crate::backend_suite!($fresh;
            get_absent_then_set,
            values_round_trip,
            list_in_key_order_with_paging,
            list_empty_prefix_lists_everything,
            list_prefix_with_like_metacharacters,
            list_unicode_prefixes_in_byte_order,
            list_limit_zero_and_huge,
            snapshot_does_not_see_later_commits,
            conflict_on_changed_key,
            conflict_on_deleted_key,
            conflict_on_recreated_key_with_same_value,
            conflict_on_created_key_read_as_absent,
            conflict_on_insert_into_listed_range,
            conflict_on_delete_from_listed_range,
            conflict_on_update_in_listed_range,
            no_conflict_outside_listed_range,
            no_conflict_for_disjoint_keys,
            conflict_writes_nothing,
            read_only_commit_never_conflicts,
            blind_writes_never_conflict,
            delete_of_absent_key,
            delete_then_set_in_one_commit,
            abandoned_snapshots_release_connections,
            nul_keys_are_refused,
            counter_200_increments_from_8_threads,
            concurrent_appends_see_each_other,
            transact_retries_conflicts_then_gives_up,
            transact_stops_at_the_attempts_error,
            no_read_only_anomaly
        );
    };
    ($fresh:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some(backend) = $fresh(stringify!($name)) {
                    $crate::common::$name(&backend);
                }
            }
        )*
    };
}

pub type Backend = Arc<dyn StateBackend>;

fn writes(set: &[(&str, Value)], delete: &[&str]) -> Writes {
    Writes {
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        delete: delete.iter().map(|k| k.to_string()).collect(),
    }
}

/// Commits `set` and `delete` blindly (without reads), which must succeed.
pub fn put(backend: &Backend, set: &[(&str, Value)], delete: &[&str]) {
    backend
        .begin()
        .unwrap()
        .commit(writes(set, delete))
        .expect("a blind write never conflicts");
}

/// The value at `key` in a fresh snapshot.
pub fn read(backend: &Backend, key: &str) -> Option<Value> {
    backend.begin().unwrap().get(key).unwrap()
}

fn keys_of(entries: &[(String, Value)]) -> Vec<&str> {
    entries.iter().map(|(k, _)| k.as_str()).collect()
}

pub fn get_absent_then_set(backend: &Backend) {
    assert_eq!(read(backend, "todos/1"), None);
    put(backend, &[("todos/1", json!({"title": "milk"}))], &[]);
    assert_eq!(read(backend, "todos/1"), Some(json!({"title": "milk"})));
    put(backend, &[("todos/1", json!({"title": "eggs"}))], &[]);
    assert_eq!(read(backend, "todos/1"), Some(json!({"title": "eggs"})));
}

pub fn values_round_trip(backend: &Backend) {
    let values = [
        json!(null),
        json!(true),
        json!(0),
        json!(-9_223_372_036_854_775_808i64),
        json!(u64::MAX),
        json!(1.0),
        json!(0.1),
        json!(-2.5e300),
        json!("text with \"quotes\", \\ and ünïcødé ✓ \u{1F600}"),
        json!([1, 2.0, "3", [], {}]),
        json!({"z": 1, "a": {"nested": [null]}, "m": 1.5}),
    ];
    let set: Vec<(String, Value)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("v/{i:02}"), v.clone()))
        .collect();
    backend
        .begin()
        .unwrap()
        .commit(Writes {
            set: set.clone(),
            delete: vec![],
        })
        .unwrap();
    let listed = backend.begin().unwrap().list("v/", None, 100).unwrap();
    assert_eq!(listed, set);
    for (i, value) in values.iter().enumerate() {
        let back = read(backend, &format!("v/{i:02}")).unwrap();
        assert_eq!(&back, value);
        // Integers stay integers and floats stay floats.
        assert_eq!(back.is_f64(), value.is_f64(), "{value}");
        assert_eq!(back.is_u64(), value.is_u64(), "{value}");
        assert_eq!(back.is_i64(), value.is_i64(), "{value}");
    }
    // Object key order survives.
    let object = read(backend, "v/10").unwrap();
    let keys: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a", "m"]);
}

pub fn list_in_key_order_with_paging(backend: &Backend) {
    // Written out of order, with neighbours outside the prefix on both sides.
    let keys = ["t/3", "t/1", "t/10", "t/2", "s/9", "u/0", "t", "t0"];
    let set: Vec<(&str, Value)> = keys.iter().map(|k| (*k, json!(k))).collect();
    put(backend, &set, &[]);
    let mut snapshot = backend.begin().unwrap();
    let all = snapshot.list("t/", None, 100).unwrap();
    assert_eq!(keys_of(&all), ["t/1", "t/10", "t/2", "t/3"]);
    assert_eq!(all[0].1, json!("t/1"));
    let first = snapshot.list("t/", None, 2).unwrap();
    assert_eq!(keys_of(&first), ["t/1", "t/10"]);
    let second = snapshot.list("t/", Some("t/10"), 2).unwrap();
    assert_eq!(keys_of(&second), ["t/2", "t/3"]);
    let third = snapshot.list("t/", Some("t/3"), 2).unwrap();
    assert!(third.is_empty());
    // `after` need not be an existing key, nor inside the prefix.
    let from_gap = snapshot.list("t/", Some("t/15"), 10).unwrap();
    assert_eq!(keys_of(&from_gap), ["t/2", "t/3"]);
    let before_prefix = snapshot.list("t/", Some("a"), 10).unwrap();
    assert_eq!(before_prefix.len(), 4);
    let past_prefix = snapshot.list("t/", Some("x"), 10).unwrap();
    assert!(past_prefix.is_empty());
    // A prefix equal to a key includes it.
    let exact = snapshot.list("t/1", None, 10).unwrap();
    assert_eq!(keys_of(&exact), ["t/1", "t/10"]);
    assert!(snapshot.list("nothing/", None, 10).unwrap().is_empty());
}

pub fn list_empty_prefix_lists_everything(backend: &Backend) {
    put(
        backend,
        &[
            ("b", json!(2)),
            ("a", json!(1)),
            ("", json!(0)),
            ("c/d", json!(3)),
        ],
        &[],
    );
    let mut snapshot = backend.begin().unwrap();
    let all = snapshot.list("", None, 100).unwrap();
    assert_eq!(keys_of(&all), ["", "a", "b", "c/d"]);
    let paged = snapshot.list("", Some(""), 2).unwrap();
    assert_eq!(keys_of(&paged), ["a", "b"]);
    assert_eq!(snapshot.get("").unwrap(), Some(json!(0)));
}

pub fn list_prefix_with_like_metacharacters(backend: &Backend) {
    let keys = [
        "a%b", "a%c", "axb", "a_b", "a_c", "aXc", "a\\b", "a\\c", "a'b",
    ];
    let set: Vec<(&str, Value)> = keys.iter().map(|k| (*k, json!(1))).collect();
    put(backend, &set, &[]);
    let mut snapshot = backend.begin().unwrap();
    assert_eq!(
        keys_of(&snapshot.list("a%", None, 10).unwrap()),
        ["a%b", "a%c"]
    );
    assert_eq!(
        keys_of(&snapshot.list("a_", None, 10).unwrap()),
        ["a_b", "a_c"]
    );
    assert_eq!(
        keys_of(&snapshot.list("a\\", None, 10).unwrap()),
        ["a\\b", "a\\c"]
    );
    assert_eq!(keys_of(&snapshot.list("a'", None, 10).unwrap()), ["a'b"]);
    assert_eq!(snapshot.get("a%b").unwrap(), Some(json!(1)));
    assert_eq!(snapshot.get("a%").unwrap(), None);
}

pub fn list_unicode_prefixes_in_byte_order(backend: &Backend) {
    let keys = [
        "é/1",
        "é/2",
        "e/1",
        "f",
        "z",
        "\u{7F}",
        "\u{80}",
        "日本/1",
        "日本/2",
        "日本語",
        "\u{FFFF}",
        "\u{10000}",
        "\u{10FFFF}",
        "\u{10FFFF}x",
        "\u{D7FF}",
        "\u{E000}",
    ];
    let set: Vec<(&str, Value)> = keys.iter().map(|k| (*k, json!(k))).collect();
    put(backend, &set, &[]);
    let mut snapshot = backend.begin().unwrap();
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort(); // Rust orders str by bytes: the order promised.
    assert_eq!(keys_of(&snapshot.list("", None, 100).unwrap()), expected);
    assert_eq!(
        keys_of(&snapshot.list("é", None, 10).unwrap()),
        ["é/1", "é/2"]
    );
    assert_eq!(
        keys_of(&snapshot.list("日本", None, 10).unwrap()),
        ["日本/1", "日本/2", "日本語"]
    );
    assert_eq!(
        keys_of(&snapshot.list("日本/", Some("日本/1"), 10).unwrap()),
        ["日本/2"]
    );
    assert_eq!(
        keys_of(&snapshot.list("\u{7F}", None, 10).unwrap()),
        ["\u{7F}"]
    );
    assert_eq!(
        keys_of(&snapshot.list("\u{D7FF}", None, 10).unwrap()),
        ["\u{D7FF}"]
    );
    assert_eq!(
        keys_of(&snapshot.list("\u{10FFFF}", None, 10).unwrap()),
        ["\u{10FFFF}", "\u{10FFFF}x"]
    );
}

pub fn list_limit_zero_and_huge(backend: &Backend) {
    put(backend, &[("k/1", json!(1)), ("k/2", json!(2))], &[]);
    let mut snapshot = backend.begin().unwrap();
    assert!(snapshot.list("k/", None, 0).unwrap().is_empty());
    assert_eq!(snapshot.list("k/", None, usize::MAX).unwrap().len(), 2);
    // A zero-limit list read nothing, so an insert into its range is no conflict.
    let mut zero = backend.begin().unwrap();
    zero.list("k/", None, 0).unwrap();
    put(backend, &[("k/0", json!(0))], &[]);
    zero.commit(writes(&[("other", json!(1))], &[])).unwrap();
}

pub fn snapshot_does_not_see_later_commits(backend: &Backend) {
    put(backend, &[("s/a", json!(1))], &[]);
    let mut snapshot = backend.begin().unwrap();
    put(backend, &[("s/a", json!(2)), ("s/b", json!(2))], &[]);
    assert_eq!(snapshot.get("s/a").unwrap(), Some(json!(1)));
    assert_eq!(snapshot.get("s/b").unwrap(), None);
    assert_eq!(keys_of(&snapshot.list("s/", None, 10).unwrap()), ["s/a"]);
    // Reading stale data and writing would be a lost update: refused.
    assert_eq!(
        snapshot.commit(writes(&[("s/c", json!(3))], &[])),
        Err(StateError::Conflict)
    );
}

/// Runs `reader` on a snapshot, commits `interfering` from elsewhere, then commits the
/// snapshot with a write of its own and returns the result.
fn race(
    backend: &Backend,
    reader: impl FnOnce(&mut dyn nixweb_state::Snapshot),
    interfering: Writes,
) -> Result<(), StateError> {
    let mut snapshot = backend.begin().unwrap();
    reader(&mut *snapshot);
    backend.begin().unwrap().commit(interfering).unwrap();
    snapshot.commit(writes(&[("result", json!("written"))], &[]))
}

pub fn conflict_on_changed_key(backend: &Backend) {
    put(backend, &[("x", json!(1))], &[]);
    let result = race(
        backend,
        |s| assert_eq!(s.get("x").unwrap(), Some(json!(1))),
        writes(&[("x", json!(2))], &[]),
    );
    assert_eq!(result, Err(StateError::Conflict));
}

pub fn conflict_on_deleted_key(backend: &Backend) {
    put(backend, &[("x", json!(1))], &[]);
    let result = race(
        backend,
        |s| assert!(s.get("x").unwrap().is_some()),
        writes(&[], &["x"]),
    );
    assert_eq!(result, Err(StateError::Conflict));
}

pub fn conflict_on_recreated_key_with_same_value(backend: &Backend) {
    put(backend, &[("x", json!(1))], &[]);
    let mut snapshot = backend.begin().unwrap();
    snapshot.get("x").unwrap();
    put(backend, &[], &["x"]);
    put(backend, &[("x", json!(1))], &[]);
    // Same value, but a different row: another request acted in between.
    assert_eq!(
        snapshot.commit(writes(&[("result", json!(1))], &[])),
        Err(StateError::Conflict)
    );
}

pub fn conflict_on_created_key_read_as_absent(backend: &Backend) {
    let result = race(
        backend,
        |s| assert_eq!(s.get("new").unwrap(), None),
        writes(&[("new", json!(1))], &[]),
    );
    assert_eq!(result, Err(StateError::Conflict));
}

pub fn conflict_on_insert_into_listed_range(backend: &Backend) {
    put(
        backend,
        &[("todos/1", json!(1)), ("todos/3", json!(3))],
        &[],
    );
    let result = race(
        backend,
        |s| assert_eq!(s.list("todos/", None, 10).unwrap().len(), 2),
        writes(&[("todos/2", json!(2))], &[]),
    );
    assert_eq!(result, Err(StateError::Conflict));
    // Also into an empty range.
    let result = race(
        backend,
        |s| assert!(s.list("empty/", None, 10).unwrap().is_empty()),
        writes(&[("empty/1", json!(1))], &[]),
    );
    assert_eq!(result, Err(StateError::Conflict));
}

pub fn conflict_on_delete_from_listed_range(backend: &Backend) {
    put(
        backend,
        &[("todos/1", json!(1)), ("todos/2", json!(2))],
        &[],
    );
    let result = race(
        backend,
        |s| assert_eq!(s.list("todos/", None, 10).unwrap().len(), 2),
        writes(&[], &["todos/2"]),
    );
    assert_eq!(result, Err(StateError::Conflict));
}

pub fn conflict_on_update_in_listed_range(backend: &Backend) {
    put(
        backend,
        &[("todos/1", json!(1)), ("todos/2", json!(2))],
        &[],
    );
    let result = race(
        backend,
        |s| assert_eq!(s.list("todos/", None, 10).unwrap().len(), 2),
        writes(&[("todos/1", json!("changed"))], &[]),
    );
    assert_eq!(result, Err(StateError::Conflict));
}

pub fn no_conflict_outside_listed_range(backend: &Backend) {
    put(
        backend,
        &[
            ("todos/1", json!(1)),
            ("todos/2", json!(2)),
            ("todos/5", json!(5)),
        ],
        &[],
    );
    // Outside the prefix, and past the rows a limited list returned.
    let result = race(
        backend,
        |s| {
            let page = s.list("todos/", None, 2).unwrap();
            assert_eq!(keys_of(&page), ["todos/1", "todos/2"]);
        },
        writes(
            &[
                ("todos0", json!(0)),
                ("todos.", json!(0)),
                ("todos/9", json!(9)),
            ],
            &["todos/5"],
        ),
    );
    assert_eq!(result, Ok(()));
    // Before the `after` of a page.
    let result = race(
        backend,
        |s| {
            let page = s.list("todos/", Some("todos/1"), 10).unwrap();
            assert_eq!(keys_of(&page), ["todos/2", "todos/9"]);
        },
        writes(&[("todos/0", json!(0))], &["todos/1"]),
    );
    assert_eq!(result, Ok(()));
}

pub fn no_conflict_for_disjoint_keys(backend: &Backend) {
    put(backend, &[("a", json!(1)), ("b", json!(1))], &[]);
    let mut first = backend.begin().unwrap();
    let mut second = backend.begin().unwrap();
    first.get("a").unwrap();
    second.get("b").unwrap();
    first.commit(writes(&[("a", json!(2))], &[])).unwrap();
    second.commit(writes(&[("b", json!(2))], &[])).unwrap();
    assert_eq!(read(backend, "a"), Some(json!(2)));
    assert_eq!(read(backend, "b"), Some(json!(2)));
}

pub fn conflict_writes_nothing(backend: &Backend) {
    put(backend, &[("x", json!(1)), ("gone", json!(1))], &[]);
    let mut snapshot = backend.begin().unwrap();
    snapshot.get("x").unwrap();
    put(backend, &[("x", json!(2))], &[]);
    let result = snapshot.commit(writes(&[("x", json!(100)), ("y", json!(100))], &["gone"]));
    assert_eq!(result, Err(StateError::Conflict));
    assert_eq!(read(backend, "x"), Some(json!(2)));
    assert_eq!(read(backend, "y"), None);
    assert_eq!(read(backend, "gone"), Some(json!(1)));
}

pub fn read_only_commit_never_conflicts(backend: &Backend) {
    put(backend, &[("x", json!(1))], &[]);
    let mut snapshot = backend.begin().unwrap();
    snapshot.get("x").unwrap();
    snapshot.list("", None, 10).unwrap();
    put(backend, &[("x", json!(2)), ("y", json!(2))], &[]);
    snapshot.commit(Writes::default()).unwrap();
}

pub fn blind_writes_never_conflict(backend: &Backend) {
    let first = backend.begin().unwrap();
    let second = backend.begin().unwrap();
    first.commit(writes(&[("x", json!(1))], &[])).unwrap();
    second.commit(writes(&[("x", json!(2))], &[])).unwrap();
    assert_eq!(read(backend, "x"), Some(json!(2)));
}

pub fn delete_of_absent_key(backend: &Backend) {
    put(backend, &[], &["never-existed"]);
    assert_eq!(read(backend, "never-existed"), None);
    // And within a transaction that read it as absent.
    let mut snapshot = backend.begin().unwrap();
    assert_eq!(snapshot.get("never-existed").unwrap(), None);
    snapshot.commit(writes(&[], &["never-existed"])).unwrap();
}

pub fn delete_then_set_in_one_commit(backend: &Backend) {
    put(backend, &[("k", json!(1)), ("d", json!(1))], &[]);
    put(backend, &[("k", json!(2)), ("k", json!(3))], &["k", "d"]);
    assert_eq!(read(backend, "k"), Some(json!(3)));
    assert_eq!(read(backend, "d"), None);
}

pub fn abandoned_snapshots_release_connections(backend: &Backend) {
    // Far more snapshots than any pool holds, each dropped mid-way.
    for i in 0..200 {
        let mut snapshot = backend.begin().unwrap();
        snapshot.get("x").unwrap();
        if i % 2 == 0 {
            snapshot.list("", None, 1).unwrap();
        }
    }
    // Several open at once, and a writer beside them.
    let open: Vec<_> = (0..8).map(|_| backend.begin().unwrap()).collect();
    put(backend, &[("x", json!("after"))], &[]);
    drop(open);
    assert_eq!(read(backend, "x"), Some(json!("after")));
}

pub fn nul_keys_are_refused(backend: &Backend) {
    let mut snapshot = backend.begin().unwrap();
    assert!(matches!(snapshot.get("a\0b"), Err(StateError::Backend(_))));
    assert!(matches!(
        snapshot.list("a\0", None, 1),
        Err(StateError::Backend(_))
    ));
    let result = backend
        .begin()
        .unwrap()
        .commit(writes(&[("a\0b", json!(1))], &[]));
    assert!(matches!(result, Err(StateError::Backend(_))));
}

pub fn counter_200_increments_from_8_threads(backend: &Backend) {
    let conflicts = increment_concurrently(std::slice::from_ref(backend), "counter", 8, 200);
    assert_eq!(read(backend, "counter"), Some(json!(200)));
    eprintln!("{}: 200 increments, {conflicts} conflicts", backend.kind());
}

pub fn concurrent_appends_see_each_other(backend: &Backend) {
    let counts = append_concurrently(std::slice::from_ref(backend), "items/", 8, 100);
    eprintln!("{}: 100 appends, {} conflicts", backend.kind(), counts);
    check_appends(backend, "items/", 100);
}

/// `total` transactions over `threads` threads (taking turns through `backends`), each
/// listing everything under `prefix` and adding a key of its own whose value is how many
/// it listed. No key is read by two transactions as a key, so only the range validation
/// (phantom protection) keeps two from seeing the same count. Returns the conflicts.
pub fn append_concurrently(
    backends: &[Backend],
    prefix: &str,
    threads: usize,
    total: usize,
) -> usize {
    let conflicts = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let backend = &backends[t % backends.len()];
            let conflicts = &conflicts;
            let mine = total / threads + usize::from(t < total % threads);
            scope.spawn(move || {
                for i in 0..mine {
                    let key = format!("{prefix}{t:02}-{i:04}");
                    loop {
                        let mut snapshot = backend.begin().unwrap();
                        let seen = snapshot.list(prefix, None, usize::MAX).unwrap().len();
                        match snapshot.commit(writes(&[(&key, json!(seen))], &[])) {
                            Ok(()) => break,
                            Err(StateError::Conflict) => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("append failed: {e}"),
                        }
                    }
                }
            });
        }
    });
    conflicts.into_inner()
}

/// After [`append_concurrently`]: the counts seen must be exactly 0, 1, … total-1.
pub fn check_appends(backend: &Backend, prefix: &str, total: usize) {
    let items = backend
        .begin()
        .unwrap()
        .list(prefix, None, usize::MAX)
        .unwrap();
    assert_eq!(items.len(), total);
    let mut seen: Vec<i64> = items.iter().map(|(_, v)| v.as_i64().unwrap()).collect();
    seen.sort_unstable();
    let expected: Vec<i64> = (0..total as i64).collect();
    assert_eq!(seen, expected, "two appends saw the same number of items");
}

/// `total` increments of `key`, shared out over `threads` threads that take turns through
/// `backends` (several backends: as several servers would); retries every conflict. Returns
/// the number of conflicts.
pub fn increment_concurrently(
    backends: &[Backend],
    key: &str,
    threads: usize,
    total: usize,
) -> usize {
    let conflicts = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let backend = &backends[t % backends.len()];
            let conflicts = &conflicts;
            let mine = total / threads + usize::from(t < total % threads);
            scope.spawn(move || {
                for _ in 0..mine {
                    loop {
                        let mut snapshot = backend.begin().unwrap();
                        let current = snapshot
                            .get(key)
                            .unwrap()
                            .map_or(0, |v| v.as_i64().unwrap());
                        match snapshot.commit(writes(&[(key, json!(current + 1))], &[])) {
                            Ok(()) => break,
                            Err(StateError::Conflict) => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("increment failed: {e}"),
                        }
                    }
                }
            });
        }
    });
    conflicts.into_inner()
}

pub fn transact_retries_conflicts_then_gives_up(backend: &Backend) {
    put(backend, &[("x", json!(0))], &[]);
    // Every attempt is overtaken by another writer before it commits.
    let mut runs = 0;
    let result: Result<(), StateError> = nixweb_state::transact(&**backend, 3, |snapshot| {
        runs += 1;
        snapshot.get("x")?;
        put(backend, &[("x", json!(runs))], &[]);
        Ok(((), writes(&[("y", json!(runs))], &[])))
    });
    assert_eq!(result, Err(StateError::Conflict));
    assert_eq!(runs, 3);
    assert_eq!(read(backend, "y"), None);
    // Overtaken twice, then through: the third run's result and writes.
    let mut runs = 0;
    let result = nixweb_state::transact(&**backend, 3, |snapshot| {
        runs += 1;
        snapshot.get("x")?;
        if runs < 3 {
            put(backend, &[("x", json!(runs))], &[]);
        }
        Ok::<_, StateError>((runs, writes(&[("y", json!(runs))], &[])))
    });
    assert_eq!(result, Ok(3));
    assert_eq!(read(backend, "y"), Some(json!(3)));
}

pub fn transact_stops_at_the_attempts_error(backend: &Backend) {
    #[derive(Debug, PartialEq)]
    enum HandlerError {
        Failed,
        State(StateError),
    }
    impl From<StateError> for HandlerError {
        fn from(e: StateError) -> Self {
            HandlerError::State(e)
        }
    }
    let mut runs = 0;
    let result: Result<(), HandlerError> = nixweb_state::transact(&**backend, 5, |_| {
        runs += 1;
        Err(HandlerError::Failed)
    });
    assert_eq!(result, Err(HandlerError::Failed));
    assert_eq!(runs, 1);
}

/// Fekete's read-only anomaly, made observable. A depositor increments `y`; a withdrawer
/// reads `x` and `y` and writes the next `x` with the `y` it saw (kept in `hist/N`); readers
/// only read both. If the withdrawal that made x = N+1 saw y = j, it comes before the
/// deposit that made y = j+1 in any serial order; so no reader may see x = N together with
/// y > j. On PostgreSQL, plain snapshots beside parallel SERIALIZABLE commits can show exactly that
/// when the withdrawal commits after the deposit although it read y before it.
pub fn no_read_only_anomaly(backend: &Backend) {
    let backends = std::slice::from_ref(backend);
    use nixweb_state::{transact, Writes};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    const ROUNDS: i64 = 300;
    put(&backends[0], &[("x", json!(0)), ("y", json!(0))], &[]);
    let writers_done = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let number = |v: Option<serde_json::Value>| v.and_then(|v| v.as_i64()).unwrap();
    std::thread::scope(|scope| {
        let deposits = scope.spawn(|| {
            for _ in 0..ROUNDS {
                transact(&*backends[0], 1000, |s| {
                    let y = number(s.get("y")?);
                    let set = vec![("y".to_string(), json!(y + 1))];
                    Ok::<_, StateError>((
                        (),
                        Writes {
                            set,
                            delete: vec![],
                        },
                    ))
                })
                .unwrap();
            }
        });
        let withdrawals = scope.spawn(|| {
            for _ in 0..ROUNDS {
                transact(&*backends[1 % backends.len()], 1000, |s| {
                    let x = number(s.get("x")?);
                    let y = number(s.get("y")?);
                    let set = vec![
                        ("x".to_string(), json!(x + 1)),
                        (format!("hist/{:06}", x + 1), json!(y)),
                    ];
                    Ok::<_, StateError>((
                        (),
                        Writes {
                            set,
                            delete: vec![],
                        },
                    ))
                })
                .unwrap();
            }
        });
        for reader in 0..2 {
            let (backend, seen, writers_done) =
                (&backends[reader % backends.len()], &seen, &writers_done);
            scope.spawn(move || {
                while !writers_done.load(Ordering::Relaxed) {
                    let mut s = backend.begin().unwrap();
                    let x = number(s.get("x").unwrap());
                    let y = number(s.get("y").unwrap());
                    s.commit(Writes::default()).unwrap();
                    seen.lock().unwrap().push((x, y));
                }
            });
        }
        deposits.join().unwrap();
        withdrawals.join().unwrap();
        writers_done.store(true, Ordering::Relaxed);
    });

    let history = backends[0]
        .begin()
        .unwrap()
        .list("hist/", None, usize::MAX)
        .unwrap();
    assert_eq!(history.len() as i64, ROUNDS);
    let saw: Vec<i64> = history.iter().map(|(_, v)| v.as_i64().unwrap()).collect();
    let seen = seen.into_inner().unwrap();
    for &(x, y) in &seen {
        if let Some(&j) = saw.get(x as usize) {
            // saw[x] is what the withdrawal making x+1 read.
            assert!(
                y <= j,
                "a reader saw x = {x} with y = {y}, but the withdrawal that followed x = {x} \
                 read y = {j}: no serial order passes through that state"
            );
        }
    }
    eprintln!("{} read-only snapshots checked", seen.len());
}
