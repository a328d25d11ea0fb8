//! One person from two sources, through GraphQL: a workspace connects its HR system (BambooHR)
//! and its applicant tracking system (Greenhouse), which know the same people. Each person is
//! one person with two sources, the history shows the join, the HR system's fields win, and an
//! HR system's leaver stays a leaver whatever the ATS still says.

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use sandbox::{hiring, Company, Employee};

use crate::helpers::{Backend, TestApp};

const PROFILE: &str = r#"query($id: ID!) {
  user(id: $id) { id email jobTitle employmentStatus sources { remoteId connection { id provider { id } } }
                  history(first: 50) { field newValue by } }
}"#;

/// The Greenhouse tenant's company: the HR system's people, with the titles their offers had.
fn as_hired(company: &Company) -> Company {
    let mut hired = company.clone();
    hired.employees.iter_mut().for_each(|e| e.job_title = format!("Offer: {}", e.job_title));
    hired
}

async fn connect(app: &TestApp, admin: &GraphqlClient, credentials: &sandbox::SampleCredentials) -> String {
    let connection = admin_flow::connect(admin, credentials).await.expect("connected");
    let id = connection["id"].as_str().unwrap().to_string();
    app.confirm_mapping(admin, &id, None).await;
    id
}

async fn profile(admin: &GraphqlClient, email: &str, app: &TestApp) -> Value {
    let users = app.users(admin).await;
    let user = users.iter().find(|u| u["email"].as_str().unwrap().eq_ignore_ascii_case(email)).expect("a person");
    admin.execute(PROFILE, json!({ "id": user["id"] })).await.unwrap().ok().unwrap()["user"].clone()
}

/// A hire who is in both systems and manages no one.
fn someone(company: &Company, nth: usize) -> Employee {
    hiring::hires(company)
        .into_iter()
        .filter(|h| h.hired && h.employee.work_email.is_some())
        .filter(|h| !company.employees.iter().any(|e| e.manager_id == Some(h.employee.id)))
        .map(|h| h.employee.clone())
        .nth(nth)
        .unwrap()
}

async fn an_hris_and_an_ats_make_one_person_and_the_hris_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let company = app.sandbox.with_tenant("acme", |t| t.company.clone());
    let ats = app.sandbox.add_tenant("greenhouse", "acme-ats", as_hired(&company));
    let greenhouse = connect(&app, &admin, &ats).await;
    let hired = app.sync(&admin, &greenhouse).await;
    assert_eq!(hired["status"], "SUCCEEDED", "{hired}");
    let person = someone(&company, 0);
    let email = person.work_email.clone().unwrap();
    let before = profile(&admin, &email, &app).await;
    assert_eq!(before["jobTitle"], format!("Offer: {}", person.job_title), "the ATS's, while it is the only source");

    // The HR system comes: the same people, one each, with a second source.
    let bamboohr = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &bamboohr).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let joined = profile(&admin, &email, &app).await;
    assert_eq!(joined["id"], before["id"], "one person");
    let providers: Vec<&str> = joined["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["connection"]["provider"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(providers.len(), 2, "{joined}");
    assert!(providers.contains(&"bamboohr") && providers.contains(&"greenhouse"), "{providers:?}");
    assert_eq!(joined["jobTitle"], person.job_title.as_str(), "the HR system wins");
    let join = joined["history"].as_array().unwrap().iter().find(|h| h["field"] == "source").cloned();
    let join = join.expect("the history shows the join");
    assert_eq!(join["newValue"], format!("bamboohr:{}", person.id));
    let emails: Vec<String> =
        app.users(&admin).await.iter().map(|u| u["email"].as_str().unwrap().to_lowercase()).collect();
    let distinct: std::collections::HashSet<&String> = emails.iter().collect();
    assert_eq!(distinct.len(), emails.len(), "nobody twice");

    // The ATS's record of them changes: its sync leaves the HR system's fields alone.
    app.sandbox.with_tenant("acme-ats", |t| t.company.employee_mut(person.id).job_title = "Offer: Principal".into());
    let run = app.sync(&admin, &greenhouse).await;
    assert_eq!(run["updated"], 1, "the ATS's record changed: {run}");
    assert_eq!(profile(&admin, &email, &app).await["jobTitle"], person.job_title.as_str(), "still the HR system's");

    // Leavers in the HR system whose hires the ATS still shows stay leavers: one it reports as
    // a leaver, one it no longer lists at all.
    let (leaver, gone) = (someone(&company, 1), someone(&company, 2));
    app.sandbox.with_tenant("acme", |t| {
        t.company.employee_mut(leaver.id).leave();
        t.company.employees.retain(|e| e.id != gone.id);
    });
    let run = app.sync(&admin, &bamboohr).await;
    assert_eq!(run["deactivated"], 2, "{run}");
    app.sync(&admin, &greenhouse).await;
    for left in [&leaver, &gone] {
        let status = profile(&admin, left.work_email.as_deref().unwrap(), &app).await["employmentStatus"].clone();
        assert_eq!(status, "INACTIVE", "{}: the ATS does not bring them back", left.id);
    }
    app.stop().await;
}

