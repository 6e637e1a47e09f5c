//! [`View`]: what a session's reads see, the record as loaded with this
//! request's changes laid over it.
//!
//! Why an overlay rather than one map: the loaded record can then be shared
//! with the store instead of copied ([`crate::Store::load`]; a
//! `MemoryStore` hands out its own record for the price of a reference
//! count), a set costs one insert into the change set instead of two copies,
//! and a read-only request allocates nothing for its data.

use std::cmp::Ordering;
use std::iter::Peekable;
use std::sync::Arc;

use crate::record::{Changes, CompactString, Data, Record};
use crate::value::Value;

/// The loaded record (shared, never changed through the view) plus the
/// changes this request made, which are what a commit sends.
#[derive(Debug, Default)]
pub(crate) struct View {
    /// The record as loaded or as last committed; `None` for a new session.
    base: Option<Arc<Record>>,
    /// Keys set or removed since then (and whether everything was cleared).
    changes: Changes,
}

impl View {
    /// A view of `base` with no changes.
    pub fn new(base: Option<Arc<Record>>) -> Self {
        View {
            base,
            changes: Changes::default(),
        }
    }

    /// The changes made since the view was loaded or last committed.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// The changes, and the shared record for a store that can update it in
    /// place at commit (see [`crate::Store::commit`]).
    pub fn changes_and_base(&mut self) -> (&Changes, &mut Option<Arc<Record>>) {
        (&self.changes, &mut self.base)
    }

    fn base_data(&self) -> Option<&Data> {
        match &self.base {
            Some(record) if !self.changes.clear => Some(&record.data),
            _ => None,
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self.changes.get(key) {
            Some(change) => change,
            None => self.base_data()?.get(key),
        }
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<CompactString>, value: Value) {
        self.changes.set(key, value);
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let old = match self.changes.get_mut(key) {
            Some(change) => change.take(),
            None => self.base_data()?.get(key).cloned(),
        };
        if old.is_some() {
            self.changes.remove(key);
        }
        old
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.changes.clear();
    }

    /// Forgets the data and the changes (the session was invalidated).
    pub fn reset(&mut self) {
        *self = View::default();
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        match self.base_data() {
            Some(base) if self.changes.as_slice().is_empty() => base.len(),
            _ => self.iter().count(),
        }
    }

    /// The (key, value) pairs in key order.
    pub fn iter(&self) -> SessionIter<'_> {
        SessionIter {
            base: self.base_data().map(|d| d.as_slice().iter().peekable()),
            changes: self.changes.as_slice().iter().peekable(),
        }
    }

    /// Makes every key a change (after regenerate, the whole data is new
    /// under the new id).
    pub fn mark_all_changed(&mut self) {
        let mut changes = Changes::default();
        changes.clear();
        for (k, v) in self.iter() {
            changes.set(k.to_owned(), v.clone());
        }
        self.changes = changes;
    }

    /// After a commit: the stored record (`stored`, what every store returns
    /// for a stored commit) becomes the base; with none (the session was
    /// gone, nothing stored) the changes are folded into the view's own
    /// copy. Either way no change is left pending.
    pub fn settle(&mut self, stored: Option<Arc<Record>>, fresh: impl FnOnce() -> Record) {
        let changes = std::mem::take(&mut self.changes);
        if let Some(record) = stored {
            self.base = Some(record);
            return;
        }
        if changes.is_empty() {
            return;
        }
        // Copies the record only if someone else still holds it.
        let record = Arc::make_mut(self.base.get_or_insert_with(|| Arc::new(fresh())));
        changes.apply_owned(&mut record.data);
    }
}

/// Iterator over a session's (key, value) pairs in key order: the loaded
/// record's pairs merged with this request's changes.
pub struct SessionIter<'a> {
    base: Option<Peekable<std::slice::Iter<'a, (CompactString, Value)>>>,
    changes: Peekable<std::slice::Iter<'a, (CompactString, Option<Value>)>>,
}

impl<'a> Iterator for SessionIter<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let from_base = self.base.as_mut().and_then(|b| b.peek().copied());
            let from_changes = self.changes.peek().map(|(k, v)| (k, v));
            let order = match (from_base, from_changes) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((bk, _)), Some((ck, _))) => bk.cmp(ck),
            };
            if order != Ordering::Greater {
                let (key, value) = self.base.as_mut()?.next()?;
                if order == Ordering::Less {
                    return Some((key, value));
                }
                // Equal: the change decides, taken on the next branch.
            }
            let (key, change) = self.changes.next()?;
            if let Some(value) = change {
                return Some((key, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(pairs: &[(&str, i64)]) -> View {
        let data = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Int(*v)))
            .collect();
        View::new(Some(Arc::new(Record::new(0.0, 10.0, data))))
    }

    fn pairs(view: &View) -> Vec<(String, i64)> {
        view.iter()
            .map(|(k, v)| match v {
                Value::Int(i) => (k.to_owned(), *i),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_see_changes_over_the_base_in_key_order() {
        let mut view = loaded(&[("a", 1), ("c", 3), ("e", 5)]);
        view.set("b", Value::Int(2));
        view.set("c", Value::Int(30));
        assert_eq!(view.remove("e"), Some(Value::Int(5)));
        assert_eq!(view.remove("zz"), None);
        assert_eq!(
            pairs(&view),
            vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 30)]
        );
        assert_eq!(view.len(), 3);
        assert_eq!(view.get("c"), Some(&Value::Int(30)));
        assert_eq!(view.get("e"), None);
        // A removed key absent from the base is not sent as a change.
        assert!(view.changes().get("zz").is_none());
    }

    #[test]
    fn clear_hides_the_base_and_later_sets_show() {
        let mut view = loaded(&[("a", 1), ("b", 2)]);
        view.clear();
        assert_eq!(view.len(), 0);
        assert_eq!(view.get("a"), None);
        view.set("b", Value::Int(20));
        assert_eq!(pairs(&view), vec![("b".into(), 20)]);
    }

    #[test]
    fn settle_folds_changes_without_touching_a_shared_base() {
        let base = Arc::new(Record::new(0.0, 10.0, Data::new()));
        let mut view = View::new(Some(base.clone()));
        view.set("a", Value::Int(1));
        view.settle(None, || unreachable!("the view has a base"));
        assert!(view.changes().is_empty());
        assert_eq!(view.get("a"), Some(&Value::Int(1)));
        assert!(
            base.data.is_empty(),
            "the shared record was copied, not changed"
        );
    }

    #[test]
    fn settle_adopts_the_stored_record() {
        let mut view = loaded(&[("a", 1)]);
        view.set("b", Value::Int(2));
        let mut stored = Record::new(0.0, 10.0, Data::new());
        stored.data.insert("z", Value::Int(26));
        view.settle(Some(Arc::new(stored)), || unreachable!());
        assert_eq!(pairs(&view), vec![("z".into(), 26)]);
    }
}
