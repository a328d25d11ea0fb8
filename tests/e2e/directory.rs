//! Seed step 7: the User Directory (list, filters, pagination), profiles with provenance, the
//! org chart, and workspace isolation.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp};

async fn the_directory_lists_filters_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(3).work_email = Some("ada_l@acme.example".into()));
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let member = app.member();

    let mut seen = HashSet::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let data = member.execute(ops::USERS, json!({ "first": 7, "after": after })).await.unwrap().ok().unwrap();
        let users = &data["users"];
        assert_eq!(users["totalCount"], 60);
        for edge in users["edges"].as_array().unwrap() {
            assert!(seen.insert(edge["node"]["id"].to_string()), "no user twice");
        }
        pages += 1;
        if !users["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = users["pageInfo"]["endCursor"].clone();
    }
    assert_eq!((seen.len(), pages), (60, 9));

    let employees = app.sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let count = |filter: Value| {
        let member = member.clone();
        async move {
            let data = member.execute(ops::USERS, json!({ "filter": filter })).await.unwrap().ok().unwrap();
            data["users"]["totalCount"].as_u64().unwrap() as usize
        }
    };
    let engineers = employees.iter().filter(|e| e.department == "Engineering").count();
    assert_eq!(count(json!({ "department": "Engineering" })).await, engineers);
    assert_eq!(count(json!({ "status": "INACTIVE" })).await, employees.iter().filter(|e| !e.is_active()).count());
    let name = employees[5].last_name.to_uppercase();
    let named = employees
        .iter()
        .filter(|e| e.last_name.to_uppercase().contains(&name) || e.first_name.to_uppercase().contains(&name))
        .count();
    assert_eq!(count(json!({ "search": name })).await, named, "search is case-insensitive");
    assert_eq!(count(json!({ "search": ".17@acme" })).await, 1, "search matches email");
    assert_eq!(count(json!({ "search": "ADA_L" })).await, 1, "underscores are literal");
    assert_eq!(count(json!({ "search": "%" })).await, 0, "wildcards are literal");
    assert_eq!(count(json!({ "connectionId": connection_id })).await, 60);

    // The department filter's choices: each department once, in order, of this workspace only.
    let mut departments: Vec<String> = employees.iter().map(|e| e.department.clone()).collect();
    departments.sort();
    departments.dedup();
    let listed = member.execute("{ departments }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(listed["departments"], json!(departments));
    let elsewhere = app.client_for("another-workspace", Role::Member, Plan::Free);
    let listed = elsewhere.execute("{ departments }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(listed["departments"], json!([]));

    let response = member.execute(ops::USERS, json!({ "first": 501 })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("first")));
    let response = member.execute(ops::USERS, json!({ "after": "garbage" })).await.unwrap();
    assert_eq!(response.error_extension("field"), Some(&json!("after")));
    // 50 KB of search text was SQLite's LIKE limit and an INTERNAL; now a bounded input.
    let response = member.execute(ops::USERS, json!({ "filter": { "search": "x".repeat(50_000) } })).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
    assert_eq!(response.error_extension("field"), Some(&json!("filter.search")));
    assert_eq!(count(json!({ "search": "é".repeat(200) })).await, 0, "200 characters are within the bound");
    app.stop().await;
}

