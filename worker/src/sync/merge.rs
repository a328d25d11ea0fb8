//! Merging one page of provider records into the directory, in the caller's transaction.
//!
//! Matching: first by (connection, remote id), then by email, adopting a person added by hand
//! instead of duplicating them. An email already held by another record of this connection is a
//! DUPLICATE_EMAIL issue: the first record in the provider's order wins. A record whose mapped
//! content hashes as before costs no user write; one an earlier attempt of the same run merged
//! or reported (the provider was read again from the start) is not counted twice. A
//! connection's first sync inserts first and looks up only the people whose email was taken.
//! A field the provider withheld is reported once per run and never blanks what the directory
//! holds for it; nor does it change anyone by itself: the record is compared as completed with
//! what the directory holds for that field.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    Set,
};
use uuid::Uuid;

use entity::directory_user::{self, EmploymentStatus};
use entity::{sync_issue, sync_run, user_change, user_source};

use crate::history;
use crate::mapping::{apply_mapping, display_name, FieldMapping, MappedUser, INTERNAL_FIELDS};
use crate::providers::RemoteRecord;

use super::decide::{self, Decision};
use super::issues::Issue;
use super::precedence::Precedence;

/// What one page did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageCounts {
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub deactivated: i32,
    pub skipped: i32,
}

impl PageCounts {
    pub fn processed(&self) -> i32 {
        self.created + self.updated + self.unchanged + self.deactivated + self.skipped
    }
}

/// What merging a page needs to know about its attempt, beyond the run and its mapping.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The connection had synced records when the attempt began; without, matching by remote id
    /// is skipped.
    pub known_records: bool,
    /// An earlier attempt of this run merged pages and the provider is read again from the
    /// start: records that attempt reported as issues are not reported or counted again.
    pub replaying: bool,
    /// Remote ids the provider says it deleted (INCREMENTAL): a new record with one of their
    /// emails is the same person under a new id, a rehire.
    pub removed: &'a HashSet<String>,
    /// The fields other sources of the same people win (an HR system's, for an applicant
    /// tracking system's sync).
    pub precedence: &'a Precedence,
    /// The connection's provider, as a join names it in the history.
    pub provider: &'a str,
}

/// Who merges records: a sync run, or one request of a source that pushes its changes (SCIM).
/// Its `id` marks the records it saw (a pushed request's is its own, so that the next request
/// about the same record is not taken for a repeat).
#[derive(Debug, Clone)]
pub struct Pass {
    pub id: Uuid,
    pub workspace_id: String,
    pub connection_id: Uuid,
    pub author: history::Author,
}

impl Pass {
    pub fn of_run(run: &sync_run::Model) -> Self {
        Self {
            id: run.id,
            workspace_id: run.workspace_id.clone(),
            connection_id: run.connection_id,
            author: history::Author::sync(run.id),
        }
    }
}

