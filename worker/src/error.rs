//! The worker layer's error type. Service calls and jobs return [`Error`]; the API maps each
//! variant to one GraphQL `extensions.code` at its edge, and jobs decide from
//! [`Error::is_transient`] whether a run is retried or fails.

use uuid::Uuid;

use crate::credentials::CipherError;
use crate::mapping::MappingError;
use crate::providers::ProviderError;
use crate::uploads::UploadError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Validation { field: &'static str, message: String },
    #[error("{0}")]
    InvalidSubdomain(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    MappingInvalid(#[from] MappingError),
    #[error("confirm the field mapping before starting a sync")]
    MappingNotConfirmed,
    #[error("a sync is already running for this connection")]
    SyncAlreadyRunning { run_id: Uuid },
    /// Another person of the workspace has this email.
    #[error("another person in this workspace already has this email")]
    EmailTaken { user_id: Uuid },
    /// A synced person's field that the provider fills: edit it at the provider.
    #[error("'{field}' comes from the connected HR system for this person; change it there")]
    FieldManagedByProvider { field: &'static str },
    #[error("the connection is not connected ({0})")]
    NotConnected(String),
    /// An uploaded file that cannot be a source.
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Cipher(#[from] CipherError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("job queue error: {0}")]
    Queue(String),
    /// The job queue cannot be reached (Redis is down): try again shortly.
    #[error("syncs cannot be queued right now: the job queue is unreachable; try again in a minute")]
    QueueUnavailable,
    #[error("another worker took over this sync run")]
    LeaseLost,
    /// The attempt went this long without a page arriving or being merged.
    #[error("the attempt made no progress for {} s", .0.as_secs())]
    Stalled(std::time::Duration),
}

impl Error {
    /// What an admin may read about this error: internal failures are summarised, their detail
    /// stays in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Self::Database(_) | Self::Queue(_) | Self::Cipher(_) | Self::LeaseLost => {
                "an internal error interrupted the sync".to_string()
            }
            other => other.to_string(),
        }
    }

    /// Worth retrying later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Provider(e) => e.is_transient(),
            Self::Database(_) | Self::Queue(_) | Self::QueueUnavailable | Self::Stalled(_) => true,
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
