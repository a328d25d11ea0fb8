//! The HTTP edge: health checks, GraphiQL, request limits, and errors that say what is wrong
//! without leaking internals.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Backend, TestApp, TestOptions};
use directory_sync::client::GraphqlClient;

async fn health_and_graphiql_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, needle) in [("/healthz", "ok"), ("/readyz", "ready"), ("/graphiql", "graphiql")] {
        let response = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        for (header, value) in [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY")] {
            assert_eq!(response.headers()[header], value, "{path}");
        }
        assert!(response.text().await.unwrap().to_lowercase().contains(needle), "{path}");
    }
    app.stop().await;
}

/// Every `src="…"` and `href="…"` of a page.
fn references(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| page.split(attribute).skip(1).map(|rest| rest.split('"').next().unwrap().to_string()))
        .collect()
}

/// GraphiQL and the admin portal, where admins hold bearer tokens, run no code from elsewhere.
async fn embedded_pages_load_nothing_from_elsewhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, served_from, at_least) in [("/graphiql", "/graphiql/assets/", 5), ("/", "/portal/", 3)] {
        check_embedded_page(&app, path, served_from, at_least).await;
    }
    app.stop().await;
}

async fn check_embedded_page(app: &TestApp, path: &str, served_from: &str, at_least: usize) {
    let response = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{path}: {policy}");
    }
    let page = response.text().await.unwrap();
    // In-page links (`#/…`) and `data:` (the portal's empty icon) load nothing.
    let loads = |a: &String| !a.starts_with("data:") && !a.starts_with('#');
    let assets: Vec<String> = references(&page).into_iter().filter(loads).collect();
    assert!(assets.len() >= at_least, "{path}: {assets:?}");
    assert!(!page.contains("<script>"), "no inline script, so the policy needs no 'unsafe-inline' for scripts");
    for asset in assets {
        assert!(asset.starts_with(served_from), "{asset} is not served by this binary");
        let response = reqwest::get(format!("{}{asset}", app.url)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let kind = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            kind.starts_with(if asset.ends_with(".js") { "text/javascript" } else { "text/css" }),
            "{asset}: {kind}"
        );
        assert!(response.bytes().await.unwrap().len() > 20, "{asset}");
    }
}

async fn abusive_requests_are_refused_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let deep = format!("{{ orgChart {{ {}user {{ id }}{} }} }}", "reports { ".repeat(40), " }".repeat(40));
    let response = admin.execute(&deep, json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert!(response.errors[0]["message"].as_str().unwrap().contains("depth"), "{:?}", response.errors);
    let response = admin.execute("{ noSuchField }", json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "every error carries a code");

    let http = reqwest::Client::new();
    let token = app.token(api::Role::Admin);
    let huge = json!({ "query": format!("{{ viewer {{ subject }} }} #{}", "x".repeat(400 * 1024)) });
    let response = http.post(format!("{}/graphql", app.url)).bearer_auth(&token).json(&huge).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 413, "bodies over 256 KiB are refused");

    let response = http
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION_FAILED");

    let response = admin.execute("{ user(id: \"not-a-uuid\") { id } }", json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"));
    assert_eq!(response.error_extension("field"), Some(&json!("id")));
    app.stop().await;
}

/// A raw WebSocket to `/graphql/ws` speaking graphql-transport-ws.
async fn open_socket(app: &TestApp) -> Socket {
    let url = format!("{}/graphql/ws", app.url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    tokio_tungstenite::connect_async(request).await.expect("the socket opens").0
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The next protocol message (pings answered), or the close frame's code.
async fn receive(socket: &mut Socket) -> Result<Value, Option<u16>> {
    loop {
        let message =
            tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("the server answers within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    send(socket, json!({ "type": "pong" })).await;
                    continue;
                }
                return Ok(value);
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return Err(None),
        }
    }
}

fn subscribe_message(id: &str, connection_id: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { connectionStatus(connectionId: $id) { status } }",
        "variables": { "id": connection_id } } })
}

async fn stalled_bodies_and_silent_sockets_are_cut_off(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions {
        settings: &[("API_BODY_TIMEOUT_SECONDS", "1"), ("API_INIT_TIMEOUT_SECONDS", "1")],
        ..TestOptions::on(backend)
    })
    .await;
    // Content-Length 100, 5 bytes sent, then nothing.
    let address = app.url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"qu"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("the server answers a stalled body within its timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("VALIDATION_FAILED"), "{answer}");

    // A socket that never sends connection_init is closed with 4408.
    let mut socket = open_socket(&app).await;
    assert_eq!(receive(&mut socket).await.unwrap_err(), Some(4408));
    app.stop().await;
}

