//! curveSM2 key agreement (as RFC 8998 uses it) on our field arithmetic.

use std::cell::RefCell;

use super::gm::{gm_error, scalar32, with_entropy};
use crate::{EphemeralKey, Error, KeyExchange, KxAlg, SharedSecret};
use asm::cpu::Features;
use asm::sm2::KeyPair;
use zeroize::{Zeroize, Zeroizing};

#[derive(Debug)]
struct Kx;

impl KeyExchange for Kx {
    fn algorithm(&self) -> KxAlg {
        KxAlg::CurveSm2
    }

    /// From this thread's pool where the CPU has AVX-512 IFMA (`next_key`).
    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let (private, public) = next_key()?;
        Ok(Box::new(Ephemeral { private, public }))
    }

    /// A pooled key and one agreement where the CPU has AVX-512 IFMA; elsewhere both products
    /// in one call with one field inversion (`asm::sm2::exchange`).
    fn exchange(&self, peer: &[u8]) -> Result<(Vec<u8>, SharedSecret), Error> {
        if pooling() {
            let (private, public) = pooled_key()?;
            return Ok((public.to_vec(), agree(&private, peer)?));
        }
        let (public, x) =
            with_entropy(|rng| Ok(asm::sm2::exchange(rng, peer)))?.map_err(gm_error)?;
        Ok((public.to_vec(), Zeroizing::new(x.to_vec())))
    }

    fn agree_static(&self, private_key: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(&*scalar32(private_key)?, peer)
    }

    /// Eight at a time on AVX-512 IFMA (`asm::sm2::exchange_many`).
    fn exchange_many(&self, peers: &[&[u8]]) -> Vec<Result<(Vec<u8>, SharedSecret), Error>> {
        match with_entropy(|rng| Ok(asm::sm2::exchange_many(rng, peers))) {
            Ok(all) => all
                .into_iter()
                .map(|r| {
                    let (public, x) = r.map_err(gm_error)?;
                    Ok((public.to_vec(), Zeroizing::new(x.to_vec())))
                })
                .collect(),
            Err(e) => peers.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}

pub(super) fn agree(d: &[u8; 32], peer: &[u8]) -> Result<SharedSecret, Error> {
    let x = asm::sm2::agree(d, peer).map_err(gm_error)?;
    Ok(Zeroizing::new(x.to_vec()))
}

pub(super) struct Ephemeral {
    private: Zeroizing<[u8; 32]>,
    public: [u8; 65],
}

impl EphemeralKey for Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(&self.private, peer_public_key)
    }
}

/// Key pairs made per refill of a thread's pool: one eight-lane IFMA call.
const POOL_BATCH: usize = 8;

/// Whether ephemeral keys come from a pool: only where a batch is cheaper per key than one
/// key alone (AVX-512 IFMA; `asm::sm2::generate_many`).
fn pooling() -> bool {
    asm::sm2::batch_available(Features::get())
}

/// Ephemeral curveSM2 key pairs made ahead, eight at a time (a key exchange's key does not
/// depend on its peer): one IFMA call for eight costs about what two and a half keys made one
/// at a time do (27 against 11.5 us on the Xeon), so each key costs under a third. Each key is handed out once and its slot zeroed; a pool
/// made by another process (this one's parent, before a fork) is thrown away unused, as the
/// two processes would otherwise hand out the same keys.
struct KeyPool {
    /// The process that made the keys.
    pid: u32,
    /// Zeroed when taken, when thrown away and on drop (a thread's exit).
    private: [[u8; 32]; POOL_BATCH],
    public: [[u8; 65]; POOL_BATCH],
    len: usize,
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        self.private.zeroize();
    }
}

impl KeyPool {
    const fn new() -> Self {
        Self {
            pid: 0,
            private: [[0; 32]; POOL_BATCH],
            public: [[0; 65]; POOL_BATCH],
            len: 0,
        }
    }

    /// The next key pair for process `pid`: from the pool if it holds one `pid` made, else
    /// from a fresh batch of `refill` (which may give fewer than asked, not more).
    fn take(
        &mut self,
        pid: u32,
        refill: impl FnOnce(usize) -> Result<Vec<KeyPair>, Error>,
    ) -> Result<KeyPair, Error> {
        if self.pid != pid {
            self.private.zeroize();
            self.len = 0;
            self.pid = pid;
        }
        if self.len == 0 {
            for (i, (d, p)) in refill(POOL_BATCH)?.into_iter().take(POOL_BATCH).enumerate() {
                self.private[i] = *d;
                self.public[i] = p;
                self.len = i + 1;
            }
            if self.len == 0 {
                return Err(Error::Backend("SM2 key pool refill gave no keys"));
            }
        }
        self.len -= 1;
        let d = Zeroizing::new(self.private[self.len]);
        self.private[self.len].zeroize();
        Ok((d, self.public[self.len]))
    }
}

