//! What a snapshot read, and the backward validation of it at commit time.

use std::collections::BTreeMap;

use crate::keys::KeyRange;
use crate::StateError;

/// The version a read saw for one key: the commit number of its row, None when absent.
pub(crate) type SeenVersion = Option<i64>;

/// One `list` as it was answered: the range asked for and the rows (key, version) returned.
#[derive(Debug, Clone)]
pub(crate) struct RangeRead {
    pub range: KeyRange,
    pub rows: Vec<(String, i64)>,
}

/// Every read of one snapshot.
#[derive(Debug, Default)]
pub(crate) struct ReadSet {
    keys: BTreeMap<String, SeenVersion>,
    ranges: Vec<RangeRead>,
}

/// What the backend's write transaction can tell about the current state, for validation.
pub(crate) trait CurrentVersions {
    /// The current versions of `keys` (absent keys are left out of the answer).
    fn key_versions(&mut self, keys: &[&str]) -> Result<BTreeMap<String, i64>, StateError>;
    /// The rows (key, version) that `range` gives now, in key order.
    fn range_versions(&mut self, range: &KeyRange) -> Result<Vec<(String, i64)>, StateError>;
}

impl ReadSet {
    pub(crate) fn record_key(&mut self, key: &str, seen: SeenVersion) {
        // A snapshot is consistent, so reading a key again gives the same version.
        self.keys.insert(key.to_owned(), seen);
    }

    pub(crate) fn record_range(&mut self, range: KeyRange, rows: Vec<(String, i64)>) {
        // LIMIT 0 reads nothing and so depends on nothing.
        if range.limit > 0 {
            self.ranges.push(RangeRead { range, rows });
        }
    }

    /// True when every recorded read gives the same answer in `now`'s state.
    pub(crate) fn still_valid(&self, now: &mut dyn CurrentVersions) -> Result<bool, StateError> {
        if !self.keys.is_empty() {
            let keys: Vec<&str> = self.keys.keys().map(String::as_str).collect();
            let current = now.key_versions(&keys)?;
            for (key, seen) in &self.keys {
                if current.get(key).copied() != *seen {
                    return Ok(false);
                }
            }
        }
        for read in &self.ranges {
            if now.range_versions(&read.range)? != read.rows {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state held in a map, to test validation without a database.
    struct MapState(BTreeMap<String, i64>);

    impl CurrentVersions for MapState {
        fn key_versions(&mut self, keys: &[&str]) -> Result<BTreeMap<String, i64>, StateError> {
            Ok(keys
                .iter()
                .filter_map(|k| self.0.get(*k).map(|v| (k.to_string(), *v)))
                .collect())
        }
        fn range_versions(&mut self, range: &KeyRange) -> Result<Vec<(String, i64)>, StateError> {
            Ok(self
                .0
                .iter()
                .filter(|(k, _)| {
                    k.as_str() >= range.lower.as_str()
                        && range.upper.as_deref().is_none_or(|u| k.as_str() < u)
                        && range.after.as_deref().is_none_or(|a| k.as_str() > a)
                })
                .take(range.limit as usize)
                .map(|(k, v)| (k.clone(), *v))
                .collect())
        }
    }

    fn state(rows: &[(&str, i64)]) -> MapState {
        MapState(rows.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }

    #[test]
    fn key_reads() {
        let mut reads = ReadSet::default();
        reads.record_key("a", Some(1));
        reads.record_key("b", None);
        assert!(reads.still_valid(&mut state(&[("a", 1)])).unwrap());
        assert!(reads
            .still_valid(&mut state(&[("a", 1), ("c", 9)]))
            .unwrap());
        assert!(!reads.still_valid(&mut state(&[("a", 2)])).unwrap());
        assert!(!reads.still_valid(&mut state(&[])).unwrap());
        assert!(!reads
            .still_valid(&mut state(&[("a", 1), ("b", 3)]))
            .unwrap());
    }

    #[test]
    fn range_reads() {
        let mut reads = ReadSet::default();
        let range = KeyRange::new("t/", None, 2).unwrap();
        reads.record_range(range, vec![("t/1".into(), 1)]);
        assert!(reads
            .still_valid(&mut state(&[("t/1", 1), ("u", 5)]))
            .unwrap());
        assert!(!reads
            .still_valid(&mut state(&[("t/1", 1), ("t/2", 5)]))
            .unwrap());
        assert!(!reads.still_valid(&mut state(&[("t/1", 2)])).unwrap());
        assert!(!reads.still_valid(&mut state(&[])).unwrap());
    }

    #[test]
    fn rows_past_the_limit_do_not_matter() {
        let mut reads = ReadSet::default();
        let range = KeyRange::new("t/", None, 1).unwrap();
        reads.record_range(range, vec![("t/1".into(), 1)]);
        assert!(reads
            .still_valid(&mut state(&[("t/1", 1), ("t/2", 7)]))
            .unwrap());
        assert!(!reads
            .still_valid(&mut state(&[("t/0", 3), ("t/1", 1)]))
            .unwrap());
    }
}
