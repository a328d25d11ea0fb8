//! Seed steps 5–7: start a sync, follow its progress, and find everyone in the directory.

use std::time::Duration;

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;
use sandbox::{Company, Employee, Fault};

use crate::helpers::{Backend, TestApp, TestOptions};

async fn a_full_sync_fills_the_directory_with_live_progress(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::Slow(Duration::from_millis(500))]));
    let run_id = app.start_sync(&admin, &connection_id).await;
    // The admin opens the progress bar, leaves, and comes back.
    let mut glance = admin.subscribe(&ops::sync_progress(), json!({ "id": run_id })).await.unwrap();
    let seen = glance.next().await.unwrap().unwrap().ok().unwrap();
    assert_eq!(seen["syncProgress"]["run"]["id"], run_id.as_str());
    glance.close().await;
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

async fn bad_records_become_issues_not_crashes(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions { employees: 200, ..TestOptions::on(backend) }).await;
    app.sandbox.with_tenant("acme", |t| {
        t.company.employee_mut(42).manager_id = Some(9999);
        t.company.employee_mut(43).work_email = Some("not an email".into());
        // RFC 6531: an internationalised address is a real person's, not an issue.
        t.company.employee_mut(44).work_email = Some("Greta.Müller@Bücher.example".into());
    });
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    let mut kinds: Vec<(String, String)> = run["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap().to_string(), i["remoteId"].as_str().unwrap().to_string()))
        .collect();
    kinds.sort();
    let skipped = [43, 97, 151, 194];
    let employees = app.sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let mut expected: Vec<(String, String)> =
        [("DUPLICATE_EMAIL", 151), ("INVALID_EMAIL", 43), ("MISSING_EMAIL", 97), ("MISSING_EMAIL", 194)]
            .iter()
            .map(|(kind, id)| (kind.to_string(), id.to_string()))
            .collect();
    // Reports of a skipped manager, and of a manager the provider does not know, cannot be linked.
    expected.extend(
        employees
            .iter()
            .filter(|e| !skipped.contains(&e.id))
            .filter(|e| e.manager_id.is_some_and(|s| s == 9999 || skipped.contains(&s)))
            .map(|e| ("UNKNOWN_MANAGER".to_string(), e.id.to_string())),
    );
    expected.sort();
    assert!(expected.iter().filter(|(k, _)| k == "UNKNOWN_MANAGER").count() > 1);
    assert_eq!(kinds, expected);
    // A report of a skipped manager is told why the manager is missing.
    let issue_of = |remote_id: u32| {
        run["issues"].as_array().unwrap().iter().find(|i| i["remoteId"] == remote_id.to_string()).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let report_of_43 = employees.iter().find(|e| e.manager_id == Some(43)).expect("43 manages someone");
    assert!(
        issue_of(report_of_43.id).contains("'43' was skipped by this sync (INVALID_EMAIL"),
        "{}",
        issue_of(report_of_43.id)
    );
    assert!(issue_of(42).contains("'9999' is not among the synced people"), "{}", issue_of(42));
    assert_eq!(run["skipped"], 4);
    assert_eq!(run["created"], 196);
    let users = app.users(&admin).await;
    assert_eq!(users.len(), 196);
    assert!(users.iter().any(|u| u["email"] == "Greta.Müller@Bücher.example"), "kept as the provider wrote it");
    app.stop().await;
}

async fn a_report_that_breaks_off_is_read_again_and_nothing_counts_twice(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions { employees: 200, ..TestOptions::on(backend) }).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    // The download breaks off after 120 of 200 employees: the first attempt merges what arrived
    // (one skipped record among them), fails, and the retry reads the report from the start.
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::BreakOff { after_records: 120 }]));
    let run_id = app.start_sync(&admin, &connection_id).await;
    let events = app.follow(&admin, &run_id).await;
    let processed: Vec<i64> = events.iter().map(|r| r["processed"].as_i64().unwrap()).collect();
    assert!(processed.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {processed:?}");
    assert!(processed.iter().any(|&p| p > 0 && p < 200), "the first attempt got somewhere: {processed:?}");
    let first = app.run(&admin, &run_id).await;
    assert_eq!(first["status"], "SUCCEEDED", "{first}");
    assert_eq!(app.sandbox.with_tenant("acme", |t| t.requests["reports/custom"]), 2, "read again after the break");
    assert_eq!((first["total"].as_i64(), first["processed"].as_i64()), (Some(200), Some(200)), "{first}");
    assert_eq!((first["created"].as_i64(), first["skipped"].as_i64()), (Some(197), Some(3)), "{first}");
    let issues: Vec<(&str, &str)> = first["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["remoteId"].as_str().unwrap()))
        .collect();
    let distinct: std::collections::HashSet<_> = issues.iter().collect();
    assert_eq!(distinct.len(), issues.len(), "no issue reported twice: {issues:?}");
    assert_eq!(issues.iter().filter(|(kind, _)| kind.ends_with("_EMAIL")).count(), 3, "{issues:?}");
    assert_eq!(app.users(&admin).await.len(), 197);

    // A leaver is deactivated only by the attempt that read the whole report.
    app.sandbox.with_tenant("acme", |t| {
        let leaver = t.company.employees.iter().find(|e| e.id > 100 && e.is_active()).unwrap().id;
        t.company.employees.retain(|e| e.id != leaver);
        t.inject([Fault::BreakOff { after_records: 30 }]);
    });
    let second = app.sync(&admin, &connection_id).await;
    assert_eq!(second["status"], "SUCCEEDED", "{second}");
    assert_eq!((second["processed"].as_i64(), second["deactivated"].as_i64()), (Some(199), Some(1)), "{second}");
    assert_eq!(second["unchanged"], 196, "{second}");
    app.stop().await;
}

async fn an_unchanged_resync_writes_no_user_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let before = app.users(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(
        (run["unchanged"].as_i64(), run["created"].as_i64(), run["updated"].as_i64()),
        (Some(60), Some(0), Some(0))
    );
    assert_eq!(run["deactivated"], 0);
    let after = app.users(&admin).await;
    let stamps = |users: &[Value]| {
        let mut s: Vec<(String, String)> =
            users.iter().map(|u| (u["id"].to_string(), u["updatedAt"].to_string())).collect();
        s.sort();
        s
    };
    assert_eq!(stamps(&before), stamps(&after), "no user row was written");
    app.stop().await;
}

async fn hires_leavers_and_changes_reach_the_directory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let (gone, leaver, promoted, moved) = (30, 31, 32, 33);
    let (new_manager, hire_email) = app.sandbox.with_tenant("acme", |t| {
        let company = &mut t.company;
        let gone_email = company.employee_mut(gone).work_email.clone();
        company.employees.retain(|e| e.id != gone);
        company.employee_mut(leaver).leave();
        company.employee_mut(promoted).job_title = "Chief Cat Herder".into();
        company.employee_mut(moved).manager_id = Some(1);
        let mut hire = company.employees[40].clone();
        hire.id = company.next_id();
        hire.work_email = Some("new.hire@acme.example".into());
        company.employees.push(hire);
        assert!(gone_email.is_some());
        (company.employees[0].work_email.clone().unwrap(), "new.hire@acme.example")
    });
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["created"], 1);
    assert_eq!(run["deactivated"], 2, "one who left the provider, one marked Inactive");
    assert_eq!(run["updated"], 2);

    let users = app.users(&admin).await;
    let by_remote =
        |email_part: String| users.iter().find(|u| u["email"].as_str().unwrap().contains(&email_part)).unwrap().clone();
    assert_eq!(by_remote(format!(".{gone}@"))["employmentStatus"], "INACTIVE", "never deleted");
    assert_eq!(by_remote(format!(".{leaver}@"))["employmentStatus"], "INACTIVE");
    assert_eq!(by_remote(format!(".{promoted}@"))["jobTitle"], "Chief Cat Herder");
    assert_eq!(by_remote(hire_email.to_string())["employmentStatus"], "ACTIVE");
    let moved_id = by_remote(format!(".{moved}@"))["id"].clone();
    let user = admin.execute(ops::USER, json!({ "id": moved_id })).await.unwrap().ok().unwrap();
    let manager = user["user"]["manager"]["id"].clone();
    let manager = admin.execute(ops::USER, json!({ "id": manager })).await.unwrap().ok().unwrap();
    assert_eq!(manager["user"]["email"], new_manager.as_str());
    app.stop().await;
}

