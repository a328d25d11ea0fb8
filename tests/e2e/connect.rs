//! Seed step 3, API key: verify with one live read, store encrypted, map provider answers to
//! error codes.

use std::time::{Duration, Instant};

use sea_orm::sea_query::Expr;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::operations as ops;
use sandbox::Fault;

use crate::helpers::{Backend, TestApp};

fn input(subdomain: &str, key: &str) -> Value {
    json!({ "input": { "providerId": "bamboohr", "subdomain": subdomain, "apiKey": key,
        "adminConfirmed": true, "termsAccepted": true } })
}

async fn a_verified_key_is_stored_encrypted_and_never_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let connection = &data["connection"];
    assert_eq!(connection["status"], "CONNECTED");
    let tail = &app.credentials.api_key[app.credentials.api_key.len() - 4..];
    assert_eq!(connection["credentialHint"], format!("…{tail}"));
    assert!(!data.to_string().contains(&app.credentials.api_key), "the API never returns the key");
    let categories: Vec<&str> =
        connection["accessibleData"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(categories, ["Employees", "Employment"]);

    let stored = entity::connection::Entity::find().all(&app.service.db).await.unwrap();
    let sealed = stored[0].credentials_ciphertext.as_ref().unwrap();
    assert!(
        !sealed.windows(app.credentials.api_key.len()).any(|w| w == app.credentials.api_key.as_bytes()),
        "the key is encrypted at rest"
    );
    // Reconnecting the same tenant (a rotated key) updates the connection instead of adding one.
    assert_eq!(app.connect(&admin).await, connection_id);
    app.stop().await;
}

async fn bad_subdomains_are_rejected_before_calling_the_provider(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    for subdomain in ["acme corp", "acme!", "", "acme.bamboohr.com"] {
        let response =
            admin.execute(ops::CONNECT_WITH_API_KEY, input(subdomain, &app.credentials.api_key)).await.unwrap();
        assert_eq!(response.error_code(), Some("INVALID_SUBDOMAIN"), "{subdomain:?}: {:?}", response.errors);
        assert_eq!(response.error_extension("field"), Some(&json!("subdomain")));
        let message = response.errors[0]["message"].as_str().unwrap();
        assert!(message.contains("letters, digits and hyphens"), "{message}");
    }
    let requests = app.sandbox.with_tenant("acme", |t| t.requests.values().sum::<u32>());
    assert_eq!(requests, 0);
    app.stop().await;
}

async fn provider_answers_become_error_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let check = |subdomain: &'static str, key: String, code: &'static str| {
        let admin = admin.clone();
        async move {
            let response = admin.execute(ops::CONNECT_WITH_API_KEY, input(subdomain, &key)).await.unwrap();
            assert_eq!(response.error_code(), Some(code), "{:?}", response.errors);
            assert!(!response.errors[0].to_string().contains(&key), "errors never echo the key");
        }
    };
    check("acme", "wrong-key-0000".into(), "INVALID_CREDENTIALS").await;
    check("globex", app.credentials.api_key.clone(), "INVALID_SUBDOMAIN").await;
    app.sandbox.with_tenant("acme", |t| t.api_access_enabled = false);
    check("acme", app.credentials.api_key.clone(), "THIRD_PARTY_ACCESS_DISABLED").await;
    app.sandbox.with_tenant("acme", |t| {
        t.api_access_enabled = true;
        t.inject([Fault::Status(500), Fault::Status(503), Fault::Status(500)]);
    });
    check("acme", app.credentials.api_key.clone(), "PROVIDER_UNREACHABLE").await;
    app.sandbox.with_tenant("acme", |t| t.inject(vec![Fault::RateLimited { retry_after_secs: 0 }; 3]));
    check("acme", app.credentials.api_key.clone(), "RATE_LIMITED").await;
    // No connection was stored for any failed attempt.
    let connections = admin.execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(connections["connections"], json!([]));
    app.stop().await;
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::RateLimited { retry_after_secs: 1 }]));
    let started = Instant::now();
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "waited for Retry-After before the second try");

    // The tenant's own rate limit: one request a second. Preview needs two (fields, then report).
    app.sandbox.with_tenant("acme", |t| t.rate_limit_per_second = Some(1));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let preview = admin.execute(ops::PREVIEW_MAPPING, json!({ "id": connection_id, "limit": 2 })).await.unwrap();
    assert_eq!(preview.ok().unwrap()["previewFieldMapping"].as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn undecryptable_credentials_are_an_internal_error_without_details(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    // As if ENCRYPTION_KEY had been changed under stored credentials.
    entity::connection::Entity::update_many()
        .col_expr(entity::connection::Column::CredentialsCiphertext, Expr::value(vec![0u8; 40]))
        .exec(&app.service.db)
        .await
        .unwrap();
    let response = admin.execute(ops::PREVIEW_MAPPING, json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("INTERNAL"));
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(!message.contains("ENCRYPTION_KEY") && !message.contains("decrypt"), "{message}");
    app.stop().await;
}

async fn inputs_are_validated_with_the_field_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let response = admin
        .execute(
            ops::CONNECT_WITH_API_KEY,
            json!({ "input": { "providerId": "bamboohr", "subdomain": "acme",
            "apiKey": "x", "adminConfirmed": false, "termsAccepted": true } }),
        )
        .await
        .unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("adminConfirmed")));
    let response = admin
        .execute(
            ops::CONNECT_WITH_API_KEY,
            json!({ "input": { "providerId": "bamboohr", "subdomain": "acme",
            "apiKey": "", "adminConfirmed": true, "termsAccepted": true } }),
        )
        .await
        .unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("apiKey")));
    let response = admin
        .execute(
            ops::CONNECT_WITH_API_KEY,
            json!({ "input": { "providerId": "workday-x", "subdomain": "acme",
            "apiKey": "x", "adminConfirmed": true, "termsAccepted": true } }),
        )
        .await
        .unwrap();
    assert_eq!(response.error_code(), Some("NOT_FOUND"));
    app.stop().await;
}

