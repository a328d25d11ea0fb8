//! Signing per the Standard Webhooks specification: the secret is `whsec_` and the base64 of its
//! key bytes; a delivery's `webhook-signature` is `v1,` and the base64 HMAC-SHA256, under that
//! key, of `<webhook-id>.<webhook-timestamp>.<body>`. Several signatures (during a secret's
//! rotation) are separated by spaces, and a receiver accepts any one of them.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// Key bytes of a new secret (the specification asks for 24 to 64).
const KEY_LEN: usize = 32;

/// A new endpoint secret, as the admin is shown it once: `whsec_…`.
pub fn generate_secret() -> SecretString {
    let mut key = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(key)).into()
}

/// The `v1,<base64>` signature of one attempt with `secret` (`whsec_…`); `None` when the
/// secret is not one this module made.
pub fn sign(secret: &SecretString, webhook_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let encoded = secret.expose_secret().strip_prefix(PREFIX)?;
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{webhook_id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_specifications_example() {
        // The reference libraries' own test vector.
        let secret = SecretString::from("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
        let body = r#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(&secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body).as_deref(),
            Some("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
        );
    }

    #[test]
    fn new_secrets_differ_and_sign() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with("whsec_"));
        assert!(sign(&a, "id", 1, "{}").is_some());
        assert_eq!(sign(&SecretString::from("not-a-secret"), "id", 1, "{}"), None);
    }
}
