//! Seed step 3, "Open Window": the OAuth 2.0 code flow through the sandbox's sign-in page and
//! our `GET /oauth/callback`, for every provider whose sign-in is one.

use std::time::Duration;

use serde_json::{json, Value};

use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;
use worker::providers::catalogue::{self, SignIn};

use crate::helpers::{Backend, TestApp, TestOptions};

/// Every provider whose sign-in redirects the admin to the provider and back.
fn signing_in_providers() -> Vec<&'static str> {
    catalogue::all()
        .map(|p| p.info())
        .filter(|info| info.sign_in == Some(SignIn::OAuthRedirect))
        .map(|info| info.id)
        .collect()
}

async fn spawn(backend: Backend, provider: &'static str) -> TestApp {
    TestApp::spawn_with(TestOptions { provider, ..TestOptions::on(backend) }).await
}

/// `beginCredentialConnection`'s input for the sandbox tenant `acme`.
fn begin_input(app: &TestApp) -> Value {
    json!({ "input": { "providerId": app.credentials.provider_id, "subdomain": app.credentials.subdomain,
                       "adminConfirmed": true, "termsAccepted": true } })
}

/// How many people the directory shows once the tenant is synced.
fn people_of(app: &TestApp) -> usize {
    app.listed().len()
}

/// What the admin's browser (the one that began the sign-in) does: open the authorization URL,
/// follow the provider's redirect to our callback. Answers the callback page's status and body.
async fn sign_in(admin: &GraphqlClient, authorization_url: &str) -> (u16, String) {
    let page = admin.browser().get(authorization_url).send().await.unwrap();
    assert!(page.url().path().ends_with("/oauth/callback"), "the sandbox signs in and redirects back: {}", page.url());
    (page.status().as_u16(), page.text().await.unwrap())
}

async fn signing_in_connects_and_the_subscription_sees_it(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input(&app)).await.unwrap().ok().unwrap();
    let begun = &data["beginCredentialConnection"];
    assert_eq!(begun["connection"]["status"], "PENDING_AUTHORIZATION");
    let connection_id = begun["connection"]["id"].as_str().unwrap().to_string();
    let url = begun["authorizationUrl"].as_str().unwrap();
    assert!(url.starts_with(&app.sandbox.url().to_string()), "{url}");
    for part in ["response_type=code", "client_id=", "state=", "redirect_uri=http%3A%2F%2F127.0.0.1"] {
        assert!(url.contains(part), "{part} missing from {url}");
    }

    let mut statuses = admin.subscribe(ops::CONNECTION_STATUS, json!({ "id": connection_id })).await.unwrap();
    let first = statuses.next().await.unwrap().unwrap().ok().unwrap();
    assert_eq!(first["connectionStatus"]["status"], "PENDING_AUTHORIZATION");

    let (status, page) = sign_in(&admin, url).await;
    assert_eq!(status, 200);
    assert!(page.contains("Connected"), "{page}");
    let next = tokio::time::timeout(Duration::from_secs(10), statuses.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(next.ok().unwrap()["connectionStatus"]["status"], "CONNECTED");
    statuses.close().await;

    let connection = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(connection["connection"]["status"], "CONNECTED");
    assert!(connection["connection"]["credentialHint"].as_str().unwrap().starts_with('…'));
    // The bearer token works for syncing.
    app.confirm_mapping(&admin, &connection_id, None).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["created"], people_of(&app));

    // The callback link is single-use.
    let replay = reqwest::get(format!("{}/oauth/callback?code=x&state=whatever", app.url)).await.unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    app.stop().await;
}

