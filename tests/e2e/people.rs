//! People by hand, through GraphQL as an admin works: add, edit, deactivate and reactivate
//! people; a sync adopts a person added by hand and from then on owns the fields its mapping
//! fills; a hand deactivation holds until the provider itself changes the person's employment.

use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;
use sandbox::company::Employment;

use crate::helpers::{person, Backend, TestApp};

async fn create(client: &GraphqlClient, input: Value) -> Value {
    let data = client.execute(&ops::create_user(), json!({ "input": input })).await.unwrap().ok().unwrap();
    data["createUser"].clone()
}

async fn update(client: &GraphqlClient, id: &Value, input: Value) -> directory_sync::client::GraphqlResponse {
    client.execute(&ops::update_user(), json!({ "id": id, "input": input })).await.unwrap()
}

async fn set_active(client: &GraphqlClient, id: &Value, active: bool) -> directory_sync::client::GraphqlResponse {
    let operation = if active { ops::reactivate_user() } else { ops::deactivate_user() };
    client.execute(&operation, json!({ "id": id })).await.unwrap()
}

/// The directory id of the person synced with `email`.
async fn id_of(app: &TestApp, client: &GraphqlClient, email: &str) -> Value {
    let users = app.users(client).await;
    users.iter().find(|u| u["email"].as_str().unwrap().eq_ignore_ascii_case(email)).expect("synced")["id"].clone()
}

async fn an_admin_adds_and_edits_people_by_hand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let grace = create(
        &admin,
        json!({ "email": "Grace.Hopper@Example.com", "firstName": " Grace ", "lastName": "Hopper",
                "jobTitle": "Commodore", "department": "Navy", "startDate": "2026-01-05" }),
    )
    .await;
    assert_eq!(grace["displayName"], "Grace Hopper", "names are trimmed: {grace}");
    assert_eq!((&grace["employmentStatus"], &grace["invitationStatus"]), (&json!("ACTIVE"), &json!("NOT_INVITED")));
    assert_eq!((&grace["startDate"], &grace["source"]), (&json!("2026-01-05"), &Value::Null));

    let taken =
        admin.execute(&ops::create_user(), json!({ "input": { "email": "grace.hopper@example.COM" } })).await.unwrap();
    assert_eq!(taken.error_code(), Some("EMAIL_TAKEN"));
    assert_eq!(taken.error_extension("userId"), Some(&grace["id"]), "names the holder");
    for (input, field) in [
        (json!({ "email": "not-an-address" }), "input.email"),
        (json!({ "email": "x@example.com", "startDate": "05/01/2026" }), "input.startDate"),
        (json!({ "email": "x@example.com", "managerId": uuid::Uuid::now_v7().to_string() }), "input.managerId"),
        (json!({ "email": "x@example.com", "managerId": "nope" }), "input.managerId"),
        (json!({ "email": "x@example.com", "jobTitle": "t".repeat(201) }), "input.jobTitle"),
    ] {
        let refused = admin.execute(&ops::create_user(), json!({ "input": input })).await.unwrap();
        assert_eq!(refused.error_code(), Some("VALIDATION_FAILED"), "{input}");
        assert_eq!(refused.error_extension("field"), Some(&json!(field)), "{input}");
    }

    let alan = create(&admin, json!({ "email": "alan@example.com", "managerId": grace["id"] })).await;
    assert_eq!((&alan["displayName"], &alan["manager"]["id"]), (&json!("alan@example.com"), &grace["id"]));
    let cycle = update(&admin, &grace["id"], json!({ "managerId": alan["id"] })).await;
    assert_eq!(cycle.error_extension("field"), Some(&json!("input.managerId")), "a cycle is refused");

    let edited = update(&admin, &grace["id"], json!({ "jobTitle": "Rear Admiral", "department": null })).await;
    let edited = edited.ok().unwrap()["updateUser"].clone();
    assert_eq!((&edited["jobTitle"], &edited["department"]), (&json!("Rear Admiral"), &Value::Null));
    assert_eq!((&edited["lastName"], &edited["startDate"]), (&json!("Hopper"), &json!("2026-01-05")), "left out: kept");
    let renamed = update(&admin, &alan["id"], json!({ "firstName": "Alan", "lastName": "Turing" })).await;
    assert_eq!(renamed.ok().unwrap()["updateUser"]["displayName"], "Alan Turing");

    let member = app.member();
    let forbidden = member.execute(&ops::create_user(), json!({ "input": { "email": "m@example.com" } })).await;
    assert_eq!(forbidden.unwrap().error_code(), Some("FORBIDDEN"));
    assert_eq!(update(&member, &grace["id"], json!({ "jobTitle": "x" })).await.error_code(), Some("FORBIDDEN"));
    assert_eq!(set_active(&member, &grace["id"], false).await.error_code(), Some("FORBIDDEN"));
    assert_eq!(person(&member, &grace["id"]).await["jobTitle"], "Rear Admiral", "members read");

    let free_admin = app.client_for(&app.workspace, Role::Admin, Plan::Free);
    let added = free_admin.execute(&ops::create_user(), json!({ "input": { "email": "free@example.com" } })).await;
    assert!(added.unwrap().ok().is_ok(), "any plan adds people by hand");

    let deactivated = set_active(&admin, &alan["id"], false).await.ok().unwrap();
    assert_eq!(deactivated["deactivateUser"]["employmentStatus"], "INACTIVE");
    let reactivated = set_active(&admin, &alan["id"], true).await.ok().unwrap();
    assert_eq!(reactivated["reactivateUser"]["employmentStatus"], "ACTIVE");
    let unknown = update(&admin, &json!(uuid::Uuid::now_v7().to_string()), json!({ "jobTitle": "x" })).await;
    assert_eq!(unknown.error_code(), Some("NOT_FOUND"));
    assert_eq!(app.users(&admin).await.len(), 3);
    app.stop().await;
}

