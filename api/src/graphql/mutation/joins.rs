use async_graphql::{Context, Object, ID};

use crate::access::{ConnectionId, SyncIssueId, UserId};
use crate::error::ApiResult;
use crate::graphql::context::ContextExt;
use crate::graphql::types::sync_run::SyncIssue;
use crate::graphql::types::user::User;

/// Joining and separating people the sync could not match (admins on the paid plan).
#[derive(Default)]
pub struct JoinsMutation;

#[Object]
impl JoinsMutation {
    /// Join two people the sync could not match: `into` keeps its id, `other`'s sources and
    /// history move to it.
    async fn join_people(&self, ctx: &Context<'_>, into: ID, other: ID) -> ApiResult<User> {
        let integrations = ctx.integrations()?;
        let joined = integrations.join_people(UserId::parse(&into, "into")?, UserId::parse(&other, "other")?).await?;
        Ok(User(joined))
    }

    /// Undo a join while both sources still exist; answers the two people.
    async fn separate_people(&self, ctx: &Context<'_>, user: ID, connection_id: ID) -> ApiResult<Vec<User>> {
        let integrations = ctx.integrations()?;
        let (user, connection) = (UserId::parse(&user, "user")?, ConnectionId::parse(&connection_id, "connectionId")?);
        Ok(integrations.separate_people(user, connection).await?.into_iter().map(User).collect())
    }

    /// An admin says the people of a POSSIBLE_DUPLICATE issue are not the same person.
    async fn dismiss_sync_issue(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncIssue> {
        let integrations = ctx.integrations()?;
        Ok(SyncIssue(integrations.dismiss_sync_issue(SyncIssueId::parse(&id, "id")?).await?))
    }
}