const ISSUES: &str = r#"query($id: ID!) {
  syncRun(id: $id) { issues(first: 200) { id kind message dismissed people { id email } } }
}"#;
const JOIN: &str = r#"mutation($into: ID!, $other: ID!) {
  joinPeople(into: $into, other: $other) { id email sources { remoteId connection { id } } }
}"#;
const SEPARATE: &str = r#"mutation($user: ID!, $connectionId: ID!) {
  separatePeople(user: $user, connectionId: $connectionId) { id email sources { remoteId } }
}"#;
const DISMISS: &str = r#"mutation($id: ID!) { dismissSyncIssue(id: $id) { id kind dismissed } }"#;

/// The same hire under another email at each system: the sync does not guess, an admin does.
async fn look_alikes_are_reported_and_an_admin_joins_separates_or_dismisses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let company = app.sandbox.with_tenant("acme", |t| t.company.clone());
    let twin = someone(&company, 0);
    let mut hired = as_hired(&company);
    hired.employee_mut(twin.id).work_email = Some("twin.personal@mail.example".into());
    let ats = app.sandbox.add_tenant("greenhouse", "acme-ats", hired);
    let greenhouse = connect(&app, &admin, &ats).await;
    app.sync(&admin, &greenhouse).await;
    let bamboohr = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &bamboohr).await;
    let issues = admin.execute(ISSUES, json!({ "id": run["id"] })).await.unwrap().ok().unwrap();
    let duplicates: Vec<Value> = issues["syncRun"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "POSSIBLE_DUPLICATE")
        .cloned()
        .collect();
    assert_eq!(duplicates.len(), 1, "one pair: {duplicates:?}");
    let issue = &duplicates[0];
    assert_eq!(issue["dismissed"], false);
    let emails: Vec<String> =
        issue["people"].as_array().unwrap().iter().map(|p| p["email"].as_str().unwrap().to_lowercase()).collect();
    let work = twin.work_email.clone().unwrap().to_lowercase();
    assert!(emails.contains(&work) && emails.contains(&"twin.personal@mail.example".to_string()), "{emails:?}");
    let hr = profile(&admin, &work, &app).await;
    let candidate = profile(&admin, "twin.personal@mail.example", &app).await;
    let before = app.users(&admin).await.len();

    // A member may not join anyone.
    let refused = app.member().execute(JOIN, json!({ "into": hr["id"], "other": candidate["id"] })).await.unwrap();
    assert_eq!(refused.error_code(), Some("FORBIDDEN"));
    // The admin joins them: the HR system's person keeps its id and gains the ATS's source.
    let joined =
        admin.execute(JOIN, json!({ "into": hr["id"], "other": candidate["id"] })).await.unwrap().ok().unwrap();
    assert_eq!(joined["joinPeople"]["id"], hr["id"]);
    assert_eq!(joined["joinPeople"]["sources"].as_array().unwrap().len(), 2, "{joined}");
    assert_eq!(app.users(&admin).await.len(), before - 1, "one person fewer");
    let history = profile(&admin, &work, &app).await["history"].clone();
    assert!(history.as_array().unwrap().iter().any(|h| h["field"] == "joined" && h["by"] == "admin:ada"), "{history}");
    // A re-sync of either system keeps them one.
    app.sync(&admin, &greenhouse).await;
    assert_eq!(app.users(&admin).await.len(), before - 1, "the ATS's record stays joined");

    // Separated again: both people back, each with their own source.
    let variables = json!({ "user": hr["id"], "connectionId": greenhouse });
    let separated = admin.execute(SEPARATE, variables.clone()).await.unwrap().ok().unwrap();
    let both = separated["separatePeople"].as_array().unwrap();
    assert_eq!(both.len(), 2, "{separated}");
    assert_eq!(both[1]["id"], candidate["id"], "the other person comes back as they were");
    assert!(both.iter().all(|p| p["sources"].as_array().unwrap().len() == 1), "{separated}");
    assert_eq!(app.users(&admin).await.len(), before);
    let again = admin.execute(SEPARATE, variables).await.unwrap();
    assert_eq!(again.error_code(), Some("VALIDATION_FAILED"), "nothing left to separate");
    assert_eq!(again.error_extension("field"), Some(&json!("connectionId")));

    // Or the admin says they are two people.
    let dismissed = admin.execute(DISMISS, json!({ "id": issue["id"] })).await.unwrap().ok().unwrap();
    assert_eq!(dismissed["dismissSyncIssue"]["dismissed"], true);
    let other = app.client_for("another-workspace", api::Role::Admin, api::Plan::Paid);
    let foreign = other.execute(DISMISS, json!({ "id": issue["id"] })).await.unwrap();
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"), "another workspace's issue");
    app.stop().await;
}

crate::on_both_backends!(
    an_hris_and_an_ats_make_one_person_and_the_hris_wins,
    look_alikes_are_reported_and_an_admin_joins_separates_or_dismisses,
);
