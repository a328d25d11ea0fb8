//! The admin's steps as GraphQL calls, shared by `demo`, `bench` and the end-to-end tests, so
//! each walks the flow exactly as a frontend does and none keeps its own copy of it.

use anyhow::Context as _;
use sandbox::{Company, SampleCredentials, Sandbox};
use serde_json::{json, Value};
use worker::providers::catalogue;

use crate::client::GraphqlClient;
use crate::operations as ops;

/// Where a walk-through's people come from (`demo`, `bench`): a sandbox tenant of a provider
/// with an API; for a provider that is a file, the company as the spreadsheet an admin would
/// upload; for one that pushes (SCIM), the company's users as an identity provider sends them.
pub enum PeopleSource {
    Tenant(SampleCredentials),
    Spreadsheet(Vec<u8>),
    Pushed(Vec<Value>),
}

impl PeopleSource {
    /// `company` at `provider_id`: a tenant of `sandbox` named `tenant`, a spreadsheet of it, or
    /// its SCIM users.
    pub fn of(sandbox: &Sandbox, provider_id: &str, tenant: &str, company: Company) -> Self {
        if catalogue::is_uploaded(provider_id) {
            Self::Spreadsheet(sandbox::spreadsheet::people_csv(&company))
        } else if catalogue::is_pushed(provider_id) {
            Self::Pushed(sandbox::scim::users(&company))
        } else {
            Self::Tenant(sandbox.add_tenant(provider_id, tenant, company))
        }
    }
}

/// Connects SCIM, with both confirmations given; answers the `connectScim` payload (the base
/// URL and the token, shown once).
pub async fn connect_scim(client: &GraphqlClient) -> anyhow::Result<Value> {
    let data = client.execute(ops::CONNECT_SCIM, json!({})).await?.ok()?;
    Ok(data["connectScim"].clone())
}

/// Creates `users` at the SCIM endpoint `base_url` with `token`, as an identity provider does,
/// a few requests at a time; answers how many were created.
pub async fn push_scim_users(base_url: &str, token: &str, users: &[Value]) -> anyhow::Result<usize> {
    use futures::StreamExt as _;
    let http = reqwest::Client::new();
    let created = futures::stream::iter(users)
        .map(|user| {
            let request = http
                .post(format!("{base_url}/Users"))
                .bearer_auth(token)
                .header("content-type", "application/scim+json")
                .body(user.to_string());
            async move {
                let answer = request.send().await.context("the SCIM endpoint did not answer")?;
                anyhow::ensure!(answer.status() == reqwest::StatusCode::CREATED, "POST /Users: {}", answer.status());
                Ok(())
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<anyhow::Result<()>>>()
        .await;
    created.into_iter().collect::<anyhow::Result<Vec<()>>>().map(|c| c.len())
}

/// Connects a tenant with the API-key form; answers the `connectWithApiKey` payload.
pub async fn connect(client: &GraphqlClient, credentials: &SampleCredentials) -> anyhow::Result<Value> {
    let data = client.execute(ops::CONNECT_WITH_API_KEY, connect_input(credentials)).await?.ok()?;
    Ok(data["connectWithApiKey"].clone())
}

/// `connectWithApiKey`'s variables for `credentials`, with both confirmations given.
pub fn connect_input(credentials: &SampleCredentials) -> Value {
    json!({ "input": { "providerId": credentials.provider_id, "subdomain": credentials.subdomain,
        "apiKey": credentials.api_key, "apiSecret": credentials.api_secret,
        "adminConfirmed": true, "termsAccepted": true } })
}

/// Uploads a spreadsheet, with both confirmations given: a new connection's first file without
/// `connection_id`, else a newer one for it; answers the `uploadSpreadsheet` payload.
pub async fn upload_spreadsheet(
    client: &GraphqlClient,
    connection_id: Option<&str>,
    file_name: &str,
    content: Vec<u8>,
) -> anyhow::Result<Value> {
    let variables = json!({ "connectionId": connection_id, "adminConfirmed": true, "termsAccepted": true });
    let data = client.upload(ops::UPLOAD_SPREADSHEET, variables, file_name, content).await?.ok()?;
    Ok(data["uploadSpreadsheet"].clone())
}

/// The entries of the connection's latest mapping (the suggestion before the first save).
pub async fn current_mapping(client: &GraphqlClient, connection_id: &str) -> anyhow::Result<Value> {
    let data = client.execute(ops::CONNECTION, json!({ "id": connection_id })).await?.ok()?;
    Ok(data["connection"]["fieldMapping"]["entries"].clone())
}

/// Saves `entries` as a new mapping version and confirms it; answers the version.
pub async fn save_and_confirm(client: &GraphqlClient, connection_id: &str, entries: Value) -> anyhow::Result<i64> {
    let saved = client.execute(ops::SAVE_MAPPING, json!({ "id": connection_id, "entries": entries })).await?.ok()?;
    let version = saved["saveFieldMapping"]["version"].as_i64().context("saved mapping version")?;
    client.execute(ops::CONFIRM_MAPPING, json!({ "id": connection_id, "version": version })).await?.ok()?;
    Ok(version)
}

/// Starts a sync; answers the run's id.
pub async fn start_sync(client: &GraphqlClient, connection_id: &str) -> anyhow::Result<String> {
    let data = client.execute(&ops::start_sync(), json!({ "id": connection_id })).await?.ok()?;
    Ok(data["startSync"]["id"].as_str().context("run id")?.to_string())
}

/// Follows `syncProgress` until the server ends it, handing each state of the run to
/// `on_event`; answers the last state.
pub async fn follow_run(
    client: &GraphqlClient,
    run_id: &str,
    mut on_event: impl FnMut(&Value),
) -> anyhow::Result<Value> {
    let mut progress = client.subscribe(&ops::sync_progress(), json!({ "id": run_id })).await?;
    let mut last = Value::Null;
    while let Some(event) = progress.next().await {
        last = event?.ok()?["syncProgress"]["run"].clone();
        on_event(&last);
    }
    Ok(last)
}

/// Adds a person by hand; answers their id.
pub async fn add_person(client: &GraphqlClient, email: &str, first_name: &str) -> anyhow::Result<Value> {
    let input = json!({ "email": email, "firstName": first_name });
    let data = client.execute(&ops::create_user(), json!({ "input": input })).await?.ok()?;
    Ok(data["createUser"]["id"].clone())
}

/// The person's invitation and activities (`operations::INVITATION`).
pub async fn invitation(client: &GraphqlClient, id: &Value) -> anyhow::Result<Value> {
    Ok(client.execute(ops::INVITATION, json!({ "id": id })).await?.ok()?["user"].clone())
}

/// Reads the person's invitation and activities (`operations::INVITATION`) every 100 ms until
/// `settled` holds of it, for up to `within`; answers the last read either way.
pub async fn watch_invitation(
    client: &GraphqlClient,
    id: &Value,
    within: std::time::Duration,
    settled: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let person = invitation(client, id).await?;
        if settled(&person) || std::time::Instant::now() >= deadline {
            return Ok(person);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
