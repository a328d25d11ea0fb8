//! Seed steps 1–2: the Integrations catalogue, and who may use it.

use serde_json::json;

use api::{Plan, Role};
use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp};

async fn bamboohr_is_found_case_insensitively_with_everything_the_page_shows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let data = admin.execute(ops::PROVIDERS, json!({ "search": "BAMBOO" })).await.unwrap().ok().unwrap();
    let providers = data["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1);
    let bamboo = &providers[0];
    assert_eq!(bamboo["id"], "bamboohr");
    assert_eq!(bamboo["category"], "HRIS");
    assert_eq!(bamboo["authMethods"], json!(["CREDENTIALS", "API_KEY"]));
    for field in ["logoUrl", "subdomainLabel", "apiKeyInstructions", "termsUrl"] {
        assert!(!bamboo[field].as_str().unwrap().is_empty(), "{field} is empty");
    }
    assert!(!bamboo["readPermissions"].as_array().unwrap().is_empty());

    let ats =
        admin.execute(ops::PROVIDERS, json!({ "search": "bamboo", "category": "ATS" })).await.unwrap().ok().unwrap();
    assert_eq!(ats["providers"], json!([]));
    app.stop().await;
}

async fn integrations_need_a_signed_in_admin_on_the_paid_plan(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = GraphqlClient::new(&app.url, None);
    let forged = GraphqlClient::new(&app.url, Some("not-a-jwt".into()));
    let member = app.member();
    let free_admin = app.client_for(&app.workspace, Role::Admin, Plan::Free);
    let query = "{ connections { id } }";
    for (client, code) in [
        (&anonymous, "UNAUTHENTICATED"),
        (&forged, "UNAUTHENTICATED"),
        (&member, "FORBIDDEN"),
        (&free_admin, "PAID_PLAN_REQUIRED"),
    ] {
        let response = client.execute(query, json!({})).await.unwrap();
        assert_eq!(response.error_code(), Some(code), "{:?}", response.errors);
    }
    let connect = admin_flow::connect_input(&app.credentials);
    let response = free_admin.execute(ops::CONNECT_WITH_API_KEY, connect).await.unwrap();
    assert_eq!(response.error_code(), Some("PAID_PLAN_REQUIRED"));
    // Members still read the directory.
    let users = member.execute(ops::USERS, json!({})).await.unwrap().ok().unwrap();
    assert_eq!(users["users"]["totalCount"], 0);
    app.stop().await;
}

crate::on_both_backends!(
    bamboohr_is_found_case_insensitively_with_everything_the_page_shows,
    integrations_need_a_signed_in_admin_on_the_paid_plan
);
