//! Secrets: random tokens, their stored SHA-256 hashes, and constant-time
//! comparison. Plain tokens are shown once and never stored.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes as lower-case hex, from the OS generator.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the OS random generator works");
    hex(&buf)
}

/// A new manager bearer token.
pub fn new_manager_token() -> String {
    format!("scm_{}", random_hex(24))
}

/// A new widget API key.
pub fn new_api_key() -> String {
    format!("sck_{}", random_hex(16))
}

/// A new visitor secret (`userSessionId`).
pub fn new_user_session_id() -> String {
    random_hex(16)
}

/// Hex SHA-256 of a token: what the database stores.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = new_manager_token();
        let b = new_manager_token();
        assert_ne!(a, b);
        assert!(a.starts_with("scm_") && a.len() == 52);
        assert!(new_api_key().starts_with("sck_"));
    }

    #[test]
    fn ct_eq_compares_whole_strings() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
    }
}
