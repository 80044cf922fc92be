//! Bounded readers and writers for the TLS-style encodings TLCP uses (GB/T 38636-2020 clause
//! 6.3 borrows RFC 5246 section 4's presentation language): big-endian integers and vectors
//! with 1-, 2- or 3-byte length prefixes. Every read checks what is left, so no input can make
//! a parser read past its message or allocate more than the message holds.

use super::error::Error;

/// Reads a message front to back.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not yet read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.buf.len() {
            return Err(Error::decode("message truncated"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self) -> Result<usize, Error> {
        let b = self.take(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    /// A fixed-size array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// `opaque x<0..2^8-1>`.
    pub(crate) fn vec8(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u8()?;
        self.take(n.into())
    }

    /// `opaque x<0..2^16-1>`.
    pub(crate) fn vec16(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u16()?;
        self.take(n.into())
    }

    /// `opaque x<0..2^24-1>`.
    pub(crate) fn vec24(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u24()?;
        self.take(n)
    }

    /// Fails unless everything was read: trailing bytes are a decode error.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::decode("trailing bytes in a message"))
        }
    }
}

/// Appends a message's encoding.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u24(&mut self, v: usize);
    /// `opaque x<..2^8-1>`; the caller keeps `v` short enough.
    fn put_vec8(&mut self, v: &[u8]);
    fn put_vec16(&mut self, v: &[u8]);
    fn put_vec24(&mut self, v: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }

    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }

    fn put_u24(&mut self, v: usize) {
        debug_assert!(v < 1 << 24);
        self.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
    }

    fn put_vec8(&mut self, v: &[u8]) {
        debug_assert!(v.len() < 1 << 8);
        self.put_u8(v.len() as u8);
        self.extend_from_slice(v);
    }

    fn put_vec16(&mut self, v: &[u8]) {
        debug_assert!(v.len() < 1 << 16);
        self.put_u16(v.len() as u16);
        self.extend_from_slice(v);
    }

    fn put_vec24(&mut self, v: &[u8]) {
        self.put_u24(v.len());
        self.extend_from_slice(v);
    }
}
