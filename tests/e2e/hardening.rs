//! The HTTP edge: health checks, GraphiQL, request limits, and errors that say what is wrong
//! without leaking internals.

use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};

async fn health_and_graphiql_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, needle) in [("/healthz", "ok"), ("/readyz", "ready"), ("/graphiql", "graphiql")] {
        let response = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(response.text().await.unwrap().to_lowercase().contains(needle), "{path}");
    }
    app.stop().await;
}

async fn abusive_requests_are_refused_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let deep = format!("{{ orgChart {{ {}user {{ id }}{} }} }}", "reports { ".repeat(40), " }".repeat(40));
    let response = admin.execute(&deep, json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert!(response.errors[0]["message"].as_str().unwrap().contains("depth"), "{:?}", response.errors);
    let response = admin.execute("{ noSuchField }", json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "every error carries a code");

    let http = reqwest::Client::new();
    let token =
        app.service.keys.mint("ada", &app.workspace, api::Role::Admin, api::Plan::Paid, chrono::Duration::hours(1));
    let huge = json!({ "query": format!("{{ viewer {{ subject }} }} #{}", "x".repeat(400 * 1024)) });
    let response = http.post(format!("{}/graphql", app.url)).bearer_auth(&token).json(&huge).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 413, "bodies over 256 KiB are refused");

    let response = http
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION_FAILED");

    let response = admin.execute("{ user(id: \"not-a-uuid\") { id } }", json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("id")));
    app.stop().await;
}

crate::on_both_backends!(health_and_graphiql_answer, abusive_requests_are_refused_with_a_code);