/// Merges `records` in the caller's transaction; answers what it did and the issues it met,
/// for the caller to record (a run) or to answer with (a pushed request).
pub async fn merge_page<C: ConnectionTrait>(
    db: &C,
    pass: &Pass,
    mapping: &FieldMapping,
    records: Vec<RemoteRecord>,
    attempt: Attempt<'_>,
) -> Result<(PageCounts, Vec<Issue>), sea_orm::DbErr> {
    let Attempt { known_records, replaying, removed, precedence, provider } = attempt;
    let records = if replaying { without_reported(db, pass, records).await? } else { records };
    let mut counts = PageCounts::default();
    let mut issues = withheld_field_issues(db, pass, mapping, &records).await?;
    let mut mapped = Vec::with_capacity(records.len());
    for record in &records {
        let remote_id = || Some(record.remote_id.clone()).filter(|id| !id.is_empty());
        for note in &record.notes {
            issues.push(Issue { remote_id: remote_id(), kind: note.kind.as_str(), message: note.message.clone() });
        }
        if record.skipped() {
            counts.skipped += 1;
            continue;
        }
        match apply_mapping(mapping, record) {
            Ok(user) => mapped.push(user),
            Err(problem) => {
                counts.skipped += 1;
                issues.push(Issue {
                    remote_id: remote_id(),
                    kind: problem.kind(),
                    message: record.described(&problem.message()),
                });
            }
        }
    }

    let now = Utc::now();
    let mut changes = PageHistory { author: pass.author.clone(), rows: Vec::new() };
    // Where this page's records live, by remote id.
    let mut page_user_ids: HashMap<String, Uuid> = HashMap::new();
    if !known_records {
        let new = NewPeople { now, counts: &mut counts, page_user_ids: &mut page_user_ids, changes: &mut changes };
        mapped = insert_new_people(db, pass, mapped, new).await?;
        if mapped.is_empty() {
            history::record(db, changes.rows).await?;
            return Ok((counts, issues));
        }
        set_plan_cache_mode(db, PlanCacheMode::PerCall).await?;
    }

    let remote_ids: Vec<&str> =
        if known_records { records.iter().map(|r| r.remote_id.as_str()).collect() } else { Vec::new() };
    let existing = Existing::load(db, pass, &remote_ids, &mapped).await?;
    let deferred = precedence.deferred(db, existing.users_by_id.keys().copied()).await?;
    let none = BTreeSet::new();
    let deferred_for = |id: &Uuid| deferred.get(id).unwrap_or(&none);
    let mut claimed_emails = HashSet::new();
    // Records this run saw whose rows need no write; a known record skipped for a bad email is
    // still present at the provider, so it must not count as a leaver.
    let mut seen_ids: Vec<String> = issues
        .iter()
        .filter_map(|issue| issue.remote_id.clone())
        .filter(|id| existing.sources.contains_key(id))
        .collect();
    let mut new_users = Vec::new();
    let mut created_ids = Vec::new();
    let mut new_sources = Vec::new();
    // Which new user waits for which manager.
    let mut awaiting_manager: Vec<(usize, String)> = Vec::new();

    for user in mapped {
        let owner = existing.users_by_email.get(&user.email_key);
        let source = existing.sources.get(&user.remote_id);
        // This connection's record of the email's holder, and whether it has left (deactivated
        // and not seen in this run, or deleted at the provider).
        let linked = owner.and_then(|owner| existing.linked_sources.get(&owner.id));
        let person = source.and_then(|s| existing.users_by_id.get(&s.user_id).map(|person| (person, s)));
        let hash = match person {
            Some((person, source)) if !user.withheld.is_empty() => {
                user.completed_from(&as_held(person, source, &user)).content_hash()
            }
            _ => user.content_hash(),
        };
        let facts = decide::Facts {
            source: source.map(|s| decide::Source {
                user_id: s.user_id,
                content_hash: &s.content_hash,
                seen_this_run: s.last_seen_run_id == pass.id,
                person_active: existing.users_by_id.get(&s.user_id).map(|p| p.employment_status.is_with_company()),
            }),
            owner: owner.map(|o| decide::Owner {
                id: o.id,
                linked_record_left: linked.map(|old| {
                    (old.content_hash.is_empty() && old.last_seen_run_id != pass.id) || removed.contains(&old.remote_id)
                }),
            }),
            content_hash: &hash,
            inactive: deactivates(&user),
        };
        let claimed_earlier = !facts.email_taken_by_other() && !claimed_emails.insert(user.email_key.clone());
        let decision = decide::decide(&facts, claimed_earlier);
        if let (Decision::DuplicateEmail { .. }, true) = (decision, user.yields) {
            // Another record of the connection brings this person in.
            counts.unchanged += 1;
            continue;
        }
        if let Decision::DuplicateEmail { still_listed } = decision {
            counts.skipped += 1;
            if still_listed {
                seen_ids.push(user.remote_id.clone());
            }
            issues.push(Issue {
                remote_id: Some(user.remote_id.clone()),
                kind: "DUPLICATE_EMAIL",
                message: format!("email '{}' already belongs to another person; the first record keeps it", user.email),
            });
            continue;
        }
        if let Some(user_id) = source.map(|s| s.user_id).or(owner.map(|o| o.id)) {
            page_user_ids.insert(user.remote_id.clone(), user_id);
        }
        match decision {
            Decision::DuplicateEmail { .. } | Decision::AlreadyMerged | Decision::PersonGone => {}
            Decision::Unchanged => {
                counts.unchanged += 1;
                seen_ids.push(user.remote_id.clone());
            }
            Decision::Update { deactivates } => {
                // `decide` answers Update only for a record with a source and a person.
                let source = source.expect("an updated record has a source");
                let current = &existing.users_by_id[&source.user_id];
                if deactivates {
                    counts.deactivated += 1;
                } else {
                    counts.updated += 1;
                }
                let write = Write { mapping, matched: RecordMatch::Known, deferred: deferred_for(&current.id), now };
                let changed = update_user(db, current.clone(), &user, write).await?;
                changes.add(&pass.workspace_id, current.id, now, changed);
                update_source(db, source, &user, hash, pass, now).await?;
            }
            Decision::Rehire => {
                counts.updated += 1;
                // `decide` answers Rehire only for an owner linked to a record that left.
                let owner = owner.expect("a rehire has an owner").clone();
                let id = owner.id;
                let write = Write { mapping, matched: RecordMatch::Rehire, deferred: deferred_for(&id), now };
                let changed = update_user(db, owner, &user, write).await?;
                changes.add(&pass.workspace_id, id, now, changed);
                update_source(db, linked.expect("a rehire has a linked record"), &user, hash, pass, now).await?;
            }
            Decision::Adopt => {
                let owner = owner.expect("an adoption has an owner");
                counts.updated += 1;
                let write = Write { mapping, matched: RecordMatch::Known, deferred: deferred_for(&owner.id), now };
                let mut changed = update_user(db, owner.clone(), &user, write).await?;
                // The person was another source's (or an admin's): the history shows the join.
                changed.push(history::FieldChange {
                    field: history::SOURCE,
                    old: None,
                    new: Some(format!("{provider}:{}", user.remote_id)),
                });
                changes.add(&pass.workspace_id, owner.id, now, changed);
                new_sources.push(source_row(pass.connection_id, pass.id, &user, owner.id, hash, now));
            }
            Decision::Create => {
                counts.created += 1;
                let id = Uuid::now_v7();
                page_user_ids.insert(user.remote_id.clone(), id);
                if let Some(manager) = &user.remote_manager_id {
                    awaiting_manager.push((new_users.len(), manager.clone()));
                }
                new_users.push(user_row(&pass.workspace_id, &user, id, now));
                created_ids.push(id);
                new_sources.push(source_row(pass.connection_id, pass.id, &user, id, hash, now));
            }
        }
    }

    link_known_managers(db, pass, &mut new_users, awaiting_manager, &page_user_ids).await?;
    if !seen_ids.is_empty() {
        user_source::Entity::update_many()
            .col_expr(user_source::Column::LastSeenRunId, Expr::value(pass.id))
            .filter(user_source::Column::ConnectionId.eq(pass.connection_id))
            .filter(user_source::Column::RemoteId.is_in(seen_ids))
            .exec(db)
            .await?;
    }
    set_plan_cache_mode(db, PlanCacheMode::Cached).await?;
    if !new_users.is_empty() {
        directory_user::Entity::insert_many(new_users).exec(db).await?;
    }
    history::record_created(db, &pass.workspace_id, &changes.author, &created_ids).await?;
    if !new_sources.is_empty() {
        user_source::Entity::insert_many(new_sources).exec(db).await?;
    }
    history::record(db, changes.rows).await?;
    Ok((counts, issues))
}

