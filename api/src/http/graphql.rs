//! GraphQL over HTTP POST.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::{BatchRequest, ErrorExtensions, Response};

use super::limits::{caller_key, retry_after_seconds};
use super::{ApiState, MAX_BODY_BYTES};
use crate::access::RequestMemo;
use crate::auth::{AuthError, Viewer};
use crate::error::{ApiError, ErrorCode};
use crate::graphql::context::RequestAuth;
use crate::graphql::query_budget;

/// Operations one HTTP request may batch.
pub const MAX_BATCH: usize = 10;

/// Authenticates a header value and makes sure the viewer's workspace exists.
pub(super) async fn authenticate(state: &ApiState, header: Option<&str>) -> RequestAuth {
    register(state, state.keys.verify_header(header)).await
}

/// Makes sure a verified viewer's workspace exists.
async fn register(state: &ApiState, auth: Result<Viewer, AuthError>) -> RequestAuth {
    if let Ok(viewer) = &auth {
        if let Err(err) = state.api.ensure_workspace(viewer).await {
            tracing::error!(message = %err.message, "could not register the workspace");
        }
    }
    RequestAuth(auth)
}

fn refusal(status: actix_web::http::StatusCode, error: ApiError) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "errors": [error.extend()] }))
}

fn bad_request(error: ApiError) -> HttpResponse {
    refusal(actix_web::http::StatusCode::BAD_REQUEST, error)
}

fn rate_limited(wait: Duration) -> HttpResponse {
    let seconds = retry_after_seconds(wait);
    let error = ApiError::new(ErrorCode::RateLimited, format!("too many requests; try again in {seconds} s"));
    HttpResponse::TooManyRequests()
        .insert_header(("Retry-After", seconds.to_string()))
        .json(serde_json::json!({ "errors": [error.extend()] }))
}

/// The body, within [`MAX_BODY_BYTES`] and the body timeout: a client that stalls mid-body
/// holds a connection for that long, no longer.
async fn read_body(state: &ApiState, payload: web::Payload) -> Result<web::Bytes, HttpResponse> {
    let timeout = state.limits.body_timeout;
    match tokio::time::timeout(timeout, payload.to_bytes_limited(MAX_BODY_BYTES)).await {
        Err(_) => Err(refusal(
            actix_web::http::StatusCode::REQUEST_TIMEOUT,
            ApiError::validation("body", format!("the request body did not arrive within {} s", timeout.as_secs())),
        )),
        Ok(Err(_)) => Err(refusal(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::validation("body", format!("the request body is over {} KiB", MAX_BODY_BYTES / 1024)),
        )),
        Ok(Ok(Err(err))) => {
            Err(bad_request(ApiError::validation("body", format!("the request body broke off: {err}"))))
        }
        Ok(Ok(Ok(body))) => Ok(body),
    }
}

pub async fn execute(state: web::Data<ApiState>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let body = match read_body(&state, payload).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return bad_request(ApiError::validation(
                "body",
                format!("the request body is not a GraphQL request: {err}"),
            ))
        }
    };
    let (requests, single) = match batch {
        BatchRequest::Single(request) => (vec![request], true),
        BatchRequest::Batch(requests) if requests.len() > MAX_BATCH => {
            return bad_request(ApiError::validation(
                "body",
                format!("a batch may hold at most {MAX_BATCH} operations; this one holds {}", requests.len()),
            ))
        }
        BatchRequest::Batch(requests) => (requests, false),
    };
    let header = req.headers().get("Authorization").and_then(|h| h.to_str().ok());
    // Checking a signature is cheap; registering the workspace (ensure_workspace) is not, and
    // waits until the operations are known to be within the size and rate limits.
    let verified = state.keys.verify_header(header);
    let caller = caller_key(verified.as_ref().ok().and(header), req.peer_addr().map(|a| a.ip()));
    let workspace = verified.as_ref().ok().map(|viewer| viewer.workspace_id.as_str());
    if let Err(wait) = state.rates.spend(&caller, workspace, requests.len() as u32) {
        return rate_limited(wait);
    }
    // One memo for the whole batch: no provider is asked the same thing twice per HTTP request.
    let memo = RequestMemo::default();
    let mut auth = None;
    let mut responses = Vec::with_capacity(requests.len());
    for mut request in requests {
        // Sized before the caller is authenticated: a query too large to run costs nothing more.
        let over_budget = request.parsed_query().ok().and_then(|document| query_budget::check(document).err());
        let response = match over_budget {
            Some(err) => Response::from_errors(vec![err.to_server_error()]),
            None => {
                let auth = match &auth {
                    Some(auth) => auth,
                    None => auth.insert(register(&state, verified.clone()).await),
                };
                state.schema.execute(request.data(auth.clone()).data(memo.clone())).await
            }
        };
        responses.push(response);
    }
    // Headers resolvers set (the sign-in cookie), from every operation of a batch.
    let mut answer = HttpResponse::Ok();
    for response in &responses {
        for (name, value) in response.http_headers.iter() {
            if let Ok(value) = value.to_str() {
                answer.append_header((name.as_str(), value));
            }
        }
    }
    if single {
        answer.json(responses.pop().expect("one response"))
    } else {
        answer.json(responses)
    }
}
