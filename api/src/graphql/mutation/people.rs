use async_graphql::{Context, InputObject, MaybeUndefined, Object, ID};

use worker::activities::NewActivity;
use worker::people::{Change, PersonEdit};

use crate::access::UserId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ContextExt;
use crate::graphql::types::user::{ActivityAssignment, User};

/// A person added by hand. Blank texts are left empty; `startDate` is an ISO date.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Their sign-in and invitation address; unique in the workspace, whatever its case.
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub start_date: Option<String>,
    pub manager_id: Option<ID>,
}

/// Changes to a person: a field left out stays as it is, `null` (or a blank text) clears it.
/// For a synced person, fields the connection's mapping fills are the provider's.
#[derive(InputObject)]
pub struct UpdateUserInput {
    pub first_name: MaybeUndefined<String>,
    pub last_name: MaybeUndefined<String>,
    pub job_title: MaybeUndefined<String>,
    pub department: MaybeUndefined<String>,
    pub location: MaybeUndefined<String>,
    pub start_date: MaybeUndefined<String>,
    pub manager_id: MaybeUndefined<ID>,
}

/// An activity for some people; the first one a person receives invites them.
#[derive(InputObject)]
pub struct AssignActivityInput {
    /// 1 to 100 people of the workspace.
    pub user_ids: Vec<ID>,
    pub title: String,
    /// ISO date
    pub due_date: Option<String>,
}

fn change<T>(value: MaybeUndefined<T>) -> Change<T> {
    match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(value) => Change::Set(value),
    }
}

fn manager(id: Change<ID>) -> Result<Change<uuid::Uuid>, ApiError> {
    Ok(match id {
        Change::Keep => Change::Keep,
        Change::Clear => Change::Clear,
        Change::Set(id) => Change::Set(UserId::parse(&id, "input.managerId")?.0),
    })
}

impl TryFrom<CreateUserInput> for (String, PersonEdit) {
    type Error = ApiError;

    fn try_from(input: CreateUserInput) -> Result<Self, ApiError> {
        let set = |value: Option<String>| value.map_or(Change::Keep, Change::Set);
        let edit = PersonEdit {
            first_name: set(input.first_name),
            last_name: set(input.last_name),
            job_title: set(input.job_title),
            department: set(input.department),
            location: set(input.location),
            start_date: set(input.start_date),
            manager_id: manager(input.manager_id.map_or(Change::Keep, Change::Set))?,
        };
        Ok((input.email, edit))
    }
}

impl TryFrom<UpdateUserInput> for PersonEdit {
    type Error = ApiError;

    fn try_from(input: UpdateUserInput) -> Result<Self, ApiError> {
        Ok(Self {
            first_name: change(input.first_name),
            last_name: change(input.last_name),
            job_title: change(input.job_title),
            department: change(input.department),
            location: change(input.location),
            start_date: change(input.start_date),
            manager_id: manager(change(input.manager_id))?,
        })
    }
}

#[derive(Default)]
pub struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Adds a person by hand (admins, any plan): ACTIVE and NOT_INVITED. EMAIL_TAKEN, with the
    /// holder in `extensions.userId`, when someone in the workspace has the email.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<User> {
        let people = ctx.people()?;
        let (email, edit) = input.try_into()?;
        Ok(User(people.create(&email, edit).await?))
    }

    /// Edits a person; FIELD_MANAGED_BY_PROVIDER (`extensions.field`) for a field the person's
    /// connection fills.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> ApiResult<User> {
        let people = ctx.people()?;
        let id = UserId::parse(&id, "id")?;
        Ok(User(people.update(id, input.try_into()?).await?))
    }

    /// Deactivates a person. For a synced person it holds against later syncs until the
    /// provider itself reports them as a leaver or a rehire.
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let people = ctx.people()?;
        Ok(User(people.deactivate(UserId::parse(&id, "id")?).await?))
    }

    /// Undoes a deactivation made by hand; a person the provider deactivated is reactivated
    /// there (FIELD_MANAGED_BY_PROVIDER on `employmentStatus`).
    async fn reactivate_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let people = ctx.people()?;
        Ok(User(people.reactivate(UserId::parse(&id, "id")?).await?))
    }

    /// Assigns an activity (admins, any plan). The first activity of an ACTIVE person who was
    /// never invited sends their invitation (PENDING, then INVITED or FAILED); later ones send
    /// nothing, and inactive people are never invited.
    async fn assign_activity(
        &self,
        ctx: &Context<'_>,
        input: AssignActivityInput,
    ) -> ApiResult<Vec<ActivityAssignment>> {
        let people = ctx.people()?;
        let user_ids = input
            .user_ids
            .iter()
            .map(|id| UserId::parse(id, "input.userIds").map(|id| id.0))
            .collect::<Result<_, _>>()?;
        let activity = NewActivity { user_ids, title: input.title, due_date: input.due_date };
        Ok(people.assign_activity(activity).await?.into_iter().map(ActivityAssignment).collect())
    }

    /// Sends a new invitation to an active person whose last one FAILED or was delivered.
    async fn resend_invitation(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<User> {
        let people = ctx.people()?;
        Ok(User(people.resend_invitation(UserId::parse(&user_id, "userId")?).await?))
    }
}
