//! `TestApp`: a fresh service per test, with its own database (SQLite file, or a PostgreSQL
//! database), its own Redis key prefix, and its own sandbox tenant (BambooHR unless a test picks
//! another provider), so tests run in parallel and twice in a row. [`on_both_backends!`] runs a test on the embedded parts and on
//! PostgreSQL + Redis.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::config::Config;
use directory_sync::operations as ops;
use directory_sync::service::{self, Roles, RunningService, Tuning};
use sandbox::{Company, SampleCredentials, Sandbox};
use worker::invitations::InvitationSettings;
use worker::providers::http::RetryPolicy;
use worker::webhooks::WebhookSettings;
use worker::SyncSettings;

use crate::mail_server::{MailServer, Policy};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The sign-in link of the tests' invitations.
pub const INVITE_URL: &str = "https://app.example/join?email={email}";

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Which storage a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    PostgresRedis,
}

/// Declares each named `async fn(Backend)` as two tests: `embedded::name` and
/// `postgres_redis::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::Embedded).await } )*
        }
        mod postgres_redis {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::PostgresRedis).await } )*
        }
    };
}

/// Declares each named `async fn(Backend, provider)` as a test on both backends, in module
/// `$module`, that runs it for every provider `$providers()` lists, at once, and names the one
/// that failed.
#[macro_export]
macro_rules! for_each_provider_of {
    ($module:ident, $providers:ident: $($scenario:ident),* $(,)?) => {
        mod $module {
            use super::{$providers, Backend};
            $(
                pub async fn $scenario(backend: Backend) {
                    let runs: Vec<_> =
                        $providers().into_iter().map(|p| (p, tokio::spawn(super::$scenario(backend, p)))).collect();
                    for (provider, run) in runs {
                        if let Err(failure) = run.await {
                            panic!("{provider}: {failure}");
                        }
                    }
                }
            )*
            $crate::on_both_backends!($($scenario),*);
        }
    };
}

pub struct TestOptions {
    pub backend: Backend,
    /// The catalogue id of the provider whose sandbox tenant `acme` the test connects.
    pub provider: &'static str,
    pub employees: u32,
    pub page_size: usize,
    /// Configuration the deployment leaves out (`MERGE_API_KEY`, say).
    pub unset: &'static [&'static str],
    /// Configuration the deployment sets (`API_REQUESTS_PER_MINUTE`, say).
    pub settings: &'static [(&'static str, &'static str)],
    /// Invitations go to a mail server of the test's own that answers as this says; with
    /// `None`, no `SMTP_URL` is set (embedded mode writes them to files).
    pub mail: Option<Policy>,
}

impl TestOptions {
    pub fn on(backend: Backend) -> Self {
        let accept_all: Policy = Arc::new(|_, _| None);
        Self {
            backend,
            provider: "bamboohr",
            employees: 60,
            page_size: 25,
            unset: &[],
            settings: &[],
            mail: Some(accept_all),
        }
    }
}

/// The person, as a profile (`operations::USER`) shows them.
pub async fn person(client: &GraphqlClient, id: &Value) -> Value {
    client.execute(ops::USER, json!({ "id": id })).await.unwrap().ok().unwrap()["user"].clone()
}

/// A unique, short name for databases, workspaces and key prefixes.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn init_tracing() {
    if std::env::var("TEST_LOG").is_ok() {
        let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}

/// Creates a fresh PostgreSQL database; answers its URL.
pub async fn fresh_postgres_database() -> (String, String) {
    let name = unique("ds_test");
    let admin = Database::connect(postgres_admin_url()).await.expect("PostgreSQL at 127.0.0.1:5432");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    let base = postgres_admin_url();
    let url = format!("{}/{name}", base.rsplit_once('/').expect("URL with a database").0);
    (name, url)
}

/// A child process killed when dropped, so a failing test leaves nothing running.
pub struct Process(pub std::process::Child);