async fn a_second_start_while_running_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::Slow(Duration::from_secs(2))]));
    let run_id = app.start_sync(&admin, &connection_id).await;
    let response = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("SYNC_ALREADY_RUNNING"));
    assert_eq!(response.error_extension("runId"), Some(&json!(run_id)));
    let events = app.follow(&admin, &run_id).await;
    assert_eq!(events.last().unwrap()["status"], "SUCCEEDED");
    app.stop().await;
}

async fn a_cancelled_run_deactivates_nobody(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let inactive_before = app.users(&admin).await.iter().filter(|u| u["employmentStatus"] == "INACTIVE").count();
    app.sandbox.with_tenant("acme", |t| {
        t.company.employees.retain(|e| e.id > 10);
        t.inject([Fault::Slow(Duration::from_secs(2))]);
    });
    let run_id = app.start_sync(&admin, &connection_id).await;
    let cancelled = admin.execute(&ops::cancel_sync(), json!({ "id": run_id })).await.unwrap().ok().unwrap();
    assert!(["RUNNING", "QUEUED", "CANCELLED"].contains(&cancelled["cancelSync"]["status"].as_str().unwrap()));
    let events = app.follow(&admin, &run_id).await;
    let last = events.last().unwrap();
    assert_eq!(last["status"], "CANCELLED");
    assert!(last["percent"].as_f64().unwrap() < 100.0);
    let inactive = |users: &[Value]| users.iter().filter(|u| u["employmentStatus"] == "INACTIVE").count();
    assert_eq!(inactive(&app.users(&admin).await), inactive_before, "nobody was deactivated");
    app.stop().await;
}

