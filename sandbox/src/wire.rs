//! What every fake does the same way on the wire: admitting a request against its tenant (faults,
//! access, quotas, latency), reading credentials, and streaming a list of records that may break
//! off part-way.

use std::ops::Range;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use futures::StreamExt;
use serde_json::Value;

use crate::tenant::{Endpoint, Refusal, Tenant};
use crate::Tenants;

/// The name of the first tenant at `provider` that `matches`.
pub(crate) fn find_tenant(tenants: &Tenants, provider: &str, matches: impl Fn(&Tenant) -> bool) -> Option<String> {
    let all = tenants.lock().expect("tenants lock");
    all.values().find(|t| t.provider == provider && matches(t)).map(|t| t.name.clone())
}

/// A request let through to tenant `name`: answer after `delay`.
pub(crate) struct Admission {
    pub name: String,
    /// Break a records answer off after this many of its records.
    pub break_off: Option<usize>,
    /// Pause before each chunk of a records answer.
    pub pace: Option<Duration>,
}

/// Admits a request to tenant `name` (see [`Tenant::admit`]), waiting out its latency. `authorized`
/// tells whether the caller's credentials are the tenant's.
pub(crate) async fn admit(
    tenants: &Tenants,
    name: &str,
    endpoint: Endpoint,
    authorized: impl FnOnce(&Tenant) -> bool,
) -> Result<Admission, Refusal> {
    let admitted = {
        let mut all = tenants.lock().expect("tenants lock");
        let tenant = all.get_mut(name).ok_or(Refusal::Status(404, "Not found"))?;
        let authorized = authorized(tenant);
        tenant.admit(&endpoint, authorized)?
    };
    if let Some(delay) = admitted.delay {
        tokio::time::sleep(delay).await;
    }
    Ok(Admission { name: name.to_string(), break_off: admitted.break_off, pace: admitted.pace })
}

/// `wait` in whole seconds, rounded up, as `Retry-After` carries it.
pub(crate) fn whole_seconds(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000) as u64
}

/// The user name and password of HTTP Basic auth.
pub(crate) fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let header = req.headers().get("Authorization")?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(header.strip_prefix("Basic ")?).ok()?;
    let (user, password) = String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.into(), p.into()))?;
    Some((user, password))
}

/// A request body as its `Content-Type` says: a form when it says so, JSON otherwise.
pub(crate) fn form_or_json<T: serde::de::DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Option<T> {
    let content_type = req.headers().get("Content-Type").and_then(|h| h.to_str().ok()).unwrap_or_default();
    if content_type.contains("form") {
        serde_urlencoded::from_bytes(body).ok()
    } else {
        serde_json::from_slice(body).ok()
    }
}

/// The token of `Authorization: Bearer …`.
pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers().get("Authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

/// Where a records answer stops short, if it does: at the fault's break-off, or where the
/// tenant's outage begins, for an answer carrying records `first..first + count` of the company.
pub(crate) fn cut_off(tenants: &Tenants, admission: &Admission, first: usize, count: usize) -> Option<usize> {
    let outage = {
        let all = tenants.lock().expect("tenants lock");
        all.get(&admission.name).and_then(|t| t.outage_after_records)
    };
    let down_from = outage.filter(|after| first + count > *after).map(|after| after.saturating_sub(first));
    [admission.break_off, down_from].into_iter().flatten().min()
}

/// A JSON answer `head` + the rows `render` yields for `0..count`, comma-separated, + `tail`,
/// rendered a chunk of rows at a time as it is sent, so a large company costs a chunk's bytes
/// rather than the whole answer's. With `break_off`, the connection drops after that many rows;
/// with `pace`, each chunk waits that long first.
///
/// Like a web server that buffers a script's output up to a limit, an answer of up to
/// [`BUFFERED_ROWS`] rows says its `Content-Length` (measured by rendering it once first); a
/// larger one streams chunked, with no length.
pub(crate) fn stream_records(
    head: Vec<u8>,
    count: usize,
    mut render: impl FnMut(Range<usize>) -> Vec<Value> + Send + 'static,
    tail: &'static [u8],
    break_off: Option<usize>,
    pace: Option<Duration>,
) -> HttpResponse {
    const ROWS_PER_CHUNK: usize = 256;
    let length = (count <= BUFFERED_ROWS).then(|| {
        let rows: usize = (0..count)
            .step_by(ROWS_PER_CHUNK)
            .map(|next| render_rows(next, &render(next..(next + ROWS_PER_CHUNK).min(count))).len())
            .sum();
        (head.len() + rows + tail.len()) as u64
    });
    let end = break_off.map_or(count, |b| b.min(count));
    let broken = break_off.is_some_and(|b| b < count);
    let chunks = futures::stream::unfold((0usize, false), move |(next, done)| {
        let rows = (next < end).then(|| render(next..(next + ROWS_PER_CHUNK).min(end)));
        async move {
            if done {
                return None;
            }
            if let Some(pause) = pace {
                tokio::time::sleep(pause).await;
            }
            let Some(rows) = rows else {
                if broken {
                    // Let what was sent reach the client first, as on a real connection that drops.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected break-off");
                    return Some((Err(reset), (next, true)));
                }
                return Some((Ok(Bytes::from_static(tail)), (next, true)));
            };
            Some((Ok(Bytes::from(render_rows(next, &rows))), (next + rows.len().max(1), false)))
        }
    });
    let body = futures::stream::once(async move { Ok(Bytes::from(head)) }).chain(chunks);
    let mut answer = HttpResponse::Ok();
    answer.content_type("application/json");
    if let Some(length) = length {
        answer.no_chunking(length);
    }
    answer.streaming(body)
}

/// The largest answer, in rows, that says its length.
const BUFFERED_ROWS: usize = 20_000;

/// Rows `first..` as they appear in the list: comma-separated, a comma first unless they open it.
fn render_rows(first: usize, rows: &[Value]) -> Vec<u8> {
    let mut chunk = Vec::new();
    for (offset, row) in rows.iter().enumerate() {
        if first + offset > 0 {
            chunk.push(b',');
        }
        serde_json::to_writer(&mut chunk, row).expect("JSON");
    }
    chunk
}
