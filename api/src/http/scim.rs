//! The SCIM 2.0 service provider (RFC 7644) at `/scim/v2/<connection>`: `/Users`, `/Groups`,
//! and the discovery endpoints `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`. The
//! caller is a SCIM connection's bearer token, not a viewer: a token that is no connection's is
//! 401; one of another connection than the URL's is 404, as if there were none. Each token has
//! its own request rate (429 with `Retry-After`), and refused tokens count against their
//! address's allowance, so guessing is slow. A body is read only once its token is known, and
//! at most [`MAX_BODY_BYTES`] of it. Every answer is `application/scim+json`, an error as RFC
//! 7644 §3.12 spells it.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{json, Value};

use worker::integrations::scim::{caller, Caller, Conditions, Endpoint, ListQuery, Projection};
use worker::scim::activity::{self, Outcome};
use worker::scim::resource::{ResourceType, ERROR_SCHEMA};
use worker::scim::{ScimError, MAX_COUNT};

use super::limits::{caller_key, retry_after_seconds};
use super::ApiState;

/// Largest request body: a PATCH adding ten thousand members fits, with room.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

const CONTENT_TYPE: &str = "application/scim+json";

/// The schemas served at `/Schemas` (RFC 7643 §8.7.1: User, Group, EnterpriseUser).
const SCHEMAS: &str = include_str!("scim_schemas.json");

/// Mounts the SCIM routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2/{connection}")
            .route("/{endpoint}", web::route().to(collection))
            .route("/{endpoint}/{id:.*}", web::route().to(member))
            .default_service(web::route().to(not_found)),
    );
}

fn error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> HttpResponse {
    let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": status.as_u16().to_string(), "detail": detail });
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type);
    }
    HttpResponse::build(status).content_type(CONTENT_TYPE).body(body.to_string())
}

fn scim_error(err: &ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = ?err, "a SCIM request failed");
    }
    error(status, err.scim_type(), &err.to_string())
}

async fn not_found() -> HttpResponse {
    error(StatusCode::NOT_FOUND, None, "no such SCIM endpoint")
}

fn json_answer(status: StatusCode, body: &Value, version: Option<i32>) -> HttpResponse {
    let mut answer = HttpResponse::build(status);
    answer.content_type(CONTENT_TYPE);
    if let Some(version) = version {
        answer.insert_header((header::ETAG, worker::scim::resource::etag(version)));
    }
    if status == StatusCode::CREATED {
        if let Some(location) = body.pointer("/meta/location").and_then(Value::as_str) {
            answer.insert_header((header::LOCATION, location.to_string()));
        }
    }
    answer.body(body.to_string())
}

/// The bearer token of a request.
fn bearer(req: &HttpRequest) -> Option<SecretString> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| SecretString::from(token.trim().to_string()))
}

/// The endpoint the request's token opens, or the answer refusing it.
async fn authenticate<'s>(state: &'s ApiState, req: &HttpRequest) -> Result<Endpoint<'s>, HttpResponse> {
    let connection_id = req.match_info().get("connection").unwrap_or_default().to_string();
    let unauthorized = || {
        let mut answer = error(StatusCode::UNAUTHORIZED, None, "a valid SCIM bearer token is required");
        answer.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        answer
    };
    // An allowance of their own: a stale token's retries must not spend what callers of the
    // GraphQL API at the same address (behind one proxy, say) are allowed.
    let refused_key = format!("scim-refused:{}", caller_key(None, req.peer_addr().map(|a| a.ip())));
    let refused = || match state.rates.spend(&refused_key, None, 1) {
        Ok(()) => unauthorized(),
        Err(wait) => too_many(wait),
    };
    let Some(token) = bearer(req) else { return Err(refused()) };
    let env = state.api.env();
    let connection = match caller(env, &connection_id, &token).await {
        Ok(Caller::Connection(connection)) => connection,
        Ok(Caller::Unknown) => return Err(refused()),
        Ok(Caller::Elsewhere) => return Err(error(StatusCode::NOT_FOUND, None, "no such SCIM endpoint")),
        Err(err) => {
            tracing::error!(error = %err, "could not authenticate a SCIM request");
            return Err(error(StatusCode::INTERNAL_SERVER_ERROR, None, "the request could not be completed"));
        }
    };
    // Keyed on the connection, not the URL's spelling of it (a UUID has several).
    if let Err(wait) = state.rates.spend_scim(&connection.id.to_string()) {
        return Err(too_many(wait));
    }
    let base_url = state.api.scim_base_url(connection.id);
    Ok(Endpoint::new(env, connection, base_url))
}

