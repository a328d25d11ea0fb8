//! Ids as types: a workspace comes only from a verified token, and every other id is parsed once
//! from a GraphQL `ID`, naming the argument when malformed, so no function can be handed the
//! wrong kind of id.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::ApiError;

/// The caller's workspace. Made only from an authenticated viewer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    pub(super) fn of(viewer: &crate::auth::Viewer) -> Self {
        Self(viewer.workspace_id.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! uuid_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub(crate) Uuid);

        impl $name {
            /// Parses a GraphQL `ID`; a malformed one is VALIDATION_FAILED naming `argument`.
            pub fn parse(id: &ID, argument: &str) -> Result<Self, ApiError> {
                Uuid::parse_str(id.as_str())
                    .map(Self)
                    .map_err(|_| ApiError::validation(argument, format!("'{argument}' is not a valid id")))
            }
        }
    )*};
}

uuid_id!(
    /// A connection of a workspace.
    ConnectionId,
    /// A sync run.
    RunId,
    /// A person in the directory.
    UserId,
    /// A webhook endpoint of a workspace.
    WebhookEndpointId,
    /// An issue a sync run reported.
    SyncIssueId,
);
