//! Bearer tokens: HS256 JWTs whose claims name the caller, their workspace, role and plan.
//! Members read the directory; integrations need an admin on the paid plan.

use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Paid,
    Free,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub workspace_id: String,
    pub role: Role,
    pub plan: Plan,
    pub exp: i64,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub subject: String,
    pub workspace_id: String,
    pub role: Role,
    pub plan: Plan,
}

/// Why a token was not accepted; shown to the caller as UNAUTHENTICATED.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("sign in: no bearer token was sent")]
    Missing,
    #[error("the bearer token is invalid or expired")]
    Invalid,
}

/// How far past `exp` a token is still accepted, for clocks a little apart (jsonwebtoken's
/// default is 60 s: a minute of use for a token its issuer considers expired).
pub const EXPIRY_LEEWAY_SECONDS: u64 = 5;

/// Signs and verifies tokens with the deployment's secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn mint(&self, subject: &str, workspace_id: &str, role: Role, plan: Plan, ttl: chrono::Duration) -> String {
        let claims = Claims {
            sub: subject.to_string(),
            workspace_id: workspace_id.to_string(),
            role,
            plan,
            exp: (Utc::now() + ttl).timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    /// Verifies an `Authorization` header value (`Bearer <jwt>`).
    pub fn verify_header(&self, header: Option<&str>) -> Result<Viewer, AuthError> {
        let token = header
            .map(str::trim)
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .ok_or(AuthError::Missing)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = EXPIRY_LEEWAY_SECONDS;
        let data = decode::<Claims>(token.trim(), &self.decoding, &validation).map_err(|_| AuthError::Invalid)?;
        let claims = data.claims;
        if claims.workspace_id.trim().is_empty() {
            return Err(AuthError::Invalid);
        }
        Ok(Viewer { subject: claims.sub, workspace_id: claims.workspace_id, role: claims.role, plan: claims.plan })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_others_do_not() {
        let keys = JwtKeys::from_secret(b"secret");
        let token = keys.mint("ada", "acme", Role::Admin, Plan::Paid, chrono::Duration::hours(1));
        let viewer = keys.verify_header(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!((viewer.workspace_id.as_str(), viewer.role), ("acme", Role::Admin));
        assert!(matches!(keys.verify_header(None), Err(AuthError::Missing)));
        let other = JwtKeys::from_secret(b"other");
        assert!(matches!(other.verify_header(Some(&format!("Bearer {token}"))), Err(AuthError::Invalid)));
        let expired = keys.mint("ada", "acme", Role::Admin, Plan::Paid, chrono::Duration::hours(-1));
        assert!(matches!(keys.verify_header(Some(&format!("Bearer {expired}"))), Err(AuthError::Invalid)));
    }
}
