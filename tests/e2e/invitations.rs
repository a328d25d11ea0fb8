//! Invitations, as an admin (or the compliance product) assigns work: the first activity of a
//! person invites them by email through a real SMTP server, once; a busy server is retried, a
//! refusal ends FAILED and can be resent; inactive people and syncs never send anything.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use directory_sync::admin_flow;
use directory_sync::client::GraphqlClient;
use directory_sync::operations as ops;

use crate::helpers::{person, Backend, TestApp, TestOptions};
use crate::mail_server::{MailServer, Policy};

async fn assign(client: &GraphqlClient, user_ids: &[&Value], title: &str) -> directory_sync::client::GraphqlResponse {
    let input = json!({ "userIds": user_ids, "title": title, "dueDate": "2026-12-24" });
    client.execute(ops::ASSIGN_ACTIVITY, json!({ "input": input })).await.unwrap()
}

async fn invitation(client: &GraphqlClient, id: &Value) -> Value {
    admin_flow::invitation(client, id).await.unwrap()
}

/// The person once their invitation status is `status` (within 20 s).
async fn until_status(client: &GraphqlClient, id: &Value, status: &str) -> Value {
    let reached = |p: &Value| p["invitationStatus"] == status;
    let person = admin_flow::watch_invitation(client, id, Duration::from_secs(20), reached).await.unwrap();
    assert!(reached(&person), "{id} became {status}: {person}");
    person
}

/// Synced people (`count` active ones and one leaver), and their connection.
async fn synced_people(app: &TestApp, client: &GraphqlClient, count: usize) -> (Vec<Value>, Value, String) {
    let connection_id = app.connect_and_map(client).await;
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(2).leave());
    app.sync(client, &connection_id).await;
    let users = app.users(client).await;
    let with_email = |u: &&Value| u["email"].as_str().is_some_and(|e| e.contains('@'));
    let active = users.iter().filter(|u| u["employmentStatus"] == "ACTIVE").filter(with_email).take(count).cloned();
    let inactive = users.iter().find(|u| u["employmentStatus"] == "INACTIVE").expect("a leaver").clone();
    (active.collect(), inactive, connection_id)
}

fn mail(app: &TestApp) -> &MailServer {
    app.mail.as_ref().expect("the test's mail server")
}