/// The history entries a page writes, together at its end.
struct PageHistory {
    author: history::Author,
    rows: Vec<user_change::ActiveModel>,
}

impl PageHistory {
    fn add(
        &mut self,
        workspace_id: &str,
        user_id: Uuid,
        at: chrono::DateTime<Utc>,
        changes: Vec<history::FieldChange>,
    ) {
        self.rows.extend(history::rows(workspace_id, user_id, &self.author, at, changes));
    }
}

/// What inserting a first sync's new people updates besides the tables.
struct NewPeople<'p> {
    now: chrono::DateTime<Utc>,
    counts: &'p mut PageCounts,
    page_user_ids: &'p mut HashMap<String, Uuid>,
    changes: &'p mut PageHistory,
}

/// `records` less those this run already reported as issues.
async fn without_reported<C: ConnectionTrait>(
    db: &C,
    pass: &Pass,
    records: Vec<RemoteRecord>,
) -> Result<Vec<RemoteRecord>, sea_orm::DbErr> {
    let reported: HashSet<String> = sync_issue::Entity::find()
        .select_only()
        .column(sync_issue::Column::RemoteId)
        .filter(sync_issue::Column::SyncRunId.eq(pass.id))
        .filter(sync_issue::Column::RemoteId.is_in(records.iter().map(|r| r.remote_id.as_str())))
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(records.into_iter().filter(|r| !reported.contains(&r.remote_id)).collect())
}

