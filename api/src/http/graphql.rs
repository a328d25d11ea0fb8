use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, Data, ErrorExtensions};
use async_graphql_actix_web::GraphQLSubscription;

use super::ApiState;
use crate::auth::AuthError;
use crate::error::{ApiError, ErrorCode};
use crate::graphql::context::RequestAuth;

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

pub async fn execute(state: web::Data<ApiState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            let error = ApiError::validation("body", format!("the request body is not a GraphQL request: {err}"));
            return HttpResponse::BadRequest().json(serde_json::json!({ "errors": [error.extend()] }));
        }
    };
    let header = req.headers().get("Authorization").and_then(|h| h.to_str().ok());
    let auth = authenticate(&state, header).await;
    let response = state.schema.execute_batch(request.data(auth)).await;
    HttpResponse::Ok().json(response)
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
