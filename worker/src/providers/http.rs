//! The HTTP client every connector shares: timeouts, pacing to the provider's quota (see
//! [`pace`](super::pace)), retry with
//! exponential backoff, and `Retry-After` (or `X-RateLimit-Reset`) on 429 and 5xx. What a failure
//! answer *means* differs by provider (a 404 is an unknown company domain at BambooHR and a
//! missing record elsewhere), so each connector classifies its own with a [`Classify`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::pace::{Pacer, Quota};
use super::ProviderError;
use crate::text::excerpt;

/// How long a provider may take to answer a request (or, streamed, to send its next bytes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How hard to try before giving up on a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Upper bound for a provider's Retry-After, so one answer cannot park a worker for hours.
    pub max_wait: Duration,
    /// The first wait after a 429 that names none, doubled on each further one (Personio asks
    /// for at least a second).
    pub throttled_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_wait: Duration::from_secs(60),
            throttled_backoff: Duration::from_secs(1),
        }
    }
}

/// A provider's answer that was not a success, after retries.
#[derive(Debug)]
pub struct HttpFailure {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl HttpFailure {
    /// `HTTP 403: <first line of the body>`, bounded, for status messages.
    pub fn detail(&self) -> String {
        let line = excerpt(self.body.lines().next().unwrap_or(""), 200);
        match line.as_str() {
            "" => format!("HTTP {}", self.status.as_u16()),
            line => format!("HTTP {}: {line}", self.status.as_u16()),
        }
    }
}

/// What a provider's failure answer means, decided by its connector.
pub type Classify = fn(&HttpFailure) -> ProviderError;

/// The meanings every provider shares: 401 rejects the credentials, 429 throttles, 5xx is down;
/// anything else is unexpected. Connectors add what their provider's other codes mean.
pub fn common_meaning(failure: &HttpFailure) -> ProviderError {
    match failure.status {
        StatusCode::UNAUTHORIZED => ProviderError::InvalidCredentials(failure.detail()),
        StatusCode::TOO_MANY_REQUESTS => ProviderError::RateLimited { retry_after: failure.retry_after },
        s if s.is_server_error() => ProviderError::Unreachable(failure.detail()),
        _ => ProviderError::BadResponse(failure.detail()),
    }
}

/// The meanings of providers whose 403 says the credentials may not read what was asked (API
/// access switched off, a permission or scope not granted), and the rest as [`common_meaning`].
pub fn forbidden_is_access_disabled(failure: &HttpFailure) -> ProviderError {
    match failure.status.as_u16() {
        403 => ProviderError::AccessDisabled(failure.detail()),
        _ => common_meaning(failure),
    }
}

/// The meanings of a sign-in or token endpoint, which refuses wrong credentials with 400, 401
/// or 403.
pub fn sign_in_meaning(failure: &HttpFailure) -> ProviderError {
    match failure.status.as_u16() {
        400 | 401 | 403 => ProviderError::InvalidCredentials(failure.detail()),
        _ => common_meaning(failure),
    }
}

/// The reqwest client, the retry policy, and the pacers of every provider account this process
/// talks to, so that all of one account's calls (API and worker alike) share its quota.
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
    policy: RetryPolicy,
    pacers: Arc<Mutex<HashMap<String, Arc<Pacer>>>>,
}

impl ProviderHttp {
    pub fn new(policy: RetryPolicy) -> Self {
        let client = reqwest::Client::builder()
            // A stall, not a total (see `send`): a large company's report streams for as long as
            // it needs.
            .read_timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("directory-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS backend is compiled in");
        Self { client, policy, pacers: Arc::default() }
    }

    /// A client for one provider account, identified by `account` (hashed, so credentials can
    /// serve): its failures classified by `classify`, its requests paced to `quotas` (none: not
    /// paced).
    pub fn account(&self, account: &str, classify: Classify, quotas: &[Quota]) -> AccountHttp {
        let pacer = (!quotas.is_empty()).then(|| {
            let key = format!("{:x}", Sha256::digest(account.as_bytes()));
            let mut pacers = self.pacers.lock().expect("pacers lock");
            pacers.entry(key).or_insert_with(|| Arc::new(Pacer::new(quotas.to_vec()))).clone()
        });
        AccountHttp { client: self.client.clone(), policy: self.policy.clone(), classify, pacer }
    }
}

/// One provider account's client (see [`ProviderHttp::account`]).
#[derive(Debug, Clone)]
pub struct AccountHttp {
    client: reqwest::Client,
    policy: RetryPolicy,
    classify: Classify,
    pacer: Option<Arc<Pacer>>,
}

impl AccountHttp {
    /// Sends the request built by `build`, retrying transient failures. Answers with a 2xx
    /// response, or the error its status means. The whole exchange must finish within a minute.
    pub async fn send(&self, build: impl Fn(&reqwest::Client) -> RequestBuilder) -> Result<Response, ProviderError> {
        self.send_within(&build, Some(REQUEST_TIMEOUT)).await
    }

