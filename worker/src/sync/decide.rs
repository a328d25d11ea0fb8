//! What one mapped provider record does to the directory, decided over plain facts (no queries),
//! so each rule of merging is stated and tested here; `merge` gathers the facts and performs
//! the decision.
//!
//! The rules, in order:
//! 1. An email held by another person of this connection, or by an earlier record of this
//!    page, is a DUPLICATE_EMAIL: the first record in the provider's order keeps it.
//! 2. A record an earlier attempt of this run already merged is not merged (or counted) again.
//! 3. A record matched by remote id whose content hash is unchanged costs no write.
//! 4. A record matched by remote id is updated (and counted as deactivated when it turns an
//!    active person inactive).
//! 5. A leaver of this connection whose email comes back under a new remote id is a rehire: the
//!    person moves to the new record.
//! 6. A person holding the email (added by hand, or from another connection) is adopted.
//! 7. Anyone else is created.
//!
//! And for the status a written record gives its person ([`status_after_sync`]): a person an
//! admin deactivated by hand stays inactive until the provider itself changes their employment
//! (reports them as a leaver, or brings them back under a new record as a rehire). A record
//! changed in other ways (a new title) does not undo the admin's decision; the provider
//! agreeing they left ends it, so a later return reactivates them as any leaver's would.

use entity::directory_user::EmploymentStatus;
use uuid::Uuid;

/// This connection's row for the record's remote id.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub user_id: Uuid,
    pub content_hash: &'a str,
    /// This run already saw (merged) it: an earlier attempt read the provider from the start.
    pub seen_this_run: bool,
    /// Whether its person is with the company (active or pre-start); `None` when the person row
    /// is gone.
    pub person_active: Option<bool>,
}

/// The person of the workspace who holds the record's email.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub id: Uuid,
    /// This connection already links the person to a record; whether that record has left
    /// (deactivated and not seen in this run, or deleted at the provider).
    pub linked_record_left: Option<bool>,
}

/// The facts about one mapped record.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub source: Option<Source<'a>>,
    pub owner: Option<Owner>,
    /// The mapped record's content hash.
    pub content_hash: &'a str,
    /// The mapped record says the person is inactive (and the provider did not withhold it).
    pub inactive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Rule 1; `still_listed`: the record itself is known (it is present, not a leaver).
    DuplicateEmail { still_listed: bool },
    /// Rule 2.
    AlreadyMerged,
    /// Rule 3.
    Unchanged,
    /// Rule 4.
    Update { deactivates: bool },
    /// Rule 4, but the person row is gone: nothing to update.
    PersonGone,
    /// Rule 5.
    Rehire,
    /// Rule 6.
    Adopt,
    /// Rule 7.
    Create,
}

impl Facts<'_> {
    /// The email belongs to another person this connection links to another record.
    pub fn email_taken_by_other(&self) -> bool {
        match (self.owner, self.source) {
            (Some(owner), Some(source)) => owner.id != source.user_id,
            (Some(owner), None) => owner.linked_record_left == Some(false),
            (None, _) => false,
        }
    }
}

/// Decides what the record does. `claimed_earlier_in_page`: an earlier record of this page took
/// the same email.
pub fn decide(facts: &Facts<'_>, claimed_earlier_in_page: bool) -> Decision {
    if facts.email_taken_by_other() || claimed_earlier_in_page {
        return Decision::DuplicateEmail { still_listed: facts.source.is_some() };
    }
    match (facts.source, facts.owner) {
        (Some(source), _) if source.seen_this_run => Decision::AlreadyMerged,
        (Some(source), _) if source.content_hash == facts.content_hash => Decision::Unchanged,
        (Some(source), _) => match source.person_active {
            None => Decision::PersonGone,
            Some(active) => Decision::Update { deactivates: active && facts.inactive },
        },
        (None, Some(owner)) if owner.linked_record_left == Some(true) => Decision::Rehire,
        (None, Some(_)) => Decision::Adopt,
        (None, None) => Decision::Create,
    }
}

/// What writing a record does to its person's employment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWrite {
    /// Leave the status (and any hand deactivation) as it is.
    Keep,
    /// Set it, ending any hand deactivation.
    Set(EmploymentStatus),
}