/// A connection's first sync: inserts everyone whose email no one in the workspace holds yet,
/// with their provenance rows, in two statements and without looking anyone up first. Answers
/// the people whose email was taken (by someone added by hand, another connection's person, or an
/// earlier record of this run), for the general merge to adopt or report.
async fn insert_new_people<C: ConnectionTrait>(
    db: &C,
    pass: &Pass,
    mapped: Vec<MappedUser>,
    new: NewPeople<'_>,
) -> Result<Vec<MappedUser>, sea_orm::DbErr> {
    let NewPeople { now, counts, page_user_ids, changes } = new;
    let ids: Vec<Uuid> = mapped.iter().map(|_| Uuid::now_v7()).collect();
    page_user_ids.extend(mapped.iter().zip(&ids).map(|(user, id)| (user.remote_id.clone(), *id)));
    let mut rows: Vec<directory_user::ActiveModel> =
        mapped.iter().zip(&ids).map(|(user, id)| user_row(&pass.workspace_id, user, *id, now)).collect();
    let awaiting = mapped
        .iter()
        .enumerate()
        .filter_map(|(index, user)| user.remote_manager_id.clone().map(|manager| (index, manager)))
        .collect();
    link_known_managers(db, pass, &mut rows, awaiting, page_user_ids).await?;
    set_plan_cache_mode(db, PlanCacheMode::Cached).await?;
    let inserted: HashSet<Uuid> = match directory_user::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([directory_user::Column::WorkspaceId, directory_user::Column::EmailNormalized])
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning_keys(db)
        .await
    {
        Ok(keys) => keys.into_iter().collect(),
        Err(sea_orm::DbErr::RecordNotInserted) => HashSet::new(),
        Err(err) => return Err(err),
    };
    let mut sources = Vec::with_capacity(inserted.len());
    let (mut taken, mut taken_ids) = (Vec::new(), Vec::new());
    for (user, id) in mapped.into_iter().zip(ids) {
        if inserted.contains(&id) {
            sources.push(source_row(pass.connection_id, pass.id, &user, id, user.content_hash(), now));
        } else {
            page_user_ids.remove(&user.remote_id);
            taken.push(user);
            taken_ids.push(id);
        }
    }
    counts.created += sources.len() as i32;
    if !sources.is_empty() {
        user_source::Entity::insert_many(sources).exec(db).await?;
    }
    let created: Vec<Uuid> = inserted.into_iter().collect();
    history::record_created(db, &pass.workspace_id, &changes.author, &created).await?;
    if !taken_ids.is_empty() {
        // Reports linked to a person who was not inserted wait for finalize to link them.
        directory_user::Entity::update_many()
            .col_expr(directory_user::Column::ManagerId, Expr::value(Option::<Uuid>::None))
            .filter(directory_user::Column::ManagerId.is_in(taken_ids))
            .exec(db)
            .await?;
    }
    Ok(taken)
}

/// How PostgreSQL plans the page's statements; each page's transaction starts with `PerCall`.
enum PlanCacheMode {
    /// Lookups and updates by key into tables a first sync grows faster than statistics: plan
    /// each for its values, rather than reuse a plan made while the tables were empty (a
    /// sequential scan).
    PerCall,
    /// The inserts: the same statement every page, with nothing to gain from planning for its
    /// values, so always the cached plan. (`auto` would plan the first five runs on each pooled
    /// connection for their values: half of a 100-page sync, at several ms a page.)
    Cached,
}

