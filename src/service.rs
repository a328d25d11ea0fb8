//! Assembles the running service from [`Config`]: database, event bus, job queue, API server
//! and workers. Embedded mode (SQLite, no REDIS_URL) runs everything in one process; production
//! splits API replicas (`serve --no-worker`) from `worker` processes over PostgreSQL and Redis.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{dev::ServerHandle, App, HttpServer};
use anyhow::Context as _;
use futures::FutureExt as _;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use api::http::health::Readiness;
use api::http::portal::Portal;
use api::{ApiContext, ApiState, JwtKeys};
use migration::{Migrator, MigratorTrait};
use worker::credentials::CredentialCipher;
use worker::events::EventBus;
use worker::invitations::delivery::Delivery;
use worker::invitations::{self, InvitationSettings, InvitationTemplate, Mailer};
use worker::jobs::{maintenance, JobBackend, QueueSettings, RunSlots, SyncQueue};
use worker::providers::catalogue::ProviderRegistry;
use worker::providers::http::{ProviderHttp, RetryPolicy};
use worker::uploads::UploadStore;
use worker::webhooks::{self, WebhookSettings};
use worker::{Environment, SyncSettings};

use crate::config::Config;

/// Which parts this process runs.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub api: bool,
    pub worker: bool,
}

/// Knobs of the sync machinery; [`Tuning::from_config`] for deployments, tests turn them further.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub sync: SyncSettings,
    pub queue: QueueSettings,
    pub retry: RetryPolicy,
    /// How often workers sweep for abandoned runs and due schedules.
    pub sweep_interval: Duration,
    pub invitations: InvitationSettings,
    pub webhooks: WebhookSettings,
}

impl Tuning {
    pub fn from_config(config: &Config) -> Self {
        Self {
            sync: SyncSettings {
                page_size: config.sync_page_size,
                lease: config.sync_lease,
                deactivation_guard_percent: config.deactivation_guard_percent,
                retry_delay: config.sync_retry_delay,
                stall_timeout: config.sync_stall_timeout,
                ..SyncSettings::default()
            },
            queue: QueueSettings { concurrency: config.worker_concurrency, ..QueueSettings::default() },
            retry: RetryPolicy::default(),
            sweep_interval: config.sweep_interval,
            invitations: InvitationSettings {
                retry_base: config.invitation_retry,
                ..InvitationSettings::with_timeout(config.smtp_timeout)
            },
            webhooks: WebhookSettings {
                timeout: config.webhook_timeout,
                retry_base: config.webhook_retry,
                allow_private: config.webhook_allow_private,
                ..WebhookSettings::default()
            },
        }
    }
}

/// A started service; dropping it does not stop it, [`RunningService::stop`] does.
pub struct RunningService {
    /// Base URL of the API, when this process serves it.
    pub url: Option<String>,
    pub keys: JwtKeys,
    pub db: DatabaseConnection,
    server: Option<ServerHandle>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Stops runs in flight at once (see `Environment::draining`).
    draining: CancellationToken,
    /// Closes WebSockets and turns `/readyz` away.
    closing: CancellationToken,
    /// Why the process cannot go on, once it cannot (the job queue stayed unreachable).
    fatal: watch::Receiver<Option<String>>,
}

/// Connects to the database; SQLite gets WAL and a busy timeout so the API reads while a
/// worker writes.
pub async fn connect_database(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_path(url) {
        create_private(&path).with_context(|| format!("DATABASE_URL: could not create {}", path.display()))?;
    }
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(16);
    if url.starts_with("sqlite:") {
        // NORMAL is WAL's usual setting: a power cut may lose the last commits, never
        // consistency, and a sync page lost that way is merged again from its checkpoint.
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // A sync commits every page; checkpointing (and syncing to disk) every 64 MiB of
                // log instead of SQLite's 4 MiB halves what those commits cost.
                .pragma("wal_autocheckpoint", "16384")
        });
    }
    if url.starts_with("postgres") {
        // A transaction abandoned mid-way (its task dropped while a connection held it open) must
        // not keep its row locks: the server ends such a session, and the run's next attempt is
        // not left waiting on the run's row. No transaction here waits between its statements.
        // Nor does any statement wait long for a lock: past 30 s it fails, as a transient error
        // the attempt is retried for, instead of stalling the run.
        options.map_sqlx_postgres_opts(|opts| {
            opts.options([("idle_in_transaction_session_timeout", "15s"), ("lock_timeout", "30s")])
        });
    }
    Database::connect(options).await.with_context(|| "DATABASE_URL: could not connect to the database")
}

