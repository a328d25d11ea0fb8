//! `directory-sync bench`: full syncs of sandbox companies on SQLite and PostgreSQL, next to a
//! baseline measured in the same run — fetching the same pages and bulk-inserting the same rows
//! (people and their provenance) into the same database — plus a no-change re-sync that must
//! write no user rows.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use serde_json::Value;

use api::{Plan, Role};
use entity::{connection, directory_user, user_change, user_source};
use sandbox::{Company, Sandbox};
use worker::credentials::{CredentialCipher, Credentials};
use worker::mapping::{apply_mapping, suggest_mapping, MappedUser};
use worker::providers::catalogue::{self, ProviderRegistry};
use worker::providers::http::{ProviderHttp, RetryPolicy};
use worker::providers::spreadsheet;
use worker::sync::{source_row, user_row};
use worker::uploads::UploadStore;

mod fanout;
mod floor;
mod provider;
mod webhooks;

pub use fanout::FanoutOptions;
pub use provider::ProviderOptions;

use crate::admin_flow::{self, PeopleSource};
use crate::client::GraphqlClient;
use crate::config::Config;
use crate::service::{self, Roles, RunningService, Tuning};

/// Why `bench` refuses a provider that pushes (SCIM): there is no download to compare with.
const NO_PUSHED_SOURCE: &str =
    "the bench measures reading a provider; a SCIM source pushes its people one request at a time";

/// Where the baseline inserts its rows, apart from the synced ones.
const BASELINE_WORKSPACE: &str = "bench-baseline";

/// Which parts one case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Store {
    /// The embedded parts: SQLite for data and the queue, in-process progress events.
    Sqlite,
    /// The production parts: PostgreSQL for data, Redis for the queue and progress events.
    Postgres,
}

/// The servers PostgreSQL cases use.
#[derive(Debug, Clone)]
pub struct Servers {
    /// Admin connection used to create and drop a database per case.
    pub postgres_url: String,
    /// Each case uses a key prefix of its own.
    pub redis_url: String,
}

pub struct BenchOptions {
    pub sizes: Vec<u32>,
    /// The provider whose fake the sync cases read (BambooHR's one-document report by default).
    pub source: String,
    /// Runs per case.
    pub repeat: usize,
    /// The `syncProgress` fan-out case, unless `None`.
    pub fanout: Option<FanoutOptions>,
    /// The provider cases, unless `None`.
    pub providers: Option<ProviderOptions>,
    pub stores: Vec<Store>,
    pub servers: Servers,
}

struct Case {
    store: Store,
    employees: u32,
    /// A spreadsheet's first upload (read, normalised and stored), before its sync.
    upload: Option<Duration>,
    sync: Duration,
    baseline_fetch: Duration,
    baseline_insert: Duration,
    /// The same rows and their history entries loaded the store's fastest plain way (see
    /// [`floor`]), after the same download.
    floor_load: Duration,
    resync: Duration,
    resync_user_writes: u64,
    resync_unchanged: i64,
    /// History entries each sync wrote (`user_change` rows of its run).
    sync_history: u64,
    resync_history: u64,
    peak_rss_mib: f64,
    /// Peak during the syncs above the resident memory of the service and its sandbox before.
    sync_rss_growth_mib: f64,
    /// The same first sync with an endpoint subscribed to `user.created`.
    with_webhook: webhooks::WebhookCost,
}

/// One memory figure of this process from `/proc/self/status` (`VmHWM:` peak, `VmRSS:` now),
/// in MiB.
fn memory_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub async fn run(options: BenchOptions) -> anyhow::Result<()> {
    if !options.sizes.is_empty() {
        println!(
            "directory-sync bench: full sync from {} vs. baseline (fetch the same pages + one bulk insert of the rows \
             the sync writes: each person with their manager link, and their provenance row), and vs. the physical \
             floor (the same download, then those rows and their history entries loaded raw: PostgreSQL COPY, \
             SQLite one transaction of prepared multi-row inserts)",
            options.source
        );
        println!(
            "peak RSS: the process's high-water mark over a case's sync and re-sync (service, sandbox and its \
             generated company), before the baseline; +N: that peak above the process's size before the sync\n"
        );
    }
    for &store in &options.stores {
        for &employees in &options.sizes {
            let mut runs = Vec::with_capacity(options.repeat);
            for _ in 0..options.repeat.max(1) {
                let case = run_case(&options.source, store, employees, &options.servers)
                    .await
                    .with_context(|| format!("{store:?}, {employees} employees"))?;
                print_case("run", &case);
                runs.push(case);
            }
            if runs.len() > 1 {
                runs.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
                print_case("median", &runs[runs.len() / 2]);
            }
        }
    }
    if let Some(fanout) = &options.fanout {
        for &store in &options.stores {
            fanout::run(fanout, store, &options.servers).await.with_context(|| format!("fan-out, {store:?}"))?;
        }
    }
    if let Some(providers) = &options.providers {
        println!(
            "directory-sync bench, providers: a full sync against each provider's fake at its documented quotas, \
             every request answered after the latency, next to the floor the provider's rules set\n"
        );
        for &store in &options.stores {
            provider::run(providers, store, &options.servers).await.with_context(|| format!("providers, {store:?}"))?;
        }
    }
    Ok(())
}

