//! Seed steps 4–5: suggested mapping, preview, validation, confirmation, and re-sync after a
//! mapping change.

use serde_json::{json, Value};

use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp};

fn entries(pairs: &[(&str, Option<&str>)]) -> Value {
    pairs.iter().map(|(i, e)| json!({ "internalField": i, "externalField": e })).collect()
}

async fn the_suggested_mapping_previews_live_records(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let fields = admin.execute(ops::INTERNAL_FIELDS, json!({})).await.unwrap().ok().unwrap();
    let email = fields["internalFields"].as_array().unwrap().iter().find(|f| f["key"] == "email").unwrap();
    assert_eq!(email["required"], true);

    let connection_id = app.connect(&admin).await;
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let mapping = &data["connection"]["fieldMapping"];
    assert_eq!(mapping["status"], "SUGGESTED");
    assert_eq!(mapping["version"], 0);
    let email_source = mapping["entries"].as_array().unwrap().iter().find(|e| e["internalField"] == "email").unwrap();
    assert_eq!(email_source["externalField"], "workEmail");

    let preview =
        admin.execute(ops::PREVIEW_MAPPING, json!({ "id": connection_id, "limit": 3 })).await.unwrap().ok().unwrap();
    let rows = preview["previewFieldMapping"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["remoteId"], "1");
    assert!(rows[0]["values"]["email"].as_str().unwrap().ends_with("@acme.example"));
    assert_eq!(rows[0]["problems"], json!([]));

    let home = entries(&[("email", Some("homeEmail")), ("firstName", Some("firstName"))]);
    let preview = admin
        .execute(ops::PREVIEW_MAPPING, json!({ "id": connection_id, "entries": home }))
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(preview["previewFieldMapping"][0]["problems"], json!(["email is empty"]));
    app.stop().await;
}

async fn invalid_mappings_name_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let cases = [
        (entries(&[("firstName", Some("firstName"))]), "email"),
        (entries(&[("email", None)]), "email"),
        (entries(&[("email", Some("workEmail")), ("jobTitle", Some("shoeSize"))]), "jobTitle"),
        (entries(&[("email", Some("workEmail")), ("favouriteColour", Some("firstName"))]), "favouriteColour"),
        (entries(&[("email", Some("workEmail")), ("email", Some("homeEmail"))]), "email"),
        // A provider field of the wrong type: a date is no login address, a name no manager.
        (entries(&[("email", Some("hireDate"))]), "email"),
        (entries(&[("email", Some("workEmail")), ("startDate", Some("firstName"))]), "startDate"),
        (entries(&[("email", Some("workEmail")), ("managerId", Some("jobTitle"))]), "managerId"),
    ];
    for (entries, field) in cases {
        let response =
            admin.execute(ops::SAVE_MAPPING, json!({ "id": connection_id, "entries": entries })).await.unwrap();
        assert_eq!(response.error_code(), Some("MAPPING_INVALID"), "{entries}");
        assert_eq!(response.error_extension("field"), Some(&json!(field)), "{entries}");
    }
    let response = admin
        .execute(ops::SAVE_MAPPING, json!({ "id": connection_id, "entries": entries(&[("email", Some("hireDate"))]) }))
        .await
        .unwrap();
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(message.contains("takes a field of type email, and 'hireDate' is of type date"), "{message}");
    // A 100 KB field name is not echoed back whole.
    let huge = entries(&[("email", Some("workEmail")), ("x".repeat(100_000).as_str(), Some("firstName"))]);
    let response = admin.execute(ops::SAVE_MAPPING, json!({ "id": connection_id, "entries": huge })).await.unwrap();
    assert_eq!(response.error_code(), Some("MAPPING_INVALID"));
    assert!(response.errors[0]["message"].as_str().unwrap().len() < 200, "{:?}", response.errors[0]["message"]);
    // For a provider that keeps emails in a text field, the admin says so explicitly.
    let loose = json!([{ "internalField": "email", "externalField": "firstName", "acceptAnyType": true }]);
    let saved = admin
        .execute(
            "mutation($id: ID!, $entries: [FieldMappingEntryInput!]!) {
               saveFieldMapping(connectionId: $id, entries: $entries) { entries { internalField acceptAnyType } } }",
            json!({ "id": connection_id, "entries": loose }),
        )
        .await
        .unwrap()
        .ok()
        .unwrap();
    let email = saved["saveFieldMapping"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["internalField"] == "email")
        .cloned();
    assert_eq!(email.unwrap()["acceptAnyType"], true);
    let response = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("MAPPING_NOT_CONFIRMED"));
    let saved = admin
        .execute(ops::SAVE_MAPPING, json!({ "id": connection_id, "entries": entries(&[("email", Some("workEmail"))]) }))
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(saved["saveFieldMapping"]["status"], "DRAFT");
    let response = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(response.error_code(), Some("MAPPING_NOT_CONFIRMED"), "a draft is not enough");
    let response = admin.execute(ops::CONFIRM_MAPPING, json!({ "id": connection_id, "version": 42 })).await.unwrap();
    assert_eq!(response.error_code(), Some("NOT_FOUND"));
    app.stop().await;
}

async fn a_changed_mapping_requires_and_gets_a_full_resync(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let first = app.sync(&admin, &connection_id).await;
    assert_eq!(first["status"], "SUCCEEDED");
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"]["resyncRequired"], false);

    let mut changed: Vec<Value> = data["connection"]["fieldMapping"]["entries"].as_array().unwrap().clone();
    for entry in &mut changed {
        if entry["internalField"] == "jobTitle" {
            entry["externalField"] = json!("division");
        }
    }
    let version = app.confirm_mapping(&admin, &connection_id, Some(Value::Array(changed))).await;
    assert_eq!(version, 2);
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"]["resyncRequired"], true);
    assert_eq!(data["connection"]["confirmedMapping"]["version"], 2);

    let second = app.sync(&admin, &connection_id).await;
    assert_eq!(second["status"], "SUCCEEDED");
    assert_eq!(second["updated"], 60, "every title changed to the division");
    let divisions = app.sandbox.with_tenant("acme", |t| {
        t.company.employees.iter().map(|e| (e.work_email.clone().unwrap(), e.division.clone())).collect::<Vec<_>>()
    });
    let users = app.users(&admin).await;
    for (email, division) in divisions {
        let user = users.iter().find(|u| u["email"] == email.as_str()).unwrap();
        assert_eq!(user["jobTitle"], division.as_str());
    }
    let data = admin.execute(ops::CONNECTION, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(data["connection"]["resyncRequired"], false);
    app.stop().await;
}

crate::on_both_backends!(
    the_suggested_mapping_previews_live_records,
    invalid_mappings_name_the_field,
    a_changed_mapping_requires_and_gets_a_full_resync,
);
