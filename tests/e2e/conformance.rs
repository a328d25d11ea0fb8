//! One conformance suite for every (connector, fake) pair in the catalogue, through the public
//! API: discovery and the suggested mapping, a full paginated fetch, each documented failure as
//! its contract code, 429 handling, the change feed where the provider has one, a field the
//! provider withholds, and a provider that fails mid-fetch. A provider joins by joining the
//! catalogue (and the sandbox's list of fakes).

use std::collections::HashSet;

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;
use sandbox::{Attribute, Employee, Employment, Fault, Holds};
use worker::providers::catalogue;

use crate::helpers::{Backend, TestApp, TestOptions};

/// More people than one sync page (25) and than a provider page at the tests' page size.
const EMPLOYEES: u32 = 130;

/// Every provider with an API to call. An uploaded spreadsheet has no fake to be faithful to,
/// no pages and no rate limit: `spreadsheet.rs` tests what a file can get wrong instead.
fn providers() -> Vec<&'static str> {
    catalogue::all().map(|p| p.info()).filter(|info| info.is_called()).map(|info| info.id).collect()
}

async fn spawn(backend: Backend, provider: &'static str) -> TestApp {
    TestApp::spawn_with(TestOptions { provider, employees: EMPLOYEES, ..TestOptions::on(backend) }).await
}

/// A tenant of `provider`, connected with the suggested mapping and synced once; its people.
async fn synced(backend: Backend, provider: &'static str) -> (TestApp, GraphqlClient, String, Vec<Employee>) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let employees = employees(&app);
    (app, admin, connection_id, employees)
}

/// The tenant's people, as the sandbox holds them.
fn employees(app: &TestApp) -> Vec<Employee> {
    app.sandbox.with_tenant("acme", |t| t.company.employees.clone())
}

/// What `provider`'s records are of.
fn holds(provider: &str) -> Holds {
    sandbox::fake(provider).expect("a fake").holds()
}

/// How many records a complete read of `provider` has, and how many of them have no email.
fn record_counts(app: &TestApp, provider: &str) -> (usize, usize) {
    let company = app.sandbox.with_tenant("acme", |t| t.company.clone());
    let without_email = app.listed().iter().filter(|(e, _)| e.work_email.is_none()).count();
    (holds(provider).records(&company), without_email)
}

/// The first active person with an email of their own (no one shares it).
fn a_person(employees: &[Employee], skip: usize) -> Employee {
    let emails: Vec<String> =
        employees.iter().filter_map(|e| e.work_email.as_ref().map(|m| m.to_lowercase())).collect();
    employees
        .iter()
        .filter(|e| e.id > 10 && e.is_active())
        .filter(|e| {
            e.work_email.as_ref().is_some_and(|m| emails.iter().filter(|x| **x == m.to_lowercase()).count() == 1)
        })
        .nth(skip)
        .expect("enough people")
        .clone()
}

fn email(employee: &Employee) -> String {
    employee.work_email.clone().unwrap().to_lowercase()
}

async fn every_provider_has_a_fake_serving_its_suggested_mapping(backend: Backend, provider: &'static str) {
    assert!(sandbox::fake(provider).is_some(), "{provider} has no sandbox fake");
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let offered: HashSet<String> = data["connection"]["accessibleData"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["fields"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap().to_string()))
        .collect();
    let info = catalogue::find(provider).unwrap().info();
    for (internal, external) in info.suggested_mapping {
        assert!(offered.contains(*external), "{provider}: suggests {external} for {internal}, not offered");
    }
    let suggested = data["connection"]["fieldMapping"]["entries"].as_array().unwrap();
    let mapped = suggested.iter().filter(|e| !e["externalField"].is_null()).count();
    assert_eq!(mapped, info.suggested_mapping.len(), "{provider}: the whole suggestion survives discovery");
    app.stop().await;
}

