//! The HTTP client every connector shares: timeouts, retry with exponential backoff, and
//! `Retry-After` on 429/503, so connectors only describe requests and parse answers.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use super::ProviderError;

/// How long a provider may take to answer a request (or, streamed, to send its next bytes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How hard to try before giving up on a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Upper bound for a provider's Retry-After, so one answer cannot park a worker for hours.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 4, initial_backoff: Duration::from_millis(250), max_wait: Duration::from_secs(60) }
    }
}

/// A reqwest client with the retry policy attached.
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
    policy: RetryPolicy,
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
        Self { client, policy }
    }

    /// Sends the request built by `build`, retrying transient failures. Answers with a 2xx
    /// response, or the error its status means. The whole exchange must finish within a minute.
    pub async fn send(&self, build: impl Fn(&reqwest::Client) -> RequestBuilder) -> Result<Response, ProviderError> {
        self.send_within(build, Some(REQUEST_TIMEOUT)).await
    }

    /// [`send`](Self::send) for an answer read as a stream, which may take as long as the
    /// company is large: only a stall of a minute fails it.
    pub async fn send_streamed(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ProviderError> {
        self.send_within(build, None).await
    }

    async fn send_within(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        timeout: Option<Duration>,
    ) -> Result<Response, ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.policy.max_attempts;
            let backoff = self.policy.initial_backoff * 2u32.pow(attempt - 1);
            let request = build(&self.client);
            let request = match timeout {
                Some(timeout) => request.timeout(timeout),
                None => request,
            };
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(&response);
                    if is_retryable(status) && !last {
                        let wait = retry_after.unwrap_or(backoff).min(self.policy.max_wait);
                        tracing::debug!(%status, ?wait, attempt, "provider asked us to retry");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let body = response.text().await.unwrap_or_default();
                    return Err(status_error(status, retry_after, &body));
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

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn status_error(status: StatusCode, retry_after: Option<Duration>, body: &str) -> ProviderError {
    let detail = format!("HTTP {}{}", status.as_u16(), short(body));
    match status {
        StatusCode::UNAUTHORIZED => ProviderError::InvalidCredentials(detail),
        StatusCode::FORBIDDEN => ProviderError::AccessDisabled(detail),
        StatusCode::NOT_FOUND => ProviderError::UnknownTenant(detail),
        StatusCode::TOO_MANY_REQUESTS => ProviderError::RateLimited { retry_after },
        s if s.is_server_error() => ProviderError::Unreachable(detail),
        _ => ProviderError::BadResponse(detail),
    }
}

/// The first line of a provider's error body, bounded, for status messages.
fn short(body: &str) -> String {
    let line: String = body.lines().next().unwrap_or("").chars().take(200).collect();
    if line.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", line.trim())
    }
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

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_after_retries() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let http = ProviderHttp::new(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        });
        let err = http.send(|c| c.get(&url)).await.unwrap_err();
        assert!(matches!(err, ProviderError::Unreachable(_)), "{err:?}");
    }
}
