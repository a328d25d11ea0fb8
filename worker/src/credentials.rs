//! Provider credentials and their encryption at rest (AES-256-GCM, a fresh random nonce per
//! seal). Credentials are decrypted only to call the provider; `Debug` never shows them.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What the server holds to call a provider on a workspace's behalf.
#[derive(Clone)]
pub enum Credentials {
    ApiKey {
        key: SecretString,
        secret: Option<SecretString>,
    },
    OAuth(OAuthTokens),
    /// An API client the customer registered with the provider (Workday's "API Client for
    /// Integrations"), and the refresh token it issued for the account that reads the data.
    ApiClient {
        client_id: SecretString,
        client_secret: SecretString,
        refresh_token: SecretString,
    },
    /// Nothing to present: a source that is a file the admin uploaded.
    None,
}

#[derive(Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey { .. } => f.write_str("Credentials::ApiKey(<redacted>)"),
            Self::OAuth(_) => f.write_str("Credentials::OAuth(<redacted>)"),
            Self::ApiClient { .. } => f.write_str("Credentials::ApiClient(<redacted>)"),
            Self::None => f.write_str("Credentials::None"),
        }
    }
}

impl Credentials {
    /// The refresh token of OAuth credentials that expire within `margin`.
    pub fn refresh_due(&self, margin: chrono::Duration) -> Option<&SecretString> {
        match self {
            Self::OAuth(OAuthTokens { refresh_token: Some(token), expires_at: Some(at), .. })
                if *at <= Utc::now() + margin =>
            {
                Some(token)
            }
            _ => None,
        }
    }

    /// The key and the second secret of a provider whose form asks for both.
    pub fn key_and_secret(&self) -> Option<(&SecretString, &SecretString)> {
        match self {
            Self::ApiKey { key, secret: Some(secret) } => Some((key, secret)),
            _ => None,
        }
    }

    /// The last four characters of the key, for the admin to recognise which key is in use.
    pub fn hint(&self) -> String {
        let shown = match self {
            Self::ApiKey { key, .. } => key.expose_secret(),
            Self::OAuth(tokens) => tokens.access_token.expose_secret(),
            Self::ApiClient { client_id, .. } => client_id.expose_secret(),
            Self::None => return String::new(),
        };
        let tail: String = shown.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    }
}

/// The serialised form, only ever held inside [`CredentialCipher::seal`] / `open`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    ApiKey { key: String, secret: Option<String> },
    Oauth { access_token: String, refresh_token: Option<String>, expires_at: Option<DateTime<Utc>> },
    ApiClient { client_id: String, client_secret: String, refresh_token: String },
    None,
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("ENCRYPTION_KEY must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("stored credentials could not be decrypted (was ENCRYPTION_KEY changed?)")]
    Undecryptable,
}

const NONCE_LEN: usize = 12;

/// Seals and opens credentials with the deployment's encryption key.
#[derive(Clone)]
pub struct CredentialCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for CredentialCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialCipher(<key>)")
    }
}

impl CredentialCipher {
    /// From a base64-encoded 32-byte key.
    pub fn from_base64(key: &str) -> Result<Self, CipherError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(key.trim()).map_err(|_| CipherError::BadKey)?;
        if bytes.len() != 32 {
            return Err(CipherError::BadKey);
        }
        Ok(Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)) })
    }

    /// A fresh random key, base64-encoded, for embedded mode's generated secret.
    pub fn generate_key() -> String {
        base64::engine::general_purpose::STANDARD.encode(Aes256Gcm::generate_key(OsRng))
    }

    pub fn seal(&self, credentials: &Credentials) -> Vec<u8> {
        let stored = match credentials {
            Credentials::ApiKey { key, secret } => Stored::ApiKey {
                key: key.expose_secret().to_string(),
                secret: secret.as_ref().map(|s| s.expose_secret().to_string()),
            },
            Credentials::OAuth(t) => Stored::Oauth {
                access_token: t.access_token.expose_secret().to_string(),
                refresh_token: t.refresh_token.as_ref().map(|s| s.expose_secret().to_string()),
                expires_at: t.expires_at,
            },
            Credentials::ApiClient { client_id, client_secret, refresh_token } => Stored::ApiClient {
                client_id: client_id.expose_secret().to_string(),
                client_secret: client_secret.expose_secret().to_string(),
                refresh_token: refresh_token.expose_secret().to_string(),
            },
            Credentials::None => Stored::None,
        };
        self.encrypt(&serde_json::to_vec(&stored).expect("credentials serialise"))
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Credentials, CipherError> {
        let stored: Stored = serde_json::from_slice(&self.decrypt(sealed)?).map_err(|_| CipherError::Undecryptable)?;
        Ok(match stored {
            Stored::ApiKey { key, secret } => Credentials::ApiKey { key: key.into(), secret: secret.map(Into::into) },
            Stored::Oauth { access_token, refresh_token, expires_at } => Credentials::OAuth(OAuthTokens {
                access_token: access_token.into(),
                refresh_token: refresh_token.map(Into::into),
                expires_at,
            }),
            Stored::ApiClient { client_id, client_secret, refresh_token } => Credentials::ApiClient {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                refresh_token: refresh_token.into(),
            },
            Stored::None => Credentials::None,
        })
    }

    /// Seals a secret of our own (a webhook endpoint's signing secret).
    pub fn seal_secret(&self, secret: &SecretString) -> Vec<u8> {
        self.encrypt(secret.expose_secret().as_bytes())
    }

    pub fn open_secret(&self, sealed: &[u8]) -> Result<SecretString, CipherError> {
        let plaintext = String::from_utf8(self.decrypt(sealed)?).map_err(|_| CipherError::Undecryptable)?;
        Ok(plaintext.into())
    }

    /// nonce ‖ ciphertext.
    fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self.cipher.encrypt(&nonce, plaintext).expect("AES-GCM seals any length");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() <= NONCE_LEN {
            return Err(CipherError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| CipherError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_round_trip_and_hide_the_key() {
        let cipher = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        let creds = Credentials::ApiKey { key: "secret-key-3f9a".to_string().into(), secret: None };
        let sealed = cipher.seal(&creds);
        assert!(!sealed.windows(4).any(|w| w == b"3f9a"), "plaintext leaked into ciphertext");
        match cipher.open(&sealed).unwrap() {
            Credentials::ApiKey { key, .. } => assert_eq!(key.expose_secret(), "secret-key-3f9a"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(creds.hint(), "…3f9a");
        assert!(!format!("{creds:?}").contains("secret"));
    }

    #[test]
    fn another_key_cannot_open() {
        let a = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        let b = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        let sealed = a.seal(&Credentials::ApiKey { key: "k".to_string().into(), secret: None });
        assert!(matches!(b.open(&sealed), Err(CipherError::Undecryptable)));
        assert!(matches!(CredentialCipher::from_base64("short"), Err(CipherError::BadKey)));
    }
}
