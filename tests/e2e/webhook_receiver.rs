//! A real HTTP receiver for webhooks on loopback: it keeps every request as received and
//! answers as the test's policy says, and verifies signatures with the Standard Webhooks
//! reference library, unchanged, as a customer's receiver would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// How the receiver answers the `nth` (from 1) request carrying one `webhook-id`.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    /// Holds the request without answering for this long.
    Hang(Duration),
}

pub type Policy = Arc<dyn Fn(&Value, usize) -> Reply + Send + Sync>;

/// One request, as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: http::HeaderMap,
    pub body: String,
    /// The body, parsed.
    pub event: Value,
    /// Which request with this `webhook-id` it was, from 1.
    pub nth: usize,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn event_type(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }

    /// Whether `secret` signed it, per the reference library (timestamp tolerance included).
    pub fn verifies_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret).unwrap().verify(self.body.as_bytes(), &self.headers).is_ok()
    }
}

pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    /// Answers 200 to everything.
    pub async fn accepting() -> Self {
        Self::with_policy(Arc::new(|_, _| Reply::Status(200))).await
    }

    pub async fn with_policy(policy: Policy) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let state = (received.clone(), policy);
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(state.clone())).default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .expect("the receiver binds");
        let url = format!("http://{}/hooks", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, received, server: handle }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `within`) until `done` holds of what was received; answers it.
    pub async fn until(&self, within: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver got {} requests: {received:#?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

type State = (Arc<Mutex<Vec<Received>>>, Policy);

async fn receive(request: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let (received, policy) = state.get_ref();
    let mut headers = http::HeaderMap::new();
    for (name, value) in request.headers() {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_str().as_bytes()), http::HeaderValue::from_bytes(value.as_bytes()))
        {
            headers.append(name, value);
        }
    }
    let body = String::from_utf8_lossy(&body).to_string();
    let event: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let answered = {
        let mut received = received.lock().unwrap();
        let nth = received.iter().filter(|r| r.header("webhook-id") == id).count() + 1;
        let answered = policy(&event, nth);
        received.push(Received { headers, body, event, nth });
        answered
    };
    match answered {
        Reply::Status(status) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("receiver says hello")
        }
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            HttpResponse::Ok().finish()
        }
    }
}