thread_local! {
    static POOL: RefCell<KeyPool> = const { RefCell::new(KeyPool::new()) };
}

/// A fresh ephemeral key pair: from this thread's pool where pooling pays, else made now.
fn next_key() -> Result<KeyPair, Error> {
    if !pooling() {
        return with_entropy(asm::sm2::generate);
    }
    pooled_key()
}

/// The next key pair from this thread's pool (for callers that checked `pooling`).
fn pooled_key() -> Result<KeyPair, Error> {
    POOL.with(|pool| pool.borrow_mut().take(std::process::id(), refill))
}

/// A batch for the pool: the keys that could be made (an error only if none could).
fn refill(n: usize) -> Result<Vec<KeyPair>, Error> {
    let made = with_entropy(|rng| Ok(asm::sm2::generate_many(rng, n)))?;
    let mut first_error = None;
    let mut keys = Vec::with_capacity(n);
    for r in made {
        match r {
            Ok(k) => keys.push(k),
            Err(e) => first_error = first_error.or(Some(gm_error(e))),
        }
    }
    match (keys.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(keys),
    }
}

/// curveSM2 key agreement.
pub(super) fn kx(_alg: KxAlg) -> Option<&'static dyn KeyExchange> {
    Some(&Kx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches of distinct made-up keys, counting the refills.
    fn batches(calls: &mut u32) -> impl FnOnce(usize) -> Result<Vec<KeyPair>, Error> + '_ {
        move |n| {
            *calls += 1;
            let c = *calls as u8;
            Ok((0..n as u8)
                .map(|i| (Zeroizing::new([(c << 4) ^ i; 32]), [(c << 4) ^ i; 65]))
                .collect())
        }
    }

    #[test]
    fn the_pool_hands_each_key_out_once_and_refills_when_empty() {
        let mut pool = KeyPool::new();
        let mut calls = 0;
        let mut seen = Vec::new();
        for _ in 0..3 * POOL_BATCH {
            let (d, p) = pool.take(7, batches(&mut calls)).unwrap();
            assert_eq!(p[0], d[0], "a key and its public half stay together");
            seen.push(*d);
        }
        assert_eq!(calls, 3, "one refill per {POOL_BATCH} keys");
        let n = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), n, "a key was handed out twice");
        // Every taken key's slot is zeroed.
        assert_eq!(pool.len, 0);
        assert!(pool.private.iter().all(|k| *k == [0; 32]));
    }

    #[test]
    fn a_pool_made_by_another_process_is_thrown_away() {
        let mut pool = KeyPool::new();
        let mut calls = 0;
        let (first, _) = pool.take(100, batches(&mut calls)).unwrap();
        assert_eq!(pool.len, POOL_BATCH - 1);
        // As after a fork: the child (another pid) must not get the parent's remaining keys.
        let left: Vec<[u8; 32]> = pool.private[..pool.len].to_vec();
        let (child, _) = pool.take(101, batches(&mut calls)).unwrap();
        assert_eq!(calls, 2, "the child made its own batch");
        assert!(!left.contains(&child) && *child != *first);
        assert_eq!(pool.len, POOL_BATCH - 1);
        assert!(pool.private[..pool.len].iter().all(|k| !left.contains(k)));
    }

    #[test]
    fn a_short_or_failed_refill() {
        let mut pool = KeyPool::new();
        let one = |_| Ok(vec![(Zeroizing::new([5; 32]), [5; 65])]);
        assert_eq!(*pool.take(1, one).unwrap().0, [5; 32]);
        assert_eq!(pool.len, 0);
        let none = |_| Ok(Vec::new());
        assert!(pool.take(1, none).is_err());
        let failed = |_| Err(Error::RandomFailed);
        assert_eq!(pool.take(1, failed).err(), Some(Error::RandomFailed));
    }

    #[test]
    fn pooled_keys_are_real_key_pairs() {
        // Whatever this CPU does (pool or not), a key from next_key is a key pair.
        let peer_d = [0x21u8; 32];
        let peer = asm::sm2::public_key(&peer_d).unwrap();
        let mut publics = Vec::new();
        for _ in 0..2 * POOL_BATCH + 3 {
            let (d, public) = next_key().unwrap();
            assert_eq!(asm::sm2::public_key(&d).unwrap(), public);
            let ours = asm::sm2::agree(&d, &peer).unwrap();
            assert_eq!(*ours, *asm::sm2::agree(&peer_d, &public).unwrap());
            publics.push(public);
        }
        let n = publics.len();
        publics.sort_unstable();
        publics.dedup();
        assert_eq!(publics.len(), n);
        println!("SM2 ephemeral keys pooled on this CPU: {}", pooling());
    }
}
