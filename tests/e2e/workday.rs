//! Workday through a custom report's web service (the conformance suite covers what every
//! provider does): the report's address is checked before anything is sent, and Workday's own
//! refusals say what the admin must change.

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;
use sandbox::Fault;

use crate::helpers::{Backend, TestApp, TestOptions};

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(TestOptions { provider: "workday", ..TestOptions::on(backend) }).await
}

/// Requests the sandbox's report answered, refusals included.
fn report_requests(app: &TestApp) -> u32 {
    app.sandbox.with_tenant("acme", |t| t.requests.get("report").copied().unwrap_or(0))
}

/// `connectWithApiKey` with the tenant's credentials and `url` as the report's address.
async fn connect_at(app: &TestApp, admin: &GraphqlClient, url: &str) -> directory_sync::client::GraphqlResponse {
    let mut input = admin_flow::connect_input(&app.credentials);
    input["input"]["subdomain"] = json!(url);
    admin.execute(ops::CONNECT_WITH_API_KEY, input).await.unwrap()
}

async fn a_report_address_is_checked_before_anything_is_sent(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let good = app.credentials.subdomain.clone().unwrap();
    let refusals = [
        (good.replace("https://", "http://"), "https://"),
        (good.replace("?format=json", ""), "format=json"),
        (good.replace("wd2-impl-services1.workday.com", "169.254.169.254"), "IP address"),
        (good.replace("wd2-impl-services1.workday.com", "intranet.acme.example"), "not a Workday host"),
        (good.replace("customreport2", "Human_Resources"), "customreport2"),
    ];
    for (url, says) in refusals {
        let response = connect_at(&app, &admin, &url).await;
        assert_eq!(response.error_code(), Some("INVALID_SUBDOMAIN"), "{url}");
        assert_eq!(response.error_extension("field"), Some(&json!("subdomain")), "{url}");
        let message = response.errors[0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    assert_eq!(report_requests(&app), 0, "nothing was sent anywhere");
    let connected = connect_at(&app, &admin, &good).await;
    assert!(connected.errors.is_empty(), "{:?}", connected.errors);
    assert!(report_requests(&app) >= 1, "the report was read to verify the user");
    app.stop().await;
}

async fn a_report_not_shared_with_the_user_says_to_share_it(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    app.sandbox.with_tenant("acme", |t| t.api_access_enabled = false);
    let response = connect_at(&app, &admin, app.credentials.subdomain.as_deref().unwrap()).await;
    assert_eq!(response.error_code(), Some("THIRD_PARTY_ACCESS_DISABLED"));
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(message.contains("share the report with the Integration System User"), "{message}");
    assert_eq!(report_requests(&app), 1, "Workday's reason says asking again cannot help");
    app.stop().await;
}

async fn a_report_stopped_at_workdays_time_limit_fails_and_deactivates_nobody(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    assert_eq!(app.sync(&admin, &connection_id).await["status"], "SUCCEEDED");
    let gone = app.sandbox.with_tenant("acme", |t| {
        let gone = t.company.employees.iter().find(|e| e.id > 10 && e.is_active() && e.work_email.is_some());
        let gone = gone.unwrap().clone();
        t.company.employees.retain(|e| e.id != gone.id);
        t.inject([Fault::TimedOut]);
        gone
    });
    let failed = app.sync(&admin, &connection_id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["deactivated"], 0, "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("time limit") && error.contains("add a prompt or a filter"), "{error}");
    let users = app.users(&admin).await;
    let email = gone.work_email.unwrap().to_lowercase();
    let person: Vec<&Value> = users.iter().filter(|u| u["email"].as_str() == Some(email.as_str())).collect();
    assert_eq!(person[0]["employmentStatus"], "ACTIVE", "a report that never finished proves nothing");
    app.stop().await;
}

async fn an_api_clients_refresh_token_reads_the_report_in_place_of_a_password(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let (client_id, client_secret, refresh_token) = app.sandbox.with_tenant("acme", sandbox::workday::api_client);
    let mut input = admin_flow::connect_input(&app.credentials);
    input["input"]["apiKey"] = json!(client_id);
    input["input"]["apiSecret"] = json!(client_secret);
    input["input"]["refreshToken"] = json!("a token Workday never issued");
    let refused = admin.execute(ops::CONNECT_WITH_API_KEY, input.clone()).await.unwrap();
    assert_eq!(refused.error_code(), Some("INVALID_CREDENTIALS"), "{:?}", refused.errors);
    assert!(refused.errors[0]["message"].as_str().unwrap().contains("Manage Refresh Tokens"), "{:?}", refused.errors);

    input["input"]["refreshToken"] = json!(refresh_token);
    let connected = admin.execute(ops::CONNECT_WITH_API_KEY, input).await.unwrap().ok().unwrap();
    let connection_id = connected["connectWithApiKey"]["id"].as_str().unwrap().to_string();
    app.confirm_mapping(&admin, &connection_id, None).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(
        run["created"].as_u64(),
        Some(app.listed().iter().filter(|(e, _)| e.work_email.is_some()).count() as u64)
    );
    let traded = app.sandbox.with_tenant("acme", |t| t.requests.get("token").copied().unwrap_or(0));
    assert!(traded >= 2, "the refresh token was traded to verify and to sync: {traded}");

    // The admin generated a new refresh token, so Workday forgot this one.
    app.sandbox.with_tenant("acme", |t| t.revoke_tokens());
    let failed = app.sync(&admin, &connection_id).await;
    assert_eq!((failed["status"].as_str(), failed["deactivated"].as_i64()), (Some("FAILED"), Some(0)), "{failed}");
    assert!(failed["error"].as_str().unwrap_or_default().contains("refresh token"), "{failed}");
    app.stop().await;
}

async fn a_report_without_the_change_prompt_is_read_whole_every_time(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let whole = app.credentials.subdomain.clone().unwrap().replace("&Updated_From=", "");
    let connected = connect_at(&app, &admin, &whole).await.ok().unwrap();
    let connection_id = connected["connectWithApiKey"]["id"].as_str().unwrap().to_string();
    app.confirm_mapping(&admin, &connection_id, None).await;
    let first = app.sync(&admin, &connection_id).await;
    assert_eq!(first["status"], "SUCCEEDED", "{first}");
    let promoted = app.listed()[0].0.id;
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(promoted).job_title = "Chief Report Officer".into());
    let variables = json!({ "id": connection_id, "mode": "INCREMENTAL" });
    let started = admin.execute(&ops::start_sync(), variables).await.unwrap().ok().unwrap();
    let run_id = started["startSync"]["id"].as_str().unwrap();
    app.follow(&admin, run_id).await;
    let run = app.run(&admin, run_id).await;
    assert_eq!(
        (run["status"].as_str(), run["processed"].as_i64(), run["updated"].as_i64()),
        (Some("SUCCEEDED"), first["processed"].as_i64(), Some(1)),
        "no prompt to ask with, so everyone is read: {run}"
    );
    app.stop().await;
}

crate::on_both_backends!(
    a_report_without_the_change_prompt_is_read_whole_every_time,
    an_api_clients_refresh_token_reads_the_report_in_place_of_a_password,
    a_report_address_is_checked_before_anything_is_sent,
    a_report_not_shared_with_the_user_says_to_share_it,
    a_report_stopped_at_workdays_time_limit_fails_and_deactivates_nobody,
);