async fn progress_moves_while_a_slow_report_downloads(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions { employees: 1_000, page_size: 50, ..TestOptions::on(backend) }).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    // The report arrives a chunk of 256 records every 0.6 s: the total is unknown for seconds.
    // The first sync measures by the share of the report's Content-Length parsed; the second
    // by what the first one read.
    for sync in ["first", "second"] {
        app.sandbox.with_tenant("acme", |t| t.inject([Fault::Trickle(Duration::from_millis(600))]));
        let run_id = app.start_sync(&admin, &connection_id).await;
        let events = app.follow(&admin, &run_id).await;
        let total = events.last().unwrap()["total"].as_f64().unwrap();
        let blind: Vec<(f64, f64)> = events
            .iter()
            .filter(|e| e["total"].is_null())
            .map(|e| (e["percent"].as_f64().unwrap(), e["processed"].as_f64().unwrap() * 100.0 / total))
            .collect();
        assert!(
            blind.iter().any(|(p, _)| *p > 0.0),
            "{sync} sync: progress shows before the total is known: {events:?}"
        );
        let near = |(shown, actual): &(f64, f64)| *shown <= actual * 1.1 + 1.0;
        assert!(blind.iter().all(near), "{sync} sync: (shown, actual) percent stay close: {blind:?}");
        let percents: Vec<f64> = events.iter().map(|e| e["percent"].as_f64().unwrap()).collect();
        assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{sync} sync never goes back: {percents:?}");
        assert_eq!(percents.last(), Some(&100.0));
        assert!(percents[..percents.len() - 1].iter().all(|p| *p < 100.0), "100 only on success: {percents:?}");
    }
    app.stop().await;
}

