//! `&'static` values made once per key and kept for the life of the process.
//!
//! rustls takes suites, groups and algorithm tables by `&'static`. The number of distinct keys
//! is bounded by (pieces x backends), a few hundred at most, so leaking one value per key is a
//! fixed cost, not a leak that grows with use.

use std::sync::Mutex;

use rustls::{Tls12CipherSuite, Tls13CipherSuite};

use crate::{Backend, HashAlg};

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

pub(super) static SUITES13: Table<(super::Suite13, Backend, Backend, Backend), Tls13CipherSuite> =
    Table::new();
pub(super) static SUITES12: Table<(super::Suite12, Backend, Backend, Backend), Tls12CipherSuite> =
    Table::new();
pub(super) static HASHES: Table<(HashAlg, Backend), super::hash::TlsHash> = Table::new();
pub(super) static HMACS: Table<(HashAlg, Backend), super::hash::TlsHmac> = Table::new();
pub(super) static HKDFS: Table<(HashAlg, Backend), rustls::crypto::tls13::HkdfUsingHmac<'static>> =
    Table::new();
pub(super) static PRFS: Table<(HashAlg, Backend), rustls::crypto::tls12::PrfUsingHmac<'static>> =
    Table::new();