async fn set_plan_cache_mode<C: ConnectionTrait>(db: &C, mode: PlanCacheMode) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let mode = match mode {
            PlanCacheMode::PerCall => "force_custom_plan",
            PlanCacheMode::Cached => "force_generic_plan",
        };
        db.execute_unprepared(&format!("SET LOCAL plan_cache_mode TO {mode}")).await?;
    }
    Ok(())
}

/// Gives new users the manager already synced under their manager's remote id (earlier in this
/// page, or in an earlier page or run), so that finalize, which links everyone, rewrites only the
/// few whose manager arrives later; on a first sync that saves rewriting every person.
async fn link_known_managers<C: ConnectionTrait>(
    db: &C,
    pass: &Pass,
    new_users: &mut [directory_user::ActiveModel],
    awaiting_manager: Vec<(usize, String)>,
    page_user_ids: &HashMap<String, Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let elsewhere: HashSet<&str> =
        awaiting_manager.iter().map(|(_, m)| m.as_str()).filter(|m| !page_user_ids.contains_key(*m)).collect();
    let earlier: HashMap<String, Uuid> = if elsewhere.is_empty() {
        HashMap::new()
    } else {
        user_source::Entity::find()
            .filter(user_source::Column::ConnectionId.eq(pass.connection_id))
            .filter(user_source::Column::RemoteId.is_in(elsewhere))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.remote_id, s.user_id))
            .collect()
    };
    for (index, manager) in awaiting_manager {
        if let Some(manager_id) = page_user_ids.get(&manager).or_else(|| earlier.get(&manager)) {
            new_users[index].manager_id = Set(Some(*manager_id));
        }
    }
    Ok(())
}

/// The rows a page's records may match, loaded with a few indexed queries.
struct Existing {
    sources: HashMap<String, user_source::Model>,
    users_by_email: HashMap<String, directory_user::Model>,
    users_by_id: HashMap<Uuid, directory_user::Model>,
    /// The record of this connection each of those users is linked to, by user id.
    linked_sources: HashMap<Uuid, user_source::Model>,
}

impl Existing {
    async fn load<C: ConnectionTrait>(
        db: &C,
        pass: &Pass,
        remote_ids: &[&str],
        mapped: &[MappedUser],
    ) -> Result<Self, sea_orm::DbErr> {
        let emails: Vec<String> = mapped.iter().map(|user| user.email_key.clone()).collect();
        let sources: HashMap<String, user_source::Model> = if remote_ids.is_empty() {
            HashMap::new()
        } else {
            user_source::Entity::find()
                .filter(user_source::Column::ConnectionId.eq(pass.connection_id))
                .filter(user_source::Column::RemoteId.is_in(remote_ids.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.remote_id.clone(), s))
                .collect()
        };
        // Two index lookups rather than one OR, which SQLite would answer with a table scan.
        let mut users = directory_user::Entity::find()
            .filter(directory_user::Column::WorkspaceId.eq(pass.workspace_id.clone()))
            .filter(directory_user::Column::EmailNormalized.is_in(emails))
            .all(db)
            .await?;
        let found: HashSet<Uuid> = users.iter().map(|u| u.id).collect();
        let missing: Vec<Uuid> = sources.values().map(|s| s.user_id).filter(|id| !found.contains(id)).collect();
        if !missing.is_empty() {
            users.extend(
                directory_user::Entity::find().filter(directory_user::Column::Id.is_in(missing)).all(db).await?,
            );
        }
        let email_owner_ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
        // By user id alone, so the planner uses the user_id index rather than scanning the
        // connection's whole (connection_id, remote_id) range.
        let linked_sources = if email_owner_ids.is_empty() {
            HashMap::new()
        } else {
            user_source::Entity::find()
                .filter(user_source::Column::UserId.is_in(email_owner_ids))
                .all(db)
                .await?
                .into_iter()
                .filter(|s| s.connection_id == pass.connection_id)
                .map(|s| (s.user_id, s))
                .collect()
        };
        Ok(Self {
            sources,
            users_by_email: users.iter().map(|u| (u.email_normalized.clone(), u.clone())).collect(),
            users_by_id: users.into_iter().map(|u| (u.id, u)).collect(),
            linked_sources,
        })
    }
}

