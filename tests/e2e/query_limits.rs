//! What one request may cost: fragment expansion, list fan-out, provider calls and batches are
//! bounded by the request's size and the documented limits, and refused with a clear error.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use directory_sync::client::GraphqlClient;

/// Each fragment spreads the next one twice: 2^30 fields once expanded, in 1.4 KB.
fn fragment_bomb() -> String {
    let mut query = String::from("query { viewer { ...F0 } }\n");
    for level in 0..30 {
        query.push_str(&format!("fragment F{level} on Viewer {{ ...F{n} ...F{n} subject }}\n", n = level + 1));
    }
    query.push_str("fragment F30 on Viewer { subject }\n");
    query
}

/// POSTs a batch of operations as a caller of the test's workspace; answers the JSON.
async fn post_batch(app: &TestApp, role: api::Role, batch: &Value) -> Value {
    let request = reqwest::Client::new().post(format!("{}/graphql", app.url)).bearer_auth(app.token(role)).json(batch);
    request.send().await.unwrap().json().await.unwrap()
}

async fn a_fragment_bomb_is_refused_before_it_is_expanded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = GraphqlClient::new(&app.url, None);
    let started = Instant::now();
    let response = anonymous.execute(&fragment_bomb(), json!({})).await.unwrap();
    let took = started.elapsed();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
    assert_eq!(response.error_extension("field"), Some(&json!("query")));
    assert!(response.errors[0]["message"].as_str().unwrap().contains("5000 fields"), "{:?}", response.errors);
    // It ran 288 s before; a generous bound, so a loaded test host cannot fail it.
    assert!(took < Duration::from_secs(3), "refused in {took:?}");

    // The same document in a batch, with a token: refused the same way, the rest answered.
    let batch = json!([{ "query": fragment_bomb() }, { "query": "{ viewer { subject } }" }]);
    let answers = post_batch(&app, api::Role::Member, &batch).await;
    assert_eq!(answers[0]["errors"][0]["extensions"]["code"], "VALIDATION_FAILED", "{answers}");
    assert_eq!(answers[1]["data"]["viewer"]["subject"], "ada", "{answers}");
    app.stop().await;
}

async fn nested_list_fan_out_is_refused_and_an_org_chart_page_still_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let member = app.member();
    let page = member
        .execute(
            "{ users(first: 50) { edges { node { id displayName manager { id displayName }
                 directReports { id displayName } } } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await
        .unwrap()
        .ok()
        .expect("an org-chart page of 50 people with managers and reports is within the limit");
    let nodes = page["users"]["edges"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    let someone =
        nodes.iter().find(|e| !e["node"]["manager"].is_null()).expect("someone has a manager")["node"].clone();

    // Six levels of manager → directReports, the reported 91 MB answer.
    let nested = format!(
        "{{ user(id: \"{}\") {{ {} id {} }} }}",
        someone["id"].as_str().unwrap(),
        "manager { directReports { ".repeat(3),
        "} } ".repeat(3)
    );
    let response = member.execute(&nested, json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(message.contains("limit of 50000"), "the error names the limit: {message}");

    // One level of that is an ordinary question, and asking for fewer reports is allowed.
    let one_level = format!(
        "{{ user(id: \"{}\") {{ manager {{ directReports(first: 3) {{ id }} }} }} }}",
        someone["id"].as_str().unwrap()
    );
    let answer = member.execute(&one_level, json!({})).await.unwrap().ok().unwrap();
    let reports = answer["user"]["manager"]["directReports"].as_array().unwrap();
    assert!(!reports.is_empty() && reports.len() <= 3, "{answer}");
    let too_many =
        format!("{{ user(id: \"{}\") {{ directReports(first: 501) {{ id }} }} }}", someone["id"].as_str().unwrap());
    let response = member.execute(&too_many, json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("first")));

    // Everyone under a manager, paged, for managers with more reports than one answer holds.
    let manager_id = someone["manager"]["id"].as_str().unwrap();
    let under = member
        .execute(
            "query($m: ID!) { users(first: 500, filter: { managerId: $m }) { totalCount } }",
            json!({ "m": manager_id }),
        )
        .await
        .unwrap()
        .ok()
        .unwrap();
    let all_reports = member
        .execute("query($id: ID!) { user(id: $id) { directReports { id } } }", json!({ "id": manager_id }))
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(
        under["users"]["totalCount"].as_u64().unwrap() as usize,
        all_reports["user"]["directReports"].as_array().unwrap().len()
    );
    app.stop().await;
}

fn provider_requests(app: &TestApp) -> u32 {
    app.sandbox.with_tenant("acme", |tenant| tenant.requests.values().sum())
}

async fn aliased_and_batched_field_reads_ask_the_provider_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let aliases: String = (0..200)
        .map(|i| format!("c{i}: connection(id: $id) {{ accessibleData {{ name fields {{ key }} }} }}\n"))
        .collect();
    let query = format!("query($id: ID!) {{ {aliases} }}");
    let before = provider_requests(&app);
    let answer = admin.execute(&query, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert!(!answer["c0"]["accessibleData"].as_array().unwrap().is_empty());
    assert_eq!(answer["c0"], answer["c199"]);
    let first = provider_requests(&app) - before;
    assert_eq!(first, 1, "200 aliases asked the provider {first} times");

    // Later requests, batched or not, read what was discovered.
    let batch: Vec<Value> = (0..5).map(|_| json!({ "query": query, "variables": { "id": connection_id } })).collect();
    let before = provider_requests(&app);
    let answers = post_batch(&app, api::Role::Admin, &json!(batch)).await;
    assert_eq!(answers.as_array().unwrap().len(), 5);
    assert_eq!(answers[4]["data"]["c7"], answer["c0"], "{}", answers[4]);
    assert_eq!(provider_requests(&app) - before, 0, "a batch of 5 × 200 aliases asked the provider again");

    // Saving a mapping checks against the provider as it is now: one live discovery.
    let entries = directory_sync::admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    let before = provider_requests(&app);
    directory_sync::admin_flow::save_and_confirm(&admin, &connection_id, entries).await.unwrap();
    assert!(provider_requests(&app) - before >= 1, "saving a mapping discovers the fields live");

    // Batches are capped, and live previews are expensive.
    let eleven: Vec<Value> = (0..11).map(|_| json!({ "query": "{ viewer { subject } }" })).collect();
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", app.url))
        .bearer_auth(app.token(api::Role::Admin))
        .json(&eleven)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION_FAILED");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 10"), "{body}");
    let previews: String =
        (0..4).map(|i| format!("p{i}: previewFieldMapping(connectionId: $id) {{ remoteId }}\n")).collect();
    let before = provider_requests(&app);
    let response =
        admin.execute(&format!("query($id: ID!) {{ {previews} }}"), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
    assert_eq!(provider_requests(&app) - before, 0, "a refused query asks the provider nothing");
    app.stop().await;
}

crate::on_both_backends!(
    a_fragment_bomb_is_refused_before_it_is_expanded,
    nested_list_fan_out_is_refused_and_an_org_chart_page_still_works,
    aliased_and_batched_field_reads_ask_the_provider_once,
);
