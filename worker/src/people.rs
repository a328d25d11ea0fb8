//! People an admin adds and edits by hand. Anyone may be added this way, with or without a
//! connection; a later sync that meets the same email adopts the person. From then on the
//! fields the connection's mapping fills belong to the provider (editing one is
//! FIELD_MANAGED_BY_PROVIDER) and the rest stay the admin's. Deactivating by hand holds against
//! the syncs that follow until the provider itself changes the person's employment (see
//! `sync::decide::status_after_sync`).

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::directory_user::{self, EmploymentStatus};
use entity::user_source;

use crate::directory::user_in;
use crate::environment::begin_write;
use crate::error::{Error, Result};
use crate::history::{self, Author};
use crate::input;
use crate::integrations::mappings;
use crate::mapping::email::email_key;
use crate::mapping::{display_name, employment_status, FieldMapping};

/// Longest name, title, department or location a person may have.
const MAX_DETAIL_CHARS: usize = 200;
/// Longest chain of managers walked when checking that a new manager makes no cycle.
const MAX_MANAGER_CHAIN: usize = 1_000;

/// What an edit does to one detail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    fn touches(&self) -> bool {
        !matches!(self, Self::Keep)
    }

    fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(value) => Some(value),
        }
    }

    /// The column write of this change: none when kept, so an edit never writes back what it
    /// read (a sync may have changed it since).
    fn write(self) -> sea_orm::ActiveValue<Option<T>>
    where
        Option<T>: Into<sea_orm::Value>,
    {
        match self {
            Self::Keep => sea_orm::ActiveValue::NotSet,
            Self::Clear => Set(None),
            Self::Set(value) => Set(Some(value)),
        }
    }
}

/// The details an admin edits; the email is given once, when the person is added.
#[derive(Debug, Clone, Default)]
pub struct PersonEdit {
    pub first_name: Change<String>,
    pub last_name: Change<String>,
    pub job_title: Change<String>,
    pub department: Change<String>,
    pub location: Change<String>,
    /// An ISO date.
    pub start_date: Change<String>,
    pub manager_id: Change<Uuid>,
}

impl PersonEdit {
    /// The directory fields (as `internalFields` names them) this edit changes.
    fn touched(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ("firstName", self.first_name.touches()),
            ("lastName", self.last_name.touches()),
            ("jobTitle", self.job_title.touches()),
            ("department", self.department.touches()),
            ("location", self.location.touches()),
            ("startDate", self.start_date.touches()),
            ("managerId", self.manager_id.touches()),
        ]
        .into_iter()
        .filter_map(|(field, touched)| touched.then_some(field))
    }

    /// Trims the texts (blank clears), and checks their length and the date; errors name the
    /// input field.
    fn cleaned(self) -> Result<Self> {
        Ok(Self {
            first_name: text(self.first_name, "input.firstName")?,
            last_name: text(self.last_name, "input.lastName")?,
            job_title: text(self.job_title, "input.jobTitle")?,
            department: text(self.department, "input.department")?,
            location: text(self.location, "input.location")?,
            start_date: date(self.start_date)?,
            manager_id: self.manager_id,
        })
    }
}

fn text(change: Change<String>, field: &'static str) -> Result<Change<String>> {
    let Change::Set(value) = change else { return Ok(change) };
    Ok(input::text(field, &value, MAX_DETAIL_CHARS)?.map_or(Change::Clear, Change::Set))
}

fn date(change: Change<String>) -> Result<Change<String>> {
    let Change::Set(value) = change else { return Ok(change) };
    Ok(input::iso_date("input.startDate", &value)?.map_or(Change::Clear, Change::Set))
}

/// The first field `edit` changes that one of `mappings` (those of the connections that sync
/// the person) fills: it is the provider's.
fn provider_managed(edit: &PersonEdit, mappings: &[FieldMapping]) -> Option<&'static str> {
    edit.touched().find(|field| mappings.iter().any(|m| m.manages(field)))
}

