//! The provider catalogue: the one place that lists every supported provider. Adding a provider
//! means a module of its own, its sandbox fake, and one line in [`PROVIDERS`].

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use uuid::Uuid;

use super::http::ProviderHttp;
use super::pace::Quota;
use super::{
    bamboohr, greenhouse, hibob, lever, merge, merge_ats, personio, scim, spreadsheet, workday, Connector,
    ProviderError,
};
use crate::credentials::Credentials;
use crate::scim::store::PushedUsers;
use crate::uploads::UploadStore;

/// Every provider this build can connect to.
static PROVIDERS: &[&dyn Provider] = &[
    &bamboohr::BambooHr,
    &personio::Personio,
    &hibob::HiBob,
    &merge::Merge,
    &workday::Workday,
    &greenhouse::Greenhouse,
    &lever::Lever,
    &merge_ats::MergeAts,
    &spreadsheet::Spreadsheet,
    &scim::Scim,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderCategory {
    Hris,
    Ats,
    /// An identity provider (Okta, Entra ID): it knows who may sign in, not who is employed.
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A sign-in at the provider ("Open Window"): OAuth, or a bridge's own linking widget.
    Credentials,
    ApiKey,
    /// A file the admin uploads (a spreadsheet): nothing to sign in to.
    Upload,
    /// The provider pushes its changes to us (SCIM), with a token we issue.
    Push,
}

/// How a provider's "Open Window" sign-in comes back to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// OAuth 2.0: the provider redirects the admin's browser to `GET /oauth/callback` with a code.
    OAuthRedirect,
    /// The provider's widget, embedded in the page, hands the frontend a public token, which it
    /// passes to `completeCredentialConnection`.
    EmbeddedLink,
}

/// One of the values the API-key form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    Subdomain,
    ApiKey,
    ApiSecret,
    /// A refresh token the provider issued to the customer's own API client (the key and
    /// secret then being the client's id and secret).
    RefreshToken,
}

impl CredentialKey {
    /// The input field's name in `connectWithApiKey`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subdomain => "subdomain",
            Self::ApiKey => "apiKey",
            Self::ApiSecret => "apiSecret",
            Self::RefreshToken => "refreshToken",
        }
    }
}

/// How the API-key form labels one value, and whether it hides it as a secret.
#[derive(Debug)]
pub struct CredentialField {
    pub key: CredentialKey,
    pub label: &'static str,
    pub secret: bool,
    pub help: Option<&'static str>,
}

/// What the Integrations page shows about a provider before connecting.
#[derive(Debug)]
pub struct ProviderInfo {
    /// Stable slug; also the prefix of its configuration variables (`BAMBOOHR_API_BASE`).
    pub id: &'static str,
    pub name: &'static str,
    pub category: ProviderCategory,
    pub logo_url: &'static str,
    /// The "Open Window" sign-in, where the provider has one.
    pub sign_in: Option<SignIn>,
    /// What the API-key form asks for, in order; without an `ApiKey` field there is no API-key
    /// method. A `Subdomain` field is asked for by the sign-in too.
    pub credential_fields: &'static [CredentialField],
    pub api_key_instructions: &'static str,
    pub read_permissions: &'static [&'static str],
    pub terms_url: &'static str,
    /// internal field → the provider's field key, offered before the admin saves a mapping.
    pub suggested_mapping: &'static [(&'static str, &'static str)],
    /// Its fields are named by the admin (a spreadsheet's headings, a custom report's columns):
    /// a suggestion also matches usual headings (see `mapping::headings`).
    pub named_by_admin: bool,
    /// Its data is a file the admin uploads, not an API we call.
    pub uploaded: bool,
    /// It pushes its changes to an endpoint we serve (SCIM), rather than being read.
    pub pushed: bool,
}

impl ProviderInfo {
    /// The ways to connect, sign-in first.
    pub fn auth_methods(&self) -> Vec<AuthMethod> {
        let sign_in = self.sign_in.map(|_| AuthMethod::Credentials);
        let api_key = self.credential_field(CredentialKey::ApiKey).map(|_| AuthMethod::ApiKey);
        let upload = self.uploaded.then_some(AuthMethod::Upload);
        let push = self.pushed.then_some(AuthMethod::Push);
        sign_in.into_iter().chain(api_key).chain(upload).chain(push).collect()
    }

    /// Whether we call the provider's API (and so its sandbox has a fake of it): not for a file
    /// an admin uploads, nor for a provider that pushes to us.
    pub fn is_called(&self) -> bool {
        !self.uploaded && !self.pushed
    }