/// The file of a `sqlite://` URL (not `:memory:`).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(':')).then(|| std::path::PathBuf::from(path))
}

/// Creates `path` empty and readable only by its owner, unless it exists. SQLite gives its
/// -wal and -shm files the database file's permissions, so they are private too.
pub fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("running database migrations")
}

/// Why the database cannot be served from, if it cannot: it does not answer, or migrations
/// this binary needs have not been applied.
async fn schema_problem(db: &DatabaseConnection) -> Option<String> {
    if let Err(err) = db.ping().await {
        return Some(format!("the database does not answer: {err}"));
    }
    match Migrator::get_pending_migrations(db).await {
        Ok(pending) if pending.is_empty() => None,
        Ok(pending) => Some(format!(
            "the database is not migrated ({} migrations pending, from {}); run `directory-sync migrate`, \
             or start with --migrate",
            pending.len(),
            pending[0].name()
        )),
        Err(err) => Some(format!("could not read the migration state: {err}")),
    }
}

/// `/readyz`: ready while the database answers and is migrated, and (in production mode)
/// Redis answers.
struct ServiceReadiness {
    db: DatabaseConnection,
    events: EventBus,
}

#[async_trait::async_trait]
impl Readiness for ServiceReadiness {
    async fn not_ready(&self) -> Option<String> {
        if let Some(problem) = schema_problem(&self.db).await {
            return Some(problem);
        }
        match tokio::time::timeout(Duration::from_secs(2), self.events.reachable()).await {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(format!("Redis does not answer: {err}")),
            Err(_) => Some("Redis does not answer within 2 s".into()),
        }
    }
}

/// How long the job loop may keep failing to run before the process gives up and exits, so
/// a supervisor starts a fresh one.
const WORKER_GIVE_UP: Duration = Duration::from_secs(300);

/// Runs the job loop, and runs it again when it stops on a queue failure (Redis down, or its
/// keys lost), backing off from 1 s to 30 s; a loop that stays up a minute is healthy again.
/// Runs it interrupted are resumed by their leases. After [`WORKER_GIVE_UP`] of failures it
/// reports a fatal error instead.
async fn supervise_worker(
    backend: JobBackend,
    env: Environment,
    settings: QueueSettings,
    slots: RunSlots,
    shutdown: watch::Receiver<bool>,
    fatal: watch::Sender<Option<String>>,
) {
    let mut streak = FailureStreak::default();
    loop {
        let started = std::time::Instant::now();
        let stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
            Box::pin(wait_for(shutdown.clone()));
        let ended = backend.clone().run_worker(env.clone(), settings.clone(), slots.clone(), stop).await;
        if *shutdown.borrow() {
            return;
        }
        let why = match ended {
            Ok(()) => "the job loop ended".to_string(),
            Err(err) => err.to_string(),
        };
        let Some(backoff) = streak.stopped(started, std::time::Instant::now()) else {
            let _ = fatal.send(Some(format!("the job loop kept failing for {WORKER_GIVE_UP:?}: {why}")));
            return;
        };
        tracing::error!(error = %why, retry_in = ?backoff, "the sync worker's job loop stopped; starting it again");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = wait_for(shutdown.clone()) => return,
        }
    }
}

/// The job loop's failures in a row: when they began, and the wait before the next start.
#[derive(Debug)]
struct FailureStreak {
    since: Option<std::time::Instant>,
    backoff: Duration,
}

impl Default for FailureStreak {
    fn default() -> Self {
        Self { since: None, backoff: Duration::from_secs(1) }
    }
}

impl FailureStreak {
    /// The loop, started at `started`, stopped at `now`: the wait before starting it again, or
    /// `None` when it has been failing for [`WORKER_GIVE_UP`]. A loop that stayed up a minute
    /// was healthy: its failure begins a new streak, which begins when it stopped (not when it
    /// started: a loop that ran for hours and then met one Redis blip has been failing for no
    /// time at all).
    fn stopped(&mut self, started: std::time::Instant, now: std::time::Instant) -> Option<Duration> {
        if now.duration_since(started) > Duration::from_secs(60) {
            *self = Self::default();
        }
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) > WORKER_GIVE_UP {
            return None;
        }
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(Duration::from_secs(30));
        Some(wait)
    }
}

