//! Firebase Cloud Messaging, HTTP v1 API (`projects/<id>/messages:send`).
//!
//! The OAuth 2 access token is either minted here from a service account (`fcm_auth`: RS256
//! JWT exchanged at the token endpoint, refreshed before expiry) or handed in ready-made; it is
//! sent as a bearer token.

use std::sync::Mutex;

use serde_json::json;

use super::fcm_auth::TokenMinter;
use super::{post, HttpRequestSpec, OutgoingPush, PushError, PushSender, SendFuture};

/// Google's FCM endpoint.
pub const ENDPOINT: &str = "https://fcm.googleapis.com";

/// The Firebase project and where to send.
#[derive(Clone)]
pub struct FcmConfig {
    pub project_id: String,
    pub endpoint: String,
}

/// The request for one push: a notification, an Android channel and collapse key, and the
/// event ids as data for the app.
pub fn build_request(
    config: &FcmConfig,
    push: &OutgoingPush,
    access_token: &str,
) -> HttpRequestSpec {
    let events: Vec<String> = push.events.iter().map(|e| e.to_string()).collect();
    let body = json!({
        "message": {
            "token": push.device_token,
            "notification": { "title": push.title, "body": push.body },
            "android": {
                "priority": if push.emergency { "HIGH" } else { "NORMAL" },
                "collapse_key": push.collapse_key,
                "notification": {
                    "channel_id": if push.emergency { "emergency" } else { "messages" },
                    "tag": push.collapse_key,
                    // REQ-NOT-5: the app's own text is already generic unless opted in.
                    "visibility": "PRIVATE",
                },
            },
            "data": {
                "events": events.join(","),
                "emergency": push.emergency.to_string(),
                "deliver_at": push.deliver_at.to_rfc3339(),
            },
        }
    });
    HttpRequestSpec {
        url: format!(
            "{}/v1/projects/{}/messages:send",
            config.endpoint.trim_end_matches('/'),
            config.project_id
        ),
        headers: vec![("authorization".to_owned(), format!("Bearer {access_token}"))],
        body,
    }
}

/// Where the sender's access token comes from.
enum Auth {
    /// Handed in (and replaced) by the deployment.
    Fixed(Mutex<String>),
    /// Minted from a service account and refreshed before it expires.
    Minted(Box<TokenMinter>),
}

/// Sends to FCM with the current access token.
pub struct FcmSender {
    config: FcmConfig,
    http: reqwest::Client,
    auth: Auth,
}

impl FcmSender {
    /// A sender for `config` with an access token (replace it with [`FcmSender::set_access_token`]).
    pub fn new(config: FcmConfig, access_token: String) -> Result<Self, PushError> {
        if access_token.trim().is_empty() {
            return Err(PushError::Credentials(
                "the FCM access token is empty".into(),
            ));
        }
        Ok(FcmSender {
            config,
            http: reqwest::Client::new(),
            auth: Auth::Fixed(Mutex::new(access_token)),
        })
    }

    /// A sender that mints its own access tokens from a service account.
    pub fn with_service_account(config: FcmConfig, minter: TokenMinter) -> Self {
        FcmSender {
            config,
            http: reqwest::Client::new(),
            auth: Auth::Minted(Box::new(minter)),
        }
    }

    /// Installs a freshly minted access token (a sender minting its own ignores it).
    pub fn set_access_token(&self, token: String) {
        if let Auth::Fixed(t) = &self.auth {
            *t.lock().unwrap_or_else(|p| p.into_inner()) = token;
        }
    }
}

impl PushSender for FcmSender {
    fn platform(&self) -> &'static str {
        "fcm"
    }

    fn send<'a>(&'a self, push: &'a OutgoingPush) -> SendFuture<'a> {
        Box::pin(async move {
            let token = match &self.auth {
                Auth::Fixed(t) => t.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                Auth::Minted(m) => m.token(chrono::Utc::now()).await?,
            };
            post(&self.http, build_request(&self.config, push, &token)).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeroom_protocol::notify::Category;
    use uuid::Uuid;

    fn push(emergency: bool) -> OutgoingPush {
        OutgoingPush {
            recipient_id: "pa1".into(),
            platform: "fcm".into(),
            device_token: "fcm-device-token".into(),
            title: "Homeroom".into(),
            body: "New message from school staff".into(),
            events: vec![Uuid::from_u128(1), Uuid::from_u128(2)],
            collapse_key: "conversation:9".into(),
            category: Category::MessageFromStaff,
            emergency,
            deliver_at: "2026-03-05T08:00:00Z".parse().unwrap(),
        }
    }

    fn cfg() -> FcmConfig {
        FcmConfig {
            project_id: "homeroom-demo".into(),
            endpoint: ENDPOINT.into(),
        }
    }

    #[test]
    fn request_is_an_http_v1_send_to_the_device_token() {
        let spec = build_request(&cfg(), &push(false), "ya29.token");
        assert_eq!(
            spec.url,
            "https://fcm.googleapis.com/v1/projects/homeroom-demo/messages:send"
        );
        assert_eq!(spec.header("Authorization"), Some("Bearer ya29.token"));
        let m = &spec.body["message"];
        assert_eq!(m["token"], "fcm-device-token");
        assert_eq!(m["notification"]["title"], "Homeroom");
        assert_eq!(m["android"]["priority"], "NORMAL");
        assert_eq!(m["android"]["collapse_key"], "conversation:9");
        assert_eq!(m["android"]["notification"]["visibility"], "PRIVATE");
        assert_eq!(
            m["data"]["events"],
            format!("{},{}", Uuid::from_u128(1), Uuid::from_u128(2))
        );
        // FCM data values must all be strings.
        assert!(m["data"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.is_string()));
    }

    #[test]
    fn emergency_goes_high_priority_on_its_own_channel() {
        let spec = build_request(&cfg(), &push(true), "t");
        assert_eq!(spec.body["message"]["android"]["priority"], "HIGH");
        assert_eq!(
            spec.body["message"]["android"]["notification"]["channel_id"],
            "emergency"
        );
        assert_eq!(spec.body["message"]["data"]["emergency"], "true");
    }

    #[test]
    fn an_empty_access_token_is_refused() {
        assert!(FcmSender::new(cfg(), " ".into()).is_err());
    }
}