impl Case {
    fn ratio(&self) -> f64 {
        self.sync.as_secs_f64() / (self.baseline_fetch + self.baseline_insert).as_secs_f64()
    }

    /// The sync's time over the physical floor's: the download and the raw load.
    fn ratio_to_floor(&self) -> f64 {
        self.sync.as_secs_f64() / (self.baseline_fetch + self.floor_load).as_secs_f64()
    }
}

/// One line per run; with repeats, the run with the median ratio again as the case's figure
/// (a shared 2-core machine varies by ±20% from run to run).
fn print_case(label: &str, c: &Case) {
    let baseline = c.baseline_fetch + c.baseline_insert;
    println!(
        "{label:<7}{:<8} {:>7} employees{} | sync {:>8.2?} ({:>7.0} rows/s) | baseline {:>8.2?} (fetch {:.2?} + insert {:.2?}) | ratio {:.2} | floor {:>8.2?} (fetch + raw load {:.2?}) | ratio to floor {:.2} | no-change re-sync {:>8.2?}: {} unchanged, {} user rows written | history entries: sync {}, re-sync {} | with a user.created webhook receiver: sync {:.2?} ({:+.0}%), all delivered {:.2?} after its start | peak RSS {:.0} MiB (+{:.0})",
        format!("{:?}", c.store),
        c.employees,
        c.upload.map(|upload| format!(" | upload {upload:.2?}")).unwrap_or_default(),
        c.sync,
        f64::from(c.employees) / c.sync.as_secs_f64(),
        baseline,
        c.baseline_fetch,
        c.baseline_insert,
        c.ratio(),
        c.baseline_fetch + c.floor_load,
        c.floor_load,
        c.ratio_to_floor(),
        c.resync,
        c.resync_unchanged,
        c.resync_user_writes,
        c.sync_history,
        c.resync_history,
        c.with_webhook.sync,
        (c.with_webhook.sync.as_secs_f64() / c.sync.as_secs_f64() - 1.0) * 100.0,
        c.with_webhook.all_delivered,
        c.peak_rss_mib,
        c.sync_rss_growth_mib,
    );
}

/// A service with a sandbox company, connected and mapped through the API, ready to sync.
pub(crate) struct BenchService {
    pub sandbox: Sandbox,
    pub service: RunningService,
    pub client: GraphqlClient,
    pub config: Config,
    pub source: PeopleSource,
    /// A spreadsheet's first upload (read, normalised and stored): how long it took.
    pub upload: Option<Duration>,
    pub connection_id: String,
    data_dir: std::path::PathBuf,
    postgres: Option<(String, String)>,
    /// Redis URL and key prefix of a PostgreSQL case.
    redis: Option<(String, String)>,
}

impl BenchService {
    /// The sandbox tenant's subdomain.
    pub const TENANT: &'static str = "bench";

