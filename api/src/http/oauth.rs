//! `GET /oauth/callback`: where the provider sends the admin's browser after sign-in.

use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use entity::connection::ConnectionStatus;

use super::{sign_in_cookie, ApiState};

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn page(status: actix_web::http::StatusCode, title: &str, text: &str) -> HttpResponse {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{0}</title></head>\
         <body><h1>{0}</h1><p>{1}</p><p>You can close this window.</p></body></html>",
        escape(title),
        escape(text)
    ))
}

pub async fn callback(state: web::Data<ApiState>, req: HttpRequest, query: web::Query<CallbackQuery>) -> HttpResponse {
    let mut page = answer(&state, &req, query.into_inner()).await;
    // Whatever happened, this browser's sign-in cookies have served their purpose.
    for (name, _) in sign_in_cookie::sent(&req) {
        if let Ok(value) = HeaderValue::from_str(&sign_in_cookie::clear(&name, state.api.public_url())) {
            page.headers_mut().append(SET_COOKIE, value);
        }
    }
    page
}

async fn answer(state: &ApiState, req: &HttpRequest, query: CallbackQuery) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Some(oauth_state) = query.state.as_deref() else {
        return page(StatusCode::BAD_REQUEST, "Sign-in failed", "The provider did not return the sign-in state.");
    };
    let outcome = match (&query.code, &query.error) {
        (Some(code), None) => Ok(code.as_str()),
        (_, Some(error)) => Err(query.error_description.as_deref().unwrap_or(error.as_str())),
        (None, None) => Err("no authorization code was returned"),
    };
    let cookies = sign_in_cookie::sent(req);
    let bindings: Vec<&str> = cookies.iter().map(|(_, binding)| binding.as_str()).collect();
    match state.api.complete_redirect_sign_in(oauth_state, &bindings, outcome).await {
        Ok(connection) if connection.status == ConnectionStatus::Connected => {
            page(StatusCode::OK, "Connected", "The connection is ready; return to directory-sync to map fields.")
        }
        Ok(connection) => page(
            StatusCode::OK,
            "Connection failed",
            connection.status_message.as_deref().unwrap_or("The provider did not grant access."),
        ),
        Err(worker::Error::NotFound(_)) => page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This sign-in link was already used, has expired, or was opened in another browser than the one \
             that started it; start again from Settings → Integrations in this browser.",
        ),
        Err(err) => {
            tracing::error!(error = %err, "OAuth callback failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed", "Something went wrong on our side; try again.")
        }
    }
}
