//! What an applicant tracking system brings, through GraphQL, for every ATS in the catalogue:
//! the people it hired (PRE_START until their start date, with the offer's start date and the
//! job's title, department and hiring manager), never those it did not hire; a rescinded offer
//! is a leaver through the deactivation guard; a rehire is the same person; a malformed email is
//! a sync issue; and a credential without a scope is refused when connecting, naming it.

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::operations as ops;
use sandbox::company::Employment;
use sandbox::hiring;
use sandbox::{Attribute, Employee, Holds};
use worker::providers::catalogue::{self, ProviderCategory};

use crate::helpers::{person, Backend, TestApp, TestOptions};

fn systems() -> Vec<&'static str> {
    catalogue::all()
        .map(|p| p.info())
        .filter(|info| info.category == ProviderCategory::Ats)
        .map(|info| info.id)
        .collect()
}

async fn spawn(backend: Backend, provider: &'static str) -> TestApp {
    TestApp::spawn_with(TestOptions { provider, employees: 120, ..TestOptions::on(backend) }).await
}

fn company(app: &TestApp) -> sandbox::Company {
    app.sandbox.with_tenant("acme", |t| t.company.clone())
}

/// The directory's person with `email`, as the users list shows them.
async fn user(app: &TestApp, admin: &directory_sync::client::GraphqlClient, email: &str) -> Option<Value> {
    app.users(admin).await.into_iter().find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
}

/// A standing hire with an email of their own, the `nth` of those `matching`.
fn a_hire(company: &sandbox::Company, nth: usize, matching: impl Fn(&Employee) -> bool) -> Employee {
    hiring::hires(company)
        .into_iter()
        .filter(|h| h.hired && h.employee.work_email.is_some() && h.employee.id % 151 != 0 && h.employee.id % 150 != 0)
        .map(|h| h.employee.clone())
        .filter(|e| matching(e))
        .nth(nth)
        .expect("enough hires")
}

async fn a_hire_is_pre_start_with_the_offers_start_date_job_and_hiring_manager(
    backend: Backend,
    provider: &'static str,
) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let company = company(&app);
    let starter = a_hire(&company, 0, |e| e.employment == Employment::Onboarding);
    let found = user(&app, &admin, starter.work_email.as_deref().unwrap()).await.expect("in the directory");
    let profile = person(&admin, &found["id"]).await;
    assert_eq!(profile["employmentStatus"], "PRE_START", "{provider}: {profile}");
    assert_eq!(profile["startDate"], starter.hire_date.unwrap().to_string(), "{provider}: the offer's start date");
    assert_eq!(profile["jobTitle"], starter.job_title.as_str(), "{provider}: the job's title");
    assert_eq!(profile["department"], starter.department.as_str(), "{provider}");
    let manager = company.employees.iter().find(|m| Some(m.id) == starter.manager_id).unwrap();
    assert_eq!(
        profile["manager"]["email"].as_str().map(str::to_lowercase),
        manager.work_email.as_ref().map(|e| e.to_lowercase()),
        "{provider}: the hiring manager, found by email"
    );
    // Started hires are active, and the hiring team is in the directory too.
    let started = a_hire(&company, 0, |e| e.employment == Employment::Employed);
    let started = user(&app, &admin, started.work_email.as_deref().unwrap()).await.unwrap();
    assert_eq!(started["employmentStatus"], "ACTIVE", "{provider}");
    let founder = &company.employees[0];
    let founder = user(&app, &admin, founder.work_email.as_deref().unwrap()).await.expect("a user of the ATS");
    assert_eq!((&founder["employmentStatus"], &founder["jobTitle"]), (&json!("ACTIVE"), &Value::Null), "{provider}");
    app.stop().await;
}

async fn applicants_who_were_not_hired_never_enter_the_directory(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    // Mapped to the personal email, which is all an applicant has.
    let mut mapping = admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    let email = mapping.as_array_mut().unwrap().iter_mut().find(|e| e["internalField"] == "email").unwrap();
    let personal = email["externalField"].as_str().unwrap().replace("work", "personal");
    email["externalField"] = json!(personal);
    app.confirm_mapping(&admin, &connection_id, Some(mapping)).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let company = company(&app);
    let applicants = hiring::applicants(&company);
    assert!(applicants.len() > 100, "{provider}: rejected, in the pipeline, prospects, withdrawn");
    let emails: std::collections::HashSet<String> =
        app.users(&admin).await.iter().map(|u| u["email"].as_str().unwrap().to_lowercase()).collect();
    assert!(applicants.iter().all(|a| !emails.contains(&a.email)), "{provider}: no applicant is a person");
    let hires = hiring::hires(&company).into_iter().filter(|h| h.hired).count();
    assert_eq!(run["created"].as_u64().unwrap() as usize, emails.len(), "{provider}");
    assert!(emails.len() >= hires, "{provider}: every hire, and the hiring team: {run}");
    assert!(emails.len() <= Holds::Hires.records(&company), "{provider}: nothing else");
    app.stop().await;
}