    pub async fn start(provider_id: &str, store: Store, employees: u32, servers: &Servers) -> anyhow::Result<Self> {
        let postgres_url = servers.postgres_url.as_str();
        let sandbox = Sandbox::start().await?;
        let company = Company::generate("bench.example", employees, 3);
        let source = PeopleSource::of(&sandbox, provider_id, Self::TENANT, company);
        let data_dir = std::env::temp_dir().join(format!("directory-sync-bench-{}", uuid::Uuid::new_v4()));
        let (database_url, postgres) = match store {
            Store::Sqlite => (None, None),
            Store::Postgres => {
                let name = format!("ds_bench_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(postgres_url).await.context("BENCH_POSTGRES_URL")?;
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
                let base = postgres_url.rsplit_once('/').context("BENCH_POSTGRES_URL has no database")?.0;
                (Some(format!("{base}/{name}")), Some((postgres_url.to_string(), name)))
            }
        };
        let dir = data_dir.display().to_string();
        let settings = sandbox.settings();
        let production = store == Store::Postgres;
        let (redis_prefix, jwt_secret, encryption_key) = (
            format!("ds_bench_{}", uuid::Uuid::new_v4().simple()),
            CredentialCipher::generate_key(),
            CredentialCipher::generate_key(),
        );
        let config = Config::from_lookup(|name| match name {
            "BIND_ADDR" => Some("127.0.0.1:0".into()),
            "DATA_DIR" => Some(dir.clone()),
            "DATABASE_URL" => database_url.clone(),
            "REDIS_URL" if production => Some(servers.redis_url.clone()),
            "REDIS_PREFIX" => Some(redis_prefix.clone()),
            "JWT_SECRET" if production => Some(jwt_secret.clone()),
            "ENCRYPTION_KEY" if production => Some(encryption_key.clone()),
            // Production mode needs a mail server for invitations; a sync sends none, so
            // nothing need listen there.
            "SMTP_URL" if production => Some("smtp://127.0.0.1:2525".into()),
            // The fan-out case's subscribers all hold the bench's one token; the API's rate
            // limits are not what it measures.
            "API_REQUESTS_PER_MINUTE" | "API_WORKSPACE_REQUESTS_PER_MINUTE" => Some("1000000".into()),
            // The webhook case's receiver listens on loopback.
            "WEBHOOK_ALLOW_PRIVATE" => Some("true".into()),
            // Tuning (SYNC_PAGE_SIZE, ...) comes from the environment, as for `serve`.
            name if name.starts_with("SYNC_") => std::env::var(name).ok(),
            other => settings.iter().find(|(k, _)| k == other).map(|(_, v)| v.clone()),
        })?;
        if !config.is_embedded_database() {
            service::migrate(&service::connect_database(&config.database_url).await?).await?;
        }
        let service =
            RunningService::start(&config, Roles { api: true, worker: true }, Tuning::from_config(&config)).await?;
        let client = GraphqlClient::new(
            service.url.as_deref().context("API url")?,
            Some(service.keys.mint("bench", "bench", Role::Admin, Plan::Paid, chrono::Duration::hours(4))),
        );
        let (connection, upload) = match &source {
            PeopleSource::Tenant(credentials) => (admin_flow::connect(&client, credentials).await?, None),
            PeopleSource::Spreadsheet(content) => {
                let started = Instant::now();
                let upload = admin_flow::upload_spreadsheet(&client, None, "people.csv", content.clone()).await?;
                (upload["connection"].clone(), Some(started.elapsed()))
            }
            PeopleSource::Pushed(_) => anyhow::bail!(NO_PUSHED_SOURCE),
        };
        let connection_id = connection["id"].as_str().context("connection id")?.to_string();
        let suggested = admin_flow::current_mapping(&client, &connection_id).await?;
        admin_flow::save_and_confirm(&client, &connection_id, suggested).await?;
        let redis = production.then(|| (servers.redis_url.clone(), redis_prefix));
        Ok(Self { sandbox, service, client, config, source, upload, connection_id, data_dir, postgres, redis })
    }

    /// Makes the source readable again: a spreadsheet's file is kept only until a sync
    /// succeeds with it, so it is uploaded again (untimed) before the next read.
    pub async fn refill(&self) -> anyhow::Result<()> {
        if let PeopleSource::Spreadsheet(content) = &self.source {
            admin_flow::upload_spreadsheet(&self.client, Some(&self.connection_id), "people.csv", content.clone())
                .await?;
        }
        Ok(())
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.service.stop().await;
        self.sandbox.stop().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((url, prefix)) = self.redis {
            worker::jobs::delete_redis_queue(&url, &prefix).await?;
        }
        if let Some((admin_url, name)) = self.postgres {
            let admin = Database::connect(&admin_url).await?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
        }
        Ok(())
    }
}

/// Resets the process's peak resident memory (VmHWM), so a case reports its own peak.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn run_case(source: &str, store: Store, employees: u32, servers: &Servers) -> anyhow::Result<Case> {
    let bench = BenchService::start(source, store, employees, servers).await?;
    let (client, db) = (&bench.client, &bench.service.db);
    reset_peak_rss();
    let rss_before = memory_mib("VmRSS:");
    let (sync, first) = timed_sync(client, &bench.connection_id).await?;
    let written_before = latest_user_write(db).await?;
    // A spreadsheet's second upload is not the syncs' memory: the peak is each sync's own.
    let first_peak = memory_mib("VmHWM:");
    bench.refill().await?;
    reset_peak_rss();
    let (resync, run) = timed_sync(client, &bench.connection_id).await?;
    // Before the baseline, which holds the whole company in memory by design.
    let peak_rss_mib = first_peak.max(memory_mib("VmHWM:"));
    let resync_user_writes =
        directory_user::Entity::find().filter(directory_user::Column::UpdatedAt.gt(written_before)).count(db).await?;
    let (sync_history, resync_history) = (history_of(db, &first).await?, history_of(db, &run).await?);
    anyhow::ensure!(resync_history == 0, "the no-change re-sync wrote {resync_history} history entries");
    let created = first["created"].as_u64().unwrap_or_default();
    anyhow::ensure!(
        sync_history >= created,
        "the first sync wrote {sync_history} history entries for {created} people"
    );
    let connection_uuid = uuid::Uuid::parse_str(&bench.connection_id)?;
    bench.refill().await?;
    let Baseline { fetch: baseline_fetch, insert: baseline_insert, floor_load } =
        baseline(&bench.config, db, &bench.source, connection_uuid).await?;
    let upload = bench.upload;
    bench.stop().await?;
    // On a service of its own, so it is a first sync too.
    let with_webhook =
        webhooks::run(source, store, employees, servers).await.context("the sync with a webhook subscriber")?;
    Ok(Case {
        store,
        employees,
        upload,
        sync,
        baseline_fetch,
        baseline_insert,
        floor_load,
        resync,
        resync_user_writes,
        resync_unchanged: run["unchanged"].as_i64().unwrap_or(-1),
        sync_history,
        resync_history,
        peak_rss_mib,
        sync_rss_growth_mib: peak_rss_mib - rss_before,
        with_webhook,
    })
}