async fn a_refused_sign_in_fails_with_a_reason(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    app.sandbox.with_tenant("acme", |t| t.consent = false);
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input(&app)).await.unwrap().ok().unwrap();
    let connection_id = data["beginCredentialConnection"]["connection"]["id"].as_str().unwrap().to_string();
    let (status, page) = sign_in(&admin, data["beginCredentialConnection"]["authorizationUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("Connection failed"), "{page}");
    let connection = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(connection["connection"]["status"], "FAILED");
    let message = connection["connection"]["statusMessage"].as_str().unwrap();
    assert!(message.contains("access_denied"), "{message}");
    let response = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    app.stop().await;
}

async fn expiring_tokens_are_refreshed_before_use(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    // Tokens that expire within the refresh margin are refreshed on every use.
    app.sandbox.with_tenant("acme", |t| t.token_lifetime = Duration::from_secs(60));
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input(&app)).await.unwrap().ok().unwrap();
    let connection_id = data["beginCredentialConnection"]["connection"]["id"].as_str().unwrap().to_string();
    sign_in(&admin, data["beginCredentialConnection"]["authorizationUrl"].as_str().unwrap()).await;
    app.confirm_mapping(&admin, &connection_id, None).await;
    let refreshes = || app.sandbox.with_tenant("acme", |t| t.requests.get("token:refresh_token").copied().unwrap_or(0));
    let before = refreshes();
    assert!(before >= 1, "mapping already used a refreshed token");
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert!(refreshes() > before, "the sync refreshed the token first");

    // The company removes the app's access: the next use fails and says to sign in again.
    app.sandbox.with_tenant("acme", |t| t.revoke_tokens());
    let response = admin.execute(ops::PREVIEW_MAPPING, json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("INVALID_CREDENTIALS"));
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"]["status"], "FAILED");
    assert!(data["connection"]["statusMessage"].as_str().unwrap().contains("sign in again"));
    app.stop().await;
}

/// A deployment with no app registered with the provider says so, and offers the API key.
async fn a_sign_in_the_deployment_has_no_app_for_is_refused_by_name(backend: Backend, provider: &'static str) {
    let unset = &["BAMBOOHR_CLIENT_ID", "BAMBOOHR_CLIENT_SECRET", "LEVER_CLIENT_ID", "LEVER_CLIENT_SECRET"];
    let app = TestApp::spawn_with(TestOptions { provider, unset, ..TestOptions::on(backend) }).await;
    let response = app.admin().execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input(&app)).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{provider}");
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(message.contains("_CLIENT_ID") && message.contains("API key"), "{provider}: {message}");
    let connections = app.admin().execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(connections["connections"], json!([]), "{provider}: nothing half-made is left");
    app.stop().await;
}

/// The `state` the service put in an authorization URL.
fn state_of(authorization_url: &str) -> String {
    let url = url::Url::parse(authorization_url).unwrap();
    url.query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string()
}

async fn a_sign_in_completes_only_in_the_browser_that_began_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input(&app)).await.unwrap().ok().unwrap();
    let begun = &data["beginCredentialConnection"];
    let connection_id = begun["connection"]["id"].as_str().unwrap().to_string();
    let url = begun["authorizationUrl"].as_str().unwrap();

    // Someone else's browser (a victim lured to the link, or a leaked callback URL) gets nowhere.
    let elsewhere = GraphqlClient::new(&app.url, None);
    let (status, page) = sign_in(&elsewhere, url).await;
    assert_eq!(status, 400);
    assert!(page.contains("opened in another browser"), "{page}");
    let connection = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(connection["connection"]["status"], "PENDING_AUTHORIZATION");

    // The admin's own browser still can; its cookie is cleared by the callback.
    let (status, page) = sign_in(&admin, url).await;
    assert_eq!(status, 200);
    assert!(page.contains("Connected"), "{page}");
    app.stop().await;
}

async fn a_providers_error_description_is_kept_short_and_plain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let data = admin.execute(ops::BEGIN_CREDENTIAL_CONNECTION, begin_input(&app)).await.unwrap().ok().unwrap();
    let begun = &data["beginCredentialConnection"];
    let connection_id = begun["connection"]["id"].as_str().unwrap().to_string();
    let state = state_of(begun["authorizationUrl"].as_str().unwrap());
    let description = format!("denied\r\n<script>alert(1)</script> {}", "very long ".repeat(2_000));
    let mut callback = url::Url::parse(&format!("{}/oauth/callback", app.url)).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("error", "access_denied")
        .append_pair("error_description", &description);
    let page = admin.browser().get(callback).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(!page.contains("<script>"), "{page}");
    let connection = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(connection["connection"]["status"], "FAILED");
    let message = connection["connection"]["statusMessage"].as_str().unwrap();
    assert!(message.contains("denied <script>alert(1)</script> very long"), "{message}");
    assert!(message.chars().count() < 300 && !message.contains('\n'), "{message}");
    app.stop().await;
}

crate::for_each_provider_of!(
    every_sign_in, signing_in_providers:
    signing_in_connects_and_the_subscription_sees_it,
    a_refused_sign_in_fails_with_a_reason,
    expiring_tokens_are_refreshed_before_use,
    a_sign_in_the_deployment_has_no_app_for_is_refused_by_name,
);

// What our callback does with what comes back is the same for every provider.
crate::on_both_backends!(
    a_sign_in_completes_only_in_the_browser_that_began_it,
    a_providers_error_description_is_kept_short_and_plain,
);
