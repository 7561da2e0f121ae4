//! One error type for every handler, rendered as the JSON body of `ApiError`, never a stack trace.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use homeroom_protocol::wire::{ApiError, ACCOUNT_REMOVED};

/// A request that failed, with the status and the words the client gets.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    #[error("request body is larger than the server accepts")]
    TooLarge,
    #[error("sign in first")]
    Unauthenticated,
    #[error("email, password or code is wrong")]
    InvalidCredentials,
    #[error("this account was removed from the school")]
    AccountRemoved,
    #[error("{0}")]
    Forbidden(String),
    #[error("staff sign in only on a device the school has enrolled: ask the school's admin to enrol this one")]
    DeviceNotEnrolled,
    #[error("not found")]
    NotFound,
    /// The device's cursor belongs to another copy of the school's change log (REQ-OFF-1).
    #[error(
        "this device's sync position is not from this server's data: sync again from the start"
    )]
    StaleCursor,
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this account's request to join awaits the school's approval: you can sign in once the school's admin approves it")]
    AwaitingApproval,
    #[error("{0}")]
    Conflict(String),
    #[error("email is not set up on this server: give the family the parent code another way, or ask the school's admin to configure SMTP")]
    MailNotConfigured,
    #[error("the invitation email could not be sent ({0}); no new code was issued and any earlier code still works: try again later")]
    MailNotSent(String),
    #[error("storage failed")]
    Db(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(String),
}

impl ServerError {
    /// A 400 about one field of the request.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServerError::BadRequest {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ServerError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            ServerError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ServerError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ServerError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ServerError::AccountRemoved => (StatusCode::UNAUTHORIZED, ACCOUNT_REMOVED),
            ServerError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ServerError::DeviceNotEnrolled => (StatusCode::FORBIDDEN, "device_not_enrolled"),
            ServerError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ServerError::StaleCursor => (StatusCode::CONFLICT, "stale_cursor"),
            ServerError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ServerError::AwaitingApproval => (StatusCode::FORBIDDEN, "awaiting_approval"),
            ServerError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServerError::MailNotConfigured => {
                (StatusCode::SERVICE_UNAVAILABLE, "mail_not_configured")
            }
            ServerError::MailNotSent(_) => (StatusCode::BAD_GATEWAY, "mail_not_sent"),
            ServerError::Db(_) | ServerError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            // The detail goes to the log (no request data in it), never to the client.
            match &self {
                ServerError::Db(e) => tracing::error!(error = %e, "storage error"),
                ServerError::Internal(e) => tracing::error!(error = %e, "internal error"),
                _ => {}
            }
        }
        let field = match &self {
            ServerError::BadRequest { field, .. } => field.clone(),
            _ => None,
        };
        let body = ApiError {
            error: code.to_owned(),
            message: self.to_string(),
            field,
        };
        let mut resp = (status, Json(body)).into_response();
        if let ServerError::RateLimited { retry_after_secs } = self {
            if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
