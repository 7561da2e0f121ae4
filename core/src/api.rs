//! The server's `/v1` API as typed calls; transport failures become `Offline`, error bodies
//! become typed errors with the server's words.

use std::time::Duration;

use homeroom_protocol::consent::ConsentRecord;
use homeroom_protocol::posts::{MediaStatus, StartUpload};
use homeroom_protocol::wire::{
    ApiError, PullQuery, PullResponse, PushRequest, PushResponse, SignInRequest, SignInResponse,
    ACCOUNT_REMOVED,
};
use homeroom_protocol::wire::{ParentCode, RedeemParentCode};
use reqwest::{Client, RequestBuilder};
use serde::de::DeserializeOwned;

use crate::error::CoreError;

/// A client for one server.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: Client,
    /// For the live event stream: no overall deadline (it stays open); the reader watches for
    /// silence instead.
    stream: Client,
}

impl Api {
    /// A client for `base_url`; a request taking longer than `timeout` counts as offline.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, CoreError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CoreError::input(
                "server_url",
                "must start with http:// or https://",
            ));
        }
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .gzip(true)
            .build()
            .map_err(|e| CoreError::Io(format!("cannot build the HTTP client: {e}")))?;
        let stream = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| CoreError::Io(format!("cannot build the HTTP client: {e}")))?;
        Ok(Api { base, http, stream })
    }

    #[tracing::instrument(skip_all)]
    pub async fn sign_in(&self, req: &SignInRequest) -> Result<SignInResponse, CoreError> {
        let r = self
            .http
            .post(format!("{}/v1/sessions", self.base))
            .json(req);
        match send(r).await {
            Err(CoreError::Server { status: 401, .. }) => Err(CoreError::InvalidCredentials),
            other => other,
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn redeem_parent_code(
        &self,
        req: &RedeemParentCode,
    ) -> Result<SignInResponse, CoreError> {
        let (status, retry_after, body) = exchange(
            self.http
                .post(format!("{}/v1/parent-codes/redeem", self.base))
                .json(req),
        )
        .await?;
        // 202: a third parent's account exists but waits for the admin (REQ-ACC-3): no session,
        // and the server's words say so.
        if status == reqwest::StatusCode::ACCEPTED {
            let pending: homeroom_protocol::invites::JoinPending =
                serde_json::from_slice(&body).map_err(|e| CoreError::Protocol(e.to_string()))?;
            return Err(CoreError::Server {
                status: status.as_u16(),
                detail: pending.message,
                retry_after: None,
            });
        }
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| CoreError::Protocol(e.to_string()));
        }
        Err(server_error(status, retry_after, &body))
    }

    #[tracing::instrument(skip_all)]
    pub async fn issue_parent_code(
        &self,
        token: &str,
        pupil_id: &str,
    ) -> Result<ParentCode, CoreError> {
        let url = format!("{}/v1/pupils/{pupil_id}/parent-code", self.base);
        send(self.http.post(url).bearer_auth(token)).await
    }

    /// Opens the live event stream (`GET /v1/events`, server-sent events); the caller reads it.
    #[tracing::instrument(skip_all)]
    pub async fn events(&self, token: &str) -> Result<reqwest::Response, CoreError> {
        let resp = self
            .stream
            .get(format!("{}/v1/events", self.base))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| CoreError::Offline(transport_reason(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        Err(CoreError::Server {
            status: status.as_u16(),
            detail: "the live stream was refused".into(),
            retry_after: None,
        })
    }

    /// Ends the session on the server (sign-out); the answer has no body.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, token: &str) -> Result<(), CoreError> {
        let resp = self
            .http
            .delete(format!("{}/v1/sessions/current", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| CoreError::Offline(transport_reason(&e)))?;
        match resp.status().as_u16() {
            // 401: the session had already ended — the outcome sign-out wants.
            200..=299 | 401 => Ok(()),
            status => Err(CoreError::Server {
                status,
                detail: "sign-out was not accepted".into(),
                retry_after: None,
            }),
        }
    }

    #[tracing::instrument(skip_all, fields(writes = req.writes.len()))]
    pub async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, CoreError> {
        send(
            self.http
                .post(format!("{}/v1/push", self.base))
                .bearer_auth(token)
                .json(req),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(since = q.since))]
    pub async fn pull(&self, token: &str, q: &PullQuery) -> Result<PullResponse, CoreError> {
        send(
            self.http
                .get(format!("{}/v1/pull", self.base))
                .bearer_auth(token)
                .query(q),
        )
        .await
    }
}

impl Api {
    /// `PUT /v1/me/notify-settings` (REQ-NOT-1, NOT-3, NOT-5).
    #[tracing::instrument(skip_all)]
    pub async fn put_notify_settings(
        &self,
        token: &str,
        settings: &homeroom_protocol::messaging::NotifySettings,
    ) -> Result<homeroom_protocol::messaging::NotifySettings, CoreError> {
        let url = format!("{}/v1/me/notify-settings", self.base);
        send(self.http.put(url).bearer_auth(token).json(settings)).await
    }

    /// `PUT /v1/me/push-device`.
    #[tracing::instrument(skip_all)]
    pub async fn put_push_device(
        &self,
        token: &str,
        device: &homeroom_protocol::wire::PushDevice,
    ) -> Result<homeroom_protocol::wire::PushDevice, CoreError> {
        let url = format!("{}/v1/me/push-device", self.base);
        send(self.http.put(url).bearer_auth(token).json(device)).await
    }

    /// `GET /v1/threads/{id}/export` as text (REQ-MSG-6).
    #[tracing::instrument(skip_all)]
    pub async fn export_thread(
        &self,
        token: &str,
        thread_id: &str,
        format: &str,
    ) -> Result<String, CoreError> {
        let url = format!("{}/v1/threads/{thread_id}/export", self.base);
        let body = send_raw(
            self.http
                .get(url)
                .bearer_auth(token)
                .query(&[("format", format)]),
        )
        .await?;
        String::from_utf8(body).map_err(|e| CoreError::Protocol(e.to_string()))
    }

    /// Starts (or looks up) the upload of `size` bytes named `sha256`: how much the server holds.
    #[tracing::instrument(skip_all)]
    pub async fn media_start(
        &self,
        token: &str,
        sha256: &str,
        size: u64,
    ) -> Result<MediaStatus, CoreError> {
        send(
            self.http
                .post(format!("{}/v1/media/{sha256}", self.base))
                .bearer_auth(token)
                .json(&StartUpload { size }),
        )
        .await
    }

    /// Sends one chunk starting at `offset` (the server's acknowledged offset).
    #[tracing::instrument(skip_all, fields(offset, len = chunk.len()))]
    pub async fn media_chunk(
        &self,
        token: &str,
        sha256: &str,
        offset: u64,
        chunk: Vec<u8>,
    ) -> Result<MediaStatus, CoreError> {
        send(
            self.http
                .put(format!("{}/v1/media/{sha256}", self.base))
                .bearer_auth(token)
                .query(&[("offset", offset)])
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(chunk),
        )
        .await
    }

    /// Downloads a photo's bytes.
    #[tracing::instrument(skip_all)]
    pub async fn media_content(&self, token: &str, sha256: &str) -> Result<Vec<u8>, CoreError> {
        let req = self
            .http
            .get(format!("{}/v1/media/{sha256}/content", self.base))
            .bearer_auth(token);
        let (status, _, body) = exchange(req).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(server_error(status, None, &body))
        }
    }

    /// Replaces a pupil's consent record (admin and leaders).
    #[tracing::instrument(skip_all)]
    pub async fn put_consent(
        &self,
        token: &str,
        pupil_id: &str,
        record: &ConsentRecord,
    ) -> Result<ConsentRecord, CoreError> {
        send(
            self.http
                .put(format!("{}/v1/pupils/{pupil_id}/consent", self.base))
                .bearer_auth(token)
                .json(record),
        )
        .await
    }
}

