//! String comparison usable in `const fn`s.

/// Whether two strings are equal, byte by byte (`==` on `str` is not `const`).
pub(crate) const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_bytes() {
        assert!(super::eq("lstm", "lstm"));
        assert!(!super::eq("lstm", "lstm_1"));
        assert!(!super::eq("gru", "GRU"));
        assert!(super::eq("", ""));
    }
}
