//! The server's `/v1` API as typed calls; transport failures become `Offline`, error bodies
//! become typed errors with the server's words.

use std::time::Duration;

use homeroom_protocol::wire::{
    ApiError, PullQuery, PullResponse, PushRequest, PushResponse, SignInRequest, SignInResponse,
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
        Ok(Api { base, http })
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
        send(
            self.http
                .post(format!("{}/v1/parent-codes/redeem", self.base))
                .json(req),
        )
        .await
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

async fn send<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, CoreError> {
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
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| CoreError::Protocol(e.to_string()));
    }
    let detail = serde_json::from_slice::<ApiError>(&body)
        .map(|e| e.message)
        .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_owned());
    Err(CoreError::Server {
        status: status.as_u16(),
        detail,
        retry_after,
    })
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