/// What the directory holds for `person`, linked to `source`, in a mapped record's terms (the
/// identity taken from `user`), to complete a record the provider withheld fields from.
fn as_held(person: &directory_user::Model, source: &user_source::Model, user: &MappedUser) -> MappedUser {
    MappedUser {
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        display_name: person.display_name.clone(),
        job_title: person.job_title.clone(),
        department: person.department.clone(),
        location: person.location.clone(),
        active: person.employment_status.is_with_company(),
        pre_start: person.employment_status == EmploymentStatus::PreStart,
        start_date: person.start_date.clone(),
        remote_manager_id: source.remote_manager_id.clone(),
        ..user.clone()
    }
}

/// The person a first sighting of `user` creates. Public so the benchmark's baseline inserts
/// exactly the rows a sync writes.
pub fn user_row(
    workspace_id: &str,
    user: &MappedUser,
    id: Uuid,
    now: chrono::DateTime<Utc>,
) -> directory_user::ActiveModel {
    directory_user::ActiveModel {
        id: Set(id),
        workspace_id: Set(workspace_id.to_string()),
        email: Set(user.email.clone()),
        email_normalized: Set(user.email_key.clone()),
        first_name: Set(user.first_name.clone()),
        last_name: Set(user.last_name.clone()),
        display_name: Set(user.display_name.clone()),
        job_title: Set(user.job_title.clone()),
        department: Set(user.department.clone()),
        location: Set(user.location.clone()),
        employment_status: Set(user.status()),
        start_date: Set(user.start_date.clone()),
        manager_id: Set(None),
        ..directory_user::ActiveModel::newcomer(now)
    }
}

/// The provenance row linking `user_id` to `user`'s record at `connection_id`, as seen by run
/// `run_id`.
pub fn source_row(
    connection_id: Uuid,
    run_id: Uuid,
    user: &MappedUser,
    user_id: Uuid,
    hash: String,
    now: chrono::DateTime<Utc>,
) -> user_source::ActiveModel {
    user_source::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        connection_id: Set(connection_id),
        remote_id: Set(user.remote_id.clone()),
        remote_manager_id: Set(user.remote_manager_id.clone()),
        content_hash: Set(hash),
        last_seen_run_id: Set(run_id),
        last_synced_at: Set(now),
    }
}

/// Points `source` at `user`'s record as seen in this run.
async fn update_source<C: ConnectionTrait>(
    db: &C,
    source: &user_source::Model,
    user: &MappedUser,
    hash: String,
    pass: &Pass,
    now: chrono::DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut active = source.clone().into_active_model();
    active.remote_id = Set(user.remote_id.clone());
    active.content_hash = Set(hash);
    if !user.is_withheld("managerId") {
        active.remote_manager_id = Set(user.remote_manager_id.clone());
    }
    active.last_seen_run_id = Set(pass.id);
    active.last_synced_at = Set(now);
    active.update(db).await?;
    Ok(())
}

/// How a record found the person it is written over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RecordMatch {
    /// By remote id or by email.
    Known,
    /// Rule 5 of [`decide`]: a leaver back under a new record.
    Rehire,
}

/// How a record is written over its person.
struct Write<'w> {
    mapping: &'w FieldMapping,
    matched: RecordMatch,
    /// Fields another source of the person wins (see [`Precedence`]).
    deferred: &'w BTreeSet<&'static str>,
    now: chrono::DateTime<Utc>,
}

