//! The Merge bridge: "Open Window" through Merge Link (a link token for the embedded widget, the
//! public token it hands back finished by `completeCredentialConnection`), which HR system the
//! linked account is, Merge still importing for the first time, and a server without Merge's
//! key.

use std::time::Duration;

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp, TestOptions};

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(TestOptions { provider: "merge", ..TestOptions::on(backend) }).await
}

fn begin_input(provider: &str) -> Value {
    json!({ "input": { "providerId": provider, "adminConfirmed": true, "termsAccepted": true } })
}

/// What Merge Link does in the admin's browser: the admin picks the HR system and signs in;
/// the widget answers a public token. (The sandbox serves the widget at the magic link URL.)
async fn link_in_widget(authorization_url: &str) -> String {
    let widget = reqwest::get(authorization_url).await.unwrap();
    assert_eq!(widget.status().as_u16(), 200, "the link token opens the widget once");
    widget.json::<Value>().await.unwrap()["public_token"].as_str().unwrap().to_string()
}

async fn merge_link_connects_and_names_the_linked_system(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input("merge")).await.unwrap().ok().unwrap();
    let begun = &data["beginCredentialConnection"];
    assert_eq!(begun["connection"]["status"], "PENDING_AUTHORIZATION");
    assert!(begun["linkToken"].as_str().is_some_and(|t| !t.is_empty()), "{begun}");
    // Merge Link's script for plain pages, which the portal's policy lets it load, and its frames.
    let script = begun["widgetScriptUrl"].as_str().unwrap();
    assert!(script.starts_with(&app.sandbox.url()) && script.ends_with("/merge/initialize.js"), "{script}");
    let loaded = reqwest::get(script).await.unwrap();
    assert!(loaded.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(loaded.text().await.unwrap().contains("window.MergeLink"));
    let policy = portal_policy(&app).await;
    assert!(policy.contains(&format!("script-src 'self' {script};")), "{policy}");
    assert!(policy.contains(&format!("frame-src {};", app.sandbox.url().trim_end_matches('/'))), "{policy}");
    let connection_id = begun["connection"]["id"].as_str().unwrap().to_string();
    let mut statuses = admin.subscribe(ops::CONNECTION_STATUS, json!({ "id": connection_id })).await.unwrap();
    statuses.next().await.unwrap().unwrap();

    let public_token = link_in_widget(begun["authorizationUrl"].as_str().unwrap()).await;
    let complete = json!({ "id": connection_id, "publicToken": public_token });
    let done = admin.execute(ops::COMPLETE_CREDENTIAL_CONNECTION, complete.clone()).await.unwrap().ok().unwrap();
    let connection = &done["completeCredentialConnection"];
    assert_eq!(connection["status"], "CONNECTED", "{connection}");
    assert_eq!(connection["linkedSystem"], "BambooHR");
    let next = tokio::time::timeout(Duration::from_secs(10), statuses.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(next.ok().unwrap()["connectionStatus"]["status"], "CONNECTED");
    statuses.close().await;

    // Once is enough: the connection no longer waits for a sign-in.
    let again = admin.execute(ops::COMPLETE_CREDENTIAL_CONNECTION, complete).await.unwrap();
    assert_eq!(again.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(again.error_extension("field"), Some(&json!("connectionId")));

    // The account token Merge handed over is stored and syncs.
    app.confirm_mapping(&admin, &connection_id, None).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!((run["status"].as_str(), run["created"].as_i64()), (Some("SUCCEEDED"), Some(60)), "{run}");
    app.stop().await;
}

async fn a_bad_public_token_fails_the_sign_in_with_a_reason(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input("merge")).await.unwrap().ok().unwrap();
    let connection_id = data["beginCredentialConnection"]["connection"]["id"].as_str().unwrap().to_string();
    let empty = json!({ "id": connection_id, "publicToken": " " });
    let response = admin.execute(ops::COMPLETE_CREDENTIAL_CONNECTION, empty).await.unwrap();
    assert_eq!(response.error_extension("field"), Some(&json!("publicToken")));
    let forged = json!({ "id": connection_id, "publicToken": "pt_forged" });
    let done = admin.execute(ops::COMPLETE_CREDENTIAL_CONNECTION, forged).await.unwrap().ok().unwrap();
    let connection = &done["completeCredentialConnection"];
    assert_eq!(connection["status"], "FAILED");
    assert!(connection["statusMessage"].as_str().is_some_and(|m| m.contains("rejected")), "{connection}");

    // A BambooHR sign-in finishes at its OAuth redirect, never here.
    let begin = json!({ "input": { "providerId": "bamboohr", "subdomain": "acme", "adminConfirmed": true,
        "termsAccepted": true } });
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin).await.unwrap().ok().unwrap();
    let bamboo = data["beginCredentialConnection"]["connection"]["id"].clone();
    assert_eq!(data["beginCredentialConnection"]["linkToken"], Value::Null);
    let response = admin
        .execute(ops::COMPLETE_CREDENTIAL_CONNECTION, json!({ "id": bamboo, "publicToken": "pt_x" }))
        .await
        .unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    app.stop().await;
}

async fn a_sync_before_merges_first_import_says_so_and_changes_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"]["linkedSystem"], "BambooHR", "an account token connects too");
    app.sync(&admin, &connection_id).await;
    // Merge re-imports the account from scratch (a relink); meanwhile it lists nobody it trusts.
    app.sandbox.with_tenant("acme", |t| {
        t.first_import_pending = true;
        t.company.employees.truncate(10);
    });
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "FAILED", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("still importing BambooHR") && error.contains("again"), "{error}");
    assert_eq!(run["deactivated"], 0);
    let users = app.users(&admin).await;
    assert_eq!(users.len(), 60);
    assert_eq!(users.iter().filter(|u| u["employmentStatus"] == "INACTIVE").count(), 3, "only the real leavers");
    app.stop().await;
}

async fn without_merges_key_merge_is_listed_but_cannot_connect(backend: Backend) {
    let options = TestOptions { provider: "merge", unset: &["MERGE_API_KEY"], ..TestOptions::on(backend) };
    let app = TestApp::spawn_with(options).await;
    let admin = app.admin();
    let listed = admin.execute(ops::PROVIDERS, json!({ "search": "merge" })).await.unwrap().ok().unwrap();
    assert_eq!(listed["providers"][0]["id"], "merge");
    for response in [
        admin.execute(ops::CONNECT_WITH_API_KEY, admin_flow::connect_input(&app.credentials)).await.unwrap(),
        admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input("merge")).await.unwrap(),
    ] {
        assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
        assert_eq!(response.error_extension("field"), Some(&json!("providerId")));
        let message = response.errors[0]["message"].as_str().unwrap();
        assert!(message.contains("MERGE_API_KEY"), "{message}");
    }
    let connections = admin.execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(connections["connections"], json!([]));
    // Nor can the portal's page load Merge Link.
    let policy = portal_policy(&app).await;
    assert!(policy.contains("script-src 'self';") && policy.contains("frame-src 'none';"), "{policy}");
    app.stop().await;
}

/// The admin portal page's Content-Security-Policy.
async fn portal_policy(app: &crate::helpers::TestApp) -> String {
    let page = reqwest::get(format!("{}/", app.url)).await.unwrap();
    page.headers()["content-security-policy"].to_str().unwrap().to_string()
}

crate::on_both_backends!(
    merge_link_connects_and_names_the_linked_system,
    a_bad_public_token_fails_the_sign_in_with_a_reason,
    a_sync_before_merges_first_import_says_so_and_changes_nothing,
    without_merges_key_merge_is_listed_but_cannot_connect,
);
