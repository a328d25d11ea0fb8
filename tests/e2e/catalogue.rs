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

    let fields: Vec<&str> =
        bamboo["credentialFields"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(fields, ["subdomain", "apiKey"]);

    let ats =
        admin.execute(ops::PROVIDERS, json!({ "search": "bamboo", "category": "ATS" })).await.unwrap().ok().unwrap();
    assert_eq!(ats["providers"], json!([]));
    app.stop().await;
}

async fn each_provider_says_what_its_key_form_asks_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let data = admin.execute(ops::PROVIDERS, json!({})).await.unwrap().ok().unwrap();
    let form = |id: &str| -> Vec<(String, String, bool)> {
        let provider = data["providers"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap();
        let fields = provider["credentialFields"].as_array().unwrap();
        fields
            .iter()
            .map(|f| (f["key"].as_str().unwrap().into(), f["label"].as_str().unwrap().into(), f["secret"] == true))
            .collect()
    };
    let field = |key: &str, label: &str, secret: bool| (key.to_string(), label.to_string(), secret);
    assert_eq!(form("personio"), [field("apiKey", "Client ID", false), field("apiSecret", "Client secret", true)]);
    assert_eq!(
        form("hibob"),
        [field("apiKey", "Service user ID", false), field("apiSecret", "Service user token", true)]
    );
    assert_eq!(form("merge"), [field("apiKey", "Merge account token", true)]);
    for provider in data["providers"].as_array().unwrap() {
        let asks_domain = form(provider["id"].as_str().unwrap()).iter().any(|(key, ..)| key == "subdomain");
        assert_eq!(provider["subdomainLabel"].is_string(), asks_domain, "{provider}");
    }
    let merge = data["providers"].as_array().unwrap().iter().find(|p| p["id"] == "merge").unwrap();
    assert_eq!(merge["authMethods"], json!(["CREDENTIALS", "API_KEY"]), "Merge Link, or a linked account's token");
    let lever = data["providers"].as_array().unwrap().iter().find(|p| p["id"] == "lever").unwrap();
    assert_eq!(lever["authMethods"], json!(["CREDENTIALS", "API_KEY"]), "a partner's sign-in, or a key");

    // Personio without its secret, or with a company domain it has no use for, is refused by name.
    let mut input = json!({ "input": { "providerId": "personio", "apiKey": "papi-id", "adminConfirmed": true,
        "termsAccepted": true } });
    let response = admin.execute(ops::CONNECT_WITH_API_KEY, input.clone()).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("apiSecret")));
    assert!(response.errors[0]["message"].as_str().unwrap().contains("Client secret"));
    input["input"]["apiSecret"] = json!("papi-secret");
    input["input"]["subdomain"] = json!("acme");
    let response = admin.execute(ops::CONNECT_WITH_API_KEY, input).await.unwrap();
    assert_eq!(response.error_extension("field"), Some(&json!("subdomain")));
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
    each_provider_says_what_its_key_form_asks_for,
    integrations_need_a_signed_in_admin_on_the_paid_plan
);