async fn a_socket_refuses_reused_ids_and_caps_its_subscriptions(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions {
        settings: &[("API_SUBSCRIPTIONS_PER_SOCKET", "2")],
        ..TestOptions::on(backend)
    })
    .await;
    let admin = app.admin();
    let connection_id = app.connect(&admin).await;
    let token = app.token(api::Role::Admin);
    let mut socket = open_socket(&app).await;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(receive(&mut socket).await.unwrap()["type"], "connection_ack");
    for id in ["a", "b"] {
        send(&mut socket, subscribe_message(id, &connection_id)).await;
        let first = receive(&mut socket).await.unwrap();
        assert_eq!((first["type"].as_str(), first["id"].as_str()), (Some("next"), Some(id)), "{first}");
    }
    // A third at once is refused on its own; the socket and the others carry on.
    send(&mut socket, subscribe_message("c", &connection_id)).await;
    let refused = receive(&mut socket).await.unwrap();
    assert_eq!((refused["type"].as_str(), refused["id"].as_str()), (Some("error"), Some("c")), "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // Completing one makes room.
    send(&mut socket, json!({ "id": "a", "type": "complete" })).await;
    send(&mut socket, subscribe_message("c", &connection_id)).await;
    let mut started = None;
    for _ in 0..3 {
        let message = receive(&mut socket).await.unwrap();
        if message["type"] == "next" {
            started = message["id"].as_str().map(str::to_string);
            break;
        }
    }
    assert_eq!(started.as_deref(), Some("c"));
    // graphql-transport-ws: a second subscriber with a running id closes the socket with 4409.
    send(&mut socket, subscribe_message("b", &connection_id)).await;
    let mut closed = None;
    for _ in 0..3 {
        if let Err(code) = receive(&mut socket).await {
            closed = code;
            break;
        }
    }
    assert_eq!(closed, Some(4409));
    app.stop().await;
}

async fn each_token_and_each_workspace_has_its_own_allowance(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions {
        settings: &[("API_REQUESTS_PER_MINUTE", "12"), ("API_WORKSPACE_REQUESTS_PER_MINUTE", "18")],
        ..TestOptions::on(backend)
    })
    .await;
    let http = reqwest::Client::new();
    let post = |token: String| {
        http.post(format!("{}/graphql", app.url))
            .bearer_auth(token)
            .json(&json!({ "query": "{ viewer { subject } }" }))
            .send()
    };
    let mint = |subject: &str, workspace: &str| {
        app.service.keys.mint(subject, workspace, api::Role::Member, api::Plan::Paid, chrono::Duration::hours(1))
    };
    // Ten at once (the burst), then the token must wait.
    let ada = mint("ada", &app.workspace);
    for _ in 0..10 {
        assert_eq!(post(ada.clone()).await.unwrap().status().as_u16(), 200);
    }
    let limited = post(ada.clone()).await.unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    let retry_after: u64 = limited.headers()["Retry-After"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After: {retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Another token of the workspace has its own allowance, until the workspace's is spent.
    let bob = mint("bob", &app.workspace);
    assert_eq!(post(bob.clone()).await.unwrap().status().as_u16(), 429, "the workspace spent its burst of 10");
    // Another workspace is untouched.
    let other = mint("cy", &format!("{}-other", app.workspace));
    assert_eq!(post(other).await.unwrap().status().as_u16(), 200);
    app.stop().await;
}

async fn tokens_expire_within_seconds_of_their_exp(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token =
        app.service.keys.mint("ada", &app.workspace, api::Role::Admin, api::Plan::Paid, chrono::Duration::seconds(-30));
    let response =
        GraphqlClient::new(&app.url, Some(token)).execute("{ viewer { subject } }", json!({})).await.unwrap();
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"), "a token 30 s past exp is refused");
    app.stop().await;
}

crate::on_both_backends!(
    health_and_graphiql_answer,
    embedded_pages_load_nothing_from_elsewhere,
    abusive_requests_are_refused_with_a_code,
    stalled_bodies_and_silent_sockets_are_cut_off,
    a_socket_refuses_reused_ids_and_caps_its_subscriptions,
    each_token_and_each_workspace_has_its_own_allowance,
    tokens_expire_within_seconds_of_their_exp,
);