async fn a_cancel_does_not_wait_for_a_slow_provider(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::Slow(Duration::from_secs(30))]));
    let run_id = app.start_sync(&admin, &connection_id).await;
    // Wait until the run is waiting on the provider.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let run = admin.execute(&ops::sync_run(), json!({ "id": run_id })).await.unwrap().ok().unwrap();
        if run["syncRun"]["status"] == "RUNNING" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the run started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = std::time::Instant::now();
    admin.execute(&ops::cancel_sync(), json!({ "id": run_id })).await.unwrap().ok().unwrap();
    let events = app.follow(&admin, &run_id).await;
    let took = asked.elapsed();
    assert_eq!(events.last().unwrap()["status"], "CANCELLED");
    assert!(took < Duration::from_secs(10), "cancelled after {took:?}, not after the provider's 30 s answer");
    app.stop().await;
}

async fn a_failing_provider_fails_the_run_without_deactivating_anyone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    // 3 attempts of a run × 3 HTTP tries each, all answered 500.
    app.sandbox.with_tenant("acme", |t| {
        t.company.employees.retain(|e| e.id != 5);
        t.inject(vec![Fault::Status(500); 9]);
    });
    let run_id = app.start_sync(&admin, &connection_id).await;
    app.follow(&admin, &run_id).await;
    let failed = app.run(&admin, &run_id).await;
    assert_eq!(failed["status"], "FAILED");
    assert!(failed["error"].as_str().unwrap().contains("could not be reached"), "{}", failed["error"]);
    let active = |users: &[Value]| users.iter().filter(|u| u["employmentStatus"] != "INACTIVE").count();
    assert_eq!(active(&app.users(&admin).await), 57, "the failed run deactivated nobody");

    // A transient failure (one attempt's worth of 500s) is retried and the same run completes.
    app.sandbox.with_tenant("acme", |t| t.inject(vec![Fault::Status(500); 3]));
    let retried = app.sync(&admin, &connection_id).await;
    assert_eq!(retried["status"], "SUCCEEDED");
    assert_eq!(retried["deactivated"], 1);
    assert_eq!(active(&app.users(&admin).await), 56);
    app.stop().await;
}

async fn a_returning_person_is_reactivated_and_a_bad_email_is_no_leaver(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let (away, typo) = (7, 8);
    let (away_record, typo_email) = app.sandbox.with_tenant("acme", |t| {
        let away_record = t.company.employee_mut(away).clone();
        t.company.employees.retain(|e| e.id != away);
        let typo_email = t.company.employee_mut(typo).work_email.take();
        (away_record, typo_email.unwrap())
    });
    let second = app.sync(&admin, &connection_id).await;
    assert_eq!(second["deactivated"], 1, "only the person who left");
    assert_eq!(second["skipped"], 1, "the record without an email");
    let status = |users: &[Value], email: &str| {
        users.iter().find(|u| u["email"] == email).map(|u| u["employmentStatus"].clone()).unwrap()
    };
    let away_email = away_record.work_email.clone().unwrap();
    let users = app.users(&admin).await;
    assert_eq!(status(&users, &away_email), "INACTIVE");
    assert_eq!(status(&users, &typo_email), "ACTIVE", "still at the provider, so no leaver");

    app.sandbox.with_tenant("acme", |t| {
        t.company.employees.push(away_record);
        t.company.employee_mut(typo).work_email = Some(typo_email.clone());
    });
    let third = app.sync(&admin, &connection_id).await;
    assert_eq!(third["status"], "SUCCEEDED");
    let users = app.users(&admin).await;
    assert_eq!(status(&users, &away_email), "ACTIVE", "a returning person is active again");
    assert_eq!(third["updated"], 1);
    assert_eq!(third["unchanged"], 59);
    app.stop().await;
}

/// Someone active who manages nobody, so their leaving orphans no reports.
fn an_active_leaf(company: &Company) -> Employee {
    let employees = &company.employees;
    employees
        .iter()
        .find(|e| e.id > 10 && e.is_active() && !employees.iter().any(|r| r.manager_id == Some(e.id)))
        .expect("a leaf employee")
        .clone()
}

