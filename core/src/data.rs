//! [`Data`]: a session's keys and values, kept sorted in one vector.
//!
//! Why not a `BTreeMap`: a session holds a handful of keys, and every request
//! decodes, reads and drops them. A tree allocates a node for them and its
//! decoder searches and shifts per key; here decoding is a push per pair (the
//! encoding already lists keys in order, so one check per pair confirms it),
//! a lookup is a binary search over contiguous pairs, and there is one
//! allocation for the lot. Keys are [`CompactString`]s, held inline up to 24
//! bytes, so a decode allocates nothing for them and a lookup compares them
//! where they lie. The methods are the `BTreeMap` ones the code uses, with
//! the same meaning.

use std::fmt;

pub use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::value::Value;

/// Up to this many keys, lookups scan (see `Data::find`).
pub(crate) const SCAN_UP_TO: usize = 16;

/// A session's data: string keys to [`Value`]s, in key order, keys unique.
#[derive(Clone, Default, PartialEq)]
pub struct Data {
    /// Sorted by key, no key twice.
    pairs: Vec<(CompactString, Value)>,
}

impl Data {
    /// No keys.
    pub fn new() -> Self {
        Data::default()
    }

    /// Where `key` is, or where it would go.
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.pairs.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Where `key` is. A session holds few keys: a scan that compares
    /// lengths first rejects most of them without comparing bytes, which
    /// beats a binary search's ordered comparisons until keys are many.
    fn find(&self, key: &str) -> Option<usize> {
        if self.pairs.len() > SCAN_UP_TO {
            return self.position(key).ok();
        }
        self.pairs.iter().position(|(k, _)| k.as_str() == key)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key)?;
        Some(&self.pairs[i].1)
    }

    /// The value of `key`, to change in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key)?;
        Some(&mut self.pairs[i].1)
    }

    /// True when `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: impl Into<CompactString>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.pairs[i].1, value)),
            Err(i) => {
                self.pairs.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key)?;
        Some(self.pairs.remove(i).1)
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.pairs.clear();
    }

    /// The (key, value) pairs in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &Value)> + ExactSizeIterator {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// The pairs as a slice, in key order.
    pub fn as_slice(&self) -> &[(CompactString, Value)] {
        &self.pairs
    }

    /// Builds from pairs in any order; a repeated key keeps its last value.
    pub(crate) fn from_pairs(mut pairs: Vec<(CompactString, Value)>) -> Self {
        let sorted_unique = pairs.windows(2).all(|w| w[0].0.as_str() < w[1].0.as_str());
        if !sorted_unique {
            // Stable, so equal keys stay in arrival order; then the last of
            // each run is kept, as inserting one by one would.
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(CompactString, Value)> = Vec::with_capacity(pairs.len());
            for pair in pairs {
                match kept.last_mut() {
                    Some(last) if last.0 == pair.0 => *last = pair,
                    _ => kept.push(pair),
                }
            }
            pairs = kept;
        }
        Data { pairs }
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<CompactString>> FromIterator<(K, Value)> for Data {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Data::from_pairs(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<'a> IntoIterator for &'a Data {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactString, Value)>,
        fn(&'a (CompactString, Value)) -> (&'a str, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl IntoIterator for Data {
    type Item = (CompactString, Value);
    type IntoIter = std::vec::IntoIter<(CompactString, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.pairs.len()))?;
        for (k, v) in &self.pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl<'de> Visitor<'de> for DataVisitor {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of string keys to session values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
                while let Some(pair) = map.next_entry::<CompactString, Value>()? {
                    pairs.push(pair);
                }
                Ok(Data::from_pairs(pairs))
            }
        }
        d.deserialize_map(DataVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut d = Data::new();
        assert_eq!(d.insert("b", Value::Int(2)), None);
        assert_eq!(d.insert("a", Value::Int(1)), None);
        assert_eq!(d.insert(String::from("c"), Value::Int(3)), None);
        assert_eq!(d.insert("b", Value::Int(20)), Some(Value::Int(2)));
        assert_eq!(d.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(d.get("b"), Some(&Value::Int(20)));
        assert!(d.contains_key("c") && !d.contains_key("d"));
        *d.get_mut("c").unwrap() = Value::Nil;
        assert_eq!(d.remove("a"), Some(Value::Int(1)));
        assert_eq!(d.remove("a"), None);
        assert_eq!(d.len(), 2);
        d.clear();
        assert!(d.is_empty());
    }

    #[test]
    fn lookups_agree_below_and_above_the_scan_limit() {
        for n in [SCAN_UP_TO - 1, SCAN_UP_TO, SCAN_UP_TO + 1, 3 * SCAN_UP_TO] {
            let mut d = Data::new();
            // Inserted in a scrambled order, keys of several lengths.
            for i in (0..n).map(|i| (i * 7) % n) {
                d.insert(format!("k{}", i * 13), Value::Int(i as i64));
            }
            assert_eq!(d.len(), n);
            assert!(d.keys().zip(d.keys().skip(1)).all(|(a, b)| a < b));
            for i in 0..n {
                let key = format!("k{}", i * 13);
                assert_eq!(d.get(&key), Some(&Value::Int(i as i64)), "{key} of {n}");
                assert!(d.contains_key(&key));
            }
            assert_eq!(d.get("k1"), None);
            assert_eq!(d.remove("k0"), Some(Value::Int(0)));
            assert!(!d.contains_key("k0") && d.len() == n - 1);
        }
    }

    #[test]
    fn built_from_any_order_the_last_repeat_wins() {
        let d: Data = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]
            .into_iter()
            .map(|(k, v)| (k, Value::Int(v)))
            .collect();
        let pairs: Vec<_> = d.into_iter().collect();
        assert_eq!(
            pairs,
            vec![
                ("a".into(), Value::Int(5)),
                ("b".into(), Value::Int(3)),
                ("c".into(), Value::Int(4)),
            ]
        );
    }
}