async fn the_first_activity_invites_once_by_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let (people, leaver, connection_id) = synced_people(&app, &admin, 3).await;
    assert!(mail(&app).received().is_empty(), "a sync sends nothing");
    let ids: Vec<&Value> = people.iter().map(|p| &p["id"]).chain([&leaver["id"]]).collect();

    let assigned = assign(&admin, &ids, "Security & privacy training").await.ok().unwrap();
    let assignments = assigned["assignActivity"].as_array().unwrap();
    assert_eq!(assignments.len(), 4);
    assert_eq!(assignments[0]["user"]["id"], people[0]["id"]);
    assert_eq!(assignments[0]["dueDate"], "2026-12-24");
    for person in &people {
        let invited = until_status(&admin, &person["id"], "INVITED").await;
        assert!(invited["invitedAt"].is_string() && invited["invitationError"].is_null(), "{invited}");
    }
    let received = mail(&app).received();
    assert_eq!(received.len(), 3, "one message each, none for the leaver");
    for person in &people {
        let email = person["email"].as_str().unwrap();
        let message = received.iter().find(|m| m.to == [format!("<{email}>")]).expect("a message to each person");
        assert_eq!(message.from, "<no-reply@localhost>", "the envelope sender is SMTP_FROM");
        assert_eq!(message.login, Some(("directory-sync".into(), "p@ss".into())), "signed in as SMTP_URL says");
        let parsed = message.parsed();
        let to = parsed.to().and_then(|to| to.first()).expect("a To header");
        assert_eq!((to.name(), to.address()), (person["displayName"].as_str(), Some(email)));
        let from = parsed.from().and_then(|from| from.first()).expect("a From header");
        assert_eq!((from.name(), from.address()), (Some("directory-sync"), Some("no-reply@localhost")));
        let subject = parsed.subject().unwrap_or_default();
        assert!(subject.starts_with(&app.workspace) && subject.contains("Security & privacy training"), "{subject}");
        let (text, html) = (parsed.body_text(0).expect("a text part"), parsed.body_html(0).expect("an HTML part"));
        let encoded: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
        let link = format!("https://app.example/join?email={encoded}");
        assert!(text.contains(&link) && html.contains(&link), "the sign-in link: {text}");
        assert!(text.contains("Security & privacy training (due 2026-12-24)"), "{text}");
        assert!(html.contains("Security &amp; privacy training"), "escaped: {html}");
        let title = person["jobTitle"].as_str().unwrap_or("\u{0}");
        assert!(!text.contains(title) && !html.contains(title), "no employee data beyond name and email: {text}");
    }
    assert_eq!(invitation(&admin, &leaver["id"]).await["invitationStatus"], "NOT_INVITED", "inactive: never");

    let again = assign(&admin, &[&people[0]["id"]], "Code of conduct").await.ok().unwrap();
    assert_eq!(again["assignActivity"].as_array().unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(mail(&app).received().len(), 3, "a second activity sends nothing");
    let first = invitation(&admin, &people[0]["id"]).await;
    let titles: Vec<&str> =
        first["activities"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Code of conduct", "Security & privacy training"], "newest first");

    // A sync over invited people leaves their invitations be.
    let remote_id = person(&admin, &people[1]["id"]).await["source"]["remoteId"].as_str().unwrap().parse().unwrap();
    app.sandbox.with_tenant("acme", |t| t.company.employee_mut(remote_id).job_title = "Renamed".into());
    app.sync(&admin, &connection_id).await;
    let after_sync = invitation(&admin, &people[1]["id"]).await;
    assert_eq!((&after_sync["invitationStatus"], mail(&app).received().len()), (&json!("INVITED"), 3));

    // Two first activities at once invite once.
    let dana = admin_flow::add_person(&admin, "dana@example.com", "Dana").await.unwrap();
    let only_dana = [&dana];
    let (one, two) = tokio::join!(assign(&admin, &only_dana, "A"), assign(&admin, &only_dana, "B"));
    assert!(one.ok().is_ok() && two.ok().is_ok());
    until_status(&admin, &dana, "INVITED").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let to_dana = mail(&app).received().iter().filter(|m| m.to == ["<dana@example.com>"]).count();
    assert_eq!(to_dana, 1);

    let member = app.member();
    assert_eq!(assign(&member, &[&people[0]["id"]], "x").await.error_code(), Some("FORBIDDEN"));
    let unknown = assign(&admin, &[&json!(uuid::Uuid::now_v7().to_string())], "x").await;
    assert_eq!(unknown.error_extension("field"), Some(&json!("input.userIds")));
    let blank = assign(&admin, &[&people[0]["id"]], "  ").await;
    assert_eq!(blank.error_extension("field"), Some(&json!("input.title")));
    let resend = admin.execute(ops::RESEND_INVITATION, json!({ "id": leaver["id"] })).await.unwrap();
    assert_eq!(resend.error_extension("field"), Some(&json!("userId")), "inactive people are not invited");
    app.stop().await;
}

/// A server that asks the first message to `busy@` to wait (451), counting its tries, and
/// refuses every message to `refused@` (550) while `refusing`.
fn fussy_server(busy_tries: Arc<AtomicUsize>, refusing: Arc<AtomicBool>) -> Policy {
    Arc::new(move |step, line| match step {
        "RCPT" if line.contains("busy@") && busy_tries.fetch_add(1, Ordering::SeqCst) == 0 => {
            Some("451 4.3.2 try again later".into())
        }
        "RCPT" if line.contains("refused@") && refusing.load(Ordering::SeqCst) => {
            Some("550 5.1.1 no such mailbox here".into())
        }
        _ => None,
    })
}

async fn a_busy_server_is_retried_and_a_refusal_fails_until_resent(backend: Backend) {
    let (busy_tries, refusing) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(true)));
    let options =
        TestOptions { mail: Some(fussy_server(busy_tries.clone(), refusing.clone())), ..TestOptions::on(backend) };
    let app = TestApp::spawn_with(options).await;
    let admin = app.admin();
    let busy = admin_flow::add_person(&admin, "busy@example.com", "Pat").await.unwrap();
    let refused = admin_flow::add_person(&admin, "refused@example.com", "Pat").await.unwrap();
    assign(&admin, &[&busy, &refused], "Onboarding").await.ok().unwrap();

    let delivered = until_status(&admin, &busy, "INVITED").await;
    assert!(delivered["invitationError"].is_null(), "{delivered}");
    assert_eq!(busy_tries.load(Ordering::SeqCst), 2, "asked to wait, tried again");
    let failed = until_status(&admin, &refused, "FAILED").await;
    assert!(failed["invitationError"].as_str().unwrap().contains("550"), "the server's reason: {failed}");
    let to = |m: &crate::mail_server::Received| m.to.join(",");
    assert_eq!(mail(&app).received().iter().map(to).collect::<Vec<_>>(), ["<busy@example.com>"], "once, after the 451");

    refusing.store(false, Ordering::SeqCst);
    let resent = admin.execute(ops::RESEND_INVITATION, json!({ "id": refused })).await.unwrap().ok().unwrap();
    assert_eq!(resent["resendInvitation"]["invitationStatus"], "PENDING");
    until_status(&admin, &refused, "INVITED").await;
    assert_eq!(mail(&app).received().len(), 2);
    let never_invited = admin_flow::add_person(&admin, "new@example.com", "Pat").await.unwrap();
    let resent = admin.execute(ops::RESEND_INVITATION, json!({ "id": never_invited })).await.unwrap();
    assert_eq!(resent.error_code(), Some("VALIDATION_FAILED"), "never invited: assign first");
    app.stop().await;
}