async fn a_rehire_under_a_new_id_gets_their_person_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let leaver = app.sandbox.with_tenant("acme", |t| {
        let leaver = an_active_leaf(&t.company);
        t.company.employees.retain(|e| e.id != leaver.id);
        leaver
    });
    let gone = app.sync(&admin, &connection_id).await;
    assert_eq!(gone["deactivated"], 1);
    let new_id = app.sandbox.with_tenant("acme", |t| {
        let mut rehire = leaver.clone();
        rehire.id = t.company.next_id();
        rehire.job_title = "Returning Engineer".into();
        t.company.employees.push(rehire.clone());
        rehire.id
    });
    let back = app.sync(&admin, &connection_id).await;
    assert_eq!(
        (back["created"].as_i64(), back["updated"].as_i64(), back["skipped"].as_i64()),
        (Some(0), Some(1), Some(0))
    );
    assert_eq!(back["issues"], json!([]));
    let users = app.users(&admin).await;
    let person = users.iter().find(|u| u["email"] == leaver.work_email.as_deref().unwrap()).unwrap();
    assert_eq!(person["employmentStatus"], "ACTIVE");
    assert_eq!(person["jobTitle"], "Returning Engineer");
    let profile = admin.execute(ops::USER, json!({ "id": person["id"] })).await.unwrap().ok().unwrap();
    assert_eq!(profile["user"]["source"]["remoteId"], new_id.to_string());
    app.stop().await;
}

async fn a_person_listed_by_two_connections_stays_until_both_lose_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let hris = app.connect_and_map(&admin).await;
    app.sync(&admin, &hris).await;
    // The same person (same email, another id) also works for a sister company on its own tenant.
    let shared = app.sandbox.with_tenant("acme", |t| an_active_leaf(&t.company));
    let mut sister = Company::generate("globex.example", 5, 5);
    sister.employees.push(Employee { id: 900, manager_id: None, ..shared.clone() });
    let sister_credentials = app.sandbox.add_tenant("bamboohr", "globex", sister);
    let second = admin_flow::connect(&admin, &sister_credentials).await.expect("connect globex");
    let second = second["id"].as_str().unwrap().to_string();
    app.confirm_mapping(&admin, &second, None).await;
    let adopted = app.sync(&admin, &second).await;
    assert_eq!((adopted["created"].as_i64(), adopted["updated"].as_i64()), (Some(5), Some(1)), "{adopted}");

    let email = shared.work_email.clone().unwrap();
    let status = |users: Vec<Value>| {
        users.into_iter().find(|u| u["email"] == email.as_str()).unwrap()["employmentStatus"].clone()
    };
    app.sandbox.with_tenant("acme", |t| t.company.employees.retain(|e| e.id != shared.id));
    let left_one = app.sync(&admin, &hris).await;
    assert_eq!(left_one["deactivated"], 0, "still listed by the other connection: {left_one}");
    assert_eq!(status(app.users(&admin).await), "ACTIVE");

    app.sandbox.with_tenant("globex", |t| t.company.employees.retain(|e| e.id != 900));
    let left_both = app.sync(&admin, &second).await;
    assert_eq!(left_both["deactivated"], 1, "{left_both}");
    assert_eq!(status(app.users(&admin).await), "INACTIVE");
    app.stop().await;
}

/// The provider answers a complete pass with nobody (an outage that still says 200).
fn empty_the_provider(app: &TestApp) -> Vec<Employee> {
    app.sandbox.with_tenant("acme", |t| std::mem::take(&mut t.company.employees))
}

/// People with the company, started (ACTIVE) or not (PRE_START): who the guard protects.
async fn active_users(app: &TestApp, client: &GraphqlClient) -> usize {
    app.users(client).await.iter().filter(|u| u["employmentStatus"] != "INACTIVE").count()
}

