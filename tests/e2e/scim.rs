//! SCIM 2.0 through the public API: an admin connects "SCIM (Okta, Entra ID, …)" over GraphQL,
//! and an identity provider pushes users and groups over HTTP the way Okta and Entra ID do,
//! quirks included; the people appear in the directory with their history, the guard holds a
//! mass deactivation, one person from SCIM and BambooHR is one person, tokens are checked and
//! rotated, bad filters are refused, a group PATCH of ten thousand members is quick, and a
//! published conformance tester (scim2-tester) passes every check it makes.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::client::GraphqlClient;

use crate::helpers::{person, Backend, TestApp, TestOptions};

const CONNECT: &str = r#"mutation { connectScim(adminConfirmed: true, termsAccepted: true) {
  baseUrl token connection { id authMethod provider { id category } } } }"#;
const ROTATE: &str = r#"mutation($id: ID!) { rotateScimToken(connectionId: $id) { baseUrl token } }"#;
const CONFIRM: &str =
    r#"mutation($id: ID!) { confirmScimDeactivations(connectionId: $id) { id scim { heldDeactivations } } }"#;
const CARD: &str = r#"query($id: ID!) { connection(id: $id) { scim { baseUrl heldDeactivations
  activity { day requests changes errors } lastRequestAt lastError } } }"#;
const HISTORY: &str =
    r#"query($id: ID!) { user(id: $id) { history(first: 20) { field oldValue newValue by } sources { remoteId } } }"#;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM client, as an identity provider is one.
struct Idp {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// A SCIM answer: its status, headers and JSON body (null when empty).
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn scim_type(&self) -> Option<&str> {
        self.body["scimType"].as_str()
    }
}

impl Idp {
    fn new(base: &str, token: &str) -> Self {
        Self { http: reqwest::Client::new(), base: base.to_string(), token: token.to_string() }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/scim+json; charset=utf-8");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        if !text.is_empty() {
            let content_type = headers.get("content-type").unwrap().to_str().unwrap();
            assert!(content_type.starts_with("application/scim+json"), "{path}: {content_type}");
        }
        Answer { status, headers, body }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn patch(&self, path: &str, operations: Value) -> Answer {
        self.send(Method::PATCH, path, Some(json!({ "schemas": [PATCH_OP], "Operations": operations })), &[]).await
    }

    /// Creates a user as Okta does (its documented body), answering its SCIM id.
    async fn create_user(&self, user_name: &str, given: &str, family: &str) -> String {
        let created = self.post("/Users", okta_user(user_name, given, family)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body["id"].as_str().unwrap().to_string()
    }

    async fn list(&self, query: &str) -> Answer {
        self.get(&format!("/Users?{query}")).await
    }
}

fn okta_user(user_name: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": { "givenName": given, "familyName": family },
        "emails": [{ "primary": true, "value": user_name, "type": "work" }],
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": format!("00u{}", given.to_lowercase()),
        "groups": [],
        "password": "1mz050nq",
        "active": true,
    })
}

fn encoded(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}

/// Connects SCIM over GraphQL and confirms its suggested mapping; answers the connection id and
/// the identity provider's client.
async fn connected(app: &TestApp, admin: &GraphqlClient) -> (String, Idp) {
    let data = admin.execute(CONNECT, json!({})).await.unwrap().ok().unwrap()["connectScim"].clone();
    let id = data["connection"]["id"].as_str().unwrap().to_string();
    assert_eq!(data["connection"]["authMethod"], "PUSH");
    assert_eq!(data["connection"]["provider"], json!({ "id": "scim", "category": "IDENTITY" }));
    let base = data["baseUrl"].as_str().unwrap();
    assert_eq!(base, format!("{}/scim/v2/{id}", app.url));
    app.confirm_mapping(admin, &id, None).await;
    (id, Idp::new(base, data["token"].as_str().unwrap()))
}

async fn user_by_email(app: &TestApp, admin: &GraphqlClient, email: &str) -> Value {
    let users = app.users_by_email(admin).await;
    let found = users.get(email).unwrap_or_else(|| panic!("{email} is not in the directory"));
    person(admin, &found["id"]).await
}

