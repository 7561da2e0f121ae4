//! The core's one error type: every failure says what went wrong in words an app can show.

use homeroom_protocol::access::Denied;

/// Anything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("email, password or code is wrong")]
    InvalidCredentials,
    #[error("sign in first")]
    NotSignedIn,
    /// The school's leaders removed this person (REQ-MSG-5): the device has wiped their data.
    #[error(
        "this account was removed from the school; its data has been removed from this device"
    )]
    RemovedFromSchool,
    #[error("not allowed: {0}")]
    NotAllowed(#[from] Denied),
    #[error("{field}: {reason}")]
    InvalidInput { field: String, reason: String },
    #[error("the server cannot be reached ({0}); your changes are kept and will be sent later")]
    Offline(String),
    #[error("the server answered {status}: {detail}")]
    Server {
        status: u16,
        detail: String,
        /// The server's `Retry-After`, in seconds, on 429 and 503.
        retry_after: Option<u64>,
    },
    #[error("the server's answer could not be understood: {0}")]
    Protocol(String),
    #[error("the device cache failed while {context}: {source}")]
    Storage {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the cache cannot be opened with this key (was the app restored without its keystore?); sign in again to rebuild it")]
    WrongKey,
    #[error("the device cache was damaged and has been rebuilt; {0}")]
    CacheCorrupt(String),
    /// The consent filter has not cleared these exact bytes for this audience and these tags
    /// (REQ-CON-2): nothing was queued.
    #[error("this photo cannot be posted: {0}")]
    PhotoNotCleared(String),
    #[error("this photo cannot be used: {0}")]
    Media(#[from] crate::media::MediaError),
    /// A file cannot be attached: its type is not allowed, it is too large, or its content is
    /// not what it claims (REQ-MSG-1). Nothing was queued.
    #[error("this file cannot be attached: {0}")]
    InvalidAttachment(String),
    #[error("{0}")]
    Io(String),
}

impl CoreError {
    /// Whether the outbox should pause and retry later (network down, 429, 5xx) rather than
    /// give up on the write.
    pub fn is_transient(&self) -> bool {
        match self {
            CoreError::Offline(_) => true,
            CoreError::Server { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// A 400-style error about one input field.
    pub fn input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Adds "while doing X" to SQLite errors.
pub trait StorageContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, CoreError>;
}

impl<T> StorageContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, CoreError> {
        self.map_err(|source| CoreError::Storage { context, source })
    }
}