    /// The form field for `key`, if the provider asks for it.
    pub fn credential_field(&self, key: CredentialKey) -> Option<&CredentialField> {
        self.credential_fields.iter().find(|f| f.key == key)
    }

    /// How the company domain is labelled; `None` when the provider needs none.
    pub fn subdomain_label(&self) -> Option<&'static str> {
        self.credential_field(CredentialKey::Subdomain).map(|f| f.label)
    }
}

/// What a sign-in needs to start.
#[derive(Debug)]
pub struct SignInRequest<'a> {
    pub subdomain: Option<&'a str>,
    /// Opaque, single-use value the provider hands back to `redirect_uri`.
    pub state: &'a str,
    pub redirect_uri: &'a str,
    /// The connection being signed in, for providers that keep our id for it.
    pub connection_id: Uuid,
    /// Who is connecting: the workspace and the admin, for providers that show them.
    pub workspace_id: &'a str,
    pub admin: &'a str,
}

/// Where the admin's browser goes to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInStart {
    /// A page to open in a new window.
    pub authorization_url: String,
    /// A token for the provider's widget embedded in the page (Merge Link), where it has one.
    pub link_token: Option<String>,
}

/// A provider's sign-in widget, embedded in the admin's page (Merge Link): the portal loads its
/// script, which opens the widget in a frame, so the page's Content-Security-Policy names both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widget {
    pub script_url: String,
    /// Where the widget's frame is served from (scheme, host and port).
    pub frame_origin: String,
}

impl Widget {
    /// The provider's own widget, or, with `<PROVIDER>_WIDGET_BASE` set, the one served there
    /// (`<base>/initialize.js`, frames from the base's origin): the sandbox's, in tests.
    pub fn at(ctx: &ProviderContext, script_url: &str, frame_origin: &str) -> Self {
        match ctx.endpoints.widget_base.as_deref().map(|b| b.trim_end_matches('/')) {
            Some(base) => Self { script_url: format!("{base}/initialize.js"), frame_origin: origin_of(base) },
            None => Self { script_url: script_url.into(), frame_origin: frame_origin.into() },
        }
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_string(), |u| u.origin().ascii_serialization())
}

/// What the admin's sign-in brought back, to trade for credentials.
#[derive(Debug, Clone, Copy)]
pub enum SignInProof<'a> {
    /// OAuth: the code the provider redirected to `redirect_uri` with.
    AuthorizationCode { code: &'a str, redirect_uri: &'a str },
    /// An embedded widget's one-time token, handed over by the frontend.
    PublicToken(&'a str),
}

/// A provider's behaviour: building connectors and running its sign-in.
#[async_trait]
pub trait Provider: Send + Sync {
    fn info(&self) -> &'static ProviderInfo;

    /// Whose configuration variables it reads (`<ID>_API_BASE`, ...): its own, unless it is
    /// one more category of a provider already listed (Merge's ATS is Merge's).
    fn settings_id(&self) -> &'static str {
        self.info().id
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError>;

    /// Where the form's tenant field (`subdomain`) says the account is, checked and normalised,
    /// or why it says nowhere, for a provider whose field is not a company domain (a report's
    /// address); `None` for the others, whose field is a company domain.
    fn tenant_address(&self, _ctx: &ProviderContext, _raw: &str) -> Option<Result<String, String>> {
        None
    }

    /// Starts the "Open Window" sign-in.
    async fn begin_sign_in(
        &self,
        _ctx: &ProviderContext,
        _request: SignInRequest<'_>,
    ) -> Result<SignInStart, ProviderError> {
        Err(self.no_sign_in())
    }

    /// The widget its sign-in opens in the admin's page, for providers whose sign-in is an
    /// embedded widget and that this deployment can connect.
    fn widget(&self, _ctx: &ProviderContext) -> Option<Widget> {
        None
    }

    /// Trades what the sign-in brought back for credentials.
    async fn complete_sign_in(
        &self,
        _ctx: &ProviderContext,
        _subdomain: Option<&str>,
        _proof: SignInProof<'_>,
    ) -> Result<Credentials, ProviderError> {
        Err(self.no_sign_in())
    }

    /// Trades a refresh token for fresh credentials before the access token expires.
    async fn refresh_tokens(
        &self,
        _ctx: &ProviderContext,
        _subdomain: Option<&str>,
        _refresh_token: &SecretString,
    ) -> Result<Credentials, ProviderError> {
        Err(self.no_sign_in())
    }

