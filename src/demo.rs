//! `directory-sync demo`: a sandbox tenant of one provider and the service in one process, walked
//! through the whole admin flow over the real GraphQL HTTP and WebSocket API.

use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use api::{Plan, Role};
use sandbox::{Company, Sandbox};
use worker::providers::catalogue;

use crate::admin_flow::{self, PeopleSource};
use crate::client::GraphqlClient;
use crate::config::Config;
use crate::operations as ops;
use crate::service::{Roles, RunningService, Tuning};

/// The demo's parts: its people's source (a sandbox tenant of one provider, or a spreadsheet),
/// and the service on a data directory of its own, in embedded mode.
struct Demo {
    sandbox: Sandbox,
    source: PeopleSource,
    service: RunningService,
    data_dir: std::path::PathBuf,
    url: String,
    /// An admin's token for the demo's workspace, on the paid plan.
    token: String,
}

/// The spreadsheet's file name, in the demo's data directory.
const PEOPLE_CSV: &str = "people.csv";

/// The workspace the demo's admin is the admin of.
const WORKSPACE: &str = "demo";

impl Demo {
    async fn start(provider_id: &str, employees: u32) -> anyhow::Result<Self> {
        anyhow::ensure!(
            catalogue::is_uploaded(provider_id)
                || catalogue::is_pushed(provider_id)
                || sandbox::fake(provider_id).is_some(),
            "no such provider: {provider_id} (see `directory-sync sandbox`)"
        );
        let sandbox = Sandbox::start().await?;
        let company = Company::generate("acme.example", employees, 7);
        let data_dir = std::env::temp_dir().join(format!("directory-sync-demo-{}", uuid::Uuid::new_v4()));
        let source = PeopleSource::of(&sandbox, provider_id, "acme", company);
        if let PeopleSource::Spreadsheet(content) = &source {
            // Where the admin finds the file to upload.
            std::fs::create_dir_all(&data_dir).context("creating the demo's data directory")?;
            std::fs::write(data_dir.join(PEOPLE_CSV), content).context("writing people.csv")?;
        }
        let dir = data_dir.display().to_string();
        let settings = sandbox.settings();
        let config = Config::from_lookup(|name| match name {
            "BIND_ADDR" => Some("127.0.0.1:0".into()),
            "DATA_DIR" => Some(dir.clone()),
            "LOCAL_WORKSPACE" => Some(WORKSPACE.into()),
            other => settings.iter().find(|(k, _)| k == other).map(|(_, v)| v.clone()),
        })?;
        let service =
            RunningService::start(&config, Roles { api: true, worker: true }, Tuning::from_config(&config)).await?;
        let url = service.url.clone().context("the API is not running")?;
        let token = service.keys.mint("demo-admin", WORKSPACE, Role::Admin, Plan::Paid, chrono::Duration::hours(12));
        Ok(Self { sandbox, source, service, data_dir, url, token })
    }

