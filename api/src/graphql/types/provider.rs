use async_graphql::{Enum, Object, SimpleObject, ID};

use worker::providers::catalogue;
use worker::providers::ProviderInfo;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProviderCategory {
    Hris,
    Ats,
    /// An identity provider (Okta, Entra ID) pushing its users over SCIM.
    Identity,
}

impl From<catalogue::ProviderCategory> for ProviderCategory {
    fn from(c: catalogue::ProviderCategory) -> Self {
        match c {
            catalogue::ProviderCategory::Hris => Self::Hris,
            catalogue::ProviderCategory::Ats => Self::Ats,
            catalogue::ProviderCategory::Identity => Self::Identity,
        }
    }
}

impl From<ProviderCategory> for catalogue::ProviderCategory {
    fn from(c: ProviderCategory) -> Self {
        match c {
            ProviderCategory::Hris => Self::Hris,
            ProviderCategory::Ats => Self::Ats,
            ProviderCategory::Identity => Self::Identity,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Credentials,
    ApiKey,
    /// A file the admin uploads (`uploadSpreadsheet`).
    Upload,
    /// The provider pushes its changes over SCIM with the token `connectScim` issued.
    Push,
}

impl From<catalogue::AuthMethod> for AuthMethod {
    fn from(m: catalogue::AuthMethod) -> Self {
        match m {
            catalogue::AuthMethod::Credentials => Self::Credentials,
            catalogue::AuthMethod::ApiKey => Self::ApiKey,
            catalogue::AuthMethod::Upload => Self::Upload,
            catalogue::AuthMethod::Push => Self::Push,
        }
    }
}

/// A provider in the Integrations catalogue.
pub struct Provider(pub &'static ProviderInfo);

#[Object]
impl Provider {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        self.0.name
    }
    async fn category(&self) -> ProviderCategory {
        self.0.category.into()
    }
    async fn logo_url(&self) -> &str {
        self.0.logo_url
    }
    async fn auth_methods(&self) -> Vec<AuthMethod> {
        self.0.auth_methods().into_iter().map(Into::into).collect()
    }
    async fn subdomain_label(&self) -> Option<&str> {
        self.0.subdomain_label()
    }
    /// What the API-key method asks for, in order, and how to label it.
    async fn credential_fields(&self) -> Vec<CredentialField> {
        self.0
            .credential_fields
            .iter()
            .map(|f| CredentialField { key: f.key.as_str(), label: f.label, secret: f.secret, help: f.help })
            .collect()
    }
    async fn api_key_instructions(&self) -> &str {
        self.0.api_key_instructions
    }
    async fn read_permissions(&self) -> Vec<&str> {
        self.0.read_permissions.to_vec()
    }
    async fn terms_url(&self) -> &str {
        self.0.terms_url
    }
}

/// One value of the API-key form.
#[derive(SimpleObject)]
pub struct CredentialField {
    /// `subdomain`, `apiKey`, `apiSecret` or `refreshToken`: the `connectWithApiKey` input field it
    /// fills.
    pub key: &'static str,
    pub label: &'static str,
    /// Hide it as a password.
    pub secret: bool,
    /// Where to find it at the provider.
    pub help: Option<&'static str>,
}
