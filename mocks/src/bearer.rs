//! `Authorization: Bearer <secret>` as the reference vendors check it (the DUIX webhook,
//! [`crate::duix::vendor`], and the Alibaba agents' LLM, [`crate::alibaba::llm::vendor`]): the
//! token of the header, and a comparison in constant time.

use sha2::{Digest, Sha256};

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 7235 §2.1).
pub fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, token) = value.split_at(space);
    scheme
        .eq_ignore_ascii_case(b"Bearer")
        .then(|| token.trim_ascii_start())
}

/// Whether `given` is the secret, in a time that depends on neither where they differ nor their
/// lengths (both are hashed first).
pub fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    let (given, secret) = (Sha256::digest(given), Sha256::digest(secret));
    let diff = given
        .iter()
        .zip(secret.iter())
        .fold(0u8, |acc, (a, b)| std::hint::black_box(acc | (a ^ b)));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_secret_compared_whole() {
        assert_eq!(bearer_token(b"Bearer s3cret"), Some(&b"s3cret"[..]));
        assert_eq!(bearer_token(b"bearer  s3cret"), Some(&b"s3cret"[..]));
        assert_eq!(bearer_token(b"Basic s3cret"), None);
        assert_eq!(bearer_token(b"Bearers3cret"), None);
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3cret\0", b"s3cret"));
        assert!(!same_secret(b"", b"s3cret"));
    }
}