async fn profiles_show_managers_reports_and_provenance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let member = app.member();
    let chart = member.execute(ops::ORG_CHART, json!({ "depth": 3 })).await.unwrap().ok().unwrap();
    let roots = chart["orgChart"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "one CEO: {roots:?}");
    assert_eq!(roots[0]["user"]["jobTitle"], "Chief Executive Officer");
    let heads = roots[0]["reports"].as_array().unwrap();
    assert_eq!(heads.len(), 7);
    assert!(heads.iter().all(|h| h["user"]["jobTitle"].as_str().unwrap().starts_with("Head of")));
    assert!(heads.iter().any(|h| !h["reports"].as_array().unwrap().is_empty()));

    let data = member.execute(ops::USERS, json!({ "filter": { "search": ".2@acme" } })).await.unwrap().ok().unwrap();
    let head_id = data["users"]["edges"][0]["node"]["id"].clone();
    let head = admin.execute(ops::USER, json!({ "id": head_id })).await.unwrap().ok().unwrap();
    let head = &head["user"];
    assert_eq!(head["manager"]["displayName"], roots[0]["user"]["displayName"]);
    let reports =
        app.sandbox.with_tenant("acme", |t| t.company.employees.iter().filter(|e| e.manager_id == Some(2)).count());
    assert_eq!(head["directReports"].as_array().unwrap().len(), reports);
    assert_eq!(head["source"]["remoteId"], "2");
    assert_eq!(head["source"]["connection"]["id"], connection_id.as_str());
    assert_eq!(head["invitationStatus"], "NOT_INVITED");
    // Members read people, not integration details: the connection is null, and nothing fails.
    let seen_by_member = member.execute(ops::USER, json!({ "id": head_id })).await.unwrap().ok().unwrap();
    assert_eq!(seen_by_member["user"]["email"], head["email"]);
    assert_eq!(seen_by_member["user"]["source"]["remoteId"], "2");
    assert_eq!(seen_by_member["user"]["source"]["connection"], Value::Null);
    let plain = member
        .execute("query($id: ID!) { user(id: $id) { source { remoteId } } }", json!({ "id": head_id }))
        .await
        .unwrap();
    assert_eq!(plain.ok().unwrap()["user"]["source"]["remoteId"], "2");

    let stranger = app.client_for("another-workspace", Role::Member, Plan::Paid);
    let hidden = stranger.execute(ops::USER, json!({ "id": head_id })).await.unwrap().ok().unwrap();
    assert_eq!(hidden["user"], Value::Null, "another workspace cannot read this user");
    let none = stranger.execute(ops::USERS, json!({})).await.unwrap().ok().unwrap();
    assert_eq!(none["users"]["totalCount"], 0);
    app.stop().await;
}

async fn a_person_added_by_hand_is_adopted_not_duplicated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    // A directory member added by hand before the integration existed.
    admin.execute("{ viewer { workspaceId } }", json!({})).await.unwrap().ok().unwrap();
    // A manager whose reports arrive on the same page (25 records), so they must be linked to
    // the adopted person, not to a person the sync meant to create.
    let employees = app.sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let reports_of = |id: u32| employees.iter().filter(move |e| e.manager_id == Some(id));
    let manager = employees.iter().find(|m| m.id <= 25 && reports_of(m.id).any(|e| e.id <= 25)).unwrap();
    let email = manager.work_email.clone().unwrap();
    let manual_id = uuid::Uuid::now_v7();
    let now = Utc::now();
    entity::directory_user::ActiveModel {
        id: Set(manual_id),
        workspace_id: Set(app.workspace.clone()),
        email: Set(email.to_uppercase()),
        email_normalized: Set(email.to_lowercase()),
        first_name: Set(None),
        last_name: Set(None),
        display_name: Set("Added By Hand".into()),
        job_title: Set(None),
        department: Set(None),
        location: Set(None),
        employment_status: Set(entity::directory_user::EmploymentStatus::Active),
        start_date: Set(None),
        manager_id: Set(None),
        invitation_status: Set(entity::directory_user::InvitationStatus::Invited),
        invited_at: Set(Some(now)),
        invitation_error: Set(None),
        deactivated_by_hand_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.service.db)
    .await
    .unwrap();

    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!((run["created"].as_i64(), run["updated"].as_i64()), (Some(59), Some(1)));
    let users = app.users(&admin).await;
    assert_eq!(users.len(), 60);
    let adopted = admin.execute(ops::USER, json!({ "id": manual_id.to_string() })).await.unwrap().ok().unwrap();
    assert_eq!(adopted["user"]["source"]["remoteId"], manager.id.to_string());
    let reports = adopted["user"]["directReports"].as_array().unwrap();
    assert_eq!(reports.len(), reports_of(manager.id).count(), "{reports:?}");
    assert_eq!(adopted["user"]["invitationStatus"], "INVITED", "an existing invitation is kept");
    assert_ne!(adopted["user"]["displayName"], "Added By Hand");
    app.stop().await;
}

async fn the_org_chart_survives_a_departed_ceo(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(1).leave());
    app.sync(&admin, &connection_id).await;
    let chart = admin.execute(ops::ORG_CHART, json!({ "depth": 2 })).await.unwrap().ok().unwrap();
    let roots: Vec<&str> =
        chart["orgChart"].as_array().unwrap().iter().map(|n| n["user"]["jobTitle"].as_str().unwrap()).collect();
    assert_eq!(roots.len(), 7, "{roots:?}");
    assert!(roots.iter().all(|t| t.starts_with("Head of")), "{roots:?}");
    app.stop().await;
}

crate::on_both_backends!(
    the_org_chart_survives_a_departed_ceo,
    the_directory_lists_filters_and_pages,
    profiles_show_managers_reports_and_provenance,
    a_person_added_by_hand_is_adopted_not_duplicated,
);