    /// The refusal of a provider without a sign-in, or of a proof its sign-in does not give.
    fn no_sign_in(&self) -> ProviderError {
        ProviderError::NotConfigured(format!("{} does not connect this way", self.info().name))
    }
}

/// Looks a provider up by its slug.
pub fn find(id: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.info().id == id)
}

/// Whether the provider `id` is a file the admin uploads (see [`ProviderInfo::uploaded`]).
pub fn is_uploaded(id: &str) -> bool {
    find(id).is_some_and(|p| p.info().uploaded)
}

/// Whether the provider `id` pushes its changes to us (see [`ProviderInfo::pushed`]).
pub fn is_pushed(id: &str) -> bool {
    find(id).is_some_and(|p| p.info().pushed)
}

/// Every provider, in catalogue order.
pub fn all() -> impl Iterator<Item = &'static dyn Provider> {
    PROVIDERS.iter().copied()
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

/// Deployment-specific settings of one provider, each read from `<PROVIDER>_<NAME>`; unset
/// fields mean the provider's real URLs and features that need them off.
#[derive(Debug, Clone, Default)]
pub struct ProviderEndpoints {
    /// `_API_BASE`.
    pub api_base: Option<String>,
    /// `_OAUTH_BASE`.
    pub oauth_base: Option<String>,
    /// `_CLIENT_ID` and `_CLIENT_SECRET`.
    pub oauth_app: Option<OAuthApp>,
    /// `_API_KEY`: the operator's own key with the provider, for bridges that act on many
    /// accounts with one (Merge's production key).
    pub operator_key: Option<SecretString>,
    /// `_REQUESTS_PER_MINUTE`: the per-minute quota of this deployment's plan with the provider,
    /// where it differs from the documented one (Merge: 100 on Launch, 400 Professional, 600
    /// Enterprise), or a share of it left for other tools.
    pub requests_per_minute: Option<u32>,
    /// `_WIDGET_BASE`: where the provider's embedded sign-in widget is served (see [`Widget::at`]).
    pub widget_base: Option<String>,
    /// `_ALLOWED_HOSTS` (comma-separated): hosts besides the provider's own that an admin may
    /// give an address at, for providers whose form takes one (a Workday tenant on a custom
    /// domain).
    pub allowed_hosts: Vec<String>,
}

/// Everything a provider needs at call time.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    pub http: ProviderHttp,
    pub endpoints: ProviderEndpoints,
    /// The connection a connector is opened for, once it exists (not while a form's keys are
    /// first verified).
    pub connection_id: Option<Uuid>,
    /// Where uploaded files are kept, for sources that are a file.
    pub uploads: Option<UploadStore>,
    /// Where pushed users are kept, for sources that push (SCIM).
    pub pushed: Option<PushedUsers>,
}

impl ProviderContext {
    /// The configured API base (`<PROVIDER>_API_BASE`), or the provider's real one, without a
    /// trailing slash.
    pub fn api_base(&self, default: &str) -> String {
        self.endpoints.api_base.as_deref().unwrap_or(default).trim_end_matches('/').to_string()
    }

    /// The provider's `documented` quotas, with the per-minute one set by
    /// `<PROVIDER>_REQUESTS_PER_MINUTE` where the deployment sets it.
    pub fn quotas(&self, documented: &[Quota]) -> Vec<Quota> {
        let Some(per_minute) = self.endpoints.requests_per_minute else { return documented.to_vec() };
        let others = documented.iter().filter(|q| q.per != Duration::from_secs(60)).copied();
        others.chain([Quota::per_minute(per_minute)]).collect()
    }
}

/// The HTTP client plus per-provider endpoint settings, shared by API and workers.
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    http: ProviderHttp,
    endpoints: HashMap<String, ProviderEndpoints>,
    uploads: Option<UploadStore>,
    pushed: Option<PushedUsers>,
}

impl ProviderRegistry {
    pub fn new(http: ProviderHttp, endpoints: HashMap<String, ProviderEndpoints>) -> Self {
        Self { http, endpoints, uploads: None, pushed: None }
    }

    /// This registry, its connectors reading uploaded files from `uploads`.
    pub fn with_uploads(self, uploads: UploadStore) -> Self {
        Self { uploads: Some(uploads), ..self }
    }

    /// This registry, its connectors reading what SCIM providers pushed from `pushed`.
    pub fn with_pushed(self, pushed: PushedUsers) -> Self {
        Self { pushed: Some(pushed), ..self }
    }

