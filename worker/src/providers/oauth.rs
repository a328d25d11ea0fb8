//! What the providers with an "Open Window" sign-in share of OAuth 2.0's authorization-code
//! grant (RFC 6749 §4.1, refreshed as §6 says): the deployment's registered app, the token
//! endpoint's answer, and how a connector then signs its calls; and, for connectors that trade
//! a credential of their own for hour-long bearer tokens (client credentials, a customer's API
//! client's refresh token), the token kept between calls. Each provider keeps its own URLs,
//! scopes and failure meanings.

use chrono::{Duration, Utc};
use reqwest::RequestBuilder;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::catalogue::{OAuthApp, ProviderContext, SignInRequest, SignInStart};
use super::http::AccountHttp;
use super::ProviderError;
use crate::credentials::{Credentials, OAuthTokens};

/// The app this deployment registered with the provider called `name`, configured as
/// `<PREFIX>_CLIENT_ID` and `<PREFIX>_CLIENT_SECRET`.
pub fn registered_app<'c>(ctx: &'c ProviderContext, name: &str, prefix: &str) -> Result<&'c OAuthApp, ProviderError> {
    ctx.endpoints.oauth_app.as_ref().ok_or_else(|| {
        ProviderError::NotConfigured(format!(
            "sign-in with {name} is not set up on this server ({prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET); \
             connect with an API key instead"
        ))
    })
}

/// The sign-in page at `endpoint` (configured by `setting`) for `request`: the app, where to
/// come back to, the state, a code for `scope`, and the provider's `extra` parameters.
pub fn sign_in_page(
    endpoint: &str,
    setting: &str,
    app: &OAuthApp,
    request: &SignInRequest<'_>,
    scope: &str,
    extra: &[(&str, &str)],
) -> Result<SignInStart, ProviderError> {
    let mut url = url::Url::parse(endpoint).map_err(|e| ProviderError::NotConfigured(format!("{setting}: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", request.redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", request.state)
        .extend_pairs(extra);
    Ok(SignInStart { authorization_url: url.into(), link_token: None })
}

/// The grant that trades the code a sign-in brought back.
pub fn code_grant(code: &str, redirect_uri: &str) -> Value {
    json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri })
}

/// The grant that trades a refresh token.
pub fn refresh_grant(refresh_token: &SecretString) -> Value {
    json!({ "grant_type": "refresh_token", "refresh_token": refresh_token.expose_secret() })
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
}

/// Posts `grant` with the app's client id and secret, as JSON, to the token endpoint `url`. An
/// answer without a new refresh token keeps `previous_refresh`.
pub async fn request_tokens(
    http: &AccountHttp,
    url: &str,
    app: &OAuthApp,
    mut grant: Value,
    previous_refresh: Option<&SecretString>,
) -> Result<Credentials, ProviderError> {
    grant["client_id"] = json!(app.client_id);
    grant["client_secret"] = json!(app.client_secret.expose_secret());
    let answer: TokenAnswer =
        http.json("token answer", |c| c.post(url).header("Accept", "application/json").json(&grant)).await?;
    Ok(Credentials::OAuth(OAuthTokens {
        access_token: SecretString::from(answer.access_token),
        refresh_token: answer.refresh_token.map(SecretString::from).or_else(|| previous_refresh.cloned()),
        expires_at: answer.expires_in.map(|s| Utc::now() + Duration::seconds(s)),
    }))
}

/// How a connector signs its calls: with an API key over HTTP Basic (the key as user name and
/// the provider's fixed password), or with a signed-in admin's bearer token.
pub enum CallAuth {
    Basic { key: SecretString, password: &'static str },
    Bearer { token: SecretString, grant: SecretString },
}

impl CallAuth {
    /// For `credentials`, a key signing as user name with `password`.
    pub fn of(credentials: &Credentials, password: &'static str) -> Result<Self, ProviderError> {
        match credentials {
            Credentials::ApiKey { key, .. } => Ok(Self::Basic { key: key.clone(), password }),
            Credentials::OAuth(tokens) => Ok(Self::Bearer {
                token: tokens.access_token.clone(),
                grant: tokens.refresh_token.clone().unwrap_or_else(|| tokens.access_token.clone()),
            }),
            Credentials::ApiClient { .. } | Credentials::None => {
                Err(ProviderError::InvalidCredentials("the connection has no credentials for this provider".into()))
            }
        }
    }

    pub fn sign(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::Basic { key, password } => request.basic_auth(key.expose_secret(), Some(*password)),
            Self::Bearer { token, .. } => request.bearer_auth(token.expose_secret()),
        }
    }

    /// What names the provider account whose quota the calls share: the key, or the sign-in's
    /// refresh token, which outlives the hourly access tokens (so calls on either side of a
    /// refresh share one pace).
    pub fn account(&self) -> &str {
        match self {
            Self::Basic { key, .. } => key.expose_secret(),
            Self::Bearer { grant, .. } => grant.expose_secret(),
        }
    }
}

/// A bearer token a connector traded for at a token endpoint, reused until a few minutes before
/// it lapses, so no request goes out with a token about to.
#[derive(Default)]
pub struct HeldToken {
    held: Mutex<Option<(String, std::time::Instant)>>,
}

#[derive(Deserialize)]
struct TradedToken {
    access_token: String,
    expires_in: Option<u64>,
}

impl HeldToken {
    /// The token held, or a new one: the answer of the request `build` makes (an hour's when it
    /// says no lifetime).
    pub async fn get(
        &self,
        http: &AccountHttp,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<String, ProviderError> {
        let mut held = self.held.lock().await;
        if let Some((token, renew_at)) = held.as_ref() {
            if std::time::Instant::now() < *renew_at {
                return Ok(token.clone());
            }
        }
        let traded: TradedToken = http.json("access token", build).await?;
        let lifetime = std::time::Duration::from_secs(traded.expires_in.unwrap_or(3600));
        let early =
            lifetime.saturating_sub(std::time::Duration::from_secs(300)).max(std::time::Duration::from_secs(30));
        *held = Some((traded.access_token.clone(), std::time::Instant::now() + early));
        Ok(traded.access_token)
    }
}