async fn a_full_sync_reads_every_page_in_the_directorys_terms(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    let employees = employees(&app);
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let (records, without_email) = record_counts(&app, provider);
    assert_eq!(run["processed"], records, "{provider}: {run}");
    assert_eq!(run["skipped"], without_email, "{provider}: {run}");
    let users = app.users_by_email(&admin).await;
    let people = app.listed().iter().filter(|(e, _)| e.work_email.is_some()).count();
    assert_eq!(users.len(), people, "{provider}");
    for (employee, expected) in app.listed().iter().filter(|(e, _)| e.work_email.is_some()) {
        let user = &users[&email(employee)];
        let what = format!("{provider}: {:?} {}", employee.employment, employee.id);
        assert_eq!(user["employmentStatus"], expected.status, "{what}");
        assert_eq!(user["jobTitle"].as_str(), expected.job_title.as_deref(), "{what}");
        assert_eq!(user["department"].as_str(), expected.department.as_deref(), "{what}");
    }
    for kind in [Employment::Onboarding, Employment::OnLeave, Employment::Left] {
        assert!(employees.iter().any(|e| e.employment == kind), "the company has someone {kind:?}");
    }
    // Managers are linked by the provider's ids.
    let report = a_person(&employees, 3);
    let manager = employees.iter().find(|e| Some(e.id) == report.manager_id).unwrap();
    let id = users[&email(&report)]["id"].clone();
    let profile = admin.execute(ops::USER, json!({ "id": id })).await.unwrap().ok().unwrap();
    assert_eq!(profile["user"]["manager"]["email"].as_str().map(str::to_lowercase), Some(email(manager)), "{provider}");
    assert_eq!(profile["user"]["startDate"], report.hire_date.map(|d| d.to_string()).map_or(Value::Null, Value::from));
    // A second run finds nothing to write.
    let again = app.sync(&admin, &connection_id).await;
    assert_eq!(again["unchanged"], records - without_email, "{provider}: {again}");
    app.stop().await;
}

/// `connectWithApiKey` with the tenant's credentials, one changed by `change`; answers the code.
async fn connect_code(app: &TestApp, admin: &GraphqlClient, change: impl FnOnce(&mut Value)) -> Option<String> {
    let mut input = admin_flow::connect_input(&app.credentials);
    change(&mut input["input"]);
    let response = admin.execute(ops::CONNECT_WITH_API_KEY, input).await.unwrap();
    for secret in [Some(&app.credentials.api_key), app.credentials.api_secret.as_ref()].into_iter().flatten() {
        assert!(!response.errors.iter().any(|e| e.to_string().contains(secret.as_str())), "errors never echo secrets");
    }
    response.error_code().map(str::to_string)
}

async fn documented_failures_become_contract_codes(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let code = |c: &str| Some(c.to_string());
    let wrong_key = connect_code(&app, &admin, |i| i["apiKey"] = json!("wrong-key-0000")).await;
    assert_eq!(wrong_key, code("INVALID_CREDENTIALS"), "{provider}");
    if app.credentials.api_secret.is_some() {
        let wrong_secret = connect_code(&app, &admin, |i| i["apiSecret"] = json!("wrong-secret")).await;
        assert_eq!(wrong_secret, code("INVALID_CREDENTIALS"), "{provider}");
        let no_secret = connect_code(&app, &admin, |i| i["apiSecret"] = Value::Null).await;
        assert_eq!(no_secret, code("VALIDATION_FAILED"), "{provider}");
    }
    app.sandbox.with_tenant("acme", |t| t.api_access_enabled = false);
    assert_eq!(connect_code(&app, &admin, |_| {}).await, code("THIRD_PARTY_ACCESS_DISABLED"), "{provider}");
    app.sandbox.with_tenant("acme", |t| {
        t.api_access_enabled = true;
        t.inject(vec![Fault::Status(503); 3]);
    });
    assert_eq!(connect_code(&app, &admin, |_| {}).await, code("PROVIDER_UNREACHABLE"), "{provider}");
    app.sandbox.with_tenant("acme", |t| t.inject(vec![Fault::RateLimited { retry_after_secs: 0 }; 3]));
    assert_eq!(connect_code(&app, &admin, |_| {}).await, code("RATE_LIMITED"), "{provider}");
    let connections = admin.execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(connections["connections"], json!([]), "{provider}: no failed attempt is stored");
    // One 429 or 5xx is waited out.
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::RateLimited { retry_after_secs: 1 }, Fault::Status(502)]));
    assert_eq!(connect_code(&app, &admin, |_| {}).await, None, "{provider}");
    app.stop().await;
}

async fn a_throttled_sync_waits_and_finishes(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sandbox.with_tenant("acme", |t| {
        t.inject([Fault::RateLimited { retry_after_secs: 1 }]);
        t.rate_limit_per_second = Some(3);
    });
    // Three a second is slow by design: Lever reads each hire's offers on its own, about 40 s
    // of requests for this company at that pace.
    let run = app.sync_within(&admin, &connection_id, std::time::Duration::from_secs(150)).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    assert_eq!(run["processed"], record_counts(&app, provider).0, "{provider}: {run}");
    assert!(app.sandbox.with_tenant("acme", |t| t.throttled) >= 1, "{provider}: the fault was met");
    app.stop().await;
}