async fn a_rescinded_offer_is_a_leaver_through_the_guard_and_a_rehire_is_the_same_person(
    backend: Backend,
    provider: &'static str,
) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let company = company(&app);
    let starter = a_hire(&company, 1, |e| e.employment == Employment::Employed && !manages(&company, e));
    let email = starter.work_email.clone().unwrap();
    let before = user(&app, &admin, &email).await.unwrap();

    // The offer is rescinded.
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(starter.id).leave());
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["deactivated"], 1, "{provider}: {run}");
    assert_eq!(user(&app, &admin, &email).await.unwrap()["employmentStatus"], "INACTIVE", "{provider}");

    // Hired again, to start next month: the same person, not started yet.
    let starts = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    app.sandbox.with_tenant("acme", |t| {
        let employee = t.company.employee_mut(starter.id);
        employee.employment = Employment::Onboarding;
        employee.hire_date = Some(starts);
        employee.termination_date = None;
    });
    app.sync(&admin, &connection_id).await;
    let again = user(&app, &admin, &email).await.unwrap();
    assert_eq!(again["id"], before["id"], "{provider}: one person");
    let profile = person(&admin, &again["id"]).await;
    assert_eq!(
        (&profile["employmentStatus"], &profile["startDate"]),
        (&json!("PRE_START"), &json!(starts.to_string()))
    );

    // Most offers rescinded at once looks like an outage: held until an admin confirms.
    let rescinded = app.sandbox.with_tenant("acme", |t| {
        let company = t.company.clone();
        let hires = company.employees.iter().filter(|e| e.id > 8 && e.is_active() && !manages(&company, e));
        let ids: Vec<u32> = hires.map(|e| e.id).collect();
        let half = &ids[..ids.len() / 2];
        half.iter().for_each(|id| t.company.employee_mut(*id).leave());
        half.len()
    });
    let held = app.sync(&admin, &connection_id).await;
    assert_eq!(held["deactivated"], 0, "{provider}: {held}");
    assert!(held["deactivationsHeld"].as_u64().unwrap() as usize >= rescinded / 2, "{provider}: {held}");
    assert!(held["issues"].as_array().unwrap().iter().any(|i| i["kind"] == "DEACTIVATIONS_HELD"), "{provider}");
    app.stop().await;
}

/// Whether `employee` has an account at the ATS: they manage someone or recruit.
fn manages(company: &sandbox::Company, employee: &Employee) -> bool {
    employee.job_title == "Recruiter" || company.employees.iter().any(|e| e.manager_id == Some(employee.id))
}

async fn a_malformed_email_is_a_sync_issue_not_a_failed_run(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let company = company(&app);
    let typo = a_hire(&company, 2, |e| !manages(&company, e));
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(typo.id).work_email = Some("not-an-address".into()));
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let issue = run["issues"].as_array().unwrap().iter().find(|i| i["kind"] == "INVALID_EMAIL").cloned();
    assert!(issue.expect("an issue")["message"].as_str().unwrap().contains("not-an-address"), "{provider}: {run}");
    app.stop().await;
}

const SAVE_WITH_TEAM: &str = "mutation($id: ID!, $entries: [FieldMappingEntryInput!]!, $team: Boolean) {
    saveFieldMapping(connectionId: $id, entries: $entries, hiringTeam: $team) { version hiringTeam } }";

/// Saves the current mapping with the hiring team in or out and confirms it.
async fn confirm_hiring_team(admin: &directory_sync::client::GraphqlClient, connection_id: &str, team: bool) -> Value {
    let entries = admin_flow::current_mapping(admin, connection_id).await.unwrap();
    let saved = admin.execute(SAVE_WITH_TEAM, json!({ "id": connection_id, "entries": entries, "team": team }));
    let saved = saved.await.unwrap().ok().unwrap()["saveFieldMapping"].clone();
    let version = json!({ "id": connection_id, "version": saved["version"] });
    admin.execute(ops::CONFIRM_MAPPING, version).await.unwrap().ok().unwrap();
    saved
}

