//! Webhooks through GraphQL and a real HTTP receiver on loopback: endpoints and their secrets,
//! events signed per Standard Webhooks (checked with its reference library), retries with one
//! `webhook-id`, timeouts, the failing flag, one person's events in order, and the address rules.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;

use crate::helpers::{Backend, TestApp, TestOptions};
use crate::webhook_receiver::{Received, Receiver, Reply};

async fn subscribe(client: &GraphqlClient, url: &str, events: &[&str]) -> (Value, String) {
    let input = json!({ "url": url, "events": events, "description": "the compliance app" });
    let data = client.execute(&ops::create_webhook_endpoint(), json!({ "input": input })).await.unwrap().ok().unwrap();
    let created = &data["createWebhookEndpoint"];
    (created["endpoint"].clone(), created["secret"].as_str().unwrap().to_string())
}

async fn deliveries(client: &GraphqlClient, endpoint: &Value) -> Vec<Value> {
    let variables = json!({ "id": endpoint["id"], "first": 100 });
    let data = client.execute(&ops::webhook_deliveries(), variables).await.unwrap().ok().unwrap();
    data["webhookDeliveries"].as_array().unwrap().clone()
}

/// Reads the endpoint's deliveries until `done` holds of them (up to 20 s).
async fn deliveries_until(client: &GraphqlClient, endpoint: &Value, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = deliveries(client, endpoint).await;
        if done(&seen) {
            return seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries: {seen:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn endpoints_are_managed_and_their_secrets_shown_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let (endpoint, secret) = subscribe(&admin, "https://hooks.example.com/in", &["sync.failed", "user.created"]).await;
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    assert_eq!(endpoint["events"], json!(["user.created", "sync.failed"]), "the catalogue's order");
    assert_eq!(
        (endpoint["failing"].clone(), endpoint["description"].clone()),
        (json!(false), json!("the compliance app"))
    );

    let listed = admin.execute(&ops::webhook_endpoints(), json!({})).await.unwrap().ok().unwrap();
    assert_eq!(listed["webhookEndpoints"], json!([endpoint]), "listed, never with its secret");
    let update = json!({ "id": endpoint["id"], "input": { "events": ["user.deactivated"], "description": null } });
    let updated = admin.execute(&ops::update_webhook_endpoint(), update).await.unwrap().ok().unwrap();
    let updated = &updated["updateWebhookEndpoint"];
    assert_eq!((updated["events"].clone(), updated["description"].clone()), (json!(["user.deactivated"]), Value::Null));
    assert_eq!(updated["url"], endpoint["url"], "left out, left alone");

    let rotated = admin.execute(&ops::rotate_webhook_secret(), json!({ "id": endpoint["id"] })).await.unwrap();
    let new_secret = rotated.ok().unwrap()["rotateWebhookSecret"]["secret"].as_str().unwrap().to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    // Bad input is named.
    for (input, field) in [
        (json!({ "url": "https://hooks.example.com/in", "events": ["user.deleted"] }), "input.events"),
        (json!({ "url": "https://hooks.example.com/in", "events": [] }), "input.events"),
        (json!({ "url": "not a url", "events": ["user.created"] }), "input.url"),
        (json!({ "url": "ftp://hooks.example.com/in", "events": ["user.created"] }), "input.url"),
    ] {
        let answer = admin.execute(&ops::create_webhook_endpoint(), json!({ "input": input })).await.unwrap();
        assert_eq!(answer.error_code(), Some("VALIDATION_FAILED"), "{input}");
        assert_eq!(answer.error_extension("field"), Some(&json!(field)), "{input}");
    }
    // Admins on the paid plan only, and only their own workspace's.
    let member = app.member().execute(&ops::webhook_endpoints(), json!({})).await.unwrap();
    assert_eq!(member.error_code(), Some("FORBIDDEN"));
    let free = app.client_for(&app.workspace, Role::Admin, Plan::Free);
    let free = free.execute(&ops::webhook_endpoints(), json!({})).await.unwrap();
    assert_eq!(free.error_code(), Some("PAID_PLAN_REQUIRED"));
    let other = app.client_for("another-workspace", Role::Admin, Plan::Paid);
    let theirs = other.execute(&ops::webhook_endpoints(), json!({})).await.unwrap().ok().unwrap();
    assert_eq!(theirs["webhookEndpoints"], json!([]));
    let taken = other.execute(ops::DELETE_WEBHOOK_ENDPOINT, json!({ "id": endpoint["id"] })).await.unwrap();
    assert_eq!(taken.ok().unwrap()["deleteWebhookEndpoint"], json!(false), "not theirs to delete");

    let deleted = admin.execute(ops::DELETE_WEBHOOK_ENDPOINT, json!({ "id": endpoint["id"] })).await.unwrap();
    assert_eq!(deleted.ok().unwrap()["deleteWebhookEndpoint"], json!(true));
    let again = admin.execute(ops::DELETE_WEBHOOK_ENDPOINT, json!({ "id": endpoint["id"] })).await.unwrap();
    assert_eq!(again.ok().unwrap()["deleteWebhookEndpoint"], json!(false));
    app.stop().await;
}

async fn a_sync_announces_each_new_person_signed_per_the_specification(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let receiver = Receiver::accepting().await;
    let (endpoint, secret) = subscribe(&admin, &receiver.url, &["user.created", "sync.succeeded"]).await;
    let (_, other_secret) = subscribe(&admin, &format!("{}/unsubscribed", receiver.url), &["sync.failed"]).await;
    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    let created = run["created"].as_i64().unwrap() as usize;
    assert!(created > 50, "{run}");

    let received = receiver
        .until(Duration::from_secs(20), |r| {
            r.iter().filter(|r| r.event_type() == "sync.succeeded").count() == 1 && r.len() > created
        })
        .await;
    assert_eq!(received.len(), created + 1, "each new person once, and the run; nothing for sync.failed");
    for request in &received {
        assert!(request.verifies_with(&secret), "signed with the endpoint's secret: {request:?}");
        assert!(!request.verifies_with(&other_secret), "and no other");
        assert_eq!(request.event["id"].as_str(), Some(request.header("webhook-id")), "webhook-id is the event's id");
        assert_eq!(request.header("content-type"), "application/json");
        assert!(request.event["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", request.body);
    }
    let users = app.users(&admin).await;
    let emails: std::collections::HashSet<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    let announced: std::collections::HashSet<&str> = received
        .iter()
        .filter(|r| r.event_type() == "user.created")
        .map(|r| r.event["data"]["user"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(announced, emails, "every person synced, announced with their email");
    let created_by = format!("sync:{}", run["id"].as_str().unwrap());
    assert!(received
        .iter()
        .filter(|r| r.event_type() == "user.created")
        .all(|r| r.event["data"]["by"] == created_by.as_str()));
    let succeeded = received.iter().find(|r| r.event_type() == "sync.succeeded").unwrap();
    assert_eq!(succeeded.event["data"]["run"]["id"], run["id"]);
    assert_eq!(succeeded.event["data"]["run"]["created"], run["created"]);

    let seen =
        deliveries_until(&admin, &endpoint, |d| d.len() == created + 1 && d.iter().all(|d| d["status"] == "SUCCEEDED"))
            .await;
    assert!(seen.iter().all(|d| d["responseStatus"] == 200 && d["attempts"] == 1 && d["nextAttemptAt"].is_null()));
    // Pages of 25 follow on, in the same order, none twice.
    let mut paged: Vec<Value> = Vec::new();
    loop {
        let variables = json!({ "id": endpoint["id"], "first": 25, "after": paged.last().map(|d| d["id"].clone()) });
        let page = admin.execute(&ops::webhook_deliveries(), variables).await.unwrap().ok().unwrap();
        let page = page["webhookDeliveries"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    let ids = |list: &[Value]| list.iter().map(|d| d["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&seen));

    // A re-sync that changes nobody announces only itself.
    app.sync(&admin, &connection_id).await;
    let received = receiver
        .until(Duration::from_secs(20), |r| r.iter().filter(|r| r.event_type() == "sync.succeeded").count() == 2)
        .await;
    assert_eq!(received.len(), created + 2);
    receiver.stop().await;
    app.stop().await;
}

async fn a_persons_changes_are_announced_in_order_even_through_retries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    // The first event (the creation) is refused twice; what follows must wait for it.
    let receiver = Receiver::with_policy(Arc::new(|event: &Value, nth| {
        if event["type"] == "user.created" && nth <= 2 {
            Reply::Status(500)
        } else {
            Reply::Status(204)
        }
    }))
    .await;
    let events = ["user.created", "user.updated", "user.deactivated", "user.reactivated"];
    let (endpoint, secret) = subscribe(&admin, &receiver.url, &events).await;
    let id = admin_flow::add_person(&admin, "grace@acme.example", "Grace").await.unwrap();
    let input = json!({ "jobTitle": "Admiral", "department": "Navy" });
    admin.execute(&ops::update_user(), json!({ "id": id, "input": input })).await.unwrap().ok().unwrap();
    admin.execute(&ops::deactivate_user(), json!({ "id": id })).await.unwrap().ok().unwrap();
    admin.execute(&ops::reactivate_user(), json!({ "id": id })).await.unwrap().ok().unwrap();

    let received = receiver.until(Duration::from_secs(20), |r| r.len() >= 6).await;
    let order: Vec<(&str, usize)> = received.iter().map(|r| (r.event_type(), r.nth)).collect();
    assert_eq!(
        order,
        [
            ("user.created", 1),
            ("user.created", 2),
            ("user.created", 3),
            ("user.updated", 1),
            ("user.deactivated", 1),
            ("user.reactivated", 1)
        ],
        "one person's events in order; a retry holds back the rest"
    );
    let first_id = received[0].header("webhook-id");
    assert!(received[..3].iter().all(|r| r.header("webhook-id") == first_id), "one webhook-id across retries");
    assert!(received.iter().all(|r| r.verifies_with(&secret)), "each attempt signed afresh");
    let updated = &received[3].event["data"];
    let changed: Vec<(&str, &Value)> =
        updated["changes"].as_array().unwrap().iter().map(|c| (c["field"].as_str().unwrap(), &c["newValue"])).collect();
    assert_eq!(changed, [("jobTitle", &json!("Admiral")), ("department", &json!("Navy"))]);
    assert_eq!(updated["user"]["id"], id);
    assert!(updated["by"].as_str().unwrap().starts_with("admin:"));

    let seen =
        deliveries_until(&admin, &endpoint, |d| d.len() == 4 && d.iter().all(|d| d["status"] == "SUCCEEDED")).await;
    let created = seen.iter().find(|d| d["eventType"] == "user.created").unwrap();
    assert_eq!((created["attempts"].clone(), created["responseStatus"].clone()), (json!(3), json!(204)));
    assert_eq!(created["eventId"].as_str(), Some(first_id));
    receiver.stop().await;
    app.stop().await;
}

async fn a_silent_endpoint_times_out_is_flagged_failing_and_holds_up_no_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let answering = Arc::new(AtomicBool::new(false));
    let silent = Receiver::with_policy(Arc::new({
        let answering = answering.clone();
        move |_, _| {
            if answering.load(Ordering::SeqCst) {
                Reply::Status(200)
            } else {
                Reply::Hang(Duration::from_secs(5))
            }
        }
    }))
    .await;
    let healthy = Receiver::accepting().await;
    let (stuck, _) = subscribe(&admin, &silent.url, &["user.created"]).await;
    let (fine, _) = subscribe(&admin, &healthy.url, &["user.created"]).await;
    admin_flow::add_person(&admin, "ada@acme.example", "Ada").await.unwrap();
    admin_flow::add_person(&admin, "alan@acme.example", "Alan").await.unwrap();

    healthy.until(Duration::from_secs(10), |r| r.len() == 2).await;
    let waiting = deliveries_until(&admin, &stuck, |d| {
        d.iter().any(|d| d["attempts"].as_i64() >= Some(2) && d["lastError"].as_str().is_some())
    })
    .await;
    let late = waiting.iter().find(|d| d["attempts"].as_i64() >= Some(2)).unwrap();
    assert_eq!(late["status"], "PENDING", "{late}");
    assert!(late["lastError"].as_str().unwrap().contains("no answer within 1 s"), "{late}");
    assert!(late["nextAttemptAt"].is_string());
    let flagged = |list: &Value, id: &Value| {
        list["webhookEndpoints"].as_array().unwrap().iter().find(|e| e["id"] == *id).unwrap()["failing"].clone()
    };
    let endpoints = admin.execute(&ops::webhook_endpoints(), json!({})).await.unwrap().ok().unwrap();
    assert_eq!((flagged(&endpoints, &stuck["id"]), flagged(&endpoints, &fine["id"])), (json!(true), json!(false)));

    // Back to answering: the retries land and the flag clears.
    answering.store(true, Ordering::SeqCst);
    deliveries_until(&admin, &stuck, |d| d.len() == 2 && d.iter().all(|d| d["status"] == "SUCCEEDED")).await;
    let endpoints = admin.execute(&ops::webhook_endpoints(), json!({})).await.unwrap().ok().unwrap();
    assert_eq!(flagged(&endpoints, &stuck["id"]), json!(false));
    silent.stop().await;
    healthy.stop().await;
    app.stop().await;
}

async fn a_test_webhook_reaches_its_endpoint_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let receiver = Receiver::accepting().await;
    let (endpoint, secret) = subscribe(&admin, &receiver.url, &["sync.failed"]).await;
    let (_, _) = subscribe(&admin, &format!("{}/other", receiver.url), &["sync.failed"]).await;
    let sent = admin.execute(&ops::send_test_webhook(), json!({ "id": endpoint["id"] })).await.unwrap().ok().unwrap();
    let delivery = &sent["sendTestWebhook"];
    assert_eq!((delivery["eventType"].clone(), delivery["status"].clone()), (json!("webhook.test"), json!("PENDING")));
    let received: Vec<Received> = receiver.until(Duration::from_secs(10), |r| !r.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1, "to the endpoint asked, not to the other");
    assert!(received[0].verifies_with(&secret));
    assert_eq!(received[0].event["data"]["endpointId"], endpoint["id"]);
    assert_eq!(received[0].header("webhook-id"), delivery["eventId"].as_str().unwrap());
    let missing = admin.execute(&ops::send_test_webhook(), json!({ "id": uuid::Uuid::nil() })).await.unwrap();
    assert_eq!(missing.error_code(), Some("NOT_FOUND"));
    receiver.stop().await;
    app.stop().await;
}

async fn failures_and_invitations_are_announced(backend: Backend) {
    let refuse: crate::mail_server::Policy = Arc::new(|step, line| {
        (step == "RCPT" && line.contains("refused@")).then(|| "550 5.1.1 no such mailbox here".to_string())
    });
    let app = TestApp::spawn_with(TestOptions { mail: Some(refuse), ..TestOptions::on(backend) }).await;
    let admin = app.admin();
    let receiver = Receiver::accepting().await;
    let events = ["sync.failed", "connection.failed", "invitation.sent", "invitation.failed"];
    let (_, secret) = subscribe(&admin, &receiver.url, &events).await;
    let connection_id = app.connect_and_map(&admin).await;
    assert_eq!(app.sync(&admin, &connection_id).await["status"], "SUCCEEDED");
    app.sandbox.with_tenant("acme", |t| t.key = "a-new-key".into());
    let failed = app.sync(&admin, &connection_id).await;
    assert_eq!(failed["status"], "FAILED");

    let welcome = admin_flow::add_person(&admin, "welcome@example.com", "Wendy").await.unwrap();
    let refused = admin_flow::add_person(&admin, "refused@example.com", "Rufus").await.unwrap();
    let activity = json!({ "userIds": [welcome, refused], "title": "Onboarding" });
    admin.execute(ops::ASSIGN_ACTIVITY, json!({ "input": activity })).await.unwrap().ok().unwrap();

    let received = receiver.until(Duration::from_secs(20), |r| r.len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 4, "{:#?}", receiver.received());
    assert!(received.iter().all(|r| r.verifies_with(&secret)));
    let of = |kind: &str| {
        received.iter().find(|r| r.event_type() == kind).unwrap_or_else(|| panic!("{kind}")).event["data"].clone()
    };
    assert_eq!(of("sync.failed")["run"]["id"], failed["id"]);
    assert_eq!(of("sync.failed")["run"]["status"], "FAILED");
    assert!(of("sync.failed")["run"]["error"].as_str().is_some());
    let connection = of("connection.failed")["connection"].clone();
    assert_eq!(
        (connection["id"].as_str(), connection["status"].as_str()),
        (Some(connection_id.as_str()), Some("FAILED"))
    );
    assert!(connection["statusMessage"].as_str().unwrap().contains("reconnect"), "{connection}");
    assert_eq!(of("invitation.sent")["invitation"]["userId"], welcome);
    assert_eq!(of("invitation.sent")["invitation"]["email"], "welcome@example.com");
    let refusal = of("invitation.failed")["invitation"].clone();
    assert_eq!(refusal["userId"], refused);
    assert!(refusal["error"].as_str().unwrap().contains("550"), "{refusal}");
    receiver.stop().await;
    app.stop().await;
}

crate::on_both_backends!(
    failures_and_invitations_are_announced,
    endpoints_are_managed_and_their_secrets_shown_once,
    a_sync_announces_each_new_person_signed_per_the_specification,
    a_persons_changes_are_announced_in_order_even_through_retries,
    a_silent_endpoint_times_out_is_flagged_failing_and_holds_up_no_other,
    a_test_webhook_reaches_its_endpoint_alone,
);

/// Without `WEBHOOK_ALLOW_PRIVATE`, as in a deployment: https to public addresses only.
#[tokio::test]
async fn endpoints_must_be_https_to_public_addresses() {
    let app =
        TestApp::spawn_with(TestOptions { unset: &["WEBHOOK_ALLOW_PRIVATE"], ..TestOptions::on(Backend::Embedded) })
            .await;
    let admin = app.admin();
    for (url, says) in [
        ("http://hooks.example.com/in", "https"),
        ("https://127.0.0.1:9000/in", "loopback"),
        ("https://[::1]/in", "loopback"),
        ("https://localhost:9000/in", "loopback"),
        ("https://10.0.0.8/in", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:192.168.0.1]/in", "private"),
    ] {
        let input = json!({ "url": url, "events": ["user.created"] });
        let answer = admin.execute(&ops::create_webhook_endpoint(), json!({ "input": input })).await.unwrap();
        assert_eq!(answer.error_code(), Some("VALIDATION_FAILED"), "{url}");
        assert_eq!(answer.error_extension("field"), Some(&json!("input.url")), "{url}");
        let message = answer.errors[0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    app.stop().await;
}