fn too_many(wait: std::time::Duration) -> HttpResponse {
    let mut answer = error(StatusCode::TOO_MANY_REQUESTS, None, "too many requests; retry later");
    answer.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_seconds(wait)));
    answer
}

/// The request's body, at most [`MAX_BODY_BYTES`] of it: a longer one is refused with SCIM's
/// 413 before more of it is read.
async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, HttpResponse> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), "the body did not arrive"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            let detail = format!("the body is larger than {} MiB", MAX_BODY_BYTES >> 20);
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, None, &detail));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The endpoint the request's token opens, and its body, read only then.
async fn opened<'s>(
    state: &'s ApiState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Endpoint<'s>, web::BytesMut), HttpResponse> {
    let endpoint = authenticate(state, req).await?;
    Ok((endpoint, read_body(payload).await?))
}

fn resource_type(endpoint: &str) -> Option<ResourceType> {
    match endpoint {
        "Users" => Some(ResourceType::User),
        "Groups" => Some(ResourceType::Group),
        _ => None,
    }
}

fn body_json(body: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|err| ScimError::InvalidSyntax(format!("the body is not JSON: {err}")))
}

/// The query string's parameters, case-insensitively by name.
fn params(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

fn projection(params: &[(String, String)]) -> Projection {
    let list = |name: &str| -> Vec<String> {
        param(params, name)
            .map(|v| v.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect())
            .unwrap_or_default()
    };
    Projection { attributes: list("attributes"), excluded: list("excludedAttributes") }
}

fn number(params: &[(String, String)], name: &str) -> Result<Option<i64>, ScimError> {
    param(params, name)
        .map(|v| v.trim().parse::<i64>().map_err(|_| ScimError::InvalidValue(format!("'{name}' must be an integer"))))
        .transpose()
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Counts the request on the connection's card; a failure to count is logged, not answered.
async fn count(state: &ApiState, endpoint: &Endpoint<'_>, outcome: Outcome, error: Option<String>) {
    let db = &state.api.env().db;
    if let Err(err) = activity::count(db, endpoint.connection_id(), Utc::now(), outcome, error.as_deref()).await {
        tracing::warn!(error = %err, "could not count a SCIM request");
    }
}

/// What one request did, answered and counted; `skipped` says why its user is not in the
/// directory, for the connection's card.
async fn finish(
    state: &ApiState,
    endpoint: &Endpoint<'_>,
    changes: bool,
    result: Result<(HttpResponse, Option<String>), ScimError>,
) -> HttpResponse {
    match result {
        Ok((answer, skipped)) => {
            count(state, endpoint, if changes { Outcome::Changed } else { Outcome::Read }, skipped).await;
            answer
        }
        Err(err) => {
            count(state, endpoint, Outcome::Failed, Some(err.to_string())).await;
            scim_error(&err)
        }
    }
}

/// `/{endpoint}`: a collection, or a discovery endpoint.
async fn collection(state: web::Data<ApiState>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let endpoint_name = req.match_info().get("endpoint").unwrap_or_default().to_string();
    let (endpoint, body) = match opened(&state, &req, payload).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    if let Some(answer) = discovery(&endpoint_name, None, req.method()) {
        count(&state, &endpoint, Outcome::Read, None).await;
        return answer;
    }
    if endpoint_name == ".search" {
        return error(StatusCode::NOT_IMPLEMENTED, None, "searching with POST is not supported; use GET with a filter");
    }
    let Some(kind) = resource_type(&endpoint_name) else {
        return error(StatusCode::NOT_FOUND, None, "no such SCIM endpoint");
    };
    let params = params(&req);
    let (changes, result) = match *req.method() {
        Method::GET => (false, list(&endpoint, kind, &params).await.map(|answer| (answer, None))),
        Method::POST => (
            true,
            async {
                let created = endpoint.create(kind, body_json(&body)?, &projection(&params)).await?;
                Ok((json_answer(StatusCode::CREATED, &created.body, Some(created.version)), created.skipped))
            }
            .await,
        ),
        _ => return method_not_allowed(),
    };
    finish(&state, &endpoint, changes, result).await
}

async fn list(
    endpoint: &Endpoint<'_>,
    kind: ResourceType,
    params: &[(String, String)],
) -> Result<HttpResponse, ScimError> {
    let query = ListQuery {
        filter: param(params, "filter"),
        start_index: number(params, "startIndex")?,
        count: number(params, "count")?,
    };
    let listed = endpoint.list(kind, query, &projection(params)).await?;
    Ok(json_answer(StatusCode::OK, &listed, None))
}

/// `/{endpoint}/{id}`: one resource, or one discovery entry.
async fn member(state: web::Data<ApiState>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let endpoint_name = req.match_info().get("endpoint").unwrap_or_default().to_string();
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let (endpoint, body) = match opened(&state, &req, payload).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    if let Some(answer) = discovery(&endpoint_name, Some(&id), req.method()) {
        count(&state, &endpoint, Outcome::Read, None).await;
        return answer;
    }
    let Some(kind) = resource_type(&endpoint_name) else {
        return error(StatusCode::NOT_FOUND, None, "no such SCIM endpoint");
    };
    if id == ".search" {
        return error(StatusCode::NOT_IMPLEMENTED, None, "searching with POST is not supported; use GET with a filter");
    }
    let params = params(&req);
    let if_match = if_match(&req);
    let answered = projection(&params);
    let conditions = Conditions { if_match: if_match.as_deref(), projection: &answered };
    let (changes, result) = match *req.method() {
        Method::GET => (
            false,
            async {
                let found = endpoint.get(kind, &id, &answered).await?;
                Ok((json_answer(StatusCode::OK, &found.body, Some(found.version)), None))
            }
            .await,
        ),
        Method::PUT | Method::PATCH => (
            true,
            async {
                let body = body_json(&body)?;
                let changed = if req.method() == Method::PUT {
                    endpoint.replace(kind, &id, body, conditions).await?
                } else {
                    endpoint.patch(kind, &id, body, conditions).await?
                };
                Ok((json_answer(StatusCode::OK, &changed.body, Some(changed.version)), changed.skipped))
            }
            .await,
        ),
        Method::DELETE => (
            true,
            async {
                let skipped = endpoint.delete(kind, &id, if_match.as_deref()).await?;
                Ok((HttpResponse::NoContent().finish(), skipped))
            }
            .await,
        ),
        _ => return method_not_allowed(),
    };
    finish(&state, &endpoint, changes, result).await
}

fn method_not_allowed() -> HttpResponse {
    error(StatusCode::METHOD_NOT_ALLOWED, None, "this endpoint does not take that method")
}

/// A discovery endpoint's answer (or its entry `id`'s); `None` when `endpoint` is not one.
fn discovery(endpoint: &str, id: Option<&str>, method: &Method) -> Option<HttpResponse> {
    let entries: Vec<Value> = match endpoint {
        "ServiceProviderConfig" => {
            if method != Method::GET {
                return Some(method_not_allowed());
            }
            return Some(match id {
                None => json_answer(StatusCode::OK, &service_provider_config(), None),
                Some(_) => error(StatusCode::NOT_FOUND, None, "no such SCIM endpoint"),
            });
        }
        "ResourceTypes" => resource_types(),
        "Schemas" => serde_json::from_str(SCHEMAS).expect("the schemas are JSON"),
        _ => return None,
    };
    if method != Method::GET {
        return Some(method_not_allowed());
    }
    Some(match id {
        None => {
            let body = json!({
                "schemas": [worker::scim::resource::LIST_SCHEMA],
                "totalResults": entries.len(),
                "startIndex": 1,
                "itemsPerPage": entries.len(),
                "Resources": entries,
            });
            json_answer(StatusCode::OK, &body, None)
        }
        Some(id) => match entries.into_iter().find(|e| e["id"].as_str() == Some(id)) {
            Some(entry) => json_answer(StatusCode::OK, &entry, None),
            None => error(StatusCode::NOT_FOUND, None, &format!("no {endpoint} entry '{id}'")),
        },
    })
}

fn service_provider_config() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/directory-sync/directory-sync#scim-okta-entra-id",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The token shown when the SCIM connection was made (or last rotated), as 'Authorization: Bearer <token>'",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig" },
    })
}

fn resource_types() -> Vec<Value> {
    let enterprise = worker::scim::resource::ENTERPRISE_SCHEMA;
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person the identity provider assigns to this app",
            "schema": worker::scim::resource::USER_SCHEMA,
            "schemaExtensions": [{ "schema": enterprise, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": "/ResourceTypes/User" },
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of the identity provider pushed to this app",
            "schema": worker::scim::resource::GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": "/ResourceTypes/Group" },
        }),
    ]
}