/// Writes the fields the mapping manages, except those the provider withheld and those another
/// source wins; unmapped fields (an admin's to edit), invitation state and the manager link (set
/// in finalize) stay. A display name made of the names takes the admin's for a name the mapping
/// leaves out. The status follows [`decide::status_after_sync`], and is written only when it
/// changes, so an admin's deactivation committed meanwhile is not overwritten with the same old
/// value.
async fn update_user<C: ConnectionTrait>(
    db: &C,
    current: directory_user::Model,
    user: &MappedUser,
    write: Write<'_>,
) -> Result<Vec<history::FieldChange>, sea_orm::DbErr> {
    let Write { mapping, matched, deferred, now } = write;
    let writes = |field: &str| mapping.manages(field) && !user.is_withheld(field) && !deferred.contains(field);
    fn written<T: Into<sea_orm::Value>>(write: bool, value: T) -> sea_orm::ActiveValue<T> {
        if write {
            Set(value)
        } else {
            sea_orm::ActiveValue::NotSet
        }
    }
    let record_status = writes("employmentStatus").then(|| user.status());
    let by_hand = current.deactivated_by_hand_at.is_some();
    let status = decide::status_after_sync(record_status, by_hand, matched == RecordMatch::Rehire);
    let names_in_display = mapping.source_of("displayName").is_none();
    let first_name = if writes("firstName") { user.first_name.clone() } else { current.first_name.clone() };
    let last_name = if writes("lastName") { user.last_name.clone() } else { current.last_name.clone() };
    let display_name = if names_in_display {
        display_name(first_name.as_deref(), last_name.as_deref(), &user.email)
    } else {
        user.display_name.clone()
    };
    let mut active = current.clone().into_active_model();
    let mut status_written = false;
    if let decide::StatusWrite::Set(status) = status {
        status_written = status != current.employment_status;
        active.employment_status = written(status_written, status);
        active.deactivated_by_hand_at = written(by_hand, None);
    }
    active.email = written(writes("email"), user.email.clone());
    active.email_normalized = written(writes("email"), user.email_key.clone());
    active.first_name = written(writes("firstName"), first_name);
    active.last_name = written(writes("lastName"), last_name);
    active.display_name = written(writes("displayName"), display_name);
    active.job_title = written(writes("jobTitle"), user.job_title.clone());
    active.department = written(writes("department"), user.department.clone());
    active.location = written(writes("location"), user.location.clone());
    active.start_date = written(writes("startDate"), user.start_date.clone());
    active.updated_at = Set(now);
    let after = active.update(db).await?;
    // Only what this write wrote: the row comes back whole, an admin's edit meanwhile included.
    let wrote = |field: &str| match field {
        "email" => writes("email"),
        "employmentStatus" => status_written,
        "managerId" => false,
        other => writes(other),
    };
    Ok(history::diff(&current, &after).into_iter().filter(|change| wrote(change.field)).collect())
}

/// Whether writing `user` makes an active person a leaver: not when their status is unknown.
fn deactivates(user: &MappedUser) -> bool {
    !user.active && !user.is_withheld("employmentStatus")
}

/// One FIELD_WITHHELD issue per mapped provider field that `records` lack and this run has not
/// reported yet.
async fn withheld_field_issues<C: ConnectionTrait>(
    db: &C,
    pass: &Pass,
    mapping: &FieldMapping,
    records: &[RemoteRecord],
) -> Result<Vec<Issue>, sea_orm::DbErr> {
    let lacking: BTreeSet<&str> = records.iter().flat_map(|r| r.withheld.iter().map(String::as_str)).collect();
    if lacking.is_empty() {
        return Ok(Vec::new());
    }
    let mut issues = Vec::new();
    for entry in &mapping.entries {
        let Some(external) = entry.external_field.as_deref().filter(|f| lacking.contains(f)) else { continue };
        let label = INTERNAL_FIELDS.iter().find(|f| f.key == entry.internal_field).map_or("", |f| f.label);
        let message = format!(
            "the provider left '{external}' (mapped to {label}) out of its answers: the connection may not read \
             it. Grant read access to it; until then the directory keeps what it holds for {label}."
        );
        let reported = sync_issue::Entity::find()
            .filter(sync_issue::Column::SyncRunId.eq(pass.id))
            .filter(sync_issue::Column::Kind.eq(FIELD_WITHHELD))
            .filter(sync_issue::Column::Message.eq(message.clone()))
            .one(db)
            .await?
            .is_some();
        if !reported {
            issues.push(Issue { remote_id: None, kind: FIELD_WITHHELD, message });
        }
    }
    Ok(issues)
}

/// The issue kind of a mapped field the provider withheld.
const FIELD_WITHHELD: &str = "FIELD_WITHHELD";