/// Adds a person by hand: ACTIVE, not invited, with no source.
pub async fn create(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    email: &str,
    edit: PersonEdit,
) -> Result<directory_user::Model> {
    let email = email.trim();
    let Some(email_normalized) = email_key(email) else {
        return Err(Error::Validation {
            field: "input.email",
            message: format!("'input.email' is not a valid email address: '{}'", crate::text::excerpt(email, 64)),
        });
    };
    let edit = edit.cleaned()?;
    if let Some(holder) = holder_of(db, workspace_id, &email_normalized).await? {
        return Err(Error::EmailTaken { user_id: holder });
    }
    let id = Uuid::now_v7();
    if let Change::Set(manager) = edit.manager_id {
        check_manager(db, workspace_id, id, manager).await?;
    }
    let now = Utc::now();
    let (first_name, last_name) = (edit.first_name.apply(None), edit.last_name.apply(None));
    let start_date = edit.start_date.apply(None);
    let person = directory_user::ActiveModel {
        id: Set(id),
        workspace_id: Set(workspace_id.to_string()),
        email: Set(email.to_string()),
        email_normalized: Set(email_normalized.clone()),
        display_name: Set(display_name(first_name.as_deref(), last_name.as_deref(), email)),
        first_name: Set(first_name),
        last_name: Set(last_name),
        job_title: Set(edit.job_title.apply(None)),
        department: Set(edit.department.apply(None)),
        location: Set(edit.location.apply(None)),
        // Someone added before their first day is pre-start until then.
        employment_status: Set(employment_status(None, start_date.as_deref(), now.date_naive())),
        start_date: Set(start_date),
        manager_id: Set(edit.manager_id.apply(None)),
        ..directory_user::ActiveModel::newcomer(now)
    };
    // Two admins adding the same address at once: the unique index decides, and the second is
    // told who holds it.
    let txn = begin_write(db).await?;
    let inserted = directory_user::Entity::insert(person)
        .on_conflict(
            OnConflict::columns([directory_user::Column::WorkspaceId, directory_user::Column::EmailNormalized])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        return Err(match holder_of(db, workspace_id, &email_normalized).await? {
            Some(holder) => Error::EmailTaken { user_id: holder },
            // Taken and let go again in the meantime.
            None => Error::Validation { field: "input.email", message: "this email was just in use; try again".into() },
        });
    }
    history::record_created(&txn, workspace_id, author, &[id]).await?;
    txn.commit().await?;
    user_in(db, workspace_id, id).await
}

/// Changes person `id` as `change` says of the row as it stands (`None`: nothing to do), with
/// its history entries, in one transaction that holds the row, so a sync committing meanwhile
/// is neither overwritten nor recorded as this change.
async fn save(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    id: Uuid,
    change: impl FnOnce(&directory_user::Model) -> Option<directory_user::ActiveModel>,
) -> Result<directory_user::Model> {
    let txn = begin_write(db).await?;
    let mut query = directory_user::Entity::find_by_id(id).filter(directory_user::Column::WorkspaceId.eq(workspace_id));
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let before = query.one(&txn).await?.ok_or(Error::NotFound("user"))?;
    let Some(active) = change(&before) else { return Ok(before) };
    let after = active.update(&txn).await?;
    let rows = history::rows(workspace_id, id, author, after.updated_at, history::diff(&before, &after));
    history::record(&txn, rows.collect()).await?;
    txn.commit().await?;
    Ok(after)
}

/// Edits a person's details. A synced person's provider-filled fields are refused with
/// FIELD_MANAGED_BY_PROVIDER naming the first of them.
pub async fn update(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    id: Uuid,
    edit: PersonEdit,
) -> Result<directory_user::Model> {
    let person = user_in(db, workspace_id, id).await?;
    let edit = edit.cleaned()?;
    let mappings = syncing_mappings(db, id).await?;
    if let Some(field) = provider_managed(&edit, &mappings) {
        return Err(Error::FieldManagedByProvider { field });
    }
    if let Change::Set(manager) = edit.manager_id {
        check_manager(db, workspace_id, id, manager).await?;
    }
    // A display name the provider gives stays the provider's; one made of the names follows
    // them, as a sync makes it of its names and the admin's.
    let display_given = mappings.iter().any(|m| m.source_of("displayName").is_some());
    save(db, workspace_id, author, person.id, |person| {
        let mut active = person.clone().into_active_model();
        if (edit.first_name.touches() || edit.last_name.touches()) && !display_given {
            let first_name = edit.first_name.clone().apply(person.first_name.clone());
            let last_name = edit.last_name.clone().apply(person.last_name.clone());
            active.display_name = Set(display_name(first_name.as_deref(), last_name.as_deref(), &person.email));
        }
        active.first_name = edit.first_name.write();
        active.last_name = edit.last_name.write();
        active.job_title = edit.job_title.write();
        active.department = edit.department.write();
        active.location = edit.location.write();
        active.start_date = edit.start_date.write();
        active.manager_id = edit.manager_id.write();
        active.updated_at = Set(Utc::now());
        Some(active)
    })
    .await
}

/// Deactivates a person by hand; the syncs that follow keep them inactive until the provider
/// itself reports them as a leaver or a rehire. Deactivating an inactive person changes nothing.
pub async fn deactivate(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    id: Uuid,
) -> Result<directory_user::Model> {
    save(db, workspace_id, author, id, |person| {
        if person.employment_status == EmploymentStatus::Inactive {
            return None;
        }
        let now = Utc::now();
        let mut active = person.clone().into_active_model();
        active.employment_status = Set(EmploymentStatus::Inactive);
        active.deactivated_by_hand_at = Set(Some(now));
        active.updated_at = Set(now);
        Some(active)
    })
    .await
}

