//! SCIM 2.0 (RFC 7643, RFC 7644): the directory as a service provider that an identity provider
//! (Okta, Microsoft Entra ID, OneLogin, …) pushes its users and groups into, as one more source.
//!
//! A SCIM connection keeps what its provider sent ([`store`]): a GET answers what was PUT, and a
//! re-sync after a mapping edit reads the stored users like any provider's. Each request that
//! changes a user also changes the person in the directory, in the same transaction, through
//! the sync's own merge (see `sync::push`): the same mapping, history (`by` is
//! `scim:<connection>`), webhooks, join by email, and deactivation guard.
//!
//! Real clients are not pure RFC; what Okta and Entra ID are documented to send is accepted
//! (see [`resource`] and [`patch`]): capitalised `op` values, `active` as the string "False", a
//! PATCH without a path carrying dotted attribute names, the enterprise manager as a bare string.
//!
//! Error policy: everything a request can get wrong is a [`ScimError`], which the HTTP layer
//! answers as SCIM error JSON (RFC 7644 §3.12) with its status and `scimType`; database
//! failures are [`ScimError::Internal`], a 500 whose detail says nothing of the cause.

pub mod activity;
pub mod filter;
pub mod patch;
pub mod resource;
pub mod store;
pub mod tokens;

/// Most resources one list answers (advertised as `filter.maxResults`).
pub const MAX_COUNT: u64 = 200;
/// Most operations in one PATCH request.
pub const MAX_OPERATIONS: usize = 1_000;
/// Most members one PATCH may add or remove.
pub const MAX_MEMBERS_PER_PATCH: usize = 20_000;

/// What a SCIM request got wrong, as RFC 7644 §3.12 names it.
#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    InvalidSyntax(String),
    #[error("{0}")]
    NoTarget(String),
    #[error("{0}")]
    Mutability(String),
    #[error("{0}")]
    TooMany(String),
    #[error("{0}")]
    Uniqueness(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the resource has changed since the version given in If-Match")]
    PreconditionFailed,
    #[error("the request could not be completed")]
    Internal(#[from] sea_orm::DbErr),
    #[error("the request could not be completed")]
    Failed(#[from] crate::Error),
}

impl ScimError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Self::Uniqueness(_) => 409,
            Self::NotFound(_) => 404,
            Self::PreconditionFailed => 412,
            Self::Internal(_) | Self::Failed(_) => 500,
            _ => 400,
        }
    }

    /// The `scimType` of a 400 or 409 answer.
    pub fn scim_type(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidFilter(_) => "invalidFilter",
            Self::InvalidPath(_) => "invalidPath",
            Self::InvalidValue(_) => "invalidValue",
            Self::InvalidSyntax(_) => "invalidSyntax",
            Self::NoTarget(_) => "noTarget",
            Self::Mutability(_) => "mutability",
            Self::TooMany(_) => "tooMany",
            Self::Uniqueness(_) => "uniqueness",
            Self::NotFound(_) | Self::PreconditionFailed | Self::Internal(_) | Self::Failed(_) => return None,
        })
    }
}

pub type ScimResult<T> = Result<T, ScimError>;
