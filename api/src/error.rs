//! The API's error policy: every GraphQL error carries `extensions.code` from the contract's
//! `ErrorCode`. Domain errors are converted once, here; internal failures are logged with their
//! detail and shown to clients only as INTERNAL, never with SQL or stack traces.

use async_graphql::resolver_utils::EnumType;
use async_graphql::{Enum, ErrorExtensions};

use worker::providers::ProviderError;

use crate::auth::AuthError;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    PaidPlanRequired,
    NotFound,
    ValidationFailed,
    InvalidSubdomain,
    InvalidCredentials,
    ThirdPartyAccessDisabled,
    ProviderUnreachable,
    RateLimited,
    MappingInvalid,
    MappingNotConfirmed,
    SyncAlreadyRunning,
    /// Another person of the workspace has the email; `extensions.userId` names them.
    EmailTaken,
    /// The connected HR system fills this field for this person; `extensions.field` names it.
    FieldManagedByProvider,
    /// A part of the service (the job queue) cannot be reached for now: try again shortly.
    ServiceUnavailable,
    Internal,
}

impl ErrorCode {
    /// The code as `extensions.code` carries it: the enum value's name in the schema, so the API
    /// cannot answer a code that the schema's `ErrorCode` lacks.
    pub fn as_str(self) -> &'static str {
        let item = Self::items().iter().find(|item| item.value == self);
        item.expect("async-graphql lists every variant of the enum").name
    }

    /// The code named `name`, when the schema has it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::items().iter().find(|item| item.name == name).map(|item| item.value)
    }
}

/// An error as clients see it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field at fault, for VALIDATION_FAILED, INVALID_SUBDOMAIN, MAPPING_INVALID,
    /// EMAIL_TAKEN and FIELD_MANAGED_BY_PROVIDER.
    pub field: Option<String>,
    /// The running run, for SYNC_ALREADY_RUNNING.
    pub run_id: Option<String>,
    /// The person holding the email, for EMAIL_TAKEN.
    pub user_id: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, run_id: None, user_id: None }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self { field: Some(field.to_string()), ..Self::new(ErrorCode::ValidationFailed, message) }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// As an error of a GraphQL response, outside any field.
    pub fn to_server_error(&self) -> async_graphql::ServerError {
        let error = self.extend();
        async_graphql::ServerError {
            extensions: error.extensions,
            ..async_graphql::ServerError::new(error.message, None)
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message.clone()).extend_with(|_, e| {
            e.set("code", self.code.as_str());
            if let Some(field) = &self.field {
                e.set("field", field.as_str());
            }
            if let Some(run_id) = &self.run_id {
                e.set("runId", run_id.as_str());
            }
            if let Some(user_id) = &self.user_id {
                e.set("userId", user_id.as_str());
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        Self::new(ErrorCode::Unauthenticated, err.to_string())
    }
}

impl From<worker::Error> for ApiError {
    fn from(err: worker::Error) -> Self {
        use worker::Error as E;
        match err {
            E::NotFound(what) => Self::not_found(what),
            E::Validation { field, message } => Self::validation(field, message),
            E::InvalidSubdomain(message) => {
                Self { field: Some("subdomain".into()), ..Self::new(ErrorCode::InvalidSubdomain, message) }
            }
            E::Provider(provider) => provider.into(),
            E::MappingInvalid(mapping) => {
                Self { field: Some(mapping.field.clone()), ..Self::new(ErrorCode::MappingInvalid, mapping.message) }
            }
            E::MappingNotConfirmed => Self::new(ErrorCode::MappingNotConfirmed, err.to_string()),
            E::SyncAlreadyRunning { run_id } => Self {
                run_id: Some(run_id.to_string()),
                ..Self::new(
                    ErrorCode::SyncAlreadyRunning,
                    format!("a sync is already running for this connection (run {run_id})"),
                )
            },
            E::EmailTaken { user_id } => Self {
                field: Some("input.email".into()),
                user_id: Some(user_id.to_string()),
                ..Self::new(ErrorCode::EmailTaken, err.to_string())
            },
            E::FieldManagedByProvider { field } => {
                Self { field: Some(field.into()), ..Self::new(ErrorCode::FieldManagedByProvider, err.to_string()) }
            }
            E::QueueUnavailable => Self::new(ErrorCode::ServiceUnavailable, err.to_string()),
            E::NotConnected(status) => {
                Self::validation("connectionId", format!("the connection is {status}; reconnect it first"))
            }
            E::Upload(worker::uploads::UploadError::Io(_))
            | E::Cipher(_)
            | E::Database(_)
            | E::Queue(_)
            | E::LeaseLost
            | E::Stalled(_) => {
                tracing::error!(error = %err, "internal error");
                Self::new(ErrorCode::Internal, "something went wrong on our side; try again")
            }
            E::Upload(refusal) => Self::validation("file", refusal.to_string()),
        }
    }
}

impl From<ProviderError> for ApiError {
    fn from(err: ProviderError) -> Self {
        let code = match &err {
            ProviderError::InvalidCredentials(_) => ErrorCode::InvalidCredentials,
            ProviderError::AccessDisabled(_) => ErrorCode::ThirdPartyAccessDisabled,
            ProviderError::UnknownTenant(_) => ErrorCode::InvalidSubdomain,
            ProviderError::RateLimited { .. } => ErrorCode::RateLimited,
            ProviderError::Unreachable(_) | ProviderError::BadResponse(_) | ProviderError::NotReady(_) => {
                ErrorCode::ProviderUnreachable
            }
            ProviderError::NotConfigured(_) => ErrorCode::ValidationFailed,
            ProviderError::Buffer(_) => ErrorCode::Internal,
        };
        let field = match code {
            ErrorCode::InvalidSubdomain => Some("subdomain".to_string()),
            ErrorCode::InvalidCredentials => Some("apiKey".to_string()),
            ErrorCode::ValidationFailed => Some("providerId".to_string()),
            _ => None,
        };
        Self { field, ..Self::new(code, err.to_string()) }
    }
}

/// What resolvers answer: a forgotten conversion cannot compile into a mislabelled error.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_schemas_enum_values() {
        assert_eq!(ErrorCode::EmailTaken.as_str(), "EMAIL_TAKEN");
        assert_eq!(ErrorCode::FieldManagedByProvider.as_str(), "FIELD_MANAGED_BY_PROVIDER");
        let sdl = crate::graphql::sdl();
        let values = sdl.split("enum ErrorCode {").nth(1).and_then(|rest| rest.split('}').next()).unwrap();
        for item in ErrorCode::items() {
            assert!(values.lines().any(|line| line.trim() == item.name), "{} is not in the schema", item.name);
            assert_eq!(ErrorCode::from_name(item.name), Some(item.value));
        }
        assert_eq!(ErrorCode::from_name("NO_SUCH_CODE"), None);
    }
}
