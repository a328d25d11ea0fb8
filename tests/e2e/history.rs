//! Change history through GraphQL: what a sync and an admin changed about a person, newest
//! first, and what one sync run changed; a sync that changes nobody records nothing.

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp};

async fn history(client: &GraphqlClient, id: &Value, first: i64, after: Option<&Value>) -> Vec<Value> {
    let variables = json!({ "id": id, "first": first, "after": after });
    let data = client.execute(ops::HISTORY, variables).await.unwrap().ok().unwrap();
    data["user"]["history"].as_array().unwrap().clone()
}

async fn run_changes_page(client: &GraphqlClient, run: &Value, first: i64, after: Option<&Value>) -> Vec<Value> {
    let variables = json!({ "id": run["id"], "first": first, "after": after });
    let data = client.execute(ops::RUN_CHANGES, variables).await.unwrap();
    data.ok().unwrap()["syncRun"]["changes"].as_array().unwrap().clone()
}

async fn run_changes(client: &GraphqlClient, run: &Value) -> Vec<Value> {
    run_changes_page(client, run, 500, None).await
}

fn summary(entry: &Value) -> (String, Value, Value, String) {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    (text(&entry["field"]), entry["oldValue"].clone(), entry["newValue"].clone(), text(&entry["by"]))
}

async fn syncs_and_admins_leave_a_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let first = app.sync(&admin, &connection_id).await;
    let by_first = format!("sync:{}", first["id"].as_str().unwrap());
    assert!(first["created"].as_i64().unwrap() > 50, "{first}");
    let changes = run_changes(&admin, &first).await;
    let created = changes.iter().filter(|c| c["field"] == "created").count();
    assert_eq!(created as i64, first["created"].as_i64().unwrap(), "one entry per person created");
    // Besides: managers linked at the end, for reports read before their manager.
    assert!(changes.iter().all(|c| ["created", "managerId"].contains(&c["field"].as_str().unwrap())));
    assert!(changes.iter().all(|c| c["by"] == by_first.as_str()));
    // The same changes, a page of 7 at a time.
    let mut paged: Vec<Value> = Vec::new();
    loop {
        let page = run_changes_page(&admin, &first, 7, paged.last().map(|c| &c["id"])).await;
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    let ids = |entries: &[Value]| entries.iter().map(|c| c["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&changes), "pages follow on in order, none twice");

    let unchanged = app.sync(&admin, &connection_id).await;
    assert_eq!(run_changes(&admin, &unchanged).await.len(), 0, "a sync that changes nobody records nothing");

    let employees = app.sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let mut active = employees.iter().filter(|e| e.is_active() && e.work_email.is_some());
    let (promoted, leaver) = (active.next().unwrap().clone(), active.next().unwrap().clone());
    app.sandbox.with_tenant("acme", |t| {
        t.company.employee_mut(promoted.id).job_title = "Chief Promoted Officer".into();
        t.company.employee_mut(leaver.id).leave();
    });
    let second = app.sync(&admin, &connection_id).await;
    let by_second = format!("sync:{}", second["id"].as_str().unwrap());
    let changes = run_changes(&admin, &second).await;
    let email_of = |c: &Value| c["user"]["email"].as_str().unwrap().to_string();
    let promoted_email = promoted.work_email.clone().unwrap();
    let title = changes.iter().find(|c| email_of(c) == promoted_email && c["field"] == "jobTitle").expect("the title");
    assert_eq!(
        summary(title),
        ("jobTitle".into(), json!(promoted.job_title), json!("Chief Promoted Officer"), by_second.clone())
    );
    let left = changes
        .iter()
        .find(|c| email_of(c) == leaver.work_email.clone().unwrap() && c["field"] == "employmentStatus")
        .expect("the leaver's status");
    assert_eq!(summary(left), ("employmentStatus".into(), json!("ACTIVE"), json!("INACTIVE"), by_second.clone()));

    // The promoted person's own history, newest first, a page at a time.
    let id = &title["user"]["id"];
    let newest = history(&admin, id, 1, None).await;
    assert_eq!(summary(&newest[0]).0, "jobTitle");
    let older = history(&admin, id, 20, Some(&newest[0]["id"])).await;
    assert_eq!(older.iter().map(|e| summary(e).0).collect::<Vec<_>>(), ["created"], "then their creation");
    assert_eq!(older[0]["by"], by_first.as_str());

    // An admin's changes, by the admin.
    let grace = admin_flow::add_person(&admin, "grace@example.com", "Grace").await.unwrap();
    let edit = json!({ "id": grace, "input": { "jobTitle": "Rear Admiral" } });
    admin.execute(&ops::update_user(), edit).await.unwrap().ok().unwrap();
    admin.execute(&ops::deactivate_user(), json!({ "id": grace })).await.unwrap().ok().unwrap();
    let member = app.member();
    let entries: Vec<_> = history(&member, &grace, 20, None).await.iter().map(summary).collect();
    let by = "admin:ada".to_string();
    assert_eq!(
        entries,
        [
            ("employmentStatus".into(), json!("ACTIVE"), json!("INACTIVE"), by.clone()),
            ("jobTitle".into(), Value::Null, json!("Rear Admiral"), by.clone()),
            ("created".into(), Value::Null, json!("grace@example.com"), by),
        ],
        "members read it too"
    );
    let bad = admin.execute(ops::HISTORY, json!({ "id": grace, "after": "nope" })).await.unwrap();
    assert_eq!(bad.error_extension("field"), Some(&json!("after")));
    app.stop().await;
}

crate::on_both_backends!(syncs_and_admins_leave_a_history);
