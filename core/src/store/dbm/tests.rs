//! The clean engine and the index, tested on real LMDB directories.

use super::clean::CLEAN_BATCH;
use super::*;
use crate::id::SessionId;
use crate::record::Data;

fn nosync(dir: &Path) -> DbmStore {
    let options = DbmOptions {
        durable: false,
        ..Default::default()
    };
    DbmStore::open_with(dir, options).unwrap()
}

fn record(expires_at: f64, n: i64) -> Record {
    let mut data = Data::new();
    data.insert("n", n.into());
    Record::new(0.0, expires_at, data)
}

type Filled = (DbmStore, Vec<StoreKey>, Vec<(StoreKey, f64)>);

/// A store in `dir` with `expired` records due by `NOW` (their expiries
/// spread over time, so a batch's ids fall all over the records) and
/// `live` records beside them, written through a non-durable store, then
/// opened again with `options`; returns (store, expired ids, live ids
/// with their expiries).
fn filled(dir: &Path, options: DbmOptions, expired: usize, live: usize) -> Filled {
    let store = nosync(dir);
    let dead: Vec<_> = (0..expired)
        .map(|_| SessionId::generate().store_key())
        .collect();
    let alive: Vec<_> = (0..live)
        .map(|i| {
            (
                SessionId::generate().store_key(),
                NOW + 1.0 + (i % 97) as f64,
            )
        })
        .collect();
    for (i, id) in dead.iter().enumerate() {
        store.save(id, &record((i % 89) as f64, i as i64)).unwrap();
    }
    for (i, (id, expires)) in alive.iter().enumerate() {
        store.save(id, &record(*expires, i as i64)).unwrap();
    }
    drop(store); // the last store of `dir`: its environment closes
    (DbmStore::open_with(dir, options).unwrap(), dead, alive)
}

const NOSYNC: DbmOptions = DbmOptions {
    map_size: 1 << 30,
    durable: false,
};

const NOW: f64 = 1000.0;

/// The index holds exactly `live` (each with its current expiry) and
/// the records are exactly those.
fn assert_exactly(store: &DbmStore, live: &[(StoreKey, f64)]) {
    let mut want = live.to_vec();
    want.sort_by_key(|(id, _)| *id);
    assert_eq!(store.list().unwrap(), want, "index = the live records");
    assert_eq!(store.len().unwrap(), live.len() as u64);
    for (id, expires) in live {
        assert_eq!(store.load(id, NOW).unwrap().unwrap().expires_at, *expires);
    }
}

#[test]
fn clean_removes_exactly_the_expired_over_many_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (store, dead, mut alive) = filled(dir.path(), NOSYNC, 3 * CLEAN_BATCH + 123, 4000);
    // A due stale entry: a record moved from a due expiry to a live one.
    let moved = dead[7];
    store.save(&moved, &record(NOW + 50.0, 0)).unwrap();
    alive.push((moved, NOW + 50.0));
    // Two due entries for one record (its expiry moved, still due).
    store.save(&dead[8], &record(NOW - 1.0, 0)).unwrap();
    // An unreadable record with a due entry: removed with it.
    store.put_raw_for_tests(&dead[9], b"not a record").unwrap();
    // A logout removes the record and its entry; an unreadable record's
    // entry stays, for clean to drop (the record is not there to remove).
    store.delete(&dead[10]).unwrap();
    store.put_raw_for_tests(&dead[11], b"not a record").unwrap();
    store.delete(&dead[11]).unwrap();

    // Windows of 7,000 entries: two and a bit, batches not aligned to them.
    let mut seen = Vec::new();
    let removed = store.clean_in_windows(NOW, 7000, |n| seen.push(n)).unwrap();
    assert_eq!(
        removed,
        dead.len() as u64 - 3,
        "all but the moved and the deleted"
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() == Some(&removed));
    assert!(dead
        .iter()
        .filter(|id| **id != moved)
        .all(|id| store.get(id).unwrap().is_none()));
    assert_exactly(&store, &alive);
    assert_eq!(store.clean(NOW).unwrap(), 0, "clean is idempotent");
}

