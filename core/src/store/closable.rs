//! [`Closable`]: any store, with a `close()` after which every call is
//! [`Error::Closed`]. A wrapper, written once (tower-sessions keeps caching
//! the same way, as a store around a store), so no binding forwards the
//! store's methods by hand to add "closed".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{clean_store, Committed, Counters, Inspect, Store, StoreStats, Sweep, Update};
use crate::error::{Error, Result};
use crate::record::Record;
use crate::store_key::StoreKey;

/// A store that can be closed: until [`Closable::close`] every call goes to
/// the wrapped store; after it, every call that reads or writes records is
/// [`Error::Closed`]. The counters stay readable (a closed store can still
/// say what it did). Closing does not release the wrapped store: that
/// happens when the last `Arc` to it is dropped, so a manager still holding
/// the wrapper keeps an LMDB environment open but cannot use it.
///
/// It has an [`Inspect`] and a [`Sweep`] side exactly when the wrapped store
/// has (what [`Store::inspect`] and [`Store::sweep`] return); called
/// directly on a wrapper whose store lacks one, those methods are
/// [`Error::Unsupported`].
///
/// ```
/// use std::sync::Arc;
/// use spysession_core::{Closable, Error, MemoryStore, SessionId, Store};
/// let store = Arc::new(Closable::new(Arc::new(MemoryStore::default())));
/// let key = SessionId::generate().store_key();
/// assert!(store.load(&key, 0.0)?.is_none());
/// store.close();
/// assert!(matches!(store.load(&key, 0.0), Err(Error::Closed)));
/// assert_eq!(store.stats().loads, 1, "the counters stay readable");
/// # Ok::<(), Error>(())
/// ```
pub struct Closable<S: ?Sized> {
    closed: AtomicBool,
    inner: Arc<S>,
}

impl<S: Store + ?Sized> Closable<S> {
    /// Wraps `inner`, open.
    pub fn new(inner: Arc<S>) -> Self {
        Closable {
            closed: AtomicBool::new(false),
            inner,
        }
    }

    /// Closes the store for every holder of this wrapper (closing twice is
    /// harmless). Calls already running finish.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// True once [`Closable::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The wrapped store, or [`Error::Closed`] once closed: for a caller
    /// that uses the store's own methods beyond the traits (a Redis `PING`).
    pub fn inner(&self) -> Result<&S> {
        if self.is_closed() {
            Err(Error::Closed)
        } else {
            Ok(&self.inner)
        }
    }

    fn inspected(&self) -> Result<&dyn Inspect> {
        self.inner()?
            .inspect()
            .ok_or(Error::Unsupported("inspection"))
    }
}

impl<S: Store + ?Sized> Store for Closable<S> {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.inner()?.load(key, now)
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        self.inner()?.delete(key)
    }

    fn counters(&self) -> &Counters {
        self.inner.counters()
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    fn inspect(&self) -> Option<&dyn Inspect> {
        self.inner.inspect().map(|_| self as &dyn Inspect)
    }

    fn sweep(&self) -> Option<&dyn Sweep> {
        self.inner.sweep().map(|_| self as &dyn Sweep)
    }

    fn commit(
        &self,
        key: &StoreKey,
        update: &Update<'_>,
        loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        self.inner()?.commit(key, update, loaded)
    }
}

impl<S: Store + ?Sized> Inspect for Closable<S> {
    fn len(&self) -> Result<u64> {
        self.inspected()?.len()
    }

    fn list(&self) -> Result<Vec<(StoreKey, f64)>> {
        self.inspected()?.list()
    }

    fn get(&self, key: &StoreKey) -> Result<Option<Record>> {
        self.inspected()?.get(key)
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.inspected()?.save(key, record)
    }
}

impl<S: Store + ?Sized> Sweep for Closable<S> {
    fn clean(&self, now: f64) -> Result<u64> {
        clean_store(self.inner()?, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Changes;
    use crate::store::{CommitOutcome, CustomStore, MemoryStore, RawStore};
    use crate::SessionId;

    /// A custom store that holds nothing: it has a sweep, no inspection.
    struct Nothing;

    impl RawStore for Nothing {
        fn load(&self, _: &StoreKey) -> Result<Option<Vec<u8>>> {
            Ok(None)
        }
        fn save(&self, _: &StoreKey, _: &[u8], _: f64) -> Result<()> {
            Ok(())
        }
        fn delete(&self, _: &StoreKey) -> Result<()> {
            Ok(())
        }
        fn clean(&self, _: f64) -> Result<u64> {
            Ok(7)
        }
    }

    fn closed<T>(result: Result<T>) -> bool {
        matches!(result, Err(Error::Closed))
    }

    #[test]
    fn every_call_reaches_the_store_until_closed_and_none_after() {
        let inner = Arc::new(MemoryStore::default());
        let store: Arc<Closable<dyn Store>> = Arc::new(Closable::new(inner.clone()));
        let key = SessionId::generate().store_key();
        let mut changes = Changes::default();
        changes.set("a", crate::Value::Int(1));
        let update = Update {
            changes: &changes,
            now: 1.0,
            expires_at: 100.0,
            created: 1.0,
            create: true,
            base_accessed: None,
        };
        let record = Record::new(1.0, 50.0, Default::default());
        let other = SessionId::generate().store_key();

        let committed = store.commit(&key, &update, &mut None).unwrap();
        assert_eq!(committed.outcome, CommitOutcome::Stored { merged: false });
        assert!(store.load(&key, 2.0).unwrap().is_some());
        let inspect = store.inspect().expect("a MemoryStore inspects");
        inspect.save(&other, &record).unwrap();
        assert_eq!(inspect.get(&other).unwrap().as_ref(), Some(&record));
        assert_eq!(inspect.list().unwrap().len(), 2);
        assert_eq!(inspect.len().unwrap(), 2);
        assert_eq!(clean_store(&*store, 60.0).unwrap(), 1, "`other` expired");
        assert!(store.delete(&key).unwrap());
        assert!(!store.is_closed());

        store.close();
        store.close();
        assert!(store.is_closed());
        assert!(closed(store.load(&key, 2.0)));
        assert!(closed(store.commit(&key, &update, &mut None)));
        assert!(closed(store.delete(&key)));
        assert!(closed(clean_store(&*store, 60.0)));
        assert!(closed(inspect.len()));
        assert!(closed(inspect.list()));
        assert!(closed(inspect.get(&other)));
        assert!(closed(inspect.save(&other, &record)));
        assert!(closed(store.inner().map(|_| ())));
        assert!(inner.get(&other).unwrap().is_none(), "no save got through");

        let stats = store.stats();
        assert_eq!((stats.commits, stats.loads, stats.cleaned), (1, 1, 1));
        assert_eq!(stats, inner.stats(), "the wrapped store's own counters");
    }

    #[test]
    fn it_inspects_and_sweeps_exactly_when_the_wrapped_store_does() {
        let memory = Closable::new(Arc::new(MemoryStore::default()));
        assert!(memory.inspect().is_some() && memory.sweep().is_some());

        let custom = Closable::new(Arc::new(CustomStore::new(Nothing)));
        assert!(custom.inspect().is_none());
        assert_eq!(
            clean_store(&custom, 0.0).unwrap(),
            7,
            "the raw store's clean"
        );
        assert!(matches!(
            custom.len(),
            Err(Error::Unsupported("inspection"))
        ));
        custom.close();
        assert!(closed(custom.len()), "closed comes first");
    }
}
