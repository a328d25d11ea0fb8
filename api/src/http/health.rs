use actix_web::{web, HttpResponse};

use super::ApiState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// The process can serve: its database answers.
pub async fn readyz(state: web::Data<ApiState>) -> HttpResponse {
    match state.api.env.db.ping().await {
        Ok(()) => HttpResponse::Ok().body("ready"),
        Err(err) => {
            tracing::warn!(error = %err, "database not ready");
            HttpResponse::ServiceUnavailable().body("database unavailable")
        }
    }
}