/// Undoes a hand deactivation. A person the provider itself reports as a leaver is the
/// provider's to bring back: FIELD_MANAGED_BY_PROVIDER on `employmentStatus`, since the next
/// sync would deactivate them again.
pub async fn reactivate(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    id: Uuid,
) -> Result<directory_user::Model> {
    let person = user_in(db, workspace_id, id).await?;
    if person.employment_status.is_with_company() {
        return Ok(person);
    }
    if !sources_of(db, id).await?.is_empty() && person.deactivated_by_hand_at.is_none() {
        return Err(Error::FieldManagedByProvider { field: "employmentStatus" });
    }
    save(db, workspace_id, author, id, |person| {
        if person.employment_status.is_with_company() {
            return None;
        }
        let mut active = person.clone().into_active_model();
        // Back as they would be had they never left: pre-start until their start date.
        let today = Utc::now().date_naive();
        active.employment_status = Set(employment_status(None, person.start_date.as_deref(), today));
        active.deactivated_by_hand_at = Set(None);
        active.updated_at = Set(Utc::now());
        Some(active)
    })
    .await
}

/// The connections' records of person `id`.
async fn sources_of(db: &DatabaseConnection, id: Uuid) -> Result<Vec<user_source::Model>> {
    Ok(user_source::Entity::find().filter(user_source::Column::UserId.eq(id)).all(db).await?)
}

async fn holder_of(db: &DatabaseConnection, workspace_id: &str, email_normalized: &str) -> Result<Option<Uuid>> {
    Ok(directory_user::Entity::find()
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .filter(directory_user::Column::EmailNormalized.eq(email_normalized))
        .one(db)
        .await?
        .map(|holder| holder.id))
}

/// The confirmed mappings of the connections that sync person `id`.
async fn syncing_mappings(db: &DatabaseConnection, id: Uuid) -> Result<Vec<FieldMapping>> {
    let sources = sources_of(db, id).await?;
    let mut found = Vec::with_capacity(sources.len());
    for source in sources {
        if let Some(view) = mappings::confirmed(db, source.connection_id).await? {
            found.push(view.mapping);
        }
    }
    Ok(found)
}

/// `manager` must be another person of the workspace, and not one who reports (through any
/// chain) to `person`.
async fn check_manager(db: &DatabaseConnection, workspace_id: &str, person: Uuid, manager: Uuid) -> Result<()> {
    let invalid = |message: &str| Error::Validation { field: "input.managerId", message: message.to_string() };
    if manager == person {
        return Err(invalid("a person cannot be their own manager"));
    }
    let mut next = Some(manager);
    for _ in 0..MAX_MANAGER_CHAIN {
        let Some(id) = next else { return Ok(()) };
        let Some(above) = crate::directory::find_user(db, workspace_id, id).await? else {
            return Err(invalid("'input.managerId' names nobody in this workspace's directory"));
        };
        if above.manager_id == Some(person) {
            return Err(invalid("this manager reports to the person, directly or through others: a cycle"));
        }
        next = above.manager_id;
    }
    Err(invalid("the manager's chain of managers is too long to check"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::MappingEntry;

    fn edit_title_and_department() -> PersonEdit {
        PersonEdit { job_title: Change::Set("Engineer".into()), department: Change::Clear, ..PersonEdit::default() }
    }

    #[test]
    fn a_mapped_field_is_the_providers_and_the_others_the_admins() {
        let maps_department = FieldMapping::normalized(vec![
            MappingEntry::new("email", Some("workEmail")),
            MappingEntry::new("department", Some("department")),
        ]);
        let maps_title = FieldMapping::normalized(vec![MappingEntry::new("jobTitle", Some("title"))]);
        let edit = edit_title_and_department();
        assert_eq!(provider_managed(&edit, &[]), None, "added by hand");
        assert_eq!(provider_managed(&edit, std::slice::from_ref(&maps_department)), Some("department"), "a clear too");
        assert_eq!(provider_managed(&edit, &[maps_department, maps_title]), Some("jobTitle"), "first in field order");
        let names = PersonEdit { first_name: Change::Set("Ada".into()), ..PersonEdit::default() };
        let maps_display_name = FieldMapping::normalized(vec![MappingEntry::new("displayName", Some("name"))]);
        assert_eq!(provider_managed(&names, &[maps_display_name]), None, "the first name itself is unmapped");
    }

    #[test]
    fn details_are_trimmed_checked_and_blank_clears() {
        let edit = PersonEdit {
            first_name: Change::Set("  Ada ".into()),
            last_name: Change::Set("   ".into()),
            start_date: Change::Set("2026-3-01".into()),
            ..PersonEdit::default()
        }
        .cleaned()
        .unwrap();
        assert_eq!((edit.first_name, edit.last_name), (Change::Set("Ada".into()), Change::Clear));
        assert_eq!(edit.start_date, Change::Set("2026-03-01".into()), "normalised");
        let bad_date = PersonEdit { start_date: Change::Set("01/03/2026".into()), ..PersonEdit::default() };
        assert!(matches!(bad_date.cleaned(), Err(Error::Validation { field: "input.startDate", .. })));
        let long = PersonEdit { location: Change::Set("x".repeat(201)), ..PersonEdit::default() };
        assert!(matches!(long.cleaned(), Err(Error::Validation { field: "input.location", .. })));
    }
}
