//! Health checks: `/healthz` (the process is up) and `/readyz` (it can serve).

use actix_web::{web, HttpResponse};

use super::ApiState;

/// What the process needs before it can serve; the binary knows (database, migrations).
#[async_trait::async_trait]
pub trait Readiness: Send + Sync {
    /// Why the process cannot serve, if it cannot.
    async fn not_ready(&self) -> Option<String>;
}

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// The process can serve, or 503 with the reason.
pub async fn readyz(state: web::Data<ApiState>) -> HttpResponse {
    if state.closing.is_cancelled() {
        return HttpResponse::ServiceUnavailable().body("shutting down");
    }
    match state.readiness.not_ready().await {
        None => HttpResponse::Ok().body("ready"),
        Some(problem) => {
            tracing::warn!(%problem, "not ready");
            HttpResponse::ServiceUnavailable().body(problem)
        }
    }
}