async fn a_withheld_field_is_reported_and_never_blanked(backend: Backend, provider: &'static str) {
    let (app, admin, connection_id, employees) = synced(backend, provider).await;
    let (promoted, leaver) = (a_person(&employees, 0), a_person(&employees, 1));
    let withheld = [Attribute::JobTitle, Attribute::Employment];
    // The directory fields the provider can no longer be read for (an applicant tracking
    // system lists only hires, so who left cannot be hidden).
    let fake = sandbox::fake(provider).unwrap();
    let lost: std::collections::BTreeSet<&str> = withheld.iter().flat_map(|a| fake.withholding(*a)).collect();
    let status_hidden = lost.contains("employmentStatus");
    let before = app.users_by_email(&admin).await;
    app.sandbox.with_tenant("acme", |t| {
        t.withheld.extend(withheld);
        t.company.employee_mut(promoted.id).job_title = "Chief Sandbox Officer".into();
        t.company.employee_mut(leaver.id).leave();
    });
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let deactivated = if status_hidden { 0 } else { 1 };
    assert_eq!(run["deactivated"], deactivated, "{provider}: an unknown status deactivates nobody: {run}");
    assert_eq!(run["updated"], 0, "{provider}: what changed is hidden, so no one is: {run}");
    let mapping = admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    let source = |internal: &str| {
        mapping.as_array().unwrap().iter().find(|e| e["internalField"] == internal).unwrap()["externalField"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let issues: Vec<&Value> =
        run["issues"].as_array().unwrap().iter().filter(|i| i["kind"] == "FIELD_WITHHELD").collect();
    assert_eq!(issues.len(), lost.len(), "{provider}: one issue per withheld field: {issues:?}");
    for internal in &lost {
        let field = source(internal);
        assert!(issues.iter().any(|i| i["message"].as_str().unwrap().contains(&field)), "{provider}: {field}");
    }
    let users = app.users_by_email(&admin).await;
    assert_eq!(users[&email(&promoted)]["jobTitle"], promoted.job_title.as_str(), "{provider}: kept, not blanked");
    let status = if status_hidden { "ACTIVE" } else { "INACTIVE" };
    assert_eq!(users[&email(&leaver)]["employmentStatus"], status, "{provider}: kept while unknown");
    for (email, user) in &users {
        let had = !before[email]["jobTitle"].is_null();
        assert!(!had || !user["jobTitle"].is_null(), "{provider}: {email}'s job title was blanked");
    }
    // Read access back: the directory catches up.
    app.sandbox.with_tenant("acme", |t| t.withheld.clear());
    app.sync(&admin, &connection_id).await;
    let users = app.users_by_email(&admin).await;
    assert_eq!(users[&email(&promoted)]["jobTitle"], "Chief Sandbox Officer", "{provider}");
    assert_eq!(users[&email(&leaver)]["employmentStatus"], "INACTIVE", "{provider}");
    app.stop().await;
}

/// The kinds of `run`'s issues, each once.
fn issue_kinds(run: &Value) -> std::collections::BTreeSet<String> {
    run["issues"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_string()).collect()
}

/// Each person's `updatedAt`, by email: a person whose row was written has a later one.
async fn written_at(app: &TestApp, admin: &GraphqlClient) -> std::collections::HashMap<String, Value> {
    app.users_by_email(admin).await.into_iter().map(|(email, user)| (email, user["updatedAt"].clone())).collect()
}

async fn a_no_change_resync_writes_nothing(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let first = app.sync(&admin, &connection_id).await;
    assert_eq!(first["status"], "SUCCEEDED", "{provider}: {first}");
    let (records, without_email) = record_counts(&app, provider);
    let listed = records - without_email;
    let before = written_at(&app, &admin).await;
    let first_kinds = issue_kinds(&first);
    // Nothing changed; then a field is withheld (its values unknown, so still nothing changed);
    // then the same, with the provider throttling.
    for step in ["as it was", "a field withheld", "withheld, throttled"] {
        app.sandbox.with_tenant("acme", |t| match step {
            "a field withheld" => {
                t.withheld.insert(Attribute::JobTitle);
            }
            "withheld, throttled" => t.inject([Fault::RateLimited { retry_after_secs: 1 }]),
            _ => {}
        });
        let run = app.sync(&admin, &connection_id).await;
        assert_eq!(run["status"], "SUCCEEDED", "{provider}, {step}: {run}");
        for count in ["created", "updated", "deactivated"] {
            assert_eq!(run[count], 0, "{provider}, {step}: {count}: {run}");
        }
        assert_eq!(run["unchanged"], listed, "{provider}, {step}: {run}");
        let run_id = run["id"].as_str().unwrap();
        let changes = admin.execute(ops::RUN_CHANGES, json!({ "id": run_id })).await.unwrap().ok().unwrap();
        assert_eq!(changes["syncRun"]["changes"], json!([]), "{provider}, {step}: no history written");
        let mut expected = first_kinds.clone();
        if step != "as it was" {
            expected.insert("FIELD_WITHHELD".into());
        }
        assert_eq!(issue_kinds(&run), expected, "{provider}, {step}: {run}");
        assert_eq!(written_at(&app, &admin).await, before, "{provider}, {step}: no person's row was written");
    }
    app.stop().await;
}

async fn a_provider_failing_mid_fetch_deactivates_nobody(backend: Backend, provider: &'static str) {
    let (app, admin, connection_id, employees) = synced(backend, provider).await;
    let gone = a_person(&employees, 2);
    app.sandbox.with_tenant("acme", |t| {
        t.company.employees.retain(|e| e.id != gone.id);
        t.outage_after_records = Some(60);
    });
    let failed = app.sync(&admin, &connection_id).await;
    assert_eq!(failed["status"], "FAILED", "{provider}: {failed}");
    assert_eq!(failed["deactivated"], 0, "{provider}: {failed}");
    assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()), "{provider}: says why: {failed}");
    let users = app.users_by_email(&admin).await;
    assert_eq!(users[&email(&gone)]["employmentStatus"], "ACTIVE", "{provider}: an incomplete read proves nothing");
    app.sandbox.with_tenant("acme", |t| t.outage_after_records = None);
    let recovered = app.sync(&admin, &connection_id).await;
    assert_eq!(recovered["status"], "SUCCEEDED", "{provider}: {recovered}");
    let users = app.users_by_email(&admin).await;
    assert_eq!(users[&email(&gone)]["employmentStatus"], "INACTIVE", "{provider}: a complete read does");
    app.stop().await;
}