/// Sends a request and reads the whole answer: status, `Retry-After` and body.
/// Sends and returns the body of a successful answer; error bodies become typed errors.
async fn send_raw(req: RequestBuilder) -> Result<Vec<u8>, CoreError> {
    let (status, retry_after, body) = exchange(req).await?;
    if status.is_success() {
        return Ok(body);
    }
    Err(server_error(status, retry_after, &body))
}

async fn exchange(
    req: RequestBuilder,
) -> Result<(reqwest::StatusCode, Option<u64>, Vec<u8>), CoreError> {
    let resp = req
        .send()
        .await
        .map_err(|e| CoreError::Offline(transport_reason(&e)))?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = resp
        .bytes()
        .await
        .map_err(|e| CoreError::Offline(transport_reason(&e)))?;
    Ok((status, retry_after, body.to_vec()))
}

/// An error answer as a typed error with the server's words.
fn server_error(status: reqwest::StatusCode, retry_after: Option<u64>, body: &[u8]) -> CoreError {
    let answer = serde_json::from_slice::<ApiError>(body).ok();
    if status == reqwest::StatusCode::UNAUTHORIZED
        && answer.as_ref().is_some_and(|e| e.error == ACCOUNT_REMOVED)
    {
        return CoreError::RemovedFromSchool;
    }
    let detail = answer
        .map(|e| e.message)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    CoreError::Server {
        status: status.as_u16(),
        detail,
        retry_after,
    }
}

async fn send<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, CoreError> {
    let (status, retry_after, body) = exchange(req).await?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| CoreError::Protocol(e.to_string()));
    }
    Err(server_error(status, retry_after, &body))
}

/// Describes a transport failure without the URL (it may carry a token in a query someday).
fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "the connection broke mid-answer".into()
    } else {
        "network error".into()
    }
}