/// The history entries `run` (a `SyncRun` as the API answers it) wrote.
async fn history_of(db: &sea_orm::DatabaseConnection, run: &Value) -> anyhow::Result<u64> {
    let run_id = uuid::Uuid::parse_str(run["id"].as_str().context("the run's id")?)?;
    Ok(entity::user_change::Entity::find().filter(entity::user_change::Column::SyncRunId.eq(run_id)).count(db).await?)
}

/// startSync → SUCCEEDED, followed over the subscription as the admin portal does.
async fn timed_sync(client: &GraphqlClient, connection_id: &str) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let run_id = admin_flow::start_sync(client, connection_id).await?;
    let last = admin_flow::follow_run(client, &run_id, |_| {}).await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(last["status"] == "SUCCEEDED", "the sync ended {}", last);
    Ok((elapsed, last))
}

async fn latest_user_write(db: &sea_orm::DatabaseConnection) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let latest: Option<chrono::DateTime<chrono::Utc>> = directory_user::Entity::find()
        .select_only()
        .column_as(directory_user::Column::UpdatedAt.max(), "latest")
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    latest.context("no users were written")
}

/// What the baseline took: the download, its ORM bulk insert, and the floor's raw load.
struct Baseline {
    fetch: Duration,
    insert: Duration,
    floor_load: Duration,
}

