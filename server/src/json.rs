//! A JSON body extractor whose failures are JSON errors (400 with the reason, 413 when too big).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ServerError;

/// Like `axum::Json`, but a malformed or oversized body becomes a [`ServerError`].
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ServerError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ServerError::TooLarge;
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send a JSON body with content-type application/json".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON".to_owned(),
        // serde's message names the field and what was wrong with it, never server internals.
        JsonRejection::JsonDataError(e) => {
            format!("the body does not match the API: {}", e.body_text())
        }
        _ => "the body could not be read".to_owned(),
    };
    ServerError::BadRequest {
        message,
        field: None,
    }
}

/// Like `axum::extract::Query`, but a query string that does not fit (a negative or huge
/// cursor, a word for a number) is a JSON 400 naming the problem, like every other error.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(ServerError::BadRequest {
                // serde's words name the parameter and what was wrong with it.
                message: format!(
                    "the query string does not match the API: {}",
                    rejection.body_text()
                ),
                field: None,
            }),
        }
    }
}

/// Like `axum::extract::Path`, but a path segment that does not fit (not a UUID, invalid
/// UTF-8 once percent-decoded) is a JSON 400 naming the parameter, like every other error.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let field = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                    _ => None,
                };
                Err(ServerError::BadRequest {
                    message: format!("the path does not match the API: {}", e.body_text()),
                    field,
                })
            }
            Err(rejection) => Err(ServerError::Internal(format!(
                "path parameters: {}",
                rejection.body_text()
            ))),
        }
    }
}
