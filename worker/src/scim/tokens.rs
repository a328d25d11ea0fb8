//! A SCIM connection's bearer token: random, shown to the admin once, kept only as its SHA-256
//! (a token is 256 random bits, so a fast hash is enough: there is nothing to guess from it).
//! Rotating it replaces the hash, so the old token stops working at once.

use base64::Engine;
use rand::RngCore;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// Marks our tokens, so a leaked one is recognisable in a secret scanner.
const PREFIX: &str = "dsscim_";

/// A new token and the hash to keep.
pub fn issue() -> (SecretString, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    (SecretString::from(token), hash)
}

/// The hash kept of `token`.
pub fn hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_token_matches_its_hash_only() {
        let (token, kept) = issue();
        assert!(token.expose_secret().starts_with(PREFIX) && token.expose_secret().len() > 40);
        assert_eq!(hash(token.expose_secret()), kept);
        let (other, _) = issue();
        assert_ne!(hash(other.expose_secret()), kept);
        assert_ne!(hash(""), kept);
        assert_ne!(kept, *token.expose_secret(), "the token itself is not kept");
    }
}
