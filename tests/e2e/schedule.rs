//! Keeping the directory current: scheduled syncs, incremental requests, disconnecting.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp};

const SET_SCHEDULE: &str = r#"mutation($id: ID!, $enabled: Boolean!, $interval: Int) {
  setSyncSchedule(connectionId: $id, enabled: $enabled, intervalMinutes: $interval) { enabled intervalMinutes nextRunAt }
}"#;

async fn a_due_schedule_starts_a_sync(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"]["schedule"], json!({ "enabled": false, "intervalMinutes": 1440, "nextRunAt": null }));

    let response =
        admin.execute(SET_SCHEDULE, json!({ "id": connection_id, "enabled": true, "interval": 5 })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("intervalMinutes")));
    let schedule = admin
        .execute(SET_SCHEDULE, json!({ "id": connection_id, "enabled": true, "interval": 60 }))
        .await
        .unwrap()
        .ok()
        .unwrap();
    let next = schedule["setSyncSchedule"]["nextRunAt"].as_str().unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    let in_an_hour = chrono::Utc::now() + chrono::Duration::minutes(60);
    assert!((next.timestamp() - in_an_hour.timestamp()).abs() < 60, "next run in an hour: {next}");

    // An hour passes.
    entity::connection::Entity::update_many()
        .col_expr(entity::connection::Column::NextRunAt, Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .filter(entity::connection::Column::WorkspaceId.eq(app.workspace.clone()))
        .exec(&app.service.db)
        .await
        .unwrap();
    let mut triggered = None;
    for _ in 0..100 {
        let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
        if let Some(run_id) = data["connection"]["lastSync"]["id"].as_str() {
            triggered = Some(run_id.to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run_id = triggered.expect("the schedule started a sync");
    let events = app.follow(&admin, &run_id).await;
    let last = events.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(last["triggeredBy"], "schedule");
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(data["connection"]["schedule"]["nextRunAt"].as_str().unwrap()).unwrap();
    assert!(next > chrono::Utc::now() + chrono::Duration::minutes(59), "the next run moved on");
    app.stop().await;
}

/// Requests an INCREMENTAL sync; answers the run as `startSync` returned it.
async fn start_incremental(admin: &GraphqlClient, connection_id: &str) -> Value {
    let variables = json!({ "id": connection_id, "mode": "INCREMENTAL" });
    admin.execute(&ops::start_sync(), variables).await.unwrap().ok().unwrap()["startSync"].clone()
}

async fn incremental_falls_back_to_a_full_sync(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let started = start_incremental(&admin, &connection_id).await;
    assert_eq!(started["mode"], "FULL", "no earlier sync to read changes since, so the run is FULL");
    assert_eq!(started["triggeredBy"], "admin:ada");
    let run_id = started["id"].as_str().unwrap();
    assert_eq!(app.follow(&admin, run_id).await.last().unwrap()["status"], "SUCCEEDED");
    app.stop().await;
}

async fn an_incremental_sync_reads_only_what_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let (promoted, leaver, deleted_email) = app.sandbox.with_tenant("acme", |t| {
        let active: Vec<u32> =
            t.company.employees.iter().filter(|e| e.is_active() && e.work_email.is_some()).map(|e| e.id).collect();
        let (promoted, leaver, deleted) = (active[3], active[4], active[5]);
        t.company.employee_mut(promoted).job_title = "Chief Sandbox Officer".into();
        t.company.employee_mut(leaver).leave();
        let deleted_email = t.company.employee_mut(deleted).work_email.clone().unwrap();
        t.company.employees.retain(|e| e.id != deleted);
        let mut hire = t.company.employee_mut(active[6]).clone();
        hire.id = 5000;
        hire.work_email = Some("new.hire@acme.example".into());
        t.company.employees.push(hire);
        (promoted, leaver, deleted_email)
    });
    let started = start_incremental(&admin, &connection_id).await;
    assert_eq!(started["mode"], "INCREMENTAL");
    let run_id = started["id"].as_str().unwrap().to_string();
    app.follow(&admin, &run_id).await;
    let run = app.run(&admin, &run_id).await;
    assert_eq!((run["status"].as_str(), run["mode"].as_str()), (Some("SUCCEEDED"), Some("INCREMENTAL")), "{run}");
    assert_eq!((run["processed"].as_i64(), run["total"].as_i64()), (Some(3), Some(3)), "{run}");
    assert_eq!((run["created"].as_i64(), run["updated"].as_i64()), (Some(1), Some(1)), "{run}");
    assert_eq!(run["deactivated"], 2, "the one set Inactive and the deleted one: {run}");
    let requests = app.sandbox.with_tenant("acme", |t| t.requests.clone());
    assert_eq!(requests["reports/custom"], 1, "the report is not read again");
    assert_eq!((requests["employees/changed"], requests["employees/{id}"]), (1, 3));

    let users = app.users(&admin).await;
    let by_remote = |id: u32| {
        let employee = app.sandbox.with_tenant("acme", |t| t.company.employees.iter().find(|e| e.id == id).cloned());
        let email = employee.and_then(|e| e.work_email).map(|e| e.to_lowercase());
        users.iter().find(|u| email.as_deref() == u["email"].as_str().map(str::to_lowercase).as_deref()).cloned()
    };
    assert_eq!(by_remote(promoted).unwrap()["jobTitle"], "Chief Sandbox Officer");
    assert_eq!(by_remote(leaver).unwrap()["employmentStatus"], "INACTIVE");
    assert_eq!(by_remote(5000).unwrap()["employmentStatus"], "ACTIVE");
    let gone = users.iter().find(|u| u["email"].as_str().unwrap().eq_ignore_ascii_case(&deleted_email)).unwrap();
    assert_eq!(gone["employmentStatus"], "INACTIVE", "deleted at the provider, kept here as inactive");
    assert_eq!(users.len(), 61);

    // Nothing changed since: nothing is written.
    let run_id = start_incremental(&admin, &connection_id).await["id"].as_str().unwrap().to_string();
    app.follow(&admin, &run_id).await;
    let quiet = app.run(&admin, &run_id).await;
    assert_eq!((quiet["status"].as_str(), quiet["mode"].as_str()), (Some("SUCCEEDED"), Some("INCREMENTAL")));
    assert_eq!(
        (quiet["created"].as_i64(), quiet["updated"].as_i64(), quiet["deactivated"].as_i64()),
        (Some(0), Some(0), Some(0))
    );

    // A week after the last FULL sync, an INCREMENTAL request reads everything again.
    entity::sync_run::Entity::update_many()
        .col_expr(entity::sync_run::Column::FinishedAt, Expr::value(chrono::Utc::now() - chrono::Duration::days(8)))
        .filter(entity::sync_run::Column::Mode.eq(entity::sync_run::SyncMode::Full))
        .exec(&app.service.db)
        .await
        .unwrap();
    let started = start_incremental(&admin, &connection_id).await;
    assert_eq!(started["mode"], "FULL");
    app.follow(&admin, started["id"].as_str().unwrap()).await;
    app.stop().await;
}

async fn an_incremental_sync_moves_a_rehire_to_their_new_record(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    // Deleted and re-created under a new id, in one change window: the feed lists both.
    let email = app.sandbox.with_tenant("acme", |t| {
        let old = t.company.employees.iter().find(|e| e.is_active() && e.work_email.is_some()).unwrap().clone();
        t.company.employees.retain(|e| e.id != old.id);
        t.company.employees.push(sandbox::Employee { id: 6000, job_title: "Returning Expert".into(), ..old.clone() });
        old.work_email.unwrap()
    });
    let run_id = start_incremental(&admin, &connection_id).await["id"].as_str().unwrap().to_string();
    app.follow(&admin, &run_id).await;
    let run = app.run(&admin, &run_id).await;
    assert_eq!(run["mode"], "INCREMENTAL");
    assert_eq!(
        (run["created"].as_i64(), run["updated"].as_i64(), run["deactivated"].as_i64(), run["skipped"].as_i64()),
        (Some(0), Some(1), Some(0), Some(0)),
        "{run}"
    );
    let users = app.users(&admin).await;
    assert_eq!(users.len(), 60, "no duplicate person");
    let person = users.iter().find(|u| u["email"].as_str().unwrap().eq_ignore_ascii_case(&email)).unwrap();
    let person = admin.execute(ops::USER, json!({ "id": person["id"] })).await.unwrap().ok().unwrap();
    assert_eq!(person["user"]["employmentStatus"], "ACTIVE");
    assert_eq!(person["user"]["jobTitle"], "Returning Expert");
    assert_eq!(person["user"]["source"]["remoteId"], "6000");
    app.stop().await;
}

async fn disconnecting_keeps_the_people_and_forgets_the_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let data = admin
        .execute(
            "mutation($id: ID!) { disconnect(connectionId: $id) { status credentialHint } }",
            json!({ "id": connection_id }),
        )
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(data["disconnect"]["status"], "DISCONNECTED");
    let stored = entity::connection::Entity::find().all(&app.service.db).await.unwrap();
    assert!(stored.iter().all(|c| c.credentials_ciphertext.is_none()), "credentials are deleted");
    assert_eq!(app.users(&admin).await.len(), 60, "synced people stay");
    let response = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("connectionId")));
    app.stop().await;
}

crate::on_both_backends!(
    a_due_schedule_starts_a_sync,
    incremental_falls_back_to_a_full_sync,
    an_incremental_sync_reads_only_what_changed,
    an_incremental_sync_moves_a_rehire_to_their_new_record,
    disconnecting_keeps_the_people_and_forgets_the_key,
);
