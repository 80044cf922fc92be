//! Session resumption by session ID (GB/T 38636-2020 6.4.5.2, as RFC 5246 7.4.1.2): TLCP has
//! no tickets. A bounded cache: the oldest session goes when it is full, and a session is not
//! resumed after its lifetime.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::suite::Suite;

/// What resuming a session needs.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) id: Vec<u8>,
    pub(crate) suite: Suite,
    pub(crate) master: Zeroizing<[u8; 48]>,
    /// The peer's certificates as it sent them (DER).
    pub(crate) peer_certs: Vec<Vec<u8>>,
    created: Instant,
}

impl Session {
    pub(crate) fn new(
        id: Vec<u8>,
        suite: Suite,
        master: Zeroizing<[u8; 48]>,
        peer_certs: Vec<Vec<u8>>,
    ) -> Self {
        Self {
            id,
            suite,
            master,
            peer_certs,
            created: Instant::now(),
        }
    }
}

/// A shared, bounded session cache. A server keys it by session ID; a client by the server's
/// name (and port, as the caller writes it).
pub struct SessionCache {
    inner: Mutex<Inner>,
    capacity: usize,
    lifetime: Duration,
}

struct Inner {
    map: HashMap<Vec<u8>, Session>,
    order: VecDeque<Vec<u8>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("capacity", &self.capacity)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl SessionCache {
    /// At most `capacity` sessions (0: resumption off), each resumable for `lifetime`.
    pub fn new(capacity: usize, lifetime: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity,
            lifetime,
        }
    }

    /// Whether the cache keeps anything.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(crate) fn put(&self, key: Vec<u8>, session: Session) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.map.insert(key.clone(), session).is_none() {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            inner.map.remove(&old);
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Session> {
        let inner = self.inner.lock().ok()?;
        let s = inner.map.get(key)?;
        (s.created.elapsed() <= self.lifetime).then(|| s.clone())
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.map.len())
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SessionCache {
    /// 20,000 sessions for 2 hours (nginx's `ssl_session_cache` holds about 4,000 per MB;
    /// RFC 5246 F.1.4 suggests at most 24 hours).
    fn default() -> Self {
        Self::new(20_000, Duration::from_secs(2 * 3600))
    }
}
