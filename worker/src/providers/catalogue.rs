//! The provider catalogue: the one place that lists every supported provider. Adding a provider
//! means a module of its own, its sandbox fake, and one line in [`PROVIDERS`].

use std::collections::HashMap;

use async_trait::async_trait;
use secrecy::SecretString;

use super::http::ProviderHttp;
use super::{bamboohr, Connector, ProviderError};
use crate::credentials::Credentials;

/// Every provider this build can connect to.
static PROVIDERS: &[&dyn Provider] = &[&bamboohr::BambooHr];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderCategory {
    Hris,
    Ats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// OAuth 2.0 authorization-code sign-in ("Open Window").
    Credentials,
    ApiKey,
}

/// What the Integrations page shows about a provider before connecting.
#[derive(Debug)]
pub struct ProviderInfo {
    /// Stable slug; also the prefix of its configuration variables (`BAMBOOHR_API_BASE`).
    pub id: &'static str,
    pub name: &'static str,
    pub category: ProviderCategory,
    pub logo_url: &'static str,
    pub auth_methods: &'static [AuthMethod],
    pub subdomain_label: Option<&'static str>,
    pub api_key_instructions: &'static str,
    pub read_permissions: &'static [&'static str],
    pub terms_url: &'static str,
    /// internal field → the provider's field key, offered before the admin saves a mapping.
    pub suggested_mapping: &'static [(&'static str, &'static str)],
}

/// A provider's behaviour: building connectors and running its OAuth flow.
#[async_trait]
pub trait Provider: Send + Sync {
    fn info(&self) -> &'static ProviderInfo;

    fn connector(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError>;

    /// The "Open Window" URL the admin's browser visits to grant access.
    fn authorization_url(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        state: &str,
        redirect_uri: &str,
    ) -> Result<String, ProviderError>;

    /// Trades the authorization code the provider redirected back with for tokens.
    async fn exchange_code(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Credentials, ProviderError>;

    /// Trades a refresh token for fresh OAuth credentials before the access token expires.
    async fn refresh_tokens(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        refresh_token: &SecretString,
    ) -> Result<Credentials, ProviderError>;
}

/// Looks a provider up by its slug.
pub fn find(id: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.info().id == id)
}

/// The catalogue filtered by a case-insensitive name search and a category.
pub fn search(text: Option<&str>, category: Option<ProviderCategory>) -> Vec<&'static ProviderInfo> {
    let needle = text.map(|t| t.trim().to_lowercase()).unwrap_or_default();
    PROVIDERS
        .iter()
        .map(|p| p.info())
        .filter(|info| category.is_none_or(|c| info.category == c))
        .filter(|info| needle.is_empty() || info.name.to_lowercase().contains(&needle) || info.id.contains(&needle))
        .collect()
}

/// An OAuth application registered with a provider.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Deployment-specific settings of one provider; unset fields mean the provider's real URLs.
#[derive(Debug, Clone, Default)]
pub struct ProviderEndpoints {
    pub api_base: Option<String>,
    pub oauth_base: Option<String>,
    pub oauth_app: Option<OAuthApp>,
}

/// Everything a provider needs at call time.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    pub http: ProviderHttp,
    pub endpoints: ProviderEndpoints,
}

/// The HTTP client plus per-provider endpoint settings, shared by API and workers.
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    http: ProviderHttp,
    endpoints: HashMap<String, ProviderEndpoints>,
}

impl ProviderRegistry {
    pub fn new(http: ProviderHttp, endpoints: HashMap<String, ProviderEndpoints>) -> Self {
        Self { http, endpoints }
    }

    /// Provider ids whose settings may be configured, for the configuration loader.
    pub fn provider_ids() -> impl Iterator<Item = &'static str> {
        PROVIDERS.iter().map(|p| p.info().id)
    }

    pub fn context(&self, provider_id: &str) -> ProviderContext {
        ProviderContext {
            http: self.http.clone(),
            endpoints: self.endpoints.get(provider_id).cloned().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_is_case_insensitive_and_filters_by_category() {
        assert_eq!(search(Some("BAMBOO"), None)[0].id, "bamboohr");
        assert!(search(Some("bamboo"), Some(ProviderCategory::Ats)).is_empty());
        assert!(search(Some("no such provider"), None).is_empty());
        assert_eq!(search(None, None).len(), PROVIDERS.len());
    }
}
