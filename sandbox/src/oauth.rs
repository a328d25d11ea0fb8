//! OAuth 2.0's authorization-code grant as the fakes of providers with an "Open Window" sign-in
//! answer it: the sign-in page's redirect back, and the token endpoint's trade of a code or a
//! refresh token. The sandbox's user always signs in, and consents unless the tenant says
//! otherwise ([`Tenant::consent`]). Each fake keeps its own paths, parameters and answers.

use actix_web::HttpResponse;
use serde::Deserialize;

use crate::tenant::{random_token, Tenant};
use crate::{OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};

/// The sign-in page's answer: back to `redirect` with a fresh code, or with
/// `error=access_denied` when the tenant's admin declines, and the `state` it was given.
pub(crate) fn redirect_back(tenant: &mut Tenant, mut redirect: url::Url, state: Option<&str>) -> HttpResponse {
    {
        let mut pairs = redirect.query_pairs_mut();
        if tenant.consent {
            let code = random_token(24);
            tenant.codes.insert(code.clone());
            pairs.append_pair("code", &code);
        } else {
            pairs.append_pair("error", "access_denied");
        }
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
    }
    HttpResponse::Found().insert_header(("Location", redirect.to_string())).finish()
}

/// A token endpoint's request body: the app's credentials and the grant to trade.
#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    client_id: String,
    client_secret: String,
    grant_type: String,
    code: Option<String>,
    refresh_token: Option<String>,
}

impl TokenRequest {
    /// Whether the app asking is the one every sandbox tenant accepts.
    pub fn is_the_sandbox_app(&self) -> bool {
        self.client_id == OAUTH_CLIENT_ID && self.client_secret == OAUTH_CLIENT_SECRET
    }
}

/// Tokens handed out for a grant.
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// Trades a code (once) or a refresh token the tenant issued for fresh tokens; `None` when the
/// grant is not the tenant's. Counted in [`Tenant::requests`] as `token:<grant_type>`.
pub(crate) fn trade(tenant: &mut Tenant, request: &TokenRequest) -> Option<Issued> {
    *tenant.requests.entry(format!("token:{}", request.grant_type)).or_default() += 1;
    let granted = match request.grant_type.as_str() {
        "authorization_code" => request.code.as_ref().is_some_and(|c| tenant.codes.remove(c)),
        "refresh_token" => request.refresh_token.as_ref().is_some_and(|t| tenant.refresh_tokens.contains(t)),
        _ => false,
    };
    if !granted {
        return None;
    }
    let access_token = tenant.issue_access_token();
    let refresh_token = random_token(32);
    tenant.refresh_tokens.insert(refresh_token.clone());
    Some(Issued { access_token, refresh_token, expires_in: tenant.token_lifetime.as_secs() })
}

/// Whether `tenant` issued the code or the refresh token `request` carries.
pub(crate) fn issued_by(tenant: &Tenant, request: &TokenRequest) -> bool {
    request.code.as_ref().is_some_and(|c| tenant.codes.contains(c))
        || request.refresh_token.as_ref().is_some_and(|t| tenant.refresh_tokens.contains(t))
}