impl Process {
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct TestApp {
    pub service: RunningService,
    pub sandbox: Sandbox,
    /// Where invitations go, unless the test asked for files.
    pub mail: Option<MailServer>,
    pub data_dir: PathBuf,
    pub url: String,
    pub workspace: String,
    /// What the admin types in to connect the tenant `acme`.
    pub credentials: SampleCredentials,
    _cleanup: Cleanup,
}

/// Removes what a test created outside the service, even when the test fails.
pub struct Cleanup {
    pub data_dir: PathBuf,
    pub postgres_database: Option<String>,
    pub redis_prefix: Option<String>,
}

/// Environment of a test service: everything a deployment would set.
pub fn test_config(
    data_dir: &Path,
    sandbox: &Sandbox,
    database_url: Option<String>,
    redis_prefix: Option<String>,
    unset: &[&str],
    set: &[(&str, &str)],
) -> Config {
    let settings: Vec<(String, String)> = set
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .chain(sandbox.settings().into_iter().filter(|(name, _)| !unset.contains(&name.as_str())))
        .collect();
    let dir = data_dir.display().to_string();
    Config::from_lookup(|name| match name {
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "DATA_DIR" => Some(dir.clone()),
        "DATABASE_URL" => database_url.clone(),
        "REDIS_URL" => redis_prefix.as_ref().map(|_| REDIS_URL.to_string()),
        "REDIS_PREFIX" => redis_prefix.clone(),
        "JWT_SECRET" => redis_prefix.as_ref().map(|_| "test-jwt-secret".to_string()),
        "ENCRYPTION_KEY" => redis_prefix.as_ref().map(|_| "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string()),
        other => settings.iter().find(|(k, _)| k == other).map(|(_, v)| v.clone()),
    })
    .expect("test configuration")
}

/// Fast retries and leases, so fault tests take seconds.
pub fn test_tuning(config: &Config, page_size: usize) -> Tuning {
    Tuning {
        sync: SyncSettings {
            page_size,
            lease: Duration::from_secs(5),
            retry_delay: Duration::from_millis(200),
            stall_timeout: config.sync_stall_timeout,
            ..SyncSettings::default()
        },
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_wait: Duration::from_secs(2),
            ..RetryPolicy::default()
        },
        sweep_interval: Duration::from_secs(1),
        invitations: InvitationSettings {
            retry_base: Duration::from_millis(300),
            claim: Duration::from_secs(5),
            poll: Duration::from_millis(100),
            ..InvitationSettings::default()
        },
        webhooks: WebhookSettings {
            timeout: Duration::from_secs(1),
            retry_base: Duration::from_millis(200),
            failing_after: 2,
            poll: Duration::from_millis(100),
            allow_private: config.webhook_allow_private,
            ..WebhookSettings::default()
        },
        ..Tuning::from_config(config)
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(TestOptions::on(backend)).await
    }

    pub async fn spawn_with(options: TestOptions) -> Self {
        init_tracing();
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        let credentials =
            sandbox.add_tenant(options.provider, "acme", Company::generate("acme.example", options.employees, 11));
        let data_dir = std::env::temp_dir().join(unique("directory-sync-test"));
        let (postgres_database, database_url, redis_prefix) = match options.backend {
            Backend::Embedded => (None, None, None),
            Backend::PostgresRedis => {
                let (name, url) = fresh_postgres_database().await;
                (Some(name), Some(url), Some(unique("ds-test")))
            }
        };
        let mail = match options.mail {
            Some(policy) => Some(MailServer::with_policy(policy).await),
            None => None,
        };
        let mut settings = options.settings.to_vec();
        // Credentials in the URL, as a deployment gives them (the password's `@` escaped).
        let smtp_url = mail.as_ref().map(|server| server.url.replace("smtp://", "smtp://directory-sync:p%40ss@"));
        settings.extend(smtp_url.as_deref().map(|url| ("SMTP_URL", url)));
        settings.push(("INVITE_URL", INVITE_URL));
        // Receivers listen on loopback, over plain HTTP.
        if !options.unset.contains(&"WEBHOOK_ALLOW_PRIVATE") {
            settings.push(("WEBHOOK_ALLOW_PRIVATE", "true"));
        }
        let config = test_config(&data_dir, &sandbox, database_url, redis_prefix, options.unset, &settings);
        if !config.is_embedded_database() {
            let db = service::connect_database(&config.database_url).await.expect("database");
            service::migrate(&db).await.expect("migrations");
        }
        let service =
            RunningService::start(&config, Roles { api: true, worker: true }, test_tuning(&config, options.page_size))
                .await
                .expect("service starts");
        let url = service.url.clone().expect("API url");
        Self {
            service,
            sandbox,
            mail,
            data_dir: config.data_dir.clone(),
            url,
            workspace: unique("ws"),
            credentials,
            _cleanup: Cleanup {
                data_dir,
                postgres_database,
                redis_prefix: config.redis_url.as_ref().map(|_| config.redis_prefix.clone()),
            },
        }
    }

    /// A bearer token of `ada`, for `workspace` on `plan`, valid for an hour.
    pub fn token_for(&self, workspace: &str, role: Role, plan: Plan) -> String {
        self.service.keys.mint("ada", workspace, role, plan, chrono::Duration::hours(1))
    }

    /// A bearer token of this test's workspace on the paid plan, for requests made by hand.
    pub fn token(&self, role: Role) -> String {
        self.token_for(&self.workspace, role, Plan::Paid)
    }

    pub fn client_for(&self, workspace: &str, role: Role, plan: Plan) -> GraphqlClient {
        GraphqlClient::new(&self.url, Some(self.token_for(workspace, role, plan)))
    }

    /// An admin of this test's workspace on the paid plan.
    pub fn admin(&self) -> GraphqlClient {
        self.client_for(&self.workspace, Role::Admin, Plan::Paid)
    }

    pub fn member(&self) -> GraphqlClient {
        self.client_for(&self.workspace, Role::Member, Plan::Paid)
    }

    /// Connects the sandbox tenant with its API key; answers the connection id.
    pub async fn connect(&self, client: &GraphqlClient) -> String {
        let connection = admin_flow::connect(client, &self.credentials).await.expect("connectWithApiKey");
        connection["id"].as_str().unwrap().to_string()
    }

    /// Saves and confirms `entries` (or the suggested mapping); answers the version.
    pub async fn confirm_mapping(&self, client: &GraphqlClient, connection_id: &str, entries: Option<Value>) -> i64 {
        let entries = match entries {
            Some(entries) => entries,
            None => admin_flow::current_mapping(client, connection_id).await.unwrap(),
        };
        admin_flow::save_and_confirm(client, connection_id, entries).await.expect("save and confirm the mapping")
    }

    /// Connects and confirms the suggested mapping.
    pub async fn connect_and_map(&self, client: &GraphqlClient) -> String {
        let id = self.connect(client).await;
        self.confirm_mapping(client, &id, None).await;
        id
    }

    pub async fn start_sync(&self, client: &GraphqlClient, connection_id: &str) -> String {
        admin_flow::start_sync(client, connection_id).await.expect("startSync")
    }

    /// Follows `syncProgress` to the end; answers every event's run.
    pub async fn follow(&self, client: &GraphqlClient, run_id: &str) -> Vec<Value> {
        self.follow_within(client, run_id, Duration::from_secs(60)).await
    }

    /// Follows `syncProgress` to the end, for at most `limit`; answers every event's run.
    pub async fn follow_within(&self, client: &GraphqlClient, run_id: &str, limit: Duration) -> Vec<Value> {
        let mut runs = Vec::new();
        let follow = admin_flow::follow_run(client, run_id, |run| runs.push(run.clone()));
        tokio::time::timeout(limit, follow)
            .await
            .unwrap_or_else(|_| panic!("the sync finishes within {limit:?}"))
            .expect("progress events");
        runs
    }

    /// Starts a sync and follows it; answers the final run with its issues.
    pub async fn sync(&self, client: &GraphqlClient, connection_id: &str) -> Value {
        self.sync_within(client, connection_id, Duration::from_secs(60)).await
    }

    /// `sync`, for a sync allowed `limit`.
    pub async fn sync_within(&self, client: &GraphqlClient, connection_id: &str, limit: Duration) -> Value {
        let run_id = self.start_sync(client, connection_id).await;
        self.follow_within(client, &run_id, limit).await;
        self.run(client, &run_id).await
    }

    pub async fn run(&self, client: &GraphqlClient, run_id: &str) -> Value {
        client.execute(&ops::sync_run(), json!({ "id": run_id })).await.unwrap().ok().unwrap()["syncRun"].clone()
    }

    /// The people the sandbox tenant's provider lists, with how the directory shows each once
    /// synced (see [`sandbox::Holds::expected`]).
    pub fn listed(&self) -> Vec<(sandbox::Employee, sandbox::hiring::Expected)> {
        let company = self.sandbox.with_tenant("acme", |t| t.company.clone());
        let holds = sandbox::fake(self.credentials.provider_id).expect("a fake").holds();
        company.employees.iter().filter_map(|e| holds.expected(&company, e).map(|x| (e.clone(), x))).collect()
    }

    /// Every user of the workspace, by email.
    pub async fn users(&self, client: &GraphqlClient) -> Vec<Value> {
        let mut users = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = client.execute(ops::USERS, json!({ "first": 500, "after": after })).await.unwrap().ok().unwrap();
            users.extend(data["users"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
            if !data["users"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                return users;
            }
            after = data["users"]["pageInfo"]["endCursor"].clone();
        }
    }

    /// Every user of the workspace, by lower-cased email.
    pub async fn users_by_email(&self, client: &GraphqlClient) -> std::collections::HashMap<String, Value> {
        self.users(client).await.into_iter().map(|u| (u["email"].as_str().unwrap().to_lowercase(), u)).collect()
    }

    pub async fn stop(self) {
        self.service.stop().await;
        self.sandbox.stop().await;
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let database = self.postgres_database.take();
        let prefix = self.redis_prefix.take();
        // Best effort, on a thread of its own (Drop may run inside the test's runtime): a failed
        // cleanup leaves at worst uniquely named leftovers.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                if let Some(prefix) = prefix {
                    let _ = worker::jobs::delete_redis_queue(REDIS_URL, &prefix).await;
                }
                let name = database?;
                let admin = Database::connect(postgres_admin_url()).await.ok()?;
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
            })
        })
        .join();
    }
}
