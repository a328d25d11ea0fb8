use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, Data, ErrorExtensions, Response};
use async_graphql_actix_web::GraphQLSubscription;

use super::ApiState;
use crate::auth::AuthError;
use crate::error::{ApiError, ErrorCode};
use crate::graphql::context::{RequestAuth, RequestMemo};
use crate::graphql::query_budget;

/// Authenticates a header value and makes sure the viewer's workspace exists.
async fn authenticate(state: &ApiState, header: Option<&str>) -> RequestAuth {
    let auth = state.keys.verify_header(header);
    if let Ok(viewer) = &auth {
        if let Err(err) = state.api.ensure_workspace(viewer).await {
            tracing::error!(message = %err.message, "could not register the workspace");
        }
    }
    RequestAuth(auth)
}

/// Operations one HTTP request may batch.
pub const MAX_BATCH: usize = 10;

fn bad_request(error: ApiError) -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({ "errors": [error.extend()] }))
}

pub async fn execute(state: web::Data<ApiState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
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
    // One memo for the whole batch: no provider is asked the same thing twice per HTTP request.
    let memo = RequestMemo::default();
    let mut auth = None;
    let mut responses = Vec::with_capacity(requests.len());
    for mut request in requests {
        // Sized before the caller is authenticated: a query too large to run costs nothing more.
        let over_budget = request.parsed_query().ok().and_then(|document| query_budget::check(document).err());
        let response = match over_budget {
            Some(err) => Response::from_errors(vec![query_budget::to_server_error(&err)]),
            None => {
                let auth = match &auth {
                    Some(auth) => auth,
                    None => auth.insert(authenticate(&state, header).await),
                };
                state.schema.execute(request.data(auth.clone()).data(memo.clone())).await
            }
        };
        responses.push(response);
    }
    if single {
        HttpResponse::Ok().json(responses.pop().expect("one response"))
    } else {
        HttpResponse::Ok().json(responses)
    }
}

pub async fn subscribe(
    state: web::Data<ApiState>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let init_state = state.clone();
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |value| {
            let state = init_state.clone();
            async move {
                let header = value.get("Authorization").or_else(|| value.get("authorization")).and_then(|v| v.as_str());
                let auth = authenticate(&state, header).await;
                if let Err(err @ AuthError::Invalid) = &auth.0 {
                    return Err(ApiError::new(ErrorCode::Unauthenticated, err.to_string()).extend());
                }
                let mut data = Data::default();
                data.insert(auth);
                Ok(data)
            }
        })
        .start(&req, payload)
}

pub async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").finish())
}
