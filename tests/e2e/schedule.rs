//! Keeping the directory current: scheduled syncs, incremental requests, disconnecting.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

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

async fn incremental_falls_back_to_a_full_sync(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let data = admin
        .execute(&ops::start_sync(), json!({ "id": connection_id, "mode": "INCREMENTAL" }))
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(data["startSync"]["mode"], "FULL", "BambooHR has no change feed here, so the run is FULL");
    assert_eq!(data["startSync"]["triggeredBy"], "admin:ada");
    let run_id = data["startSync"]["id"].as_str().unwrap();
    assert_eq!(app.follow(&admin, run_id).await.last().unwrap()["status"], "SUCCEEDED");
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
    disconnecting_keeps_the_people_and_forgets_the_key,
);
