//! Production mode: the real binary as separate processes — `migrate`, an API replica
//! (`serve --no-worker`) and `worker` processes — sharing PostgreSQL and Redis. A subscriber on
//! the API process follows runs executed by a worker process, and a killed worker's run is
//! finished by another worker from its checkpoint.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use api::{JwtKeys, Plan, Role};
use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;
use sandbox::{Company, SampleCredentials, Sandbox};

use crate::helpers::{fresh_postgres_database, unique, Cleanup, Process, REDIS_URL};
use crate::mail_server::{MailServer, Policy, STALL};
use crate::webhook_receiver::{Receiver, Reply};

const JWT_SECRET: &str = "production-test-secret";
const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The deployment: environment shared by every process.
struct Deployment {
    env: Vec<(String, String)>,
    api_url: String,
    smtp_port: u16,
    _cleanup: Cleanup,
}

impl Deployment {
    async fn new(sandbox: &Sandbox, page_size: usize) -> Self {
        Self::with_redis(sandbox, page_size, REDIS_URL).await
    }

    /// A deployment on its own Redis (one a test may stop and start).
    async fn with_redis(sandbox: &Sandbox, page_size: usize, redis_url: &str) -> Self {
        let (database, database_url) = fresh_postgres_database().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let data_dir = std::env::temp_dir().join(unique("directory-sync-prod"));
        let redis_prefix = unique("ds-prod");
        // Nothing listens there until a test starts its mail server (`start_mail`): the tests
        // that sync send no mail.
        let smtp_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let env = [
            ("SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
            ("SMTP_RETRY_SECONDS", "1".to_string()),
            // A claim on an invitation lasts ten of these.
            ("SMTP_TIMEOUT_SECONDS", "1".to_string()),
            // Receivers listen on loopback; a claim on a delivery lasts twice this, plus 5 s.
            ("WEBHOOK_ALLOW_PRIVATE", "true".to_string()),
            ("WEBHOOK_TIMEOUT_SECONDS", "2".to_string()),
            ("WEBHOOK_RETRY_SECONDS", "0.5".to_string()),
            ("DATABASE_URL", database_url),
            ("REDIS_URL", redis_url.to_string()),
            ("REDIS_PREFIX", redis_prefix.clone()),
            ("JWT_SECRET", JWT_SECRET.to_string()),
            ("ENCRYPTION_KEY", ENCRYPTION_KEY.to_string()),
            ("BIND_ADDR", format!("127.0.0.1:{port}")),
            ("DATA_DIR", data_dir.display().to_string()),
            ("SYNC_PAGE_SIZE", page_size.to_string()),
            ("SYNC_LEASE_SECONDS", "2".to_string()),
            ("SYNC_SWEEP_SECONDS", "1".to_string()),
            ("SYNC_RETRY_SECONDS", "1".to_string()),
            ("RUST_LOG", std::env::var("TEST_LOG").map(|_| "info".to_string()).unwrap_or_else(|_| "error".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(sandbox.settings())
        .collect();
        let cleanup = Cleanup { data_dir, postgres_database: Some(database), redis_prefix: Some(redis_prefix) };
        Self { env, api_url: format!("http://127.0.0.1:{port}"), smtp_port, _cleanup: cleanup }
    }

    /// Starts the deployment's mail server, at its `SMTP_URL`, answering as `policy` says.
    async fn start_mail(&self, policy: Policy) -> MailServer {
        MailServer::on_port(self.smtp_port, policy).await
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_directory-sync"));
        command.args(args).envs(self.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null()).stdout(Stdio::null());
        if std::env::var("TEST_LOG").is_err() {
            command.stderr(Stdio::null());
        }
        command
    }

    fn spawn(&self, args: &[&str]) -> Process {
        Process(self.command(args).spawn().expect("the directory-sync binary starts"))
    }

    /// Starts a process with `env` besides the deployment's, logging at `info` to a file, for a
    /// test to show should it fail.
    fn spawn_logged(&self, args: &[&str], env: &[(&str, &str)]) -> (Process, std::path::PathBuf) {
        let log = std::env::temp_dir().join(format!("{}.log", unique("directory-sync-prod")));
        let file = std::fs::File::create(&log).unwrap();
        let mut command = self.command(args);
        command.envs(env.iter().copied()).env("RUST_LOG", "info").stderr(file);
        (Process(command.spawn().expect("the directory-sync binary starts")), log)
    }

    /// The run's row as the database has it, with what the API does not show (its lease), for a
    /// failing test to say where the run stands.
    async fn run_row(&self, run_id: &str) -> String {
        use sea_orm::EntityTrait;
        let url = &self.env.iter().find(|(k, _)| k == "DATABASE_URL").unwrap().1;
        let db = sea_orm::Database::connect(url).await.unwrap();
        let run = entity::sync_run::Entity::find_by_id(uuid::Uuid::parse_str(run_id).unwrap()).one(&db).await;
        format!("{run:?}")
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = reqwest::get(format!("{}/readyz", self.api_url)).await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the API process did not become ready");
    }

    /// An admin's bearer token for the deployment's workspace.
    fn token(&self) -> String {
        JwtKeys::from_secret(JWT_SECRET.as_bytes()).mint(
            "ops",
            "prod",
            Role::Admin,
            Plan::Paid,
            chrono::Duration::hours(1),
        )
    }

    fn admin(&self) -> GraphqlClient {
        GraphqlClient::new(&self.api_url, Some(self.token()))
    }

    /// Migrates the database, then starts an API process (`serve --no-worker`) and waits for it.
    async fn start_api(&self) -> Process {
        assert!(self.command(&["migrate"]).status().unwrap().success());
        let api = self.spawn(&["serve", "--no-worker"]);
        self.wait_ready().await;
        api
    }
}

async fn connect_and_map(client: &GraphqlClient, credentials: &SampleCredentials) -> String {
    let connection = admin_flow::connect(client, credentials).await.unwrap();
    let id = connection["id"].as_str().unwrap().to_string();
    let suggested = admin_flow::current_mapping(client, &id).await.unwrap();
    admin_flow::save_and_confirm(client, &id, suggested).await.unwrap();
    id
}

async fn next_run(subscription: &mut directory_sync::client::Subscription) -> Option<Value> {
    let event =
        tokio::time::timeout(Duration::from_secs(60), subscription.next()).await.expect("progress within a minute")?;
    Some(event.unwrap().ok().unwrap()["syncProgress"]["run"].clone())
}

/// Starts a sync; answers its run id.
async fn start_sync(admin: &GraphqlClient, connection_id: &str) -> String {
    let data = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    data["startSync"]["id"].as_str().unwrap().to_string()
}

/// The run as `syncRun` reads it now.
async fn run_now(admin: &GraphqlClient, run_id: &str) -> Value {
    admin.execute(&ops::sync_run(), json!({ "id": run_id })).await.unwrap().ok().unwrap()["syncRun"].clone()
}

/// Polls the run until it is neither QUEUED nor RUNNING (two minutes at most).
async fn until_finished(admin: &GraphqlClient, run_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = run_now(admin, run_id).await;
        if !["QUEUED", "RUNNING"].contains(&run["status"].as_str().unwrap()) {
            return run;
        }
        assert!(Instant::now() < deadline, "the run ended: {run}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Follows `progress` until the run has processed `at_least` records; answers how many.
async fn until_processed(progress: &mut directory_sync::client::Subscription, at_least: i64) -> i64 {
    while let Some(run) = next_run(progress).await {
        let processed = run["processed"].as_i64().unwrap();
        if processed >= at_least {
            return processed;
        }
    }
    panic!("the run ended before processing {at_least} records");
}

/// The last event of `progress`.
async fn last_run(progress: &mut directory_sync::client::Subscription) -> Value {
    let mut last = Value::Null;
    while let Some(run) = next_run(progress).await {
        last = run;
    }
    last
}

/// `run` succeeded with each of `records` processed once, and the directory holds exactly the
/// people it created.
async fn assert_imported_once(admin: &GraphqlClient, run: &Value, records: i64) {
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["processed"], records, "nothing counted twice");
    let users = admin.execute(ops::USERS, json!({})).await.unwrap().ok().unwrap();
    assert_eq!(users["users"]["totalCount"], run["created"], "no one was imported twice");
}

#[tokio::test]
async fn a_subscriber_on_the_api_follows_a_run_on_a_separate_worker() {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.add_tenant("bamboohr", "acme", Company::generate("acme.example", 300, 5));
    let deployment = Deployment::new(&sandbox, 50).await;
    let _api = deployment.start_api().await;
    let admin = deployment.admin();
    let connection_id = connect_and_map(&admin, &credentials).await;

    let run_id = start_sync(&admin, &connection_id).await;
    let mut progress = admin.subscribe(&ops::sync_progress(), json!({ "id": run_id })).await.unwrap();
    assert_eq!(next_run(&mut progress).await.unwrap()["status"], "QUEUED");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(run_now(&admin, &run_id).await["status"], "QUEUED", "the API process runs no syncs");

    let _worker = deployment.spawn(&["worker"]);
    assert_imported_once(&admin, &last_run(&mut progress).await, 300).await;
    sandbox.stop().await;
}

/// A sync of 2,000 people on a worker of its own, 50 records in: one record per transaction
/// makes it long enough to stop the worker halfway.
struct MidRun {
    sandbox: Sandbox,
    deployment: Deployment,
    _api: Process,
    admin: GraphqlClient,
    worker: Process,
    run_id: String,
    progress: directory_sync::client::Subscription,
}

impl MidRun {
    async fn start() -> Self {
        let sandbox = Sandbox::start().await.unwrap();
        let credentials = sandbox.add_tenant("bamboohr", "acme", Company::generate("acme.example", 2000, 5));
        let deployment = Deployment::new(&sandbox, 1).await;
        let _api = deployment.start_api().await;
        let admin = deployment.admin();
        let connection_id = connect_and_map(&admin, &credentials).await;
        let worker = deployment.spawn(&["worker"]);
        let run_id = start_sync(&admin, &connection_id).await;
        let mut progress = admin.subscribe(&ops::sync_progress(), json!({ "id": run_id })).await.unwrap();
        until_processed(&mut progress, 50).await;
        Self { sandbox, deployment, _api, admin, worker, run_id, progress }
    }
}

#[tokio::test]
async fn a_killed_workers_run_is_finished_by_another_from_its_checkpoint() {
    let MidRun { sandbox, deployment, _api, admin, worker: mut doomed, run_id, mut progress } = MidRun::start().await;
    doomed.kill();
    let stalled = run_now(&admin, &run_id).await;
    assert_eq!(stalled["status"], "RUNNING");
    assert!(stalled["processed"].as_i64().unwrap() < 2000, "killed before the end");

    let _rescuer = deployment.spawn(&["worker"]);
    let last = last_run(&mut progress).await;
    assert_imported_once(&admin, &last, 2000).await;
    assert_eq!(last["created"].as_i64().unwrap() + last["skipped"].as_i64().unwrap(), 2000);
    sandbox.stop().await;
}

/// Sends SIGTERM, as a supervisor or a rolling deploy does.
fn terminate(process: &Process) {
    let status = Command::new("kill").args(["-TERM", &process.0.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Waits up to `within` for the process to exit; answers whether it exited successfully.
async fn exit_within(process: &mut Process, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = process.0.try_wait().unwrap() {
            return status.success();
        }
        assert!(Instant::now() < deadline, "the process did not exit within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_stopped_by_sigterm_hands_its_run_over_in_seconds() {
    let MidRun { sandbox, deployment, _api, admin, worker: mut stopping, run_id, mut progress } = MidRun::start().await;
    // A second worker is up (a rolling deploy's new process), then the first is told to stop.
    let _successor = deployment.spawn(&["worker"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let signalled = Instant::now();
    terminate(&stopping);
    assert!(exit_within(&mut stopping, Duration::from_secs(10)).await, "a SIGTERM is a clean stop: exit 0");
    let exited = signalled.elapsed();
    let at_stop = run_now(&admin, &run_id).await;
    let processed_at_stop = at_stop["processed"].as_i64().unwrap();
    assert_eq!(at_stop["status"], "RUNNING");

    let mut resumed = None;
    let mut last = Value::Null;
    while let Some(run) = next_run(&mut progress).await {
        if resumed.is_none() && run["processed"].as_i64().unwrap() > processed_at_stop {
            resumed = Some(signalled.elapsed());
        }
        last = run;
    }
    let resumed = resumed.expect("the successor moved the run on");
    eprintln!("SIGTERM: the worker exited after {exited:?}; the run moved on again after {resumed:?}");
    assert!(resumed < Duration::from_secs(10), "handed over in {resumed:?}, not after a lease and a sweep");
    assert_imported_once(&admin, &last, 2000).await;
    sandbox.stop().await;
}

#[tokio::test]
async fn an_api_stopped_by_sigterm_closes_its_sockets_with_going_away() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.add_tenant("bamboohr", "acme", Company::generate("acme.example", 50, 5));
    let deployment = Deployment::new(&sandbox, 50).await;
    let mut api = deployment.start_api().await;
    let admin = deployment.admin();
    let connection_id = connect_and_map(&admin, &credentials).await;

    let url = format!("{}/graphql/ws", deployment.api_url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let token = deployment.token();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": ops::CONNECTION_STATUS, "variables": { "id": connection_id } } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();

    let mut saw_event = false;
    let mut close_code = None;
    let mut signalled = false;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(15), socket.next()).await {
        match message.unwrap() {
            Message::Text(text) if text.contains("\"next\"") => {
                saw_event = true;
                if !signalled {
                    terminate(&api);
                    signalled = true;
                }
            }
            Message::Close(frame) => {
                close_code = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    assert!(saw_event, "the subscription was live");
    assert_eq!(close_code, Some(1001), "a close frame saying the server is going away");
    assert!(exit_within(&mut api, Duration::from_secs(35)).await, "the API exits cleanly");
    sandbox.stop().await;
}

/// A `redis-server` of the test's own, on a free port, that the test stops and starts again.
struct OwnRedis {
    port: u16,
    process: Option<Process>,
}

impl OwnRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, process: None };
        redis.restart().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it: Redis is gone, and with it (no persistence) every key.
    fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.process = Some(Process(child));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server started");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn readyz(url: &str) -> (u16, String) {
    match reqwest::get(format!("{url}/readyz")).await {
        Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
        Err(err) => (0, err.to_string()),
    }
}

#[tokio::test]
async fn a_redis_outage_mid_run_pauses_syncs_and_the_same_worker_finishes_them() {
    let mut redis = OwnRedis::start().await;
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.add_tenant("bamboohr", "acme", Company::generate("acme.example", 2000, 5));
    let second = sandbox.add_tenant("bamboohr", "beta", Company::generate("beta.example", 20, 6));
    let deployment = Deployment::with_redis(&sandbox, 1, &redis.url()).await;
    let mut api = deployment.start_api().await;
    // An attempt that stops moving is given up after 30 s here (15 minutes by default), well
    // within the wait below.
    let (mut worker, worker_log) = deployment.spawn_logged(&["worker"], &[("SYNC_STALL_SECONDS", "30")]);
    let admin = deployment.admin();
    let connection_id = connect_and_map(&admin, &credentials).await;
    let beta_id = connect_and_map(&admin, &second).await;

    let run_id = start_sync(&admin, &connection_id).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while run_now(&admin, &run_id).await["processed"].as_i64().unwrap() < 50 {
        assert!(Instant::now() < deadline, "the run got going");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Redis goes away mid-run, and comes back empty.
    let down_at = Instant::now();
    redis.kill();
    let deadline = Instant::now() + Duration::from_secs(15);
    let (status, why) = loop {
        let (status, why) = readyz(&deployment.api_url).await;
        if status == 503 || Instant::now() > deadline {
            break (status, why);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, 503, "/readyz reports the outage: {why}");
    assert!(why.contains("Redis"), "{why}");
    let refused = admin.execute(&ops::start_sync(), json!({ "id": beta_id })).await.unwrap();
    assert_eq!(refused.error_code(), Some("SERVICE_UNAVAILABLE"), "{:?}", refused.errors);
    let beta = admin.execute(ops::CONNECTION, json!({ "id": beta_id })).await.unwrap().ok().unwrap();
    assert!(beta["connection"]["lastSync"].is_null(), "no run is left behind: {beta}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    redis.restart().await;
    let outage = down_at.elapsed();
    let back_at = Instant::now();
    let processed_when_back = run_now(&admin, &run_id).await["processed"].as_i64().unwrap();

    // The same worker process finishes the run, exactly once.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut resumed = None;
    let last = loop {
        let run = run_now(&admin, &run_id).await;
        if resumed.is_none() && run["processed"].as_i64().unwrap() > processed_when_back {
            resumed = Some(back_at.elapsed());
        }
        if run["status"] != "RUNNING" && run["status"] != "QUEUED" {
            break run;
        }
        if Instant::now() >= deadline {
            let log = std::fs::read_to_string(&worker_log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
            panic!(
                "the run did not finish after the outage: {run}\nits row: {}\nthe worker: {:?}\nthe worker's log, last \
                 80 lines:\n{}",
                deployment.run_row(&run_id).await,
                worker.0.try_wait(),
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!(
        "Redis outage of {outage:?}: the run moved on {:?} and finished {:?} after Redis was back",
        resumed.unwrap_or_default(),
        back_at.elapsed()
    );
    assert_imported_once(&admin, &last, 2000).await;
    assert!(worker.0.try_wait().unwrap().is_none(), "the worker rode out the outage");
    assert!(api.0.try_wait().unwrap().is_none(), "so did the API");
    assert_eq!(readyz(&deployment.api_url).await.0, 200);
    let beta_run = admin.execute(&ops::start_sync(), json!({ "id": beta_id })).await.unwrap().ok().unwrap();
    assert_eq!(beta_run["startSync"]["status"], "QUEUED", "syncs start again");
    worker.kill();
    api.kill();
    let _ = std::fs::remove_file(worker_log);
    sandbox.stop().await;
}

#[tokio::test]
async fn runs_queued_at_once_are_shared_by_idle_workers() {
    let sandbox = Sandbox::start().await.unwrap();
    let tenants: Vec<SampleCredentials> = (0..4)
        .map(|i| sandbox.add_tenant("bamboohr", &format!("t{i}"), Company::generate(&format!("t{i}.example"), 300, 5)))
        .collect();
    let deployment = Deployment::new(&sandbox, 1).await;
    let _api = deployment.start_api().await;
    let logs: Vec<std::path::PathBuf> =
        (0..2).map(|i| std::env::temp_dir().join(format!("{}-worker-{i}.log", unique("ds-spread")))).collect();
    let _workers: Vec<Process> = logs
        .iter()
        .map(|log| {
            let mut command = deployment.command(&["worker"]);
            command.env("RUST_LOG", "worker::sync=info").stderr(std::fs::File::create(log).unwrap());
            Process(command.spawn().unwrap())
        })
        .collect();
    let admin = deployment.admin();
    let mut connections = Vec::new();
    for credentials in &tenants {
        connections.push(connect_and_map(&admin, credentials).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // All four at once, in one HTTP batch, as a schedule firing for several connections does.
    let token = deployment.token();
    let batch: Vec<Value> =
        connections.iter().map(|id| json!({ "query": ops::start_sync(), "variables": { "id": id } })).collect();
    let answers: Value = reqwest::Client::new()
        .post(format!("{}/graphql", deployment.api_url))
        .bearer_auth(token)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let runs: Vec<String> = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["data"]["startSync"]["id"].as_str().unwrap().to_string())
        .collect();
    for run_id in &runs {
        assert_eq!(until_finished(&admin, run_id).await["status"], "SUCCEEDED");
    }
    let claims: Vec<usize> =
        logs.iter().map(|log| std::fs::read_to_string(log).unwrap().matches("claimed a sync run").count()).collect();
    for log in &logs {
        let _ = std::fs::remove_file(log);
    }
    assert_eq!(claims.iter().sum::<usize>(), 4, "each run claimed once: {claims:?}");
    assert!(claims.iter().all(|c| *c >= 1), "both workers took runs: {claims:?}");
    sandbox.stop().await;
}

/// The directory, person by person: email (lower-cased) → ACTIVE or INACTIVE.
async fn directory_rows(admin: &GraphqlClient) -> std::collections::BTreeMap<String, String> {
    let mut rows = std::collections::BTreeMap::new();
    let mut after = Value::Null;
    loop {
        let data = admin.execute(ops::USERS, json!({ "first": 500, "after": after })).await.unwrap().ok().unwrap();
        for edge in data["users"]["edges"].as_array().unwrap() {
            let node = &edge["node"];
            rows.insert(
                node["email"].as_str().unwrap().to_lowercase(),
                node["employmentStatus"].as_str().unwrap().to_string(),
            );
        }
        if !data["users"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return rows;
        }
        after = data["users"]["pageInfo"]["endCursor"].clone();
    }
}

/// What the directory should hold for `employees`: each importable person, active or not.
fn expected_rows(employees: &[sandbox::Employee]) -> std::collections::BTreeMap<String, String> {
    let mut rows = std::collections::BTreeMap::new();
    for employee in employees {
        let Some(email) = employee.work_email.as_ref().map(|e| e.to_lowercase()) else { continue };
        let status = employee.directory_status();
        // The first record with an email keeps it (DUPLICATE_EMAIL for the rest).
        rows.entry(email).or_insert_with(|| status.to_string());
    }
    rows
}

async fn sync_to_the_end(admin: &GraphqlClient, connection_id: &str) -> Value {
    until_finished(admin, &start_sync(admin, connection_id).await).await
}

#[tokio::test]
async fn provider_faults_never_cost_the_directory_a_row() {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.add_tenant("bamboohr", "acme", Company::generate("acme.example", 300, 5));
    let deployment = Deployment::new(&sandbox, 50).await;
    let _api = deployment.start_api().await;
    let _worker = deployment.spawn(&["worker"]);
    let admin = deployment.admin();
    let connection_id = connect_and_map(&admin, &credentials).await;
    assert_eq!(sync_to_the_end(&admin, &connection_id).await["status"], "SUCCEEDED");
    let employees = sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let synced = directory_rows(&admin).await;
    assert_eq!(synced, expected_rows(&employees), "the first sync, row by row");

    // A 500 storm longer than the retry budget (3 attempts of 4 requests): FAILED, and every
    // row as it was.
    sandbox.with_tenant("acme", |t| t.inject(vec![sandbox::Fault::Status(500); 12]));
    let stormed = sync_to_the_end(&admin, &connection_id).await;
    assert_eq!(stormed["status"], "FAILED", "{stormed}");
    assert_eq!(directory_rows(&admin).await, synced, "a failed run changed nobody");

    // The provider answers with nobody: the guard holds every deactivation.
    let everyone = sandbox.with_tenant("acme", |t| std::mem::take(&mut t.company.employees));
    let emptied = sync_to_the_end(&admin, &connection_id).await;
    assert_eq!(
        (emptied["status"].as_str(), emptied["deactivated"].as_i64()),
        (Some("SUCCEEDED"), Some(0)),
        "{emptied}"
    );
    assert!(emptied["deactivationsHeld"].as_i64().unwrap() > 0);
    assert_eq!(directory_rows(&admin).await, synced, "an empty answer changed nobody");
    sandbox.with_tenant("acme", |t| t.company.employees = everyone);

    // The key is revoked: the connection is FAILED, and every row as it was.
    sandbox.with_tenant("acme", |t| t.key = "revoked-and-replaced".into());
    assert_eq!(sync_to_the_end(&admin, &connection_id).await["status"], "FAILED");
    let connection = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(connection["connection"]["status"], "FAILED");
    assert_eq!(directory_rows(&admin).await, synced, "a refused key changed nobody");

    // Reconnected, the next sync is fine, row by row.
    let mut renewed = credentials.clone();
    renewed.api_key = "revoked-and-replaced".into();
    admin_flow::connect(&admin, &renewed).await.unwrap();
    assert_eq!(sync_to_the_end(&admin, &connection_id).await["status"], "SUCCEEDED");
    assert_eq!(directory_rows(&admin).await, expected_rows(&employees));
    sandbox.stop().await;
}

/// The invitation is committed with the assignment. A worker killed mid-send (the mail server
/// had the message but had not accepted it) loses nothing: once its claim lapses the next worker
/// delivers it, and the server has it once.
#[tokio::test]
async fn an_invitation_outlives_a_worker_killed_mid_send_and_arrives_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let deployment = Deployment::new(&sandbox, 50).await;
    let _api = deployment.start_api().await;
    let admin = deployment.admin();
    let kim = admin_flow::add_person(&admin, "kim@example.com", "Kim").await.unwrap();
    let hanging = Arc::new(AtomicBool::new(true));
    let hangs = hanging.clone();
    let policy: Policy = Arc::new(move |step, _| (step == "EOM" && hangs.load(Ordering::SeqCst)).then(|| STALL.into()));
    let mail = deployment.start_mail(policy).await;

    let mut worker = deployment.spawn(&["worker"]);
    let activity = json!({ "userIds": [kim], "title": "Onboarding" });
    admin.execute(ops::ASSIGN_ACTIVITY, json!({ "input": activity })).await.unwrap().ok().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while mail.stalled() == 0 {
        assert!(Instant::now() < deadline, "the worker sent the message");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.kill();
    hanging.store(false, Ordering::SeqCst);
    let person = admin_flow::invitation(&admin, &kim).await.unwrap();
    assert_eq!(person["invitationStatus"], "PENDING", "not sent, not lost");

    let _successor = deployment.spawn(&["worker"]);
    let invited = |p: &Value| p["invitationStatus"] == "INVITED";
    let person = admin_flow::watch_invitation(&admin, &kim, Duration::from_secs(60), invited).await.unwrap();
    assert!(invited(&person) && person["invitationError"].is_null(), "{person}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = mail.received();
    assert_eq!(received.len(), 1, "delivered once");
    assert_eq!(received[0].to, ["<kim@example.com>"]);
    sandbox.stop().await;
}

/// A transaction abandoned mid-way cannot hold its locks for long: PostgreSQL ends the session.
#[tokio::test]
async fn an_abandoned_transaction_is_ended_by_the_database() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::PostgresRedis).await;
    let db = &app.service.db;
    let shown = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SHOW idle_in_transaction_session_timeout"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.try_get::<String>("", "idle_in_transaction_session_timeout").unwrap(), "15s");
    // Nor does a statement wait for a lock past 30 s.
    let shown = db.query_one_raw(Statement::from_string(db.get_database_backend(), "SHOW lock_timeout")).await;
    assert_eq!(shown.unwrap().unwrap().try_get::<String>("", "lock_timeout").unwrap(), "30s");
    // A transaction left open is gone after the timeout: its next statement fails.
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SELECT 1").await.unwrap();
    tokio::time::sleep(Duration::from_secs(16)).await;
    assert!(txn.execute_unprepared("SELECT 1").await.is_err(), "the server ended the idle transaction");
    app.stop().await;
}

/// Subscribes an endpoint at `url` to people's creation; answers its id and secret.
async fn subscribe_to_new_people(admin: &GraphqlClient, url: &str) -> (Value, String) {
    let input = json!({ "url": url, "events": ["user.created"] });
    let data = admin.execute(&ops::create_webhook_endpoint(), json!({ "input": input })).await.unwrap().ok().unwrap();
    let created = &data["createWebhookEndpoint"];
    (created["endpoint"]["id"].clone(), created["secret"].as_str().unwrap().to_string())
}

async fn deliveries(admin: &GraphqlClient, endpoint_id: &Value) -> Vec<Value> {
    let data = admin.execute(&ops::webhook_deliveries(), json!({ "id": endpoint_id })).await.unwrap().ok().unwrap();
    data["webhookDeliveries"].as_array().unwrap().clone()
}

/// A worker killed while the receiver holds its request loses nothing: once the claim lapses
/// another worker delivers the event again, under the same `webhook-id`.
#[tokio::test]
async fn a_webhook_outlives_a_worker_killed_mid_delivery_with_the_same_id() {
    let sandbox = Sandbox::start().await.unwrap();
    let deployment = Deployment::new(&sandbox, 50).await;
    let _api = deployment.start_api().await;
    let admin = deployment.admin();
    let receiver = Receiver::with_policy(Arc::new(|_, nth| {
        if nth == 1 {
            Reply::Hang(Duration::from_secs(60))
        } else {
            Reply::Status(200)
        }
    }))
    .await;
    let (endpoint, secret) = subscribe_to_new_people(&admin, &receiver.url).await;
    let mut worker = deployment.spawn(&["worker"]);
    admin_flow::add_person(&admin, "kim@example.com", "Kim").await.unwrap();
    receiver.until(Duration::from_secs(30), |r| !r.is_empty()).await;
    worker.kill();
    let held = deliveries(&admin, &endpoint).await;
    assert_eq!((held.len(), held[0]["status"].clone()), (1, json!("PENDING")), "not delivered, not lost");

    let killed_at = Instant::now();
    let _successor = deployment.spawn(&["worker"]);
    let received = receiver.until(Duration::from_secs(60), |r| r.len() == 2).await;
    let taken_over = killed_at.elapsed();
    assert_eq!(received[1].header("webhook-id"), received[0].header("webhook-id"), "the same event, again");
    assert!(received.iter().all(|r| r.verifies_with(&secret)));
    let delivered = |d: &[Value]| d.len() == 1 && d[0]["status"] == "SUCCEEDED";
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = deliveries(&admin, &endpoint).await;
    while !delivered(&seen) {
        assert!(Instant::now() < deadline, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = deliveries(&admin, &endpoint).await;
    }
    assert_eq!(seen[0]["attempts"], 2, "{seen:?}");
    eprintln!("webhook delivery taken over {taken_over:?} after the worker was killed");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.received().len(), 2, "once more, not more");
    receiver.stop().await;
    sandbox.stop().await;
}

/// The address rule is the delivering worker's too: a name saved while private addresses were
/// allowed (or that resolved elsewhere then) is refused when it resolves to loopback now.
#[tokio::test]
async fn a_worker_delivers_to_public_addresses_only() {
    let sandbox = Sandbox::start().await.unwrap();
    let deployment = Deployment::new(&sandbox, 50).await;
    let _api = deployment.start_api().await;
    let admin = deployment.admin();
    let receiver = Receiver::accepting().await;
    let port = receiver.url.rsplit_once(':').unwrap().1.trim_end_matches("/hooks").to_string();
    let (endpoint, _) = subscribe_to_new_people(&admin, &format!("https://localhost:{port}/hooks")).await;
    let mut worker = deployment.command(&["worker"]);
    worker.env_remove("WEBHOOK_ALLOW_PRIVATE");
    let _worker = Process(worker.spawn().unwrap());
    admin_flow::add_person(&admin, "kim@example.com", "Kim").await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let seen = deliveries(&admin, &endpoint).await;
        if let Some(error) = seen.first().and_then(|d| d["lastError"].as_str()) {
            break error.to_string();
        }
        assert!(Instant::now() < deadline, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(refused.contains("loopback") && refused.contains("public addresses only"), "{refused}");
    assert!(receiver.received().is_empty(), "nothing reached the loopback address");
    receiver.stop().await;
    sandbox.stop().await;
}
