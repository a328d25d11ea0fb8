//! Seed steps 5–7: start a sync, follow its progress, and find everyone in the directory.

use crate::helpers::{Backend, TestApp};

async fn a_full_sync_fills_the_directory_with_live_progress(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let run_id = app.start_sync(&admin, &connection_id).await;
    let events = app.follow(&admin, &run_id).await;

    let first = events.first().unwrap();
    assert!(
        ["QUEUED", "RUNNING"].contains(&first["status"].as_str().unwrap()),
        "first event is the current state: {first}"
    );
    let percents: Vec<f64> = events.iter().map(|r| r["percent"].as_f64().unwrap()).collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "percent never goes back: {percents:?}");
    for run in &events[..events.len() - 1] {
        assert!(run["percent"].as_f64().unwrap() < 100.0, "100% only on success: {run}");
    }
    let last = events.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(last["percent"], 100.0);

    // 60 employees: no email for #97-style ids does not occur below 97, so every record imports.
    let employees = app.sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let run = app.run(&admin, &run_id).await;
    assert_eq!(run["total"], employees.len());
    assert_eq!(run["processed"], employees.len());
    assert_eq!(run["created"], employees.len());
    assert_eq!(run["skipped"], 0);

    let users = app.users(&admin).await;
    assert_eq!(users.len(), employees.len());
    let inactive = employees.iter().filter(|e| !e.is_active()).count();
    assert!(inactive > 0);
    assert_eq!(users.iter().filter(|u| u["employmentStatus"] == "INACTIVE").count(), inactive);
    assert!(users.iter().all(|u| u["invitationStatus"] == "NOT_INVITED"), "synced users get no invitation");
    app.stop().await;
}

crate::on_both_backends!(a_full_sync_fills_the_directory_with_live_progress);
