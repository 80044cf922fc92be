//! `&'static` values made once per key and kept for the life of the process.
//!
//! rustls takes suites, groups and algorithm tables by `&'static`. The number of distinct keys
//! is bounded by (pieces x backends), a few hundred at most, so leaking one value per key is a
//! fixed cost, not a leak that grows with use.

use std::sync::Mutex;

/// One table: a key and the value made for it.
pub(super) struct Table<K: 'static, T: ?Sized + 'static>(Mutex<Vec<(K, &'static T)>>);

impl<K, T: ?Sized> Table<K, T> {
    pub(super) const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

/// The value for `key`, made by `make` the first time.
pub(super) fn get<K: PartialEq, T>(
    table: &Table<K, T>,
    key: K,
    make: impl FnOnce() -> T,
) -> &'static T {
    get_dyn(table, key, || Box::leak(Box::new(make())))
}

/// As [`get`], for values that are made already leaked (slices, trait objects).
pub(super) fn get_dyn<K: PartialEq, T: ?Sized>(
    table: &Table<K, T>,
    key: K,
    make: impl FnOnce() -> &'static T,
) -> &'static T {
    // A poisoned lock only means another thread panicked while pushing; the Vec is still valid.
    let mut entries = table.0.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, v)) = entries.iter().find(|(k, _)| *k == key) {
        return v;
    }
    let v = make();
    entries.push((key, v));
    v
}