    /// [`send`](Self::send) for an answer read as a stream, which may take as long as the
    /// company is large: only a stall of a minute fails it.
    pub async fn send_streamed(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ProviderError> {
        self.send_within(&build, None).await
    }

    /// Sends the request and parses its JSON answer as `T`; an answer cut off while it downloads
    /// is asked for again like a failed request. `what` names the answer in errors.
    pub async fn json<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, ProviderError> {
        self.json_with_headers(what, build).await.map(|(answer, _)| answer)
    }

    /// [`json`](Self::json), with the answer's headers (a `Link` to the next page, say).
    pub async fn json_with_headers<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<(T, HeaderMap), ProviderError> {
        let mut attempt = 1;
        loop {
            let response = self.send_within(&build, Some(REQUEST_TIMEOUT)).await?;
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => {
                    return serde_json::from_slice(&body)
                        .map(|answer| (answer, headers))
                        .map_err(|e| ProviderError::BadResponse(format!("{what}: {e}")))
                }
                Err(err) if attempt < self.policy.max_attempts => {
                    tracing::debug!(error = %err, attempt, "provider answer broke off; asking again");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(err) => return Err(ProviderError::Unreachable(format!("{what} broke off: {}", describe(&err)))),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.policy.initial_backoff * 2u32.pow(attempt.saturating_sub(1).min(16))
    }

    fn throttled_backoff(&self, attempt: u32) -> Duration {
        self.policy.throttled_backoff * 2u32.pow(attempt.saturating_sub(1).min(16))
    }

    async fn send_within(
        &self,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
        timeout: Option<Duration>,
    ) -> Result<Response, ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.policy.max_attempts;
            let backoff = self.backoff(attempt);
            if let Some(pacer) = &self.pacer {
                pacer.until_ready().await;
            }
            let request = build(&self.client);
            let request = match timeout {
                Some(timeout) => request.timeout(timeout),
                None => request,
            };
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(response.headers());
                    let headers = response.headers().clone();
                    let body = failure_body(response).await;
                    let error = (self.classify)(&HttpFailure { status, headers, retry_after, body });
                    // The provider may say why, and that asking again cannot help (Workday's
                    // 500 for a report not shared with its user).
                    if is_retryable(status) && error.is_transient() && !last {
                        let throttled = status == StatusCode::TOO_MANY_REQUESTS;
                        let least = if throttled { self.throttled_backoff(attempt) } else { Duration::ZERO };
                        let wait = retry_after.unwrap_or(backoff.max(least)).min(self.policy.max_wait);
                        tracing::debug!(%status, ?wait, attempt, "provider asked us to retry");
                        match (&self.pacer, throttled) {
                            // Every request of the account waits, not just this one; requests
                            // that were in flight together meet one throttling, which costs an
                            // attempt only of the one that started the hold.
                            (Some(pacer), true) => {
                                if !pacer.hold(wait) {
                                    attempt -= 1;
                                }
                            }
                            _ => tokio::time::sleep(wait).await,
                        }
                        continue;
                    }
                    return Err(error);
                }
                Err(err) if !last => {
                    tracing::debug!(error = %err, attempt, "provider request failed; retrying");
                    tokio::time::sleep(backoff).await;
                }
                Err(err) => return Err(ProviderError::Unreachable(describe(&err))),
            }
        }
    }
}

/// The start of a failure answer's body: enough for a connector to classify it, never a
/// provider's whole error page in memory.
async fn failure_body(mut response: Response) -> String {
    const KEPT_BYTES: usize = 16 * 1024;
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk[..chunk.len().min(KEPT_BYTES - body.len())]);
        if body.len() >= KEPT_BYTES {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After` in seconds, or else `X-RateLimit-Reset` (a Unix time, or seconds from now).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    let reset = number("x-ratelimit-reset")?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    // Values above a year's worth of seconds are points in time, not waits.
    Some(Duration::from_secs(if reset > 365 * 24 * 3600 { reset.saturating_sub(now) } else { reset }))
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "the request timed out".into()
    } else if err.is_connect() {
        "the connection was refused or failed".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(max_attempts: u32) -> ProviderHttp {
        ProviderHttp::new(RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        })
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_after_retries() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let err = http(2).account("a", common_meaning, &[]).send(|c| c.get(&url)).await.unwrap_err();
        assert!(matches!(err, ProviderError::Unreachable(_)), "{err:?}");
    }

    #[test]
    fn rate_limit_reset_is_read_as_a_time_or_a_wait() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 30;
        headers.insert("x-ratelimit-reset", soon.to_string().parse().unwrap());
        assert!(retry_after(&headers).unwrap() <= Duration::from_secs(30));
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)), "Retry-After wins");
    }

    #[test]
    fn one_account_shares_one_pace() {
        let quotas = [Quota::per_minute(10)];
        let http = http(1);
        let (a, b) = (http.account("key", common_meaning, &quotas), http.account("key", common_meaning, &quotas));
        let other = http.account("other", common_meaning, &quotas);
        let pacer = |h: &AccountHttp| h.pacer.clone().unwrap();
        assert!(Arc::ptr_eq(&pacer(&a), &pacer(&b)));
        assert!(!Arc::ptr_eq(&pacer(&a), &pacer(&other)));
        assert!(http.account("unpaced", common_meaning, &[]).pacer.is_none());
    }
}
