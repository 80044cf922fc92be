//! Constant-time helpers.

/// Compares two byte strings in time that depends only on their lengths.
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn eq_compares_every_byte() {
        assert!(super::eq(b"abc", b"abc"));
        assert!(!super::eq(b"abc", b"abd"));
        assert!(!super::eq(b"xbc", b"abc"));
        assert!(!super::eq(b"ab", b"abc"));
        assert!(super::eq(b"", b""));
    }
}