async fn another_workspace_sees_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let stranger = app.client_for("another-workspace", Role::Admin, Plan::Paid);
    let data = stranger.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"], Value::Null);
    for (query, variables) in [
        (ops::start_sync(), json!({ "id": connection_id })),
        (ops::SAVE_MAPPING.to_string(), json!({ "id": connection_id, "entries": [] })),
        ("mutation($id: ID!) { disconnect(connectionId: $id) { id } }".to_string(), json!({ "id": connection_id })),
    ] {
        let response = stranger.execute(&query, variables).await.unwrap();
        assert_eq!(response.error_code(), Some("NOT_FOUND"), "{query}");
    }
    let list = stranger.execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(list["connections"], json!([]));
    app.stop().await;
}

async fn a_revoked_key_fails_the_connection_until_it_is_reconnected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    assert_eq!(app.sync(&admin, &connection_id).await["status"], "SUCCEEDED");
    let mut statuses = admin.subscribe(ops::CONNECTION_STATUS, json!({ "id": connection_id })).await.unwrap();
    let first = statuses.next().await.unwrap().unwrap().ok().unwrap();
    assert_eq!(first["connectionStatus"]["status"], "CONNECTED");

    // The company revokes the key at the provider: the next sync is refused with 401.
    app.sandbox.with_tenant("acme", |t| t.key = "a-new-key".into());
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["deactivated"], 0);
    let next = tokio::time::timeout(Duration::from_secs(10), statuses.next()).await.unwrap().unwrap().unwrap();
    let changed = next.ok().unwrap();
    assert_eq!(changed["connectionStatus"]["status"], "FAILED", "connectionStatus tells the admin");
    let message = changed["connectionStatus"]["statusMessage"].as_str().unwrap().to_string();
    assert!(message.contains("no longer accepts") && message.contains("reconnect"), "{message}");
    statuses.close().await;
    // Scheduled syncs wait for it (start_due takes CONNECTED connections only), and starting one
    // by hand says why it cannot run.
    let response = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert!(response.errors[0]["message"].as_str().unwrap().contains("FAILED"), "{:?}", response.errors);

    // Reconnecting with the new key brings the same connection back, and it syncs again.
    let mut credentials = app.credentials.clone();
    credentials.api_key = "a-new-key".into();
    let reconnected = directory_sync::admin_flow::connect(&admin, &credentials).await.unwrap();
    assert_eq!(reconnected["id"].as_str(), Some(connection_id.as_str()));
    assert_eq!(reconnected["status"], "CONNECTED");
    assert_eq!(app.sync(&admin, &connection_id).await["status"], "SUCCEEDED");
    app.stop().await;
}

crate::on_both_backends!(
    a_revoked_key_fails_the_connection_until_it_is_reconnected,
    a_verified_key_is_stored_encrypted_and_never_returned,
    bad_subdomains_are_rejected_before_calling_the_provider,
    provider_answers_become_error_codes,
    retry_after_is_honoured,
    undecryptable_credentials_are_an_internal_error_without_details,
    inputs_are_validated_with_the_field_named,
    another_workspace_sees_nothing,
);