async fn a_sync_adopts_a_person_and_owns_the_fields_it_maps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let employee = app.sandbox.with_tenant("acme", |t| t.company.employees[4].clone());
    let email = employee.work_email.clone().unwrap();
    let input =
        json!({ "email": email.to_uppercase(), "location": "Desk 7", "jobTitle": "Guess", "lastName": "Byron" });
    let added = create(&admin, input).await;

    let connection_id = app.connect(&admin).await;
    let mut entries = directory_sync::admin_flow::current_mapping(&admin, &connection_id).await.unwrap();
    for unmapped in ["location", "lastName", "displayName"] {
        let entry = entries.as_array_mut().unwrap().iter_mut().find(|e| e["internalField"] == unmapped).unwrap();
        entry["externalField"] = Value::Null;
    }
    app.confirm_mapping(&admin, &connection_id, Some(entries)).await;
    app.sync(&admin, &connection_id).await;

    let adopted = person(&admin, &added["id"]).await;
    assert_eq!(adopted["source"]["remoteId"], employee.id.to_string(), "adopted, not duplicated");
    assert_eq!((&adopted["jobTitle"], &adopted["location"]), (&json!(employee.job_title), &json!("Desk 7")));
    let refused = update(&admin, &added["id"], json!({ "jobTitle": "Mine" })).await;
    assert_eq!(refused.error_code(), Some("FIELD_MANAGED_BY_PROVIDER"));
    assert_eq!(refused.error_extension("field"), Some(&json!("jobTitle")));
    let shown = format!("{} Byron", employee.first_name);
    assert_eq!(adopted["displayName"], shown, "the provider's first name and the admin's last");
    let moved = update(&admin, &added["id"], json!({ "location": "Desk 9", "lastName": "King" })).await.ok().unwrap();
    assert_eq!(moved["updateUser"]["location"], "Desk 9", "an unmapped field is the admin's");
    assert_eq!(moved["updateUser"]["displayName"], format!("{} King", employee.first_name));

    app.sandbox.with_tenant("acme", |t| {
        let at_provider = t.company.employee_mut(employee.id);
        at_provider.job_title = "Principal".into();
        at_provider.location = "Elsewhere".into();
    });
    app.sync(&admin, &connection_id).await;
    let synced = person(&admin, &added["id"]).await;
    assert_eq!((&synced["jobTitle"], &synced["location"]), (&json!("Principal"), &json!("Desk 9")));
    assert_eq!(synced["displayName"], format!("{} King", employee.first_name));
    assert_eq!(app.users(&admin).await.len(), 60);
    app.stop().await;
}