    async fn stop(self) {
        self.service.stop().await;
        self.sandbox.stop().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// `demo --open`: the same parts, left running for a person to walk through in the admin portal,
/// signed in by the printed link, until Ctrl-C (or SIGTERM).
pub async fn open(provider_id: &str, employees: u32) -> anyhow::Result<()> {
    let demo = Demo::start(provider_id, employees).await?;
    println!("directory-sync demo: sandbox {provider_id} tenant 'acme' with {employees} employees.\n");
    println!("Open the admin portal, signed in as the admin of workspace '{WORKSPACE}':\n");
    println!("   {}/#token={}\n", demo.url, demo.token);
    match &demo.source {
        PeopleSource::Tenant(credentials) => {
            println!("Then Integrations → Get Started → Connect Now, and connect with these credentials:\n");
            crate::sandbox_server::print_credentials(provider_id, credentials.clone())?;
            println!("\n\"Open Window\" works too: the sandbox signs in and consents at once.");
        }
        PeopleSource::Spreadsheet(_) => {
            let file = demo.data_dir.join(PEOPLE_CSV);
            println!("Then Integrations → Get Started → Connect Now → Spreadsheet, and upload {}", file.display());
        }
        PeopleSource::Pushed(users) => {
            println!(
                "Then Integrations → Identity Provider (SCIM) → Get Started, and create the endpoint; point an \
                 identity provider (or curl) at the base URL it shows, with its token. The demo's {} users are \
                 in `directory-sync demo --provider scim` (without --open).",
                users.len()
            );
        }
    }
    println!("Ctrl-C stops the demo.");
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("listening for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C")?,
        _ = terminate.recv() => {}
    }
    demo.stop().await;
    Ok(())
}

/// Runs the demo against a sandbox tenant of `provider_id` with `employees` people.
pub async fn run(provider_id: &str, employees: u32) -> anyhow::Result<()> {
    let started = Instant::now();
    let demo = Demo::start(provider_id, employees).await?;
    let url = &demo.url;
    let client = GraphqlClient::new(url, Some(demo.token.clone()));
    println!("directory-sync demo: API at {url}, sandbox {provider_id} tenant 'acme' with {employees} employees\n");

    let providers = client.execute(ops::PROVIDERS, json!({ "search": provider_id })).await?.ok()?;
    let provider = &providers["providers"][0];
    println!(
        "1-2. Catalogue search \"{provider_id}\": {} ({}), sign-in: {}, asks for: {}",
        provider["name"],
        provider["category"],
        provider["authMethods"],
        provider["credentialFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["label"].as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let connection = match &demo.source {
        PeopleSource::Tenant(credentials) => {
            let connection = admin_flow::connect(&client, credentials).await?;
            println!(
                "3.   Connected with an API key ({}), status {}",
                connection["credentialHint"], connection["status"]
            );
            connection
        }
        PeopleSource::Spreadsheet(content) => {
            let upload = admin_flow::upload_spreadsheet(&client, None, PEOPLE_CSV, content.clone()).await?;
            println!(
                "3.   Uploaded {}: {} rows, people told apart by {}, status {}",
                demo.data_dir.join(PEOPLE_CSV).display(),
                upload["rows"],
                upload["keyColumn"],
                upload["connection"]["status"]
            );
            upload["connection"].clone()
        }
        PeopleSource::Pushed(users) => {
            let endpoint = admin_flow::connect_scim(&client).await?;
            let base_url = endpoint["baseUrl"].as_str().context("baseUrl")?;
            let token = endpoint["token"].as_str().context("token")?;
            println!("3.   SCIM endpoint {base_url}, token shown once (…{})", &token[token.len() - 4..]);
            let pushed = admin_flow::push_scim_users(base_url, token, users).await?;
            println!("     The identity provider pushed {pushed} users, kept until the mapping is confirmed");
            endpoint["connection"].clone()
        }
    };
    let connection_id = connection["id"].as_str().context("connection id")?.to_string();

    let details = client.execute(ops::CONNECTION, json!({ "id": connection_id })).await?.ok()?;
    for category in details["connection"]["accessibleData"].as_array().into_iter().flatten() {
        let keys: Vec<&str> =
            category["fields"].as_array().into_iter().flatten().filter_map(|f| f["key"].as_str()).collect();
        println!("     can read {}: {}", category["name"].as_str().unwrap_or(""), keys.join(", "));
    }
    let suggested = details["connection"]["fieldMapping"]["entries"].clone();
    println!("4.   Suggested mapping:");
    for entry in suggested.as_array().into_iter().flatten() {
        println!("       {:<17} ← {}", entry["internalField"].as_str().unwrap_or(""), entry["externalField"]);
    }
    let version = admin_flow::save_and_confirm(&client, &connection_id, suggested).await?;
    println!("5.   Mapping version {version} saved and confirmed");

    let run_id = admin_flow::start_sync(&client, &connection_id).await?;
    println!("6.   Sync started; Merging Data:");
    let bar = ProgressBar::new(100);
    bar.set_style(ProgressStyle::with_template("     [{bar:40}] {pos:>3}% {msg}")?.progress_chars("=> "));
    let last = admin_flow::follow_run(&client, &run_id, |run| {
        bar.set_position(run["percent"].as_f64().unwrap_or(0.0) as u64);
        // The total is null until the provider's answer has been read through.
        let total = run["total"].as_i64().map_or_else(|| "?".to_string(), |t| t.to_string());
        bar.set_message(format!("{} {}/{total}", run["phase"].as_str().unwrap_or(""), run["processed"]));
    })
    .await?;
    bar.finish();
    println!(
        "     {}: created {}, updated {}, unchanged {}, deactivated {}, skipped {}",
        last["status"], last["created"], last["updated"], last["unchanged"], last["deactivated"], last["skipped"]
    );
    let report = client.execute(&ops::sync_run(), json!({ "id": run_id })).await?.ok()?;
    for issue in report["syncRun"]["issues"].as_array().into_iter().flatten() {
        println!(
            "     issue {} (remote {}): {}",
            issue["kind"].as_str().unwrap_or(""),
            issue["remoteId"],
            issue["message"].as_str().unwrap_or("")
        );
    }

    let users = client.execute(ops::USERS, json!({ "first": 3 })).await?.ok()?;
    println!(
        "7.   User Directory: {} people; first: {}",
        users["users"]["totalCount"],
        users["users"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["node"]["displayName"].as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let chart = client.execute(ops::ORG_CHART, json!({ "depth": 3 })).await?.ok()?;
    println!("     Org chart:");
    for root in chart["orgChart"].as_array().into_iter().flatten() {
        println!(
            "       {} — {}",
            root["user"]["displayName"].as_str().unwrap_or(""),
            root["user"]["jobTitle"].as_str().unwrap_or("")
        );
        for report in root["reports"].as_array().into_iter().flatten() {
            let count = report["reports"].as_array().map_or(0, Vec::len);
            println!(
                "         └ {} — {} ({count} reports)",
                report["user"]["displayName"].as_str().unwrap_or(""),
                report["user"]["jobTitle"].as_str().unwrap_or("")
            );
        }
    }
    invite_three(&client, &demo.data_dir).await?;
    println!("\nDone in {:.2?}.", started.elapsed());
    demo.stop().await;
    Ok(())
}

/// Step 8, the seed's "What's next": a first activity for three people invites them. The demo
/// sets no `SMTP_URL`, so the messages are written to the data directory's outbox.
async fn invite_three(client: &GraphqlClient, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let active = client.execute(ops::USERS, json!({ "first": 3, "filter": { "status": "ACTIVE" } })).await?.ok()?;
    let ids: Vec<serde_json::Value> =
        active["users"]["edges"].as_array().into_iter().flatten().map(|e| e["node"]["id"].clone()).collect();
    let input = json!({ "userIds": ids, "title": "Security awareness training", "dueDate": "2027-01-15" });
    client.execute(ops::ASSIGN_ACTIVITY, json!({ "input": input })).await?.ok()?;
    println!("8.   First activity \"Security awareness training\" assigned to {} people:", ids.len());
    for id in &ids {
        let settled = |p: &serde_json::Value| p["invitationStatus"] != "PENDING";
        let person = admin_flow::watch_invitation(client, id, std::time::Duration::from_secs(10), settled).await?;
        println!(
            "       {:<28} {:<40} {}",
            person["displayName"].as_str().unwrap_or(""),
            person["email"].as_str().unwrap_or(""),
            person["invitationStatus"].as_str().unwrap_or("")
        );
        anyhow::ensure!(person["invitationStatus"] == "INVITED", "the invitation was not delivered: {person}");
    }
    let outbox = data_dir.join("outbox");
    let mut written: Vec<_> = std::fs::read_dir(&outbox)?.filter_map(|f| f.ok().map(|f| f.path())).collect();
    written.sort();
    println!(
        "     No SMTP_URL is set, so the {} messages were written to {}/ (one .eml each; the demo's data \
         directory is removed when it ends). One of them:",
        written.len(),
        outbox.display()
    );
    let first = std::fs::read_to_string(written.first().context("no message was written")?)?;
    for header in
        first.lines().take_while(|l| !l.is_empty()).filter(|l| l.starts_with("To:") || l.starts_with("Subject:"))
    {
        println!("       {header}");
    }
    Ok(())
}