async fn the_hiring_team_is_people_too_unless_the_mapping_leaves_them_out(backend: Backend, provider: &'static str) {
    let app = spawn(backend, provider).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let suggested = admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    let query = "query($id: ID!) { connection(id: $id) { fieldMapping { hiringTeam } } }";
    let shown = admin.execute(query, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(shown["connection"]["fieldMapping"]["hiringTeam"], true, "{provider}: in by default");
    app.confirm_mapping(&admin, &connection_id, Some(suggested)).await;
    app.sync(&admin, &connection_id).await;
    let company = company(&app);
    let founder = company.employees[0].work_email.clone().unwrap();
    assert!(user(&app, &admin, &founder).await.is_some(), "{provider}: a user of the ATS is a person");

    // Left out: the next full sync lists only hires, so the hiring team's own records end.
    let saved = confirm_hiring_team(&admin, &connection_id, false).await;
    assert_eq!(saved["hiringTeam"], false, "{provider}");
    let resync = "query($id: ID!) { connection(id: $id) { resyncRequired } }";
    let flagged = admin.execute(resync, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(flagged["connection"]["resyncRequired"], true, "{provider}: a mapping change calls for a full sync");
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{provider}: {run}");
    let hires = hiring::hires(&company).into_iter().filter(|h| h.hired).count() as u64;
    assert_eq!(run["processed"], hires, "{provider}: hires only: {run}");
    let team_only = hiring::team(&company)
        .into_iter()
        .filter(|m| !m.disabled && !hiring::hires(&company).iter().any(|h| h.hired && h.employee.id == m.employee.id))
        .count() as u64;
    assert_eq!(run["deactivated"], team_only, "{provider}: {run}");
    let gone = user(&app, &admin, &founder).await.unwrap();
    assert_eq!(gone["employmentStatus"], "INACTIVE", "{provider}");
    // A saved mapping keeps its choice when the next save says nothing of it.
    let entries = admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    let saved = admin.execute(SAVE_WITH_TEAM, json!({ "id": connection_id, "entries": entries, "team": null }));
    assert_eq!(saved.await.unwrap().ok().unwrap()["saveFieldMapping"]["hiringTeam"], false, "{provider}");
    app.stop().await;
}

crate::for_each_provider_of!(
    every_ats, systems:
    a_hire_is_pre_start_with_the_offers_start_date_job_and_hiring_manager,
    applicants_who_were_not_hired_never_enter_the_directory,
    a_rescinded_offer_is_a_leaver_through_the_guard_and_a_rehire_is_the_same_person,
    a_malformed_email_is_a_sync_issue_not_a_failed_run,
    the_hiring_team_is_people_too_unless_the_mapping_leaves_them_out,
);

/// Only an applicant tracking system has a hiring team to include.
async fn an_hr_systems_mapping_has_no_hiring_team(backend: Backend) {
    let app =
        TestApp::spawn_with(TestOptions { provider: "bamboohr", employees: 20, ..TestOptions::on(backend) }).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let entries = admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    let unsaid = admin.execute(SAVE_WITH_TEAM, json!({ "id": connection_id, "entries": entries, "team": null }));
    assert_eq!(unsaid.await.unwrap().ok().unwrap()["saveFieldMapping"]["hiringTeam"], Value::Null);
    let said = admin.execute(SAVE_WITH_TEAM, json!({ "id": connection_id, "entries": entries, "team": false }));
    let response = said.await.unwrap();
    assert_eq!(response.error_code(), Some("MAPPING_INVALID"), "{:?}", response.errors);
    assert!(response.errors[0]["message"].as_str().unwrap().contains("hiringTeam"), "{:?}", response.errors);
    app.stop().await;
}

/// A Greenhouse credential lacking one of the scopes asked for is refused when connecting, and
/// the message names the scope to grant.
async fn a_greenhouse_credential_without_a_scope_is_refused_naming_it(backend: Backend) {
    let app = spawn(backend, "greenhouse").await;
    let admin = app.admin();
    app.sandbox.with_tenant("acme", |t| t.withheld.insert(Attribute::JobTitle));
    let response = admin.execute(ops::CONNECT_WITH_API_KEY, admin_flow::connect_input(&app.credentials)).await.unwrap();
    assert_eq!(response.error_code(), Some("THIRD_PARTY_ACCESS_DISABLED"), "{:?}", response.errors);
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(message.contains("harvest:jobs:list"), "names the scope: {message}");
    app.stop().await;
}

crate::on_both_backends!(
    a_greenhouse_credential_without_a_scope_is_refused_naming_it,
    an_hr_systems_mapping_has_no_hiring_team
);