async fn a_hand_deactivation_holds_until_the_provider_changes_the_employment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    let employees = app.sandbox.with_tenant("acme", |t| t.company.employees.clone());
    let mut active = employees.iter().filter(|e| e.is_active() && e.work_email.is_some());
    let (kept, leaver) = (active.next().unwrap().clone(), active.next().unwrap().clone());
    let id = id_of(&app, &admin, kept.work_email.as_deref().unwrap()).await;
    let status = |person: Value| person["employmentStatus"].as_str().unwrap().to_string();

    assert_eq!(status(set_active(&admin, &id, false).await.ok().unwrap()["deactivateUser"].clone()), "INACTIVE");
    app.sync(&admin, &connection_id).await;
    assert_eq!(status(person(&admin, &id).await), "INACTIVE", "an unchanged record leaves it");
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(kept.id).job_title = "Promoted".into());
    app.sync(&admin, &connection_id).await;
    let promoted = person(&admin, &id).await;
    assert_eq!((status(promoted.clone()), &promoted["jobTitle"]), ("INACTIVE".into(), &json!("Promoted")));

    // The provider agrees they left, then takes them back: that return is the provider's change.
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(kept.id).leave());
    app.sync(&admin, &connection_id).await;
    assert_eq!(status(person(&admin, &id).await), "INACTIVE");
    app.sandbox.with_tenant("acme", |t| {
        let back = t.company.employee_mut(kept.id);
        back.employment = Employment::Employed;
        back.termination_date = None;
    });
    app.sync(&admin, &connection_id).await;
    assert_eq!(status(person(&admin, &id).await), "ACTIVE", "rehired at the provider");

    // A person the provider deactivated is the provider's to bring back.
    let leaver_id = id_of(&app, &admin, leaver.work_email.as_deref().unwrap()).await;
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(leaver.id).leave());
    app.sync(&admin, &connection_id).await;
    let refused = set_active(&admin, &leaver_id, true).await;
    assert_eq!(refused.error_code(), Some("FIELD_MANAGED_BY_PROVIDER"));
    assert_eq!(refused.error_extension("field"), Some(&json!("employmentStatus")));

    // A hand deactivation undone by hand stays undone, through a changed record too.
    set_active(&admin, &id, false).await.ok().unwrap();
    set_active(&admin, &id, true).await.ok().unwrap();
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(kept.id).job_title = "Promoted again".into());
    app.sync(&admin, &connection_id).await;
    assert_eq!(status(person(&admin, &id).await), "ACTIVE");
    app.stop().await;
}

/// Someone added before their first day is PRE_START, and ACTIVE once the day comes: the
/// schedule sees to it, and the history says so.
async fn a_person_not_started_yet_is_active_from_their_start_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let today = chrono::Utc::now().date_naive();
    let later = (today + chrono::Duration::days(30)).to_string();
    let kim = create(&admin, json!({ "email": "kim@example.com", "firstName": "Kim", "startDate": later })).await;
    assert_eq!(kim["employmentStatus"], "PRE_START", "{kim}");
    let listed = app.users(&admin).await;
    assert_eq!(listed[0]["employmentStatus"], "PRE_START");
    let filtered = admin.execute(ops::USERS, json!({ "filter": { "status": "PRE_START" } })).await.unwrap();
    assert_eq!(filtered.ok().unwrap()["users"]["totalCount"], 1);
    // Not yet, after several sweeps.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(person(&admin, &kim["id"]).await["employmentStatus"], "PRE_START");
    // The start is moved to today: the next sweep makes them active.
    update(&admin, &kim["id"], json!({ "startDate": today.to_string() })).await.ok().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while person(&admin, &kim["id"]).await["employmentStatus"] != "ACTIVE" {
        assert!(std::time::Instant::now() < deadline, "active within 30 s of their start date");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let history = admin.execute(ops::HISTORY, json!({ "id": kim["id"], "first": 10 })).await.unwrap().ok().unwrap();
    let latest = &history["user"]["history"][0];
    assert_eq!(
        (&latest["field"], &latest["oldValue"], &latest["newValue"]),
        (&json!("employmentStatus"), &json!("PRE_START"), &json!("ACTIVE"))
    );
    assert_eq!(latest["by"], "schedule");
    app.stop().await;
}

crate::on_both_backends!(
    a_person_not_started_yet_is_active_from_their_start_date,
    an_admin_adds_and_edits_people_by_hand,
    a_sync_adopts_a_person_and_owns_the_fields_it_maps,
    a_hand_deactivation_holds_until_the_provider_changes_the_employment,
);