async fn an_empty_answer_holds_deactivations_until_an_admin_confirms(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let active = active_users(&app, &admin).await;
    assert!(active > 50, "{active}");

    let employees = empty_the_provider(&app);
    let held = app.sync(&admin, &connection_id).await;
    assert_eq!(held["status"], "SUCCEEDED", "{held}");
    assert_eq!(held["deactivated"], 0);
    assert_eq!(held["deactivationsHeld"], active);
    let issue = held["issues"].as_array().unwrap().iter().find(|i| i["kind"] == "DEACTIVATIONS_HELD").cloned();
    let message = issue.expect("the run says why")["message"].as_str().unwrap().to_string();
    assert!(message.contains(&format!("{active} of the connection's {active} active people")), "{message}");
    assert_eq!(active_users(&app, &admin).await, active, "nobody was deactivated");

    // Confirming applies exactly what the run held, once.
    let run_id = held["id"].as_str().unwrap();
    let confirmed = admin.execute(ops::CONFIRM_DEACTIVATIONS, json!({ "id": run_id })).await.unwrap().ok().unwrap();
    assert_eq!(confirmed["confirmDeactivations"]["deactivated"], active);
    assert_eq!(confirmed["confirmDeactivations"]["deactivationsHeld"], 0);
    assert_eq!(active_users(&app, &admin).await, 0);
    let again = admin.execute(ops::CONFIRM_DEACTIVATIONS, json!({ "id": run_id })).await.unwrap();
    assert_eq!(again.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(again.error_extension("field"), Some(&json!("runId")));

    // The provider is back: everyone returns, and a member cannot confirm anything.
    app.sandbox.with_tenant("acme", |t| t.company.employees = employees);
    app.sync(&admin, &connection_id).await;
    assert_eq!(active_users(&app, &admin).await, active);
    let response = app.member().execute(ops::CONFIRM_DEACTIVATIONS, json!({ "id": run_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("FORBIDDEN"));
    app.stop().await;
}

async fn the_next_complete_pass_agreeing_applies_held_deactivations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let active = active_users(&app, &admin).await;

    // A held pass, then the provider recovers: the held run is superseded and cannot be
    // confirmed any more, and the recovered pass deactivates nobody.
    let employees = empty_the_provider(&app);
    let held = app.sync(&admin, &connection_id).await;
    assert_eq!(held["deactivationsHeld"], active);
    app.sandbox.with_tenant("acme", |t| t.company.employees = employees);
    let recovered = app.sync(&admin, &connection_id).await;
    assert_eq!((recovered["deactivated"].as_i64(), recovered["deactivationsHeld"].as_i64()), (Some(0), Some(0)));
    let stale = admin.execute(ops::CONFIRM_DEACTIVATIONS, json!({ "id": held["id"] })).await.unwrap();
    assert_eq!(stale.error_code(), Some("VALIDATION_FAILED"));
    assert!(stale.errors[0]["message"].as_str().unwrap().contains("later sync"), "{:?}", stale.errors);

    // Two complete passes in a row that see nobody: the second one deactivates.
    empty_the_provider(&app);
    assert_eq!(app.sync(&admin, &connection_id).await["deactivationsHeld"], active);
    let agreed = app.sync(&admin, &connection_id).await;
    assert_eq!((agreed["deactivated"].as_i64(), agreed["deactivationsHeld"].as_i64()), (Some(active as i64), Some(0)));
    assert_eq!(active_users(&app, &admin).await, 0);
    app.stop().await;
}

/// An attempt stuck in an await (here: a provider that keeps it waiting past the stall timeout)
/// is given up instead of holding the run's lease for ever; the next attempt finishes the run.
async fn an_attempt_that_makes_no_progress_is_given_up_and_the_run_resumed(backend: Backend) {
    let options = TestOptions { settings: &[("SYNC_STALL_SECONDS", "2")], ..TestOptions::on(backend) };
    let app = TestApp::spawn_with(options).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sandbox.with_tenant("acme", |t| t.inject([Fault::Slow(Duration::from_secs(30))]));
    let started = std::time::Instant::now();
    let run_id = app.start_sync(&admin, &connection_id).await;
    let deadline = started + Duration::from_secs(20);
    let retrying = loop {
        let run = app.run(&admin, &run_id).await;
        if run["error"].as_str().is_some_and(|e| e.contains("made no progress")) {
            break run;
        }
        assert!(std::time::Instant::now() < deadline, "the stuck attempt was given up: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(retrying["status"], "RUNNING", "retried, not failed: {retrying}");
    let events = app.follow(&admin, &run_id).await;
    let last = events.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert!(started.elapsed() < Duration::from_secs(25), "long before the provider's 30 s: {:?}", started.elapsed());
    assert_eq!(last["processed"], last["total"]);
    assert_eq!(app.users(&admin).await.len() as i64, last["created"].as_i64().unwrap());
    app.stop().await;
}

/// An attempt too busy to renew its lease (here: the lease made to lapse while its report
/// trickles in) loses the run to the sweep, which runs it again in the same process while the
/// first still downloads. The run ends with the counts of one read: the first attempt's next
/// write finds that the lease is no longer its own and it stops.
async fn a_run_taken_over_in_the_same_process_ends_with_the_counts_of_one_read(backend: Backend) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn_with(TestOptions { employees: 1000, ..TestOptions::on(backend) }).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    // Both attempts' reports arrive slowly, so they overlap.
    app.sandbox.with_tenant("acme", |t| t.inject(vec![Fault::Trickle(Duration::from_millis(400)); 2]));
    let run_id = app.start_sync(&admin, &connection_id).await;
    let id = uuid::Uuid::parse_str(&run_id).unwrap();
    let row = || entity::sync_run::Entity::find_by_id(id).one(&app.service.db);
    // Keep the lease lapsed until the sweep has claimed the run a second time.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while row().await.unwrap().unwrap().attempts < 2 {
        assert!(std::time::Instant::now() < deadline, "the sweep took the run over");
        let lapsed = chrono::Utc::now() - chrono::Duration::seconds(1);
        entity::sync_run::Entity::update_many()
            .col_expr(entity::sync_run::Column::LeaseExpiresAt, sea_orm::sea_query::Expr::value(lapsed))
            .filter(entity::sync_run::Column::Id.eq(id))
            .filter(entity::sync_run::Column::Status.eq(entity::sync_run::SyncStatus::Running))
            .exec(&app.service.db)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.follow(&admin, &run_id).await;
    // Whatever the first attempt still had to download has arrived by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let run = app.run(&admin, &run_id).await;
    let people = app.users(&admin).await.len() as i64;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["processed"], run["total"], "{run}");
    assert_eq!((run["created"].as_i64(), run["unchanged"].as_i64()), (Some(people), Some(0)), "{run}");
    app.stop().await;
}

crate::on_both_backends!(
    a_run_taken_over_in_the_same_process_ends_with_the_counts_of_one_read,
    an_attempt_that_makes_no_progress_is_given_up_and_the_run_resumed,
    an_empty_answer_holds_deactivations_until_an_admin_confirms,
    the_next_complete_pass_agreeing_applies_held_deactivations,
    a_person_listed_by_two_connections_stays_until_both_lose_them,
    a_rehire_under_a_new_id_gets_their_person_back,
    a_returning_person_is_reactivated_and_a_bad_email_is_no_leaver,
    a_full_sync_fills_the_directory_with_live_progress,
    bad_records_become_issues_not_crashes,
    an_unchanged_resync_writes_no_user_rows,
    hires_leavers_and_changes_reach_the_directory,
    a_second_start_while_running_is_refused,
    a_cancelled_run_deactivates_nobody,
    a_cancel_does_not_wait_for_a_slow_provider,
    progress_moves_while_a_slow_report_downloads,
    a_failing_provider_fails_the_run_without_deactivating_anyone,
    a_report_that_breaks_off_is_read_again_and_nothing_counts_twice,
);