/// The status a written record gives its person. `record`: what the record says, `None` when
/// the provider withheld it; `deactivated_by_hand`: an admin deactivated the person and the
/// provider has not spoken since; `rehire`: rule 5.
pub fn status_after_sync(record: Option<EmploymentStatus>, deactivated_by_hand: bool, rehire: bool) -> StatusWrite {
    match record {
        None => StatusWrite::Keep,
        Some(status) if status.is_with_company() && deactivated_by_hand && !rehire => StatusWrite::Keep,
        Some(status) => StatusWrite::Set(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "hash-now";

    fn person(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn source(user: u128, hash: &'static str) -> Source<'static> {
        Source { user_id: person(user), content_hash: hash, seen_this_run: false, person_active: Some(true) }
    }

    fn facts(source: Option<Source<'static>>, owner: Option<Owner>) -> Facts<'static> {
        Facts { source, owner, content_hash: HASH, inactive: false }
    }

    #[test]
    fn a_known_record_is_matched_by_remote_id() {
        assert_eq!(
            decide(&facts(Some(source(1, HASH)), Some(Owner { id: person(1), linked_record_left: None })), false),
            Decision::Unchanged
        );
        assert_eq!(decide(&facts(Some(source(1, "before")), None), false), Decision::Update { deactivates: false });
        let leaving = Facts { inactive: true, ..facts(Some(source(1, "before")), None) };
        assert_eq!(decide(&leaving, false), Decision::Update { deactivates: true });
        let already_inactive = Source { person_active: Some(false), ..source(1, "before") };
        assert_eq!(
            decide(&Facts { inactive: true, ..facts(Some(already_inactive), None) }, false),
            Decision::Update { deactivates: false }
        );
        let gone = Source { person_active: None, ..source(1, "before") };
        assert_eq!(decide(&facts(Some(gone), None), false), Decision::PersonGone);
    }

    #[test]
    fn a_hand_deactivation_stands_until_the_provider_changes_the_employment() {
        use EmploymentStatus::{Active, Inactive, PreStart};
        assert_eq!(status_after_sync(Some(Active), true, false), StatusWrite::Keep, "still listed as employed");
        assert_eq!(status_after_sync(Some(PreStart), true, false), StatusWrite::Keep, "still hired");
        assert_eq!(status_after_sync(Some(Inactive), true, false), StatusWrite::Set(Inactive), "agrees");
        assert_eq!(status_after_sync(Some(Active), true, true), StatusWrite::Set(Active), "rehired");
        assert_eq!(status_after_sync(Some(Active), false, false), StatusWrite::Set(Active));
        assert_eq!(status_after_sync(Some(PreStart), false, false), StatusWrite::Set(PreStart));
        assert_eq!(status_after_sync(None, false, false), StatusWrite::Keep, "withheld");
    }

    #[test]
    fn a_record_merged_by_an_earlier_attempt_is_not_merged_again() {
        let seen = Source { seen_this_run: true, ..source(1, "before") };
        assert_eq!(decide(&facts(Some(seen), None), false), Decision::AlreadyMerged);
    }

    #[test]
    fn a_person_holding_the_email_is_adopted_not_duplicated() {
        let added_by_hand = Owner { id: person(2), linked_record_left: None };
        assert_eq!(decide(&facts(None, Some(added_by_hand)), false), Decision::Adopt);
        assert_eq!(decide(&facts(None, None), false), Decision::Create);
    }

    #[test]
    fn a_leaver_back_under_a_new_id_is_a_rehire() {
        let leaver = Owner { id: person(3), linked_record_left: Some(true) };
        assert_eq!(decide(&facts(None, Some(leaver)), false), Decision::Rehire);
    }

    #[test]
    fn an_email_held_by_another_record_is_a_duplicate() {
        let other_current = Owner { id: person(4), linked_record_left: Some(false) };
        assert_eq!(decide(&facts(None, Some(other_current)), false), Decision::DuplicateEmail { still_listed: false });
        // A known record whose email now belongs to someone else stays listed (it is no leaver).
        let someone_else = Owner { id: person(5), linked_record_left: None };
        assert_eq!(
            decide(&facts(Some(source(1, HASH)), Some(someone_else)), false),
            Decision::DuplicateEmail { still_listed: true }
        );
        // The first record of the page with an email keeps it.
        assert_eq!(decide(&facts(None, None), true), Decision::DuplicateEmail { still_listed: false });
        assert!(!facts(None, Some(Owner { id: person(6), linked_record_left: Some(true) })).email_taken_by_other());
    }
}
