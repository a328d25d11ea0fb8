//! GraphQL subscriptions over WebSocket (graphql-transport-ws, and the older graphql-ws), with
//! what async-graphql's socket leaves to its host: a deadline for `connection_init` (4408), a
//! reused subscription id refused (4409), a cap on subscriptions one socket runs, each
//! subscription counted against the caller's rate limit, and pings that find dead peers.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::http::{ClientMessage, WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, ErrorExtensions};
use futures::channel::mpsc;
use futures::StreamExt;
use serde::Deserialize;

use super::graphql::authenticate;
use super::limits::{caller_key, retry_after_seconds};
use super::ApiState;
use crate::auth::AuthError;
use crate::error::{ApiError, ErrorCode};

/// How often the server pings; a peer silent for three of these is gone.
const PING_EVERY: Duration = Duration::from_secs(5);
const SILENT_FOR: Duration = Duration::from_secs(15);

pub async fn subscribe(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let protocol = req
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|protocols| protocols.split(',').find_map(|p| p.trim().parse::<WebSocketProtocols>().ok()))
        .ok_or_else(|| actix_web::error::ErrorBadRequest("ask for the graphql-transport-ws subprotocol"))?;
    let (mut response, session, messages) = actix_ws::handle(&req, body)?;
    response.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol.sec_websocket_protocol()));
    let peer = req.peer_addr().map(|addr| addr.ip());
    let messages = messages.aggregate_continuations().max_continuation_size(super::MAX_BODY_BYTES);
    actix_web::rt::spawn(serve(state.into_inner(), protocol, session, messages, peer));
    Ok(response)
}

/// What the socket learned from the client's messages.
struct Guard {
    initialised: bool,
    caller: String,
    workspace: Option<String>,
    running: HashSet<String>,
}

/// What the guard makes of one client message.
enum Verdict {
    Forward(serde_json::Result<ClientMessage>),
    /// Answer the client this, and forward nothing.
    Reply(String),
    Close(u16, String),
}

/// The `type` and `id` of a server message, to see which subscriptions ended.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: Option<String>,
}

async fn serve(
    state: Arc<ApiState>,
    protocol: WebSocketProtocols,
    mut session: Session,
    mut messages: actix_ws::AggregatedMessageStream,
    peer: Option<std::net::IpAddr>,
) {
    let (to_graphql, from_client) = mpsc::unbounded::<serde_json::Result<ClientMessage>>();
    let init_state = state.clone();
    let mut graphql = WebSocket::from_message_stream(state.schema.clone(), from_client, protocol).on_connection_init(
        move |value| async move {
            let auth = authenticate(&init_state, authorization(&value)).await;
            if let Err(err @ AuthError::Invalid) = &auth.0 {
                return Err(ApiError::new(ErrorCode::Unauthenticated, err.to_string()).extend());
            }
            let mut data = Data::default();
            data.insert(auth);
            Ok(data)
        },
    );
    let mut guard =
        Guard { initialised: false, caller: caller_key(None, peer), workspace: None, running: HashSet::new() };
    let init_deadline = tokio::time::sleep(state.limits.connection_init_timeout);
    tokio::pin!(init_deadline);
    let mut pings = tokio::time::interval(PING_EVERY);
    let mut last_heard = Instant::now();

    let close = loop {
        tokio::select! {
            message = messages.next() => {
                let Some(Ok(message)) = message else { break None };
                last_heard = Instant::now();
                let bytes = match message {
                    AggregatedMessage::Text(text) => text.into_bytes(),
                    AggregatedMessage::Binary(bytes) => bytes,
                    AggregatedMessage::Ping(payload) => {
                        if session.pong(&payload).await.is_err() { break None }
                        continue;
                    }
                    AggregatedMessage::Pong(_) => continue,
                    AggregatedMessage::Close(_) => break None,
                };
                match guard.judge(&state, ClientMessage::from_bytes(&bytes)) {
                    Verdict::Forward(message) => {
                        if to_graphql.unbounded_send(message).is_err() { break None }
                    }
                    Verdict::Reply(text) => {
                        if session.text(text).await.is_err() { break None }
                    }
                    Verdict::Close(code, reason) => break Some((code, reason)),
                }
            }
            answer = graphql.next() => match answer {
                Some(WsMessage::Text(text)) => {
                    if let Ok(Envelope { kind: "complete" | "error", id: Some(id) }) = serde_json::from_str(&text) {
                        guard.running.remove(&id);
                    }
                    if session.text(text).await.is_err() { break None }
                }
                Some(WsMessage::Close(code, reason)) => break Some((code, reason)),
                None => break None,
            },
            () = state.closing.cancelled() => {
                break Some((1001, "the server is restarting; reconnect".to_string()));
            }
            () = &mut init_deadline, if !guard.initialised => {
                break Some((4408, "Connection initialisation timeout".to_string()));
            }
            _ = pings.tick() => {
                if last_heard.elapsed() > SILENT_FOR || session.ping(b"").await.is_err() { break None }
            }
        }
    };
    let reason = close.map(|(code, reason)| CloseReason { code: CloseCode::Other(code), description: Some(reason) });
    let _ = session.close(reason).await;
}

impl Guard {
    fn judge(&mut self, state: &ApiState, message: serde_json::Result<ClientMessage>) -> Verdict {
        match &message {
            Ok(ClientMessage::ConnectionInit { payload }) => {
                self.initialised = true;
                let header = payload.as_ref().and_then(authorization);
                if let Ok(viewer) = state.keys.verify_header(header) {
                    self.caller = caller_key(header, None);
                    self.workspace = Some(viewer.workspace_id);
                }
            }
            Ok(ClientMessage::Start { id, .. }) => {
                if self.running.contains(id) {
                    return Verdict::Close(4409, format!("Subscriber for {id} already exists"));
                }
                let limit = state.limits.max_subscriptions_per_socket;
                if self.running.len() >= limit {
                    let error = ApiError::new(
                        ErrorCode::RateLimited,
                        format!("one socket may run at most {limit} subscriptions; complete one first"),
                    );
                    return Verdict::Reply(error_message(id, &error));
                }
                if let Err(wait) = state.rates.spend(&self.caller, self.workspace.as_deref(), 1) {
                    let error = ApiError::new(
                        ErrorCode::RateLimited,
                        format!("too many requests; try again in {} s", retry_after_seconds(wait)),
                    );
                    return Verdict::Reply(error_message(id, &error));
                }
                self.running.insert(id.clone());
            }
            Ok(ClientMessage::Stop { id }) => {
                self.running.remove(id);
            }
            _ => {}
        }
        Verdict::Forward(message)
    }
}

/// The `Authorization` value a `connection_init` payload carries (either case of its key).
fn authorization(payload: &serde_json::Value) -> Option<&str> {
    payload.get("Authorization").or_else(|| payload.get("authorization")).and_then(|v| v.as_str())
}

/// graphql-transport-ws's `error` message for one subscription.
fn error_message(id: &str, error: &ApiError) -> String {
    serde_json::json!({ "type": "error", "id": id, "payload": [error.to_server_error()] }).to_string()
}
