//! What every applicant tracking system's connector shares: a full read as pages of hires and
//! then the hiring team, a hire's status in the directory's terms, a hire or a user of the ATS
//! as a record, and dates read as dates.

use std::collections::BTreeSet;
use std::future::Future;

use futures::stream;
use serde_json::Value;

use super::{
    scalar_text, Changes, PageStream, ProviderError, RemotePage, RemoteRecord, EMPLOYMENT_ACTIVE, EMPLOYMENT_PRE_START,
};

/// The resume point of a full read whose hires are all read.
const TEAM: &str = "team";

/// Where a full read stands.
enum Step {
    /// Hires, from this provider cursor (`None`: the first page).
    Hires(Option<String>),
    Team,
    Done,
}

/// A full read of an ATS: pages of hires, each from `hires` (given the provider's cursor, it
/// answers the page's records and the next cursor), then `team`, the hiring team, as the last
/// page (empty when the mapping leaves them out). A read resumed at `cursor` goes on from there.
pub fn hires_then_team<'a, F, Fut>(cursor: Option<String>, team: Vec<RemoteRecord>, hires: F) -> PageStream<'a>
where
    F: Fn(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<(Vec<RemoteRecord>, Option<String>), ProviderError>> + Send + 'a,
{
    let page =
        |records, next_cursor, last| RemotePage { records, next_cursor, last, total: None, estimated_total: None };
    let start = match cursor {
        Some(cursor) if cursor == TEAM => Step::Team,
        cursor => Step::Hires(cursor),
    };
    Box::pin(stream::try_unfold((start, team), move |(step, team)| {
        let read = match &step {
            Step::Hires(cursor) => Some(hires(cursor.clone())),
            Step::Team | Step::Done => None,
        };
        async move {
            match (step, read) {
                (Step::Hires(_), Some(read)) => {
                    let (records, next) = read.await?;
                    let resume = next.clone().unwrap_or_else(|| TEAM.to_string());
                    let following = next.map_or(Step::Team, |next| Step::Hires(Some(next)));
                    Ok(Some((page(records, Some(resume), false), (following, team))))
                }
                (Step::Team, _) => Ok(Some((page(team, None, true), (Step::Done, Vec::new())))),
                _ => Ok(None),
            }
        }
    }))
}

/// A record of the `requested` fields among `values`; those `withheld` are marked so.
pub fn record(
    remote_id: String,
    values: Vec<(&str, Option<String>)>,
    requested: &[String],
    withheld: &BTreeSet<String>,
    yields: bool,
) -> RemoteRecord {
    let mut record = RemoteRecord::new(remote_id, Default::default());
    record.yields = yields;
    for field in requested {
        if withheld.contains(field) {
            record.withheld.insert(field.clone());
            continue;
        }
        let value = values.iter().find(|(key, _)| key == field).and_then(|(_, v)| v.clone());
        if let Some(value) = value.and_then(|v| scalar_text(Value::String(v))) {
            record.values.insert(field.clone(), value);
        }
    }
    record
}

/// A change feed's answer: the changed `records` as one page, and the `removed` remote ids.
pub fn changes<'a>(records: Vec<RemoteRecord>, removed: Vec<String>) -> Changes<'a> {
    let total = Some(records.len());
    let page = RemotePage { records, next_cursor: None, last: true, total, estimated_total: None };
    Changes { pages: Box::pin(stream::iter([Ok(page)])), removed }
}

/// A hire in the directory's terms: pre-start until the offer's start date, with the company
/// from then on.
pub fn hire_status(start_date: Option<&str>, today: chrono::NaiveDate) -> &'static str {
    match start_date.and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
        Some(starts) if starts > today => EMPLOYMENT_PRE_START,
        _ => EMPLOYMENT_ACTIVE,
    }
}

/// The date of an ISO date or date-time.
pub fn date_part(raw: &str) -> Option<String> {
    let date = raw.get(..10).unwrap_or(raw);
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    #[tokio::test]
    async fn a_full_read_is_the_hires_page_by_page_then_the_team_and_resumes_where_it_stood() {
        let record = |id: &str| RemoteRecord::new(id.into(), Default::default());
        let read = |cursor| {
            hires_then_team(cursor, vec![record("user:1")], move |cursor: Option<String>| async move {
                Ok(match cursor.as_deref() {
                    None => (vec![record("candidate:1")], Some("page-2".to_string())),
                    Some(_) => (vec![record("candidate:2")], None),
                })
            })
        };
        let pages: Vec<RemotePage> = read(None).try_collect().await.unwrap();
        let ids: Vec<Vec<&str>> =
            pages.iter().map(|p| p.records.iter().map(|r| r.remote_id.as_str()).collect()).collect();
        assert_eq!(ids, [["candidate:1"], ["candidate:2"], ["user:1"]]);
        let cursors: Vec<Option<&str>> = pages.iter().map(|p| p.next_cursor.as_deref()).collect();
        assert_eq!(cursors, [Some("page-2"), Some(TEAM), None]);
        assert_eq!(pages.iter().map(|p| p.last).collect::<Vec<_>>(), [false, false, true]);
        let resumed: Vec<RemotePage> = read(Some(TEAM.to_string())).try_collect().await.unwrap();
        assert_eq!(resumed.len(), 1, "the hires were read before the stop");
        assert_eq!(resumed[0].records[0].remote_id, "user:1");
    }

    #[test]
    fn a_hire_is_pre_start_until_the_offers_start_date() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(hire_status(Some("2027-01-04"), today), EMPLOYMENT_PRE_START);
        assert_eq!(hire_status(Some("2026-12-07"), today), EMPLOYMENT_ACTIVE);
        assert_eq!(hire_status(None, today), EMPLOYMENT_ACTIVE);
        assert_eq!(date_part("2027-01-04T00:00:00Z").as_deref(), Some("2027-01-04"));
    }

    #[test]
    fn withheld_fields_are_marked_and_a_user_yields() {
        let requested: Vec<String> = ["first_name", "job.name", "email"].map(String::from).to_vec();
        let withheld = BTreeSet::from(["job.name".to_string()]);
        let values = vec![("first_name", Some("Ada".into())), ("email", Some("ada@acme.example".into()))];
        let user = record("user:1".into(), values, &requested, &withheld, true);
        assert!(user.yields);
        assert_eq!(user.values["first_name"], "Ada");
        assert_eq!(user.withheld.iter().collect::<Vec<_>>(), ["job.name"]);
    }
}
