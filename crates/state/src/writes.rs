//! Turning a handler's [`Writes`] into one final operation per key, checked and serialized,
//! so that backends apply each key once (PostgreSQL's upsert refuses a key twice).

use std::collections::BTreeMap;

use crate::keys::check_key;
use crate::{StateError, Writes};

/// The final operations of a commit, in key order: Some(JSON text) to set, None to delete.
pub(crate) type Operations = BTreeMap<String, Option<String>>;

/// Deletes apply first, then sets in order, so a key both deleted and set ends up set and a
/// key set twice keeps its last value.
pub(crate) fn final_operations(writes: Writes) -> Result<Operations, StateError> {
    let mut operations = Operations::new();
    for key in writes.delete {
        check_key(&key)?;
        operations.insert(key, None);
    }
    for (key, value) in writes.set {
        check_key(&key)?;
        let json = serde_json::to_string(&value)
            .map_err(|e| StateError::Backend(format!("cannot serialize value of {key:?}: {e}")))?;
        operations.insert(key, Some(json));
    }
    Ok(operations)
}

/// Splits operations into the keys to delete and the (key, JSON) pairs to set.
pub(crate) fn split(operations: &Operations) -> (Vec<&str>, Vec<(&str, &str)>) {
    let mut deletes = Vec::new();
    let mut sets = Vec::new();
    for (key, op) in operations {
        match op {
            Some(json) => sets.push((key.as_str(), json.as_str())),
            None => deletes.push(key.as_str()),
        }
    }
    (deletes, sets)
}

/// Parses a stored value back; a row that is not JSON means the table was written by
/// something else, which is reported rather than hidden.
pub(crate) fn parse_value(key: &str, json: &str) -> Result<crate::Value, StateError> {
    serde_json::from_str(json)
        .map_err(|e| StateError::Backend(format!("stored value of {key:?} is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deletes_then_sets_last_wins() {
        let writes = Writes {
            set: vec![
                ("a".into(), json!(1)),
                ("b".into(), json!(2)),
                ("a".into(), json!(3)),
            ],
            delete: vec!["b".into(), "c".into()],
        };
        let ops = final_operations(writes).unwrap();
        assert_eq!(ops["a"].as_deref(), Some("3"));
        assert_eq!(ops["b"].as_deref(), Some("2"));
        assert_eq!(ops["c"], None);
        let (deletes, sets) = split(&ops);
        assert_eq!(deletes, vec!["c"]);
        assert_eq!(sets, vec![("a", "3"), ("b", "2")]);
    }

    #[test]
    fn numbers_round_trip() {
        let value = json!({"z": 1, "a": 1.0, "big": u64::MAX, "neg": -5, "f": 0.1});
        let ops = final_operations(Writes {
            set: vec![("k".into(), value.clone())],
            delete: vec![],
        })
        .unwrap();
        let back = parse_value("k", ops["k"].as_deref().unwrap()).unwrap();
        assert_eq!(back, value);
        assert!(back["z"].is_i64() && back["a"].is_f64() && back["big"].is_u64());
        // Object key order is kept, not sorted.
        assert!(ops["k"].as_deref().unwrap().starts_with("{\"z\""));
    }

    #[test]
    fn nul_keys_are_refused() {
        let writes = Writes {
            set: vec![],
            delete: vec!["a\0".into()],
        };
        assert!(final_operations(writes).is_err());
    }
}
