//! Configuration, read once from the environment at start-up. Every error names the variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use api::ApiLimits;
use secrecy::SecretString;

use worker::credentials::CredentialCipher;
use worker::invitations::{InvitationTemplate, Mailbox, Mailer};
use worker::providers::catalogue::{OAuthApp, ProviderEndpoints, ProviderRegistry};
use worker::uploads::UploadLimits;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
    /// A provider's setting (`<PROVIDER>_…`), whose name is made at run time.
    #[error("{name}: {message}")]
    InvalidProviderSetting { name: String, message: String },
    #[error("{name} must be set when REDIS_URL is set (production mode shares it across processes)")]
    RequiredInProduction { name: &'static str },
    #[error("could not use the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

/// The service's settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind_addr: SocketAddr,
    /// Base of the OAuth redirect URI; `None` means `http://<bound address>`.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Namespace of every Redis key and channel, so deployments (and tests) can share a server.
    pub redis_prefix: String,
    pub jwt_secret: SecretString,
    pub encryption_key: SecretString,
    /// Provider id → endpoint overrides, OAuth app and operator key (`BAMBOOHR_API_BASE`, ...).
    pub providers: HashMap<String, ProviderEndpoints>,
    /// The workspace the portal's "Sign in on this computer" makes its admin of
    /// (`LOCAL_WORKSPACE`, default `local`): only in embedded mode (SQLite, no Redis) listening
    /// on a loopback address, and not with `LOCAL_SIGN_IN=false`.
    pub local_sign_in_workspace: Option<String>,
    /// Records merged per transaction and checkpoint.
    pub sync_page_size: usize,
    /// How long a worker's claim on a run lasts unrenewed; a crashed worker's run is taken over
    /// after it.
    pub sync_lease: Duration,
    /// How often workers look for abandoned runs and due schedules.
    pub sweep_interval: Duration,
    /// The largest share (percent) of a connection's active people a complete pass deactivates
    /// without an admin's confirmation.
    pub deactivation_guard_percent: u32,
    /// Sync runs one worker process executes at once.
    pub worker_concurrency: usize,
    /// Wait before a failed attempt of a run is tried again, times the attempt number.
    pub sync_retry_delay: Duration,
    /// How long an attempt may make no progress before it is given up (`SYNC_STALL_SECONDS`).
    pub sync_stall_timeout: Duration,
    /// Rate limits, body and WebSocket deadlines of the API (`API_…`).
    pub api_limits: ApiLimits,
    /// Where invitations are sent (`SMTP_URL`, checked at start-up; it may hold a password).
    /// Without one (embedded mode only) they are written to `DATA_DIR/outbox/`.
    pub smtp_url: Option<SecretString>,
    /// The invitations' sender (`SMTP_FROM`).
    pub smtp_from: Mailbox,
    /// The sign-in link of invitations, `{email}` standing for the address (`INVITE_URL`);
    /// `None` means `<public URL>/?invited={email}`.
    pub invite_url: Option<String>,
    /// Wait before an invitation's second attempt, doubling after (`SMTP_RETRY_SECONDS`).
    pub invitation_retry: Duration,
    /// How long one SMTP command may take (`SMTP_TIMEOUT_SECONDS`).
    pub smtp_timeout: Duration,
    /// Lets webhook endpoints be `http://` and private or loopback addresses
    /// (`WEBHOOK_ALLOW_PRIVATE=true`); never in an internet-facing deployment.
    pub webhook_allow_private: bool,
    /// How long an endpoint has to answer (`WEBHOOK_TIMEOUT_SECONDS`).
    pub webhook_timeout: Duration,
    /// Wait before a webhook's second attempt, each later one four times longer
    /// (`WEBHOOK_RETRY_SECONDS`, fractions allowed).
    pub webhook_retry: Duration,
    /// What an uploaded spreadsheet may be (`UPLOAD_MAX_BYTES`, `CSV_MAX_ROWS`,
    /// `UPLOAD_MAX_UNPACKED_BYTES`).
    pub upload_limits: UploadLimits,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup`, so tests can configure a service without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bind_addr: SocketAddr = lookup("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| ConfigError::Invalid { name: "BIND_ADDR", message: format!("{e} (expected host:port)") })?;
        let data_dir = PathBuf::from(lookup("DATA_DIR").unwrap_or_else(|| "./.directory-sync".into()));
        let redis_url = lookup("REDIS_URL");
        let production = redis_url.is_some();
        let secret = |name: &'static str, generate: fn() -> String| -> Result<SecretString, ConfigError> {
            match lookup(name) {
                Some(value) => Ok(value.into()),
                None if production => Err(ConfigError::RequiredInProduction { name }),
                None => generated_secret(&data_dir, &name.to_lowercase(), generate).map(Into::into),
            }
        };
        let jwt_secret = secret("JWT_SECRET", CredentialCipher::generate_key)?;
        // Embedded mode on a loopback address only: nothing but this computer, not even a proxy
        // here, should reach it (through a proxy every caller looks local).
        let embedded_here = !production && lookup("DATABASE_URL").is_none() && bind_addr.ip().is_loopback();
        let local_sign_in = match lookup("LOCAL_SIGN_IN").as_deref() {
            None | Some("true") => embedded_here,
            Some("false") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOCAL_SIGN_IN",
                    message: format!("'{other}' is not true or false"),
                })
            }
        };
        let local_sign_in_workspace =
            local_sign_in.then(|| lookup("LOCAL_WORKSPACE").unwrap_or_else(|| "local".into()));
        let encryption_key = secret("ENCRYPTION_KEY", CredentialCipher::generate_key)?;
        CredentialCipher::from_base64(secrecy::ExposeSecret::expose_secret(&encryption_key))
            .map_err(|e| ConfigError::Invalid { name: "ENCRYPTION_KEY", message: e.to_string() })?;
        let database_url = match lookup("DATABASE_URL") {
            Some(url)
                if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                url
            }
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "DATABASE_URL",
                    message: "expected sqlite://… or postgres://…".into(),
                })
            }
            None => {
                ensure_dir(&data_dir)?;
                format!("sqlite://{}?mode=rwc", data_dir.join("directory-sync.db").display())
            }
        };
        let providers = ProviderRegistry::provider_ids()
            .map(|id| {
                let name = |suffix: &str| format!("{}_{suffix}", id.to_uppercase());
                let var = |suffix: &str| lookup(&name(suffix));
                let oauth_app = match (var("CLIENT_ID"), var("CLIENT_SECRET")) {
                    (Some(client_id), Some(secret)) => Some(OAuthApp { client_id, client_secret: secret.into() }),
                    _ => None,
                };
                let requests_per_minute = var("REQUESTS_PER_MINUTE")
                    .map(|raw| {
                        let per_minute = positive_number(&raw)
                            .and_then(|n| u32::try_from(n).map_err(|_| format!("'{raw}' is too large")));
                        per_minute.map_err(|message| ConfigError::InvalidProviderSetting {
                            name: name("REQUESTS_PER_MINUTE"),
                            message,
                        })
                    })
                    .transpose()?;
                // It goes into the portal's Content-Security-Policy, so nothing but a web address.
                let widget_base = var("WIDGET_BASE")
                    .map(|raw| match url::Url::parse(&raw) {
                        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(raw),
                        _ => Err(ConfigError::InvalidProviderSetting {
                            name: name("WIDGET_BASE"),
                            message: format!("'{raw}' is not an http(s) address"),
                        }),
                    })
                    .transpose()?;
                let endpoints = ProviderEndpoints {
                    api_base: var("API_BASE"),
                    oauth_base: var("OAUTH_BASE"),
                    oauth_app,
                    operator_key: var("API_KEY").map(Into::into),
                    requests_per_minute,
                    widget_base,
                    allowed_hosts: var("ALLOWED_HOSTS")
                        .map(|raw| raw.split(',').map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect())
                        .unwrap_or_default(),
                };
                Ok((id.to_string(), endpoints))
            })
            .collect::<Result<_, ConfigError>>()?;
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(raw) => positive_number(&raw).map_err(|message| ConfigError::Invalid { name, message }),
            }
        };
        let defaults = ApiLimits::default();
        let per_minute = |name: &'static str, default: NonZeroU32| -> Result<NonZeroU32, ConfigError> {
            let n = number(name, default.get().into())?;
            let too_large = || ConfigError::Invalid { name, message: format!("{n} is too large") };
            u32::try_from(n).ok().and_then(NonZeroU32::new).ok_or_else(too_large)
        };
        let seconds = |name: &'static str, default: Duration| number(name, default.as_secs()).map(Duration::from_secs);
        let fractional_seconds = |name: &'static str, default: f64| -> Result<Duration, ConfigError> {
            let raw = lookup(name).unwrap_or_else(|| default.to_string());
            let parsed = raw.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0);
            let message = || format!("'{raw}' is not a number of seconds between 0 and 86400");
            parsed.map(Duration::from_secs_f64).ok_or_else(|| ConfigError::Invalid { name, message: message() })
        };
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match lookup(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                None | Some("false" | "0" | "no") => Ok(false),
                Some("true" | "1" | "yes") => Ok(true),
                Some(other) => Err(ConfigError::Invalid { name, message: format!("'{other}' is not true or false") }),
            }
        };
        let api_limits = ApiLimits {
            requests_per_minute: per_minute("API_REQUESTS_PER_MINUTE", defaults.requests_per_minute)?,
            workspace_requests_per_minute: per_minute(
                "API_WORKSPACE_REQUESTS_PER_MINUTE",
                defaults.workspace_requests_per_minute,
            )?,
            body_timeout: seconds("API_BODY_TIMEOUT_SECONDS", defaults.body_timeout)?,
            upload_timeout: seconds("API_UPLOAD_TIMEOUT_SECONDS", defaults.upload_timeout)?,
            connection_init_timeout: seconds("API_INIT_TIMEOUT_SECONDS", defaults.connection_init_timeout)?,
            max_subscriptions_per_socket: number(
                "API_SUBSCRIPTIONS_PER_SOCKET",
                defaults.max_subscriptions_per_socket as u64,
            )? as usize,
            scim_requests_per_minute: per_minute("API_SCIM_REQUESTS_PER_MINUTE", defaults.scim_requests_per_minute)?,
        };
        let smtp_url = match lookup("SMTP_URL") {
            Some(url) => {
                Mailer::check_smtp_url(&url).map_err(|message| ConfigError::Invalid { name: "SMTP_URL", message })?;
                Some(SecretString::from(url))
            }
            None if production => return Err(ConfigError::RequiredInProduction { name: "SMTP_URL" }),
            None => None,
        };
        let smtp_from = lookup("SMTP_FROM")
            .unwrap_or_else(|| "directory-sync <no-reply@localhost>".into())
            .parse()
            .map_err(|e| ConfigError::Invalid {
                name: "SMTP_FROM",
                message: format!("{e} (expected an address, or a name and <address>)"),
            })?;
        let invite_url = lookup("INVITE_URL")
            .map(|raw| InvitationTemplate::checked_invite_url(&raw).map(|()| raw))
            .transpose()
            .map_err(|message| ConfigError::Invalid { name: "INVITE_URL", message })?;
        let upload_defaults = UploadLimits::default();
        let upload_limits = UploadLimits {
            max_bytes: number("UPLOAD_MAX_BYTES", upload_defaults.max_bytes as u64)? as usize,
            max_rows: number("CSV_MAX_ROWS", upload_defaults.max_rows as u64)? as usize,
            max_unpacked_bytes: number("UPLOAD_MAX_UNPACKED_BYTES", upload_defaults.max_unpacked_bytes)?,
            unused_for: upload_defaults.unused_for,
        };
        Ok(Self {
            upload_limits,
            smtp_url,
            smtp_from,
            invite_url,
            invitation_retry: Duration::from_secs(number("SMTP_RETRY_SECONDS", 30)?),
            smtp_timeout: Duration::from_secs(number("SMTP_TIMEOUT_SECONDS", 30)?),
            webhook_allow_private: flag("WEBHOOK_ALLOW_PRIVATE")?,
            webhook_timeout: Duration::from_secs(number("WEBHOOK_TIMEOUT_SECONDS", 15)?),
            webhook_retry: fractional_seconds("WEBHOOK_RETRY_SECONDS", 5.0)?,
            api_limits,
            sync_page_size: match number("SYNC_PAGE_SIZE", 1000)? {
                // Bulk inserts bind ~17 values a row; keep every statement under SQLite's limit.
                size @ 1..=1000 => size as usize,
                _ => {
                    return Err(ConfigError::Invalid { name: "SYNC_PAGE_SIZE", message: "must be at most 1000".into() })
                }
            },
            // Leases are renewed every third of their length, and a run released on shutdown is
            // handed on at once: the lease only decides how soon a crashed worker's run moves.
            sync_lease: Duration::from_secs(number("SYNC_LEASE_SECONDS", 20)?),
            sweep_interval: Duration::from_secs(number("SYNC_SWEEP_SECONDS", 5)?),
            worker_concurrency: number("SYNC_WORKER_CONCURRENCY", 2)? as usize,
            sync_retry_delay: Duration::from_secs(number("SYNC_RETRY_SECONDS", 30)?),
            sync_stall_timeout: Duration::from_secs(number("SYNC_STALL_SECONDS", 15 * 60)?),
            deactivation_guard_percent: match number("SYNC_DEACTIVATION_GUARD_PERCENT", 20)? {
                percent @ 1..=100 => percent as u32,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "SYNC_DEACTIVATION_GUARD_PERCENT",
                        message: "must be a percentage, 1 to 100".into(),
                    })
                }
            },
            bind_addr,
            public_url: lookup("PUBLIC_URL"),
            data_dir,
            database_url,
            redis_url,
            redis_prefix: lookup("REDIS_PREFIX").unwrap_or_else(|| "directory-sync".into()),
            jwt_secret,
            encryption_key,
            providers,
            local_sign_in_workspace,
        })
    }

    pub fn is_embedded_database(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// A setting's value as a whole number above zero, or why it is not one.
fn positive_number(raw: &str) -> Result<u64, String> {
    raw.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("'{raw}' is not a positive whole number"))
}

/// Creates the data directory, readable only by its owner (it holds the database and keys).
fn ensure_dir(path: &Path) -> Result<(), ConfigError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|source| ConfigError::DataDir { path: path.to_path_buf(), source })
}

/// Embedded mode keeps generated secrets in the data directory, readable only by the owner.
fn generated_secret(data_dir: &Path, file: &str, generate: fn() -> String) -> Result<String, ConfigError> {
    ensure_dir(data_dir)?;
    let path = data_dir.join(file);
    let io = |source| ConfigError::DataDir { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_string()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io(err)),
    }
    let secret = generate();
    std::fs::write(&path, &secret).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn names_the_bad_variable() {
        let dir = std::env::temp_dir().join(format!("ds-config-{}", uuid::Uuid::new_v4()));
        let dir = dir.to_str().unwrap();
        let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), ("BIND_ADDR", "nope")])).unwrap_err();
        assert!(err.to_string().starts_with("BIND_ADDR"), "{err}");
        let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), ("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().starts_with("DATABASE_URL"), "{err}");
        let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), ("SYNC_PAGE_SIZE", "0")])).unwrap_err();
        assert!(err.to_string().starts_with("SYNC_PAGE_SIZE"), "{err}");
        let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), ("REDIS_URL", "redis://x")])).unwrap_err();
        assert!(err.to_string().starts_with("JWT_SECRET"), "{err}");
        for (name, bad) in
            [("SMTP_URL", "http://mail.example"), ("SMTP_FROM", "nobody"), ("INVITE_URL", "join?{email}")]
        {
            let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), (name, bad)])).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
        let production = [("DATA_DIR", dir), ("REDIS_URL", "redis://x"), ("JWT_SECRET", "s"), ("ENCRYPTION_KEY", KEY)];
        let err = Config::from_lookup(lookup(&production)).unwrap_err();
        assert!(err.to_string().starts_with("SMTP_URL must be set"), "{err}");
        let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), ("MERGE_REQUESTS_PER_MINUTE", "lots")])).unwrap_err();
        assert!(err.to_string().starts_with("MERGE_REQUESTS_PER_MINUTE"), "{err}");
        for bad in ["cdn.example.com", "javascript:alert(1)", "https://x; script-src *"] {
            let err = Config::from_lookup(lookup(&[("DATA_DIR", dir), ("MERGE_WIDGET_BASE", bad)])).unwrap_err();
            assert!(err.to_string().starts_with("MERGE_WIDGET_BASE"), "{bad}: {err}");
        }
    }

    #[test]
    fn embedded_mode_generates_and_keeps_secrets() {
        let dir = std::env::temp_dir().join(format!("ds-config-{}", uuid::Uuid::new_v4()));
        let vars = [("DATA_DIR", dir.to_str().unwrap()), ("BAMBOOHR_API_BASE", "http://127.0.0.1:9/api")];
        let first = Config::from_lookup(lookup(&vars)).unwrap();
        let again = Config::from_lookup(lookup(&vars)).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(first.encryption_key.expose_secret(), again.encryption_key.expose_secret());
        assert!(first.database_url.starts_with("sqlite://"));
        assert_eq!(first.providers["bamboohr"].api_base.as_deref(), Some("http://127.0.0.1:9/api"));
    }

    #[test]
    fn local_sign_in_is_for_embedded_mode_on_a_loopback_address() {
        let dir = std::env::temp_dir().join(format!("ds-config-{}", uuid::Uuid::new_v4()));
        let dir = dir.to_str().unwrap();
        let workspace = |vars: &[(&str, &str)]| {
            let vars: Vec<(&str, &str)> = [("DATA_DIR", dir)].into_iter().chain(vars.iter().copied()).collect();
            Config::from_lookup(lookup(&vars)).unwrap().local_sign_in_workspace
        };
        assert_eq!(workspace(&[]).as_deref(), Some("local"));
        assert_eq!(workspace(&[("LOCAL_WORKSPACE", "acme")]).as_deref(), Some("acme"));
        assert_eq!(workspace(&[("LOCAL_SIGN_IN", "false")]), None);
        // Reachable from elsewhere, or a database of its own: not this computer's service alone.
        assert_eq!(workspace(&[("BIND_ADDR", "0.0.0.0:8080")]), None);
        assert_eq!(workspace(&[("LOCAL_SIGN_IN", "true"), ("BIND_ADDR", "[::]:8080")]), None);
        assert_eq!(workspace(&[("DATABASE_URL", "postgres://db.internal/directory")]), None);
        let production = [
            ("REDIS_URL", "redis://x"),
            ("JWT_SECRET", "s"),
            ("ENCRYPTION_KEY", KEY),
            ("SMTP_URL", "smtp://mail.example"),
        ];
        assert_eq!(workspace(&[&production[..], &[("LOCAL_SIGN_IN", "true")]].concat()), None);
    }
}