async fn a_large_sync_sends_no_mail(backend: Backend) {
    let options = TestOptions { employees: 10_000, page_size: 1000, ..TestOptions::on(backend) };
    let app = TestApp::spawn_with(options).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert!(run["created"].as_i64().unwrap() > 9_000, "{run}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mail(&app).received().len(), 0, "zero messages");
    let users = app.users(&admin).await;
    assert!(users.iter().all(|u| u["invitationStatus"] == "NOT_INVITED"), "nobody invited");
    app.stop().await;
}

/// Embedded mode without `SMTP_URL`: the message is written where the demo shows it.
#[tokio::test]
async fn without_a_mail_server_invitations_are_written_to_the_data_directory() {
    let app = TestApp::spawn_with(TestOptions { mail: None, ..TestOptions::on(Backend::Embedded) }).await;
    let admin = app.admin();
    let eve = admin_flow::add_person(&admin, "eve@example.com", "Eve").await.unwrap();
    assign(&admin, &[&eve], "Welcome").await.ok().unwrap();
    until_status(&admin, &eve, "INVITED").await;
    let outbox = app.data_dir.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|f| f.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read(&files[0]).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).expect("an .eml file");
    let to = message.to().and_then(|to| to.first()).expect("a To header");
    assert_eq!((to.name(), to.address()), (Some("Eve"), Some("eve@example.com")));
    assert!(message.body_text(0).unwrap().contains("Welcome"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    app.stop().await;
}

crate::on_both_backends!(
    the_first_activity_invites_once_by_email,
    a_busy_server_is_retried_and_a_refusal_fails_until_resent,
    a_large_sync_sends_no_mail,
);
