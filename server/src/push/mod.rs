//! Push notifications: the planner decides when (REQ-NOT-2..5), senders only carry.
//!
//! `schedule` runs the shared planner for each recipient of an event and records its decision;
//! `dispatch` hands what is due to a [`PushSender`] — one digest per conversation when quiet
//! hours end. APNs and FCM senders build real requests; tests use a loopback receiver.

pub mod apns;
pub mod dispatch;
pub mod fcm;
pub mod fcm_auth;
pub mod loopback;
pub mod schedule;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeroom_protocol::notify::Category;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One notification (or digest) for one device, as a sender carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingPush {
    pub recipient_id: String,
    pub platform: String,
    pub device_token: String,
    pub title: String,
    pub body: String,
    /// The events this notification stands for, oldest first (several for a digest).
    pub events: Vec<Uuid>,
    /// Groups notifications of one conversation or feed on the device.
    pub collapse_key: String,
    pub category: Category,
    /// Marked as an emergency announcement (REQ-NOT-4).
    pub emergency: bool,
    /// The instant the planner chose.
    pub deliver_at: DateTime<Utc>,
}

/// A request a sender would make, kept as data so its shape can be tested without a network.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequestSpec {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl HttpRequestSpec {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a push could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("push credentials are unusable: {0}")]
    Credentials(String),
    #[error("the push service could not be reached: {0}")]
    Transport(String),
    #[error("the push service refused the notification ({status}): {detail}")]
    Refused { status: u16, detail: String },
}

/// A boxed future, so senders can sit behind `dyn`.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>>;

/// Carries a planned notification to one device's push service.
pub trait PushSender: Send + Sync {
    /// The platform name devices register with (`apns`, `fcm`, `loopback`).
    fn platform(&self) -> &'static str;
    fn send<'a>(&'a self, push: &'a OutgoingPush) -> SendFuture<'a>;
}

/// The senders a server has, by platform.
#[derive(Clone, Default)]
pub struct Senders {
    by_platform: HashMap<&'static str, Arc<dyn PushSender>>,
}

impl Senders {
    /// Adds (or replaces) the sender of its platform.
    pub fn with(mut self, sender: Arc<dyn PushSender>) -> Self {
        self.by_platform.insert(sender.platform(), sender);
        self
    }

    /// The sender for `platform`, if configured.
    pub fn get(&self, platform: &str) -> Option<&Arc<dyn PushSender>> {
        self.by_platform.get(platform)
    }
}

/// Shared HTTP sending for senders: posts the spec, maps failures to [`PushError`].
async fn post(http: &reqwest::Client, spec: HttpRequestSpec) -> Result<(), PushError> {
    let mut req = http.post(&spec.url).json(&spec.body);
    for (k, v) in &spec.headers {
        req = req.header(k, v);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| PushError::Transport(e.to_string()))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let detail = resp.text().await.unwrap_or_default();
    Err(PushError::Refused {
        status: status.as_u16(),
        detail: detail.chars().take(200).collect(),
    })
}

/// Senders configured from the environment: `HOMEROOM_PUSH_LOOPBACK` (a URL; tests and the demo),
/// `HOMEROOM_APNS_KEY_FILE` + `_KEY_ID` + `_TEAM_ID` + `_TOPIC` (+ `_SANDBOX=1`), and
/// `HOMEROOM_FCM_SERVICE_ACCOUNT` (a key file; tokens are minted) or `HOMEROOM_FCM_PROJECT` +
/// `HOMEROOM_FCM_ACCESS_TOKEN`. A platform left unset is not sent to.
pub fn senders_from_env() -> Result<Senders, PushError> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut senders = Senders::default();
    if let Some(url) = var("HOMEROOM_PUSH_LOOPBACK") {
        senders = senders.with(Arc::new(loopback::LoopbackSender::new(url)));
    }
    if let (Some(file), Some(key_id), Some(team_id), Some(topic)) = (
        var("HOMEROOM_APNS_KEY_FILE"),
        var("HOMEROOM_APNS_KEY_ID"),
        var("HOMEROOM_APNS_TEAM_ID"),
        var("HOMEROOM_APNS_TOPIC"),
    ) {
        let pem = std::fs::read_to_string(&file)
            .map_err(|e| PushError::Credentials(format!("cannot read {file}: {e}")))?;
        let endpoint = if var("HOMEROOM_APNS_SANDBOX").as_deref() == Some("1") {
            apns::SANDBOX
        } else {
            apns::PRODUCTION
        };
        senders = senders.with(Arc::new(apns::ApnsSender::new(apns::ApnsConfig {
            team_id,
            key_id,
            private_key_pkcs8: apns::pkcs8_from_pem(&pem)?,
            topic,
            endpoint: endpoint.to_owned(),
        })?));
    }
    if let Some(file) = var("HOMEROOM_FCM_SERVICE_ACCOUNT") {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| PushError::Credentials(format!("cannot read {file}: {e}")))?;
        let account = fcm_auth::ServiceAccount::from_json(&text)?;
        let project_id = var("HOMEROOM_FCM_PROJECT")
            .or_else(|| account.project_id.clone())
            .ok_or_else(|| {
                PushError::Credentials("set HOMEROOM_FCM_PROJECT: the key file names none".into())
            })?;
        senders = senders.with(Arc::new(fcm::FcmSender::with_service_account(
            fcm::FcmConfig {
                project_id,
                endpoint: fcm::ENDPOINT.to_owned(),
            },
            fcm_auth::TokenMinter::new(account)?,
        )));
    } else if let (Some(project_id), Some(token)) = (
        var("HOMEROOM_FCM_PROJECT"),
        var("HOMEROOM_FCM_ACCESS_TOKEN"),
    ) {
        senders = senders.with(Arc::new(fcm::FcmSender::new(
            fcm::FcmConfig {
                project_id,
                endpoint: fcm::ENDPOINT.to_owned(),
            },
            token,
        )?));
    }
    Ok(senders)
}