/// Runs a background loop (`what`: an outbox's delivery, the maintenance sweep), and runs it
/// again should it ever stop (a panic in a dependency): what is queued, or abandoned, must not
/// wait for the process to be replaced.
async fn keep_running<F: std::future::Future<Output = ()>>(what: &'static str, run: impl Fn() -> F) {
    loop {
        // In this task, so that aborting it on shutdown stops the loop too.
        if std::panic::AssertUnwindSafe(run()).catch_unwind().await.is_err() {
            tracing::error!("{what} stopped; starting it again");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Where and how this worker delivers invitations: `SMTP_URL`, or files in the data directory.
fn invitation_delivery(config: &Config, settings: InvitationSettings) -> anyhow::Result<Delivery> {
    let mailer = match &config.smtp_url {
        Some(url) => {
            Mailer::smtp(url.expose_secret(), settings.timeout).map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
        }
        None => Mailer::Files(config.data_dir.join("outbox")),
    };
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.bind_addr));
    let invite_url =
        config.invite_url.clone().unwrap_or_else(|| format!("{}/?invited={{email}}", public_url.trim_end_matches('/')));
    let template = InvitationTemplate { from: config.smtp_from.clone(), invite_url };
    Ok(Delivery { mailer, template, settings })
}

impl RunningService {
    pub async fn start(config: &Config, roles: Roles, tuning: Tuning) -> anyhow::Result<Self> {
        let db = connect_database(&config.database_url).await?;
        if config.is_embedded_database() {
            migrate(&db).await?;
        } else if let Some(problem) = schema_problem(&db).await {
            anyhow::bail!("DATABASE_URL: {problem}");
        }
        let (events, queue) = match &config.redis_url {
            Some(url) => (
                EventBus::redis(url, &config.redis_prefix).await.context("REDIS_URL: could not subscribe to events")?,
                JobBackend::redis(url, &config.redis_prefix, &tuning.queue)
                    .await
                    .context("REDIS_URL: could not open the job queue")?,
            ),
            None => {
                let path = config.data_dir.join("queue.db");
                std::fs::create_dir_all(&config.data_dir).context("DATA_DIR: could not create it")?;
                create_private(&path).context("DATA_DIR: could not create the job queue")?;
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (
                    EventBus::in_process(),
                    JobBackend::sqlite(&url, &tuning.queue).await.context("DATA_DIR: could not open the job queue")?,
                )
            }
        };
        let cipher = CredentialCipher::from_base64(config.encryption_key.expose_secret())?;
        let env = Environment {
            db: db.clone(),
            cipher,
            providers: ProviderRegistry::new(ProviderHttp::new(tuning.retry.clone()), config.providers.clone())
                .with_uploads(UploadStore::new(db.clone()))
                .with_pushed(worker::scim::store::PushedUsers::new(db.clone())),
            events,
            settings: tuning.sync.clone(),
            draining: CancellationToken::new(),
            outbox_bell: Arc::default(),
            webhooks: tuning.webhooks.clone(),
            webhook_bell: Arc::default(),
            upload_limits: config.upload_limits.clone(),
        };
        let closing = CancellationToken::new();
        let keys = JwtKeys::from_secret(config.jwt_secret.expose_secret().as_bytes());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let shared_queue: Arc<dyn SyncQueue> = Arc::new(queue.clone());

        let (fatal, fatal_rx) = watch::channel(None);
        if roles.worker {
            let delivery = invitation_delivery(config, tuning.invitations.clone())?;
            let slots = RunSlots::new(tuning.queue.concurrency);
            let supervised = supervise_worker(
                queue.clone(),
                env.clone(),
                tuning.queue.clone(),
                slots.clone(),
                shutdown_rx.clone(),
                fatal,
            );
            tasks.push(tokio::spawn(supervised));
            let sweep = tokio::spawn({
                let (env, queue, every) = (env.clone(), shared_queue.clone(), tuning.sweep_interval);
                keep_running("the maintenance sweep", move || {
                    maintenance::run_maintenance(env.clone(), queue.clone(), slots.clone(), every)
                })
            });
            let invitations = tokio::spawn({
                let env = env.clone();
                keep_running("invitation delivery", move || {
                    invitations::delivery::run(env.clone(), delivery.clone(), env.outbox_bell.clone())
                })
            });
            let webhooks = tokio::spawn({
                let (env, delivery) = (env.clone(), webhooks::delivery::Delivery::new(tuning.webhooks.clone()));
                keep_running("webhook delivery", move || {
                    webhooks::delivery::run(env.clone(), delivery.clone(), env.webhook_bell.clone())
                })
            });
            let stop = wait_for(shutdown_rx.clone());
            tasks.push(tokio::spawn(async move {
                stop.await;
                sweep.abort();
                invitations.abort();
                webhooks.abort();
            }));
        }

        let (url, server) = if roles.api {
            let listener = std::net::TcpListener::bind(config.bind_addr)
                .with_context(|| format!("BIND_ADDR: could not listen on {}", config.bind_addr))?;
            let bound = listener.local_addr()?;
            let url = format!("http://{bound}");
            let public_url = config.public_url.clone().unwrap_or_else(|| url.clone());
            let api = ApiContext::new(env.clone(), shared_queue, public_url);
            let readiness = Arc::new(ServiceReadiness { db: db.clone(), events: env.events.clone() });
            let portal = Portal::new(&env.providers.widgets(), config.local_sign_in_workspace.clone());
            let state = ApiState::new(api, keys.clone(), config.api_limits.clone(), portal, readiness, closing.clone());
            let server = HttpServer::new(move || {
                let state = state.clone();
                App::new()
                    .wrap(api::http::security_headers())
                    .wrap(tracing_actix())
                    .configure(move |cfg| api::routes(cfg, state))
            })
            .disable_signals()
            .listen(listener)?
            .run();
            let handle = server.handle();
            tasks.push(tokio::spawn(async move {
                if let Err(err) = server.await {
                    tracing::error!(error = %err, "the API server stopped");
                }
            }));
            tracing::info!(%url, "API listening");
            (Some(url), Some(handle))
        } else {
            (None, None)
        };
        Ok(Self { url, keys, db, server, shutdown, tasks, draining: env.draining.clone(), closing, fatal: fatal_rx })
    }

    /// Resolves with the reason once the process cannot go on; a supervisor should start a new
    /// one (the binary exits non-zero).
    pub async fn fatal(&self) -> String {
        let mut fatal = self.fatal.clone();
        loop {
            if let Some(reason) = fatal.borrow_and_update().clone() {
                return reason;
            }
            if fatal.changed().await.is_err() {
                // Only a stopped service drops the sender: nothing fatal will come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops as a deploy needs: WebSockets are closed with 1001 and requests in flight are
    /// answered; runs in flight stop at once with their checkpoints and are queued again for
    /// another worker; then the job loop and the sweep end.
    pub async fn stop(self) {
        self.closing.cancel();
        // The job loop takes no new job before runs in flight are told to stop, so a released
        // run is left for another worker, not claimed again here.
        let _ = self.shutdown.send(true);
        self.draining.cancel();
        if let Some(server) = &self.server {
            server.stop(true).await;
        }
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }
}

/// Resolves once shutdown is signalled (or its sender is gone).
async fn wait_for(mut shutdown: watch::Receiver<bool>) {
    loop {
        let stopping = *shutdown.borrow_and_update();
        if stopping || shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// Request logging without headers (they carry bearer tokens) or bodies.
/// One line a request: method, path and status, never the query string (the OAuth callback's
/// carries a code and a state).
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%{METHOD}xi %U %s %Dms")
        .custom_request_replace("METHOD", |req| req.method().to_string())
        .log_target("directory_sync::http")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{FailureStreak, WORKER_GIVE_UP};

    #[test]
    fn a_long_healthy_loop_that_fails_once_is_started_again() {
        let mut streak = FailureStreak::default();
        let start = Instant::now();
        let hours_later = start + Duration::from_secs(3 * 3600);
        assert_eq!(streak.stopped(start, hours_later), Some(Duration::from_secs(1)));
    }

    #[test]
    fn failures_back_off_then_give_up_after_five_minutes_of_them() {
        let mut streak = FailureStreak::default();
        let mut now = Instant::now();
        let mut waits = Vec::new();
        while let Some(wait) = streak.stopped(now, now) {
            waits.push(wait.as_secs());
            now += wait;
        }
        assert_eq!(waits[..7], [1, 2, 4, 8, 16, 30, 30]);
        let failing_for: u64 = waits.iter().sum();
        assert!((WORKER_GIVE_UP.as_secs()..WORKER_GIVE_UP.as_secs() + 31).contains(&failing_for), "{failing_for}");
    }
}