#[test]
fn writes_between_batches_are_kept() {
    // LMDB runs one write transaction at a time: other writers can only
    // come between two batches. Do it there, every time.
    let dir = tempfile::tempdir().unwrap();
    let (store, dead, mut alive) = filled(dir.path(), NOSYNC, 2 * CLEAN_BATCH + 10, 100);
    let (mut added, mut kept, mut moved) = (0u64, Vec::new(), Vec::new());
    let removed = store
        .clean_with_progress(NOW, |_| {
            // A new live session, and a logout of a live one.
            let id = SessionId::generate().store_key();
            store.save(&id, &record(NOW + 10.0, 1)).unwrap();
            alive.push((id, NOW + 10.0));
            let (gone, _) = alive.swap_remove(0);
            assert!(store.delete(&gone).unwrap());
            // A new session already due: the clean read the due entries
            // before, so it is left for the next clean.
            let id = SessionId::generate().store_key();
            store.save(&id, &record(NOW - 5.0, 2)).unwrap();
            added += 1;
            // Due sessions not yet cleaned: one revived by a save, one
            // moved to another time that is due too (so for the next clean).
            let waiting = |kept: &[StoreKey], moved: &[StoreKey]| {
                let waits = |id: &&StoreKey| {
                    !kept.contains(*id) && !moved.contains(*id) && store.get(id).unwrap().is_some()
                };
                dead.iter().find(waits).copied()
            };
            if let Some(id) = waiting(&kept, &moved) {
                store.save(&id, &record(NOW + 20.0, 3)).unwrap();
                alive.push((id, NOW + 20.0));
                kept.push(id);
            }
            if let Some(id) = waiting(&kept, &moved) {
                store.save(&id, &record(NOW - 3.0, 4)).unwrap();
                moved.push(id);
            }
        })
        .unwrap();
    let stayed = (kept.len() + moved.len()) as u64;
    assert_eq!(removed, dead.len() as u64 - stayed);
    assert_eq!(store.clean(NOW).unwrap(), added + moved.len() as u64);
    assert_exactly(&store, &alive);
}

#[test]
fn clean_beside_writing_threads_removes_exactly_the_expired() {
    let dir = tempfile::tempdir().unwrap();
    let durable = DbmOptions::default();
    let (store, dead, mut alive) = filled(dir.path(), durable, 2 * CLEAN_BATCH + 10, 500);
    let (removed, written) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..3)
            .map(|t| {
                let (store, alive) = (&store, &alive);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..300 {
                        // New sessions, and rewrites of live ones.
                        let id = SessionId::generate().store_key();
                        store.save(&id, &record(NOW + 30.0, i)).unwrap();
                        mine.push((id, NOW + 30.0));
                        let (id, expires) = alive[(t * 300 + i as usize) % alive.len()];
                        store.save(&id, &record(expires, i)).unwrap();
                    }
                    mine
                })
            })
            .collect();
        let removed = store.clean(NOW).unwrap();
        let written: Vec<_> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        (removed, written)
    });
    assert_eq!(removed, dead.len() as u64);
    alive.extend(written);
    assert_exactly(&store, &alive);
}

#[test]
fn a_durable_clean_is_on_disk_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let alive = {
        let durable = DbmOptions::default();
        let (store, dead, alive) = filled(dir.path(), durable, CLEAN_BATCH + 10, 300);
        assert_eq!(store.clean(NOW).unwrap(), dead.len() as u64);
        alive
    };
    // Every store of the directory is gone: this opens the files again.
    let store = DbmStore::open(dir.path()).unwrap();
    assert_exactly(&store, &alive);
    assert_eq!(store.clean(NOW).unwrap(), 0);
}