async fn an_identity_provider_pushes_people_into_the_directory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let (connection_id, idp) = connected(&app, &admin).await;

    // Okta looks the user up before creating them.
    let none =
        idp.list(&format!("filter={}&startIndex=1&count=100", encoded(r#"userName eq "grace@acme.test""#))).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(none.body["Resources"], json!([]));

    let boss = idp.create_user("grace@acme.test", "Grace", "Hopper").await;
    let created = idp.post("/Users", okta_user("ada@acme.test", "Ada", "Lovelace")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let ada = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.headers["location"].to_str().unwrap(), format!("{}/Users/{ada}", idp.base));
    assert_eq!(created.headers["etag"].to_str().unwrap(), created.body["meta"]["version"].as_str().unwrap());
    assert!(created.body.get("password").is_none(), "a password is never kept nor returned");
    assert_eq!(created.body["meta"]["resourceType"], "User");

    // The same userName in another case is taken.
    let twice = idp.post("/Users", okta_user("ADA@acme.test", "Ada", "Again")).await;
    assert_eq!((twice.status, twice.scim_type()), (StatusCode::CONFLICT, Some("uniqueness")));

    let found = idp.list(&format!("filter={}", encoded(r#"userName eq "Ada@Acme.test""#))).await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], json!(ada));
    let by_email = idp.list(&format!("filter={}", encoded(r#"emails co "@acme.test" and active eq true"#))).await;
    assert_eq!(by_email.body["totalResults"], 2);
    let paged = idp.list("startIndex=2&count=1").await;
    assert_eq!((paged.body["totalResults"].clone(), paged.body["itemsPerPage"].clone()), (json!(2), json!(1)));
    assert_eq!(paged.body["Resources"][0]["id"], json!(ada), "oldest first, from the 1-based start");

    // The person is in the directory, by the mapping, with a history by the connection.
    let profile = user_by_email(&app, &admin, "ada@acme.test").await;
    assert_eq!((profile["firstName"].clone(), profile["lastName"].clone()), (json!("Ada"), json!("Lovelace")));
    assert_eq!(profile["employmentStatus"], "ACTIVE");
    let history = admin.execute(HISTORY, json!({ "id": profile["id"] })).await.unwrap().ok().unwrap();
    let entries = history["user"]["history"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["by"] == format!("scim:{connection_id}")), "{entries:?}");
    assert_eq!(history["user"]["sources"][0]["remoteId"], json!(ada));

    // Entra ID: capitalised ops, a string boolean's opposite, a PATCH without a path carrying
    // dotted names, the enterprise manager as a bare string.
    let patched = idp
        .patch(
            &format!("/Users/{ada}"),
            json!([
                { "op": "Replace", "path": "title", "value": "Analyst" },
                { "op": "Add", "value": { "name.familyName": "King", format!("{ENTERPRISE}:department"): "Engines" } },
                { "op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": boss },
                { "op": "Replace", "path": "active", "value": "True" },
            ]),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body[ENTERPRISE]["manager"]["value"], json!(boss));
    let profile = user_by_email(&app, &admin, "ada@acme.test").await;
    assert_eq!(profile["jobTitle"], "Analyst");
    assert_eq!(profile["lastName"], "King");
    assert_eq!(profile["department"], "Engines");
    assert_eq!(profile["manager"]["email"], "grace@acme.test", "the manager by SCIM id");

    // A value path, and Okta's PUT of the whole user.
    let mut whole = idp.get(&format!("/Users/{ada}")).await.body;
    whole["title"] = json!("Countess");
    let put = idp.send(Method::PUT, &format!("/Users/{ada}"), Some(whole), &[]).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let emails = idp
        .patch(
            &format!("/Users/{ada}"),
            json!([{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.test" }]),
        )
        .await;
    assert_eq!(emails.body["emails"][0]["value"], "ada@new.test");
    assert_eq!(user_by_email(&app, &admin, "ada@acme.test").await["jobTitle"], "Countess");

    // Okta may name the manager by their externalId.
    let alan = idp
        .post(
            "/Users",
            json!({ "userName": "alan@acme.test", "externalId": "E-77",
        ENTERPRISE: { "manager": { "value": "00ugrace" } } }),
        )
        .await;
    assert_eq!(alan.status, StatusCode::CREATED);
    assert_eq!(user_by_email(&app, &admin, "alan@acme.test").await["manager"]["email"], "grace@acme.test");

    // If-Match: a stale version is refused.
    let stale = idp
        .send(
            Method::PATCH,
            &format!("/Users/{ada}"),
            Some(json!({ "Operations": [{ "op": "replace", "path": "title", "value": "x" }] })),
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);

    // Groups: created with members, shown on the member, members added and removed.
    let group = idp.post("/Groups", json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering", "members": [{ "value": ada }] })).await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let group_id = group.body["id"].as_str().unwrap().to_string();
    assert_eq!(idp.get(&format!("/Users/{ada}")).await.body["groups"][0]["display"], "Engineering");
    let ada_id = app.users_by_email(&admin).await["ada@acme.test"]["id"].clone();
    let groups = admin.execute("query($id: ID!) { user(id: $id) { groups } }", json!({ "id": ada_id })).await.unwrap();
    assert_eq!(groups.ok().unwrap()["user"]["groups"], json!(["Engineering"]), "the person's groups in the directory");
    let added = idp
        .patch(
            &format!("/Groups/{group_id}"),
            json!([{ "op": "Add", "path": "members", "value": [{ "value": boss }] }]),
        )
        .await;
    assert_eq!(added.body["members"].as_array().unwrap().len(), 2);
    assert_ne!(added.body["meta"]["version"], group.body["meta"]["version"], "a members-only change is a new version");
    let removed = idp
        .patch(
            &format!("/Groups/{group_id}"),
            json!([{ "op": "remove", "path": format!("members[value eq \"{ada}\"]") }]),
        )
        .await;
    assert_eq!(
        removed.body["members"],
        json!([{ "value": boss, "$ref": format!("{}/Users/{boss}", idp.base), "type": "User" }])
    );
    let unknown = idp
        .patch(
            &format!("/Groups/{group_id}"),
            json!([{ "op": "add", "path": "members", "value": [{ "value": "00000000-0000-0000-0000-000000000000" }] }]),
        )
        .await;
    assert_eq!((unknown.status, unknown.scim_type()), (StatusCode::BAD_REQUEST, Some("invalidValue")));
    let by_name = idp
        .get(&format!("/Groups?excludedAttributes=members&filter={}", encoded(r#"displayName eq "engineering""#)))
        .await;
    assert_eq!(by_name.body["totalResults"], 1);
    assert!(by_name.body["Resources"][0].get("members").is_none());

    // DELETE: gone for the provider, inactive (never removed) in the directory.
    let deleted = idp.send(Method::DELETE, &format!("/Users/{ada}"), None, &[]).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = idp.get(&format!("/Users/{ada}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(user_by_email(&app, &admin, "ada@acme.test").await["employmentStatus"], "INACTIVE");
    // Entra deletes, and later creates the same person again under a new id: a rehire.
    let again = idp.create_user("ada@acme.test", "Ada", "Lovelace").await;
    assert_ne!(again, ada);
    let back = user_by_email(&app, &admin, "ada@acme.test").await;
    assert_eq!((back["employmentStatus"].clone(), back["id"].clone()), (json!("ACTIVE"), profile["id"].clone()));

    // Entra disables first, deletes later, and may create the person again: a rehire too.
    let kay = idp.create_user("kay@acme.test", "Kay", "Ant").await;
    idp.patch(&format!("/Users/{kay}"), json!([{ "op": "Replace", "path": "active", "value": "False" }])).await;
    assert_eq!(idp.send(Method::DELETE, &format!("/Users/{kay}"), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(user_by_email(&app, &admin, "kay@acme.test").await["employmentStatus"], "INACTIVE");
    idp.create_user("kay@acme.test", "Kay", "Ant").await;
    assert_eq!(user_by_email(&app, &admin, "kay@acme.test").await["employmentStatus"], "ACTIVE");

    // Bad requests are typed SCIM errors.
    let bad = idp.list(&format!("filter={}", encoded(r#"userName eq "x" or 1 eq 1"#))).await;
    assert_eq!((bad.status, bad.scim_type()), (StatusCode::BAD_REQUEST, Some("invalidFilter")));
    let nested = format!("{}userName eq \"x\"{}", "not (".repeat(40), ")".repeat(40));
    assert_eq!(idp.list(&format!("filter={}", encoded(&nested))).await.scim_type(), Some("invalidFilter"));
    let long = format!("userName eq \"{}\"", "x".repeat(10_000));
    let started = Instant::now();
    assert_eq!(idp.list(&format!("filter={}", encoded(&long))).await.scim_type(), Some("invalidFilter"));
    assert!(started.elapsed() < Duration::from_secs(2), "a long filter is refused before it is read");
    let not_json = idp.send(Method::POST, "/Users", None, &[]).await;
    assert_eq!(not_json.scim_type(), Some("invalidSyntax"));
    // A user whose userName is no email is kept, but is nobody in the directory: the card says so.
    let service = idp.post("/Users", json!({ "userName": "svc-backup" })).await;
    assert_eq!(service.status, StatusCode::CREATED, "one unusable user does not fail the provider's run");
    assert!(!app.users_by_email(&admin).await.keys().any(|e| e.contains("svc-backup")));
    let card = admin.execute(CARD, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let last_error = card["connection"]["scim"]["lastError"].as_str().unwrap();
    assert!(last_error.contains("svc-backup") && last_error.contains("INVALID_EMAIL"), "{last_error}");
    let no_name = idp.post("/Users", json!({ "name": { "givenName": "Nobody" } })).await;
    assert_eq!((no_name.status, no_name.scim_type()), (StatusCode::BAD_REQUEST, Some("invalidValue")));
    let bad_path = idp
        .patch(&format!("/Users/{boss}"), json!([{ "op": "replace", "path": "emails[type eq", "value": "x" }]))
        .await;
    assert_eq!(bad_path.scim_type(), Some("invalidPath"));

    // Limits: at most 200 a page, whatever is asked; a body over 4 MiB is refused in SCIM's words.
    let clamped = idp.list("count=100000").await;
    assert_eq!(clamped.status, StatusCode::OK);
    assert!(clamped.body["itemsPerPage"].as_u64().unwrap() <= 200);
    let huge = json!({ "userName": "big@acme.test", "title": "x".repeat(5 * 1024 * 1024) });
    let refused = idp.post("/Users", huge).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(refused.body["status"], "413");

    // Discovery.
    let config = idp.get("/ServiceProviderConfig").await.body;
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 200);
    assert_eq!(idp.get("/ResourceTypes").await.body["totalResults"], 2);
    assert_eq!(idp.get(&format!("/Schemas/{ENTERPRISE}")).await.status, StatusCode::OK);
    assert_eq!(idp.send(Method::DELETE, "/Schemas", None, &[]).await.status, StatusCode::METHOD_NOT_ALLOWED);

    // The card shows the activity, errors included.
    let card = admin.execute(CARD, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let scim = &card["connection"]["scim"];
    assert_eq!(scim["baseUrl"], json!(idp.base));
    let today = &scim["activity"][0];
    assert!(today["requests"].as_i64().unwrap() >= 20 && today["changes"].as_i64().unwrap() >= 8, "{today}");
    assert!(today["errors"].as_i64().unwrap() >= 5, "{today}");
    assert!(scim["lastError"].is_string());
    app.stop().await;
}

async fn tokens_are_checked_and_rotated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let (connection_id, idp) = connected(&app, &admin).await;
    assert_eq!(idp.get("/Users").await.status, StatusCode::OK);

    let wrong = Idp::new(&idp.base, "dsscim_not-the-token");
    let refused = wrong.get("/Users").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers["www-authenticate"], "Bearer");

    // Another workspace's connection, asked with this workspace's valid token: not found.
    let other = app.client_for(&crate::helpers::unique("other"), Role::Admin, Plan::Paid);
    let (_, other_idp) = connected(&app, &other).await;
    other_idp.create_user("secret@other.test", "Secret", "Person").await;
    let elsewhere = Idp::new(&other_idp.base, &idp.token);
    let answer = elsewhere.get("/Users").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(!answer.body.to_string().contains("secret@other.test"));

    let rotated = admin.execute(ROTATE, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    let new_token = rotated["rotateScimToken"]["token"].as_str().unwrap();
    assert_ne!(new_token, idp.token);
    assert_eq!(idp.get("/Users").await.status, StatusCode::UNAUTHORIZED, "the old token stops at once");
    assert_eq!(Idp::new(&idp.base, new_token).get("/Users").await.status, StatusCode::OK);

    // A member may not connect; a non-SCIM connection has no token.
    let refused = app.member().execute(CONNECT, json!({})).await.unwrap();
    assert_eq!(refused.error_code(), Some("FORBIDDEN"));
    let bamboo = app.connect(&admin).await;
    let not_scim = admin.execute(ROTATE, json!({ "id": bamboo })).await.unwrap();
    assert_eq!(not_scim.error_code(), Some("VALIDATION_FAILED"));
    app.stop().await;
}

async fn a_mass_deactivation_is_held_for_the_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let (connection_id, idp) = connected(&app, &admin).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(idp.create_user(&format!("p{n}@acme.test"), &format!("P{n}"), "Person").await);
    }
    // A misconfigured assignment: Okta deactivates everyone, one request at a time.
    for id in &ids {
        let answer =
            idp.patch(&format!("/Users/{id}"), json!([{ "op": "replace", "value": { "active": false } }])).await;
        assert_eq!(answer.status, StatusCode::OK, "the provider is not refused: {}", answer.body);
        assert_eq!(answer.body["active"], false);
    }
    let users = app.users(&admin).await;
    let active = users.iter().filter(|u| u["employmentStatus"] == "ACTIVE").count();
    // Nine is within the guard's 20% of 30 (fewer than its minimum of ten); the tenth is not.
    assert_eq!(active, 21, "{users:?}");
    let card = admin.execute(CARD, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(card["connection"]["scim"]["heldDeactivations"], 21);
    // A later write of a held user (a retry, a title) does not apply the deactivation unasked.
    let last = ids.last().unwrap();
    idp.patch(&format!("/Users/{last}"), json!([{ "op": "replace", "path": "title", "value": "Still here" }])).await;
    idp.patch(&format!("/Users/{last}"), json!([{ "op": "replace", "value": { "active": false } }])).await;
    let users = app.users(&admin).await;
    assert_eq!(users.iter().filter(|u| u["employmentStatus"] == "ACTIVE").count(), 21);

    let confirmed = admin.execute(CONFIRM, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(confirmed["confirmScimDeactivations"]["scim"]["heldDeactivations"], 0);
    let users = app.users(&admin).await;
    assert!(users.iter().all(|u| u["employmentStatus"] == "INACTIVE"), "{users:?}");
    app.stop().await;
}

async fn one_person_from_scim_and_an_hr_system(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let bamboo = app.connect_and_map(&admin).await;
    app.sync(&admin, &bamboo).await;
    let before = app.users(&admin).await;
    let employee = before.iter().find(|u| u["employmentStatus"] == "ACTIVE").unwrap().clone();
    let email = employee["email"].as_str().unwrap();

    let (_, idp) = connected(&app, &admin).await;
    let id = idp.create_user(email, "Someone", "Else").await;
    let after = app.users(&admin).await;
    assert_eq!(after.len(), before.len(), "joined by email, not a second person");
    let history = admin.execute(HISTORY, json!({ "id": employee["id"] })).await.unwrap().ok().unwrap();
    let remote_ids: Vec<&str> =
        history["user"]["sources"].as_array().unwrap().iter().map(|s| s["remoteId"].as_str().unwrap()).collect();
    assert!(remote_ids.contains(&id.as_str()) && remote_ids.len() == 2, "{remote_ids:?}");
    // BambooHR's names win over the identity provider's.
    let profile = person(&admin, &employee["id"]).await;
    assert_ne!(profile["firstName"], "Someone");
    assert_eq!(profile["email"], json!(email));
    app.stop().await;
}

async fn a_group_patch_of_ten_thousand_members_is_quick(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions {
        settings: &[("API_SCIM_REQUESTS_PER_MINUTE", "1000000")],
        ..TestOptions::on(backend)
    })
    .await;
    let admin = app.admin();
    // Users stored before the mapping is confirmed: the directory is filled by the first sync.
    let data = admin.execute(CONNECT, json!({})).await.unwrap().ok().unwrap()["connectScim"].clone();
    let idp = std::sync::Arc::new(Idp::new(data["baseUrl"].as_str().unwrap(), data["token"].as_str().unwrap()));
    let mut ids = Vec::new();
    let chunks: Vec<Vec<usize>> = (0..10_000).collect::<Vec<_>>().chunks(625).map(<[usize]>::to_vec).collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let idp = idp.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in chunk {
                ids.push(idp.create_user(&format!("m{n}@big.test"), "M", &n.to_string()).await);
            }
            ids
        }));
    }
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    let group = idp.post("/Groups", json!({ "displayName": "Everyone" })).await;
    let group_id = group.body["id"].as_str().unwrap().to_string();
    let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
    let started = Instant::now();
    let added = idp
        .send(
            Method::PATCH,
            &format!("/Groups/{group_id}?excludedAttributes=members"),
            Some(
                json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "Add", "path": "members", "value": members }] }),
            ),
            &[],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(added.status, StatusCode::OK);
    println!("{backend:?}: adding 10,000 members took {took:?}");
    assert!(took < Duration::from_secs(1), "adding 10,000 members took {took:?}");
    let listed = idp.get(&format!("/Groups/{group_id}")).await;
    assert_eq!(listed.body["members"].as_array().unwrap().len(), 10_000);
    let started = Instant::now();
    let removed = idp
        .patch(&format!("/Groups/{group_id}"), json!([{ "op": "Remove", "path": "members", "value": members }]))
        .await;
    let took = started.elapsed();
    println!("{backend:?}: removing 10,000 members took {took:?}");
    assert!(took < Duration::from_secs(1), "removing 10,000 members took {took:?}");
    assert_eq!(removed.body["members"], json!([]));
    app.stop().await;
}

/// Each token has its own request rate: over it, 429 with Retry-After (which Okta and Entra ID
/// wait out), and other connections are not slowed.
#[tokio::test]
async fn a_tokens_request_rate_is_bounded() {
    let settings = &[("API_SCIM_REQUESTS_PER_MINUTE", "6")];
    let app = TestApp::spawn_with(TestOptions { settings, ..TestOptions::on(Backend::Embedded) }).await;
    let admin = app.admin();
    let (_, idp) = connected(&app, &admin).await;
    let (_, other) = connected(&app, &admin).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(idp.get("/Users").await);
    }
    let limited = statuses.iter().find(|a| a.status == StatusCode::TOO_MANY_REQUESTS).expect("a 429");
    let retry_after: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.body["status"], "429");
    assert_eq!(other.get("/Users").await.status, StatusCode::OK, "another token's allowance is its own");
    app.stop().await;
}

/// A pushed change is announced like a synced one: created, updated and deactivated, signed.
async fn pushed_changes_fire_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let receiver = crate::webhook_receiver::Receiver::accepting().await;
    let events = ["user.created", "user.updated", "user.deactivated"];
    let input = json!({ "url": receiver.url, "events": events, "description": "compliance" });
    let made = admin.execute(&directory_sync::operations::create_webhook_endpoint(), json!({ "input": input })).await;
    let secret = made.unwrap().ok().unwrap()["createWebhookEndpoint"]["secret"].as_str().unwrap().to_string();
    let (_, idp) = connected(&app, &admin).await;
    // Two people: deactivating the only one would be everyone, which the guard holds.
    idp.create_user("alan@acme.test", "Alan", "Turing").await;
    let id = idp.create_user("hedy@acme.test", "Hedy", "Lamarr").await;
    idp.patch(&format!("/Users/{id}"), json!([{ "op": "Replace", "path": "title", "value": "Inventor" }])).await;
    idp.patch(&format!("/Users/{id}"), json!([{ "op": "Replace", "path": "active", "value": "False" }])).await;
    let received = receiver.until(Duration::from_secs(20), |r| r.len() >= 4).await;
    let hedy: Vec<_> = received.iter().filter(|r| r.body.contains("hedy@acme.test")).collect();
    let types: Vec<&str> = hedy.iter().map(|r| r.event_type()).collect();
    assert_eq!(types, events, "one person's events in order");
    assert!(received.iter().all(|r| r.verifies_with(&secret)));
    assert!(hedy.iter().all(|r| r.body.contains(r#""by":"scim:"#)), "{:?}", hedy[0].body);
    receiver.stop().await;
    app.stop().await;
}

crate::on_both_backends!(
    a_published_conformance_tester_passes,
    pushed_changes_fire_webhooks,
    an_identity_provider_pushes_people_into_the_directory,
    tokens_are_checked_and_rotated,
    a_mass_deactivation_is_held_for_the_admin,
    one_person_from_scim_and_an_hr_system,
    a_group_patch_of_ten_thousand_members_is_quick,
);

/// The published conformance tester scim2-tester (python-scim), installed by this test into a
/// virtual environment in the temporary directory, runs every check it makes against the server;
/// every one passes or is skipped for a reason it prints.
async fn a_published_conformance_tester_passes(backend: Backend) {
    let venv = tokio::task::spawn_blocking(conformance_venv).await.unwrap();
    // The tester sends its checks as fast as it can and does not wait out a 429.
    let settings = &[("API_SCIM_REQUESTS_PER_MINUTE", "1000000")];
    let app = TestApp::spawn_with(TestOptions { settings, ..TestOptions::on(backend) }).await;
    let admin = app.admin();
    let (_, idp) = connected(&app, &admin).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scim/conformance.py");
    let output = tokio::process::Command::new(venv.join("bin/python"))
        .args([script, &idp.base, &idp.token])
        .output()
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "scim2-tester failed:\n{report}");
    assert!(report.contains("CONFORMANCE: PASS"));
    app.stop().await;
}

/// A virtual environment with scim2-tester, made once per machine (pip from PyPI).
fn conformance_venv() -> std::path::PathBuf {
    let cache = std::env::var("SCIM_TESTER_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("directory-sync-scim2-tester-0.5.2"));
    let python = cache.join("bin/python");
    let ready = cache.join(".installed");
    if !ready.exists() {
        let lock = std::fs::File::create(std::env::temp_dir().join("directory-sync-scim2-tester.lock")).unwrap();
        let _guard = FileLock::new(lock);
        if !ready.exists() {
            let run = |program: &std::path::Path, args: &[&str]| {
                let status = std::process::Command::new(program).args(args).status().unwrap();
                assert!(status.success(), "{} {args:?} failed", program.display());
            };
            run(std::path::Path::new("python3"), &["-m", "venv", cache.to_str().unwrap()]);
            run(&python, &["-m", "pip", "install", "--quiet", "scim2-tester[httpx2]==0.5.2"]);
            std::fs::write(&ready, "").unwrap();
        }
    }
    cache
}

/// Holds an exclusive lock on a file while it lives, so two test binaries do not install at once.
struct FileLock(std::fs::File);

impl FileLock {
    fn new(file: std::fs::File) -> Self {
        file.lock().unwrap();
        Self(file)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
