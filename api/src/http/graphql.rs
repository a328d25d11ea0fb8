//! GraphQL over HTTP POST: JSON, or multipart when the request carries a file.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::http::MultipartOptions;
use async_graphql::{BatchRequest, ErrorExtensions, ParseRequestError, Response};
use futures::{StreamExt, TryStreamExt};

use super::limits::{caller_key, retry_after_seconds};
use super::{ApiState, MAX_BODY_BYTES};
use crate::access::RequestMemo;
use crate::auth::{AuthError, Plan, Role, Viewer};
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

/// A request as JSON, within [`MAX_BODY_BYTES`].
async fn read_json(state: &ApiState, payload: web::Payload) -> Result<BatchRequest, HttpResponse> {
    let body = read_body(state, payload).await?;
    serde_json::from_slice(&body).map_err(|err| {
        bad_request(ApiError::validation("body", format!("the request body is not a GraphQL request: {err}")))
    })
}

/// A request with files, as the GraphQL multipart request spec sends it: only from a caller
/// with a valid token (an anonymous upload is refused before its body is read), each file at
/// most the upload limit (kept in a temporary file, not in memory), within the upload timeout.
async fn read_multipart(
    state: &ApiState,
    content_type: &str,
    verified: &Result<Viewer, AuthError>,
    payload: web::Payload,
) -> Result<BatchRequest, HttpResponse> {
    use actix_web::http::StatusCode;
    // Only the callers who may upload have their file read at all.
    let refused = match verified {
        Err(_) => Some((
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "sign in to upload a file: send a valid bearer token",
        )),
        Ok(viewer) if viewer.role != Role::Admin => {
            Some((StatusCode::FORBIDDEN, ErrorCode::Forbidden, "only the workspace's admins may upload a file"))
        }
        Ok(viewer) if viewer.plan != Plan::Paid => {
            Some((StatusCode::FORBIDDEN, ErrorCode::PaidPlanRequired, "integrations need a paid plan"))
        }
        Ok(_) => None,
    };
    if let Some((status, code, message)) = refused {
        return Err(refusal(status, ApiError::new(code, message)));
    }
    let max_bytes = state.api.max_upload_bytes();
    // Every field (the operations, the map, the file) at most `max_bytes`, and the whole request
    // at most twice that: room for one file and its operation.
    let options = MultipartOptions::default().max_file_size(max_bytes).max_num_files(2);
    // actix's payload lives on its worker thread; the multipart reader takes it through a channel.
    let (chunks, received) = tokio::sync::mpsc::channel(16);
    actix_web::rt::spawn(async move {
        let mut payload = payload;
        while let Some(chunk) = payload.next().await {
            if chunks.send(chunk.map_err(std::io::Error::other)).await.is_err() {
                break;
            }
        }
    });
    let body = futures::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|chunk| (chunk, received))
    })
    .into_async_read();
    let timeout = state.limits.upload_timeout;
    match tokio::time::timeout(timeout, async_graphql::http::receive_batch_body(Some(content_type), body, options))
        .await
    {
        Err(_) => Err(refusal(
            actix_web::http::StatusCode::REQUEST_TIMEOUT,
            ApiError::validation("file", format!("the upload did not arrive within {} s", timeout.as_secs())),
        )),
        Ok(Err(ParseRequestError::PayloadTooLarge)) => Err(refusal(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::validation(
                "file",
                format!(
                    "the file is over {} MB, the largest upload accepted (UPLOAD_MAX_BYTES)",
                    max_bytes / (1024 * 1024)
                ),
            ),
        )),
        Ok(Err(err)) => Err(bad_request(ApiError::validation(
            "body",
            format!("the request is not a GraphQL multipart request: {err}"),
        ))),
        Ok(Ok(batch)) => Ok(batch),
    }
}

pub async fn execute(state: web::Data<ApiState>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let header = req.headers().get("Authorization").and_then(|h| h.to_str().ok());
    let content_type = req.headers().get("Content-Type").and_then(|h| h.to_str().ok()).unwrap_or_default();
    // Checking a signature is cheap; registering the workspace (ensure_workspace) is not, and
    // waits until the operations are known to be within the size and rate limits.
    let verified = state.keys.verify_header(header);
    let caller = caller_key(verified.as_ref().ok().and(header), req.peer_addr().map(|a| a.ip()));
    let workspace = verified.as_ref().ok().map(|viewer| viewer.workspace_id.as_str());
    let multipart = content_type.trim_start().to_ascii_lowercase().starts_with("multipart/");
    let read = if multipart {
        // An upload's operation is paid for before its file is read.
        if let Err(wait) = state.rates.spend(&caller, workspace, 1) {
            return rate_limited(wait);
        }
        read_multipart(&state, content_type, &verified, payload).await
    } else {
        read_json(&state, payload).await
    };
    let batch = match read {
        Ok(batch) => batch,
        Err(refused) => return refused,
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
    let unpaid = (requests.len() as u32).saturating_sub(u32::from(multipart));
    if unpaid > 0 {
        if let Err(wait) = state.rates.spend(&caller, workspace, unpaid) {
            return rate_limited(wait);
        }
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