/// Fetches the same pages with the same connector, maps them, and bulk-inserts the same rows the
/// sync writes (each person, linked to their manager, and their provenance row) in one
/// transaction, into a workspace and connection of their own; then loads them again, with their
/// history entries, the floor's way, into another.
async fn baseline(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
    source: &PeopleSource,
    connection_id: uuid::Uuid,
) -> anyhow::Result<Baseline> {
    let registry = ProviderRegistry::new(ProviderHttp::new(RetryPolicy::default()), config.providers.clone())
        .with_uploads(UploadStore::new(db.clone()))
        .with_pushed(worker::scim::store::PushedUsers::new(db.clone()));
    let (provider_id, subdomain, credentials) = match source {
        PeopleSource::Tenant(credentials) => (
            credentials.provider_id,
            credentials.subdomain.as_deref(),
            Credentials::ApiKey {
                key: credentials.api_key.clone().into(),
                secret: credentials.api_secret.clone().map(Into::into),
            },
        ),
        PeopleSource::Spreadsheet(_) => (spreadsheet::ID, None, Credentials::None),
        PeopleSource::Pushed(_) => anyhow::bail!(NO_PUSHED_SOURCE),
    };
    let provider = catalogue::find(provider_id).context("the provider")?;
    let mut context = registry.context(provider_id);
    context.connection_id = Some(connection_id);
    let connector = provider.connector(&context, subdomain, &credentials)?;
    let available = connector.discover_fields().await?;
    let mapping = suggest_mapping(provider.info(), &available);

    let started = Instant::now();
    let mut pages = connector.fetch(mapping.fetch_request(None, config.sync_page_size)).await?;
    let mut records = Vec::new();
    while let Some(page) = futures::StreamExt::next(&mut pages).await {
        records.extend(page?.records);
    }
    let fetch = started.elapsed();

    let mut seen = std::collections::HashSet::new();
    let people: Vec<MappedUser> = records
        .iter()
        .filter_map(|r| apply_mapping(&mapping, r).ok())
        .filter(|u| seen.insert(u.email_key.clone()))
        .collect();

    let started = Instant::now();
    let (users, sources, _) = rows_of(db, BASELINE_WORKSPACE, connection_id, &people).await?;
    let txn = db.begin().await?;
    insert_in_batches(&txn, users).await?;
    insert_in_batches(&txn, sources).await?;
    txn.commit().await?;
    let insert = started.elapsed();

    // The rows are made before the clock starts: the floor is the store's part alone.
    let (users, sources, history) = rows_of(db, FLOOR_WORKSPACE, connection_id, &people).await?;
    let tables = [floor::Rows::of(users), floor::Rows::of(sources), floor::Rows::of(history)];
    let floor_load = floor::load(db, &tables).await?;
    Ok(Baseline { fetch, insert, floor_load })
}

/// Where the floor loads its rows.
const FLOOR_WORKSPACE: &str = "bench-floor";

/// The rows a first sync writes for `people` (each person with their manager link, their
/// provenance, their history entry), for workspace `workspace_id` and a copy of connection
/// `connection_id` there, made first.
async fn rows_of(
    db: &sea_orm::DatabaseConnection,
    workspace_id: &str,
    connection_id: uuid::Uuid,
    people: &[MappedUser],
) -> anyhow::Result<(Vec<directory_user::ActiveModel>, Vec<user_source::ActiveModel>, Vec<user_change::ActiveModel>)> {
    worker::workspaces::ensure_workspace(db, workspace_id, "paid").await?;
    let mut connection =
        connection::Entity::find_by_id(connection_id).one(db).await?.context("the synced connection")?;
    connection.id = uuid::Uuid::now_v7();
    connection.workspace_id = workspace_id.into();
    let connection = connection::Entity::insert(connection.into_active_model()).exec_with_returning(db).await?;
    let now = chrono::Utc::now();
    let ids: Vec<uuid::Uuid> = people.iter().map(|_| uuid::Uuid::now_v7()).collect();
    let by_remote: HashMap<&str, uuid::Uuid> =
        people.iter().zip(&ids).map(|(u, id)| (u.remote_id.as_str(), *id)).collect();
    let author = format!("sync:{}", uuid::Uuid::nil());
    let mut users = Vec::with_capacity(people.len());
    let mut sources = Vec::with_capacity(people.len());
    let mut history = Vec::with_capacity(people.len());
    for (u, id) in people.iter().zip(&ids) {
        let mut user = user_row(workspace_id, u, *id, now);
        // Each person's row carries their manager link, as the sync's rows do.
        user.manager_id = Set(u.remote_manager_id.as_deref().and_then(|m| by_remote.get(m)).copied());
        users.push(user);
        sources.push(source_row(connection.id, uuid::Uuid::nil(), u, *id, u.content_hash(), now));
        history.push(user_change::ActiveModel {
            id: Set(*id),
            workspace_id: Set(workspace_id.to_string()),
            user_id: Set(*id),
            sync_run_id: Set(None),
            at: Set(now),
            field: Set(worker::history::CREATED.to_string()),
            old_value: Set(None),
            new_value: Set(Some(u.email.clone())),
            changed_by: Set(author.clone()),
            webhook_pending: Set(false),
        });
    }
    Ok((users, sources, history))
}

async fn insert_in_batches<A: ActiveModelTrait + Send>(txn: &DatabaseTransaction, rows: Vec<A>) -> anyhow::Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(1000).collect();
        A::Entity::insert_many(batch).exec(txn).await?;
    }
    Ok(())
}