async fn an_incremental_sync_applies_what_changed(backend: Backend, provider: &'static str) {
    let (app, admin, connection_id, employees) = synced(backend, provider).await;
    let (promoted, leaver) = (a_person(&employees, 0), a_person(&employees, 1));
    app.sandbox.with_tenant("acme", |t| {
        t.company.employee_mut(promoted.id).job_title = "Chief Sandbox Officer".into();
        t.company.employee_mut(leaver.id).leave();
        let mut hire = promoted.clone();
        hire.id = 5000;
        hire.work_email = Some("new.hire@acme.example".into());
        t.company.employees.push(hire);
    });
    let variables = json!({ "id": connection_id, "mode": "INCREMENTAL" });
    let started = admin.execute(&ops::start_sync(), variables).await.unwrap().ok().unwrap()["startSync"].clone();
    assert_eq!(started["mode"], "INCREMENTAL", "{provider}: a FULL sync succeeded just now");
    let run_id = started["id"].as_str().unwrap();
    app.follow(&admin, run_id).await;
    let run = app.run(&admin, run_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    if run["mode"] == "INCREMENTAL" {
        // The provider has a change feed: only what changed was read (a rescinded hire is
        // reported as gone, not as a record).
        let changed = if holds(provider).lists_leavers() { 3 } else { 2 };
        assert_eq!(run["processed"], changed, "{provider}: {run}");
    } else {
        assert_eq!(run["processed"], record_counts(&app, provider).0, "{provider}: read everyone instead: {run}");
    }
    assert_eq!((run["created"].as_i64(), run["deactivated"].as_i64()), (Some(1), Some(1)), "{provider}: {run}");
    let users = app.users_by_email(&admin).await;
    assert_eq!(users[&email(&promoted)]["jobTitle"], "Chief Sandbox Officer", "{provider}");
    assert_eq!(users[&email(&leaver)]["employmentStatus"], "INACTIVE", "{provider}");
    assert_eq!(users["new.hire@acme.example"]["employmentStatus"], "ACTIVE", "{provider}");
    app.stop().await;
}

crate::for_each_provider_of!(
    every_provider, providers:
    every_provider_has_a_fake_serving_its_suggested_mapping,
    a_full_sync_reads_every_page_in_the_directorys_terms,
    documented_failures_become_contract_codes,
    a_throttled_sync_waits_and_finishes,
    a_withheld_field_is_reported_and_never_blanked,
    a_no_change_resync_writes_nothing,
    a_provider_failing_mid_fetch_deactivates_nobody,
    an_incremental_sync_applies_what_changed,
);