    /// The ids whose settings may be configured, for the configuration loader.
    pub fn provider_ids() -> impl Iterator<Item = &'static str> {
        let mut ids: Vec<&str> = PROVIDERS.iter().map(|p| p.settings_id()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
    }

    /// Every widget a sign-in may open in the admin's page.
    pub fn widgets(&self) -> Vec<Widget> {
        let mut widgets: Vec<Widget> = Vec::new();
        for widget in PROVIDERS.iter().filter_map(|p| p.widget(&self.context(p.info().id))) {
            if !widgets.contains(&widget) {
                widgets.push(widget);
            }
        }
        widgets
    }

    /// What provider `provider_id` needs at call time, with its settings.
    pub fn context(&self, provider_id: &str) -> ProviderContext {
        let settings = find(provider_id).map_or(provider_id, |p| p.settings_id());
        ProviderContext {
            http: self.http.clone(),
            endpoints: self.endpoints.get(settings).cloned().unwrap_or_default(),
            connection_id: None,
            uploads: self.uploads.clone(),
            pushed: self.pushed.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::mapping::INTERNAL_FIELDS;

    #[test]
    fn search_is_case_insensitive_and_filters_by_category() {
        assert_eq!(search(Some("BAMBOO"), None)[0].id, "bamboohr");
        assert!(search(Some("bamboo"), Some(ProviderCategory::Ats)).is_empty());
        assert_eq!(search(None, Some(ProviderCategory::Ats))[0].id, "greenhouse");
        assert!(search(Some("no such provider"), None).is_empty());
        assert_eq!(search(None, None).len(), PROVIDERS.len());
    }

    #[test]
    fn a_widget_is_the_providers_own_unless_the_deployment_serves_another() {
        let context = |widget_base: Option<&str>| ProviderContext {
            http: ProviderHttp::new(super::super::http::RetryPolicy::default()),
            endpoints: ProviderEndpoints { widget_base: widget_base.map(Into::into), ..Default::default() },
            connection_id: None,
            uploads: None,
            pushed: None,
        };
        let own = Widget::at(&context(None), "https://cdn.example/initialize.js", "https://link.example");
        assert_eq!(
            own,
            Widget {
                script_url: "https://cdn.example/initialize.js".into(),
                frame_origin: "https://link.example".into()
            }
        );
        let served = Widget::at(
            &context(Some("http://127.0.0.1:9/merge/")),
            "https://cdn.example/initialize.js",
            "https://link.example",
        );
        assert_eq!(served.script_url, "http://127.0.0.1:9/merge/initialize.js");
        assert_eq!(served.frame_origin, "http://127.0.0.1:9");
        assert_eq!(origin_of("https://link.example"), "https://link.example");
    }

    #[test]
    fn a_deployments_plan_sets_the_per_minute_quota() {
        let registry = |per_minute| {
            let endpoints = ProviderEndpoints { requests_per_minute: per_minute, ..ProviderEndpoints::default() };
            let http = ProviderHttp::new(super::super::http::RetryPolicy::default());
            ProviderRegistry::new(http, HashMap::from([("merge".to_string(), endpoints)])).context("merge")
        };
        let documented = [Quota::per_minute(100), Quota::per_second(15)];
        assert_eq!(registry(None).quotas(&documented), documented);
        assert_eq!(registry(Some(600)).quotas(&documented), [Quota::per_second(15), Quota::per_minute(600)]);
    }

    #[test]
    fn every_entry_is_complete_and_unique() {
        let mut ids = HashSet::new();
        for info in all().map(|p| p.info()) {
            assert!(ids.insert(info.id), "{} listed twice", info.id);
            assert!(info.id.chars().all(|c| c.is_ascii_lowercase()), "{}: ids prefix variables", info.id);
            assert!(!info.auth_methods().is_empty(), "{}", info.id);
            let keys: Vec<CredentialKey> = info.credential_fields.iter().map(|f| f.key).collect();
            assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len(), "{}: a field asked twice", info.id);
            for (internal, _) in info.suggested_mapping {
                assert!(INTERNAL_FIELDS.iter().any(|f| f.key == *internal), "{}: no field {internal}", info.id);
            }
            let suggests_email = info.suggested_mapping.iter().any(|(internal, _)| *internal == "email");
            assert!(suggests_email || info.named_by_admin, "{}: suggests an email, by name or by heading", info.id);
        }
    }
}
