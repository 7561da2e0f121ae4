//! Apple Push Notification service: HTTP/2 with token (JWT ES256) authentication.

use std::sync::Mutex;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use homeroom_protocol::notify::Category;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

use super::{post, HttpRequestSpec, OutgoingPush, PushError, PushSender, SendFuture};

/// Apple's production endpoint.
pub const PRODUCTION: &str = "https://api.push.apple.com";
/// Apple's development endpoint.
pub const SANDBOX: &str = "https://api.sandbox.push.apple.com";
/// A provider token is reused this long (Apple: refresh between 20 and 60 minutes).
const TOKEN_REUSE_MINUTES: i64 = 50;

/// The team's signing key and the app it pushes to.
#[derive(Clone)]
pub struct ApnsConfig {
    pub team_id: String,
    pub key_id: String,
    /// The `.p8` key as PKCS#8 DER (see [`pkcs8_from_pem`]).
    pub private_key_pkcs8: Vec<u8>,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// [`PRODUCTION`] or [`SANDBOX`].
    pub endpoint: String,
}

/// Reads the DER bytes out of a `.p8` PEM file.
pub fn pkcs8_from_pem(pem: &str) -> Result<Vec<u8>, PushError> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|e| PushError::Credentials(format!("the .p8 key is not PEM: {e}")))
}

/// A signed provider token: `{alg: ES256, kid}.{iss: team, iat}` (Apple's token-based auth).
pub fn provider_token(config: &ApnsConfig, now: DateTime<Utc>) -> Result<String, PushError> {
    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &config.private_key_pkcs8,
        &rng,
    )
    .map_err(|e| PushError::Credentials(format!("not a P-256 PKCS#8 key: {e}")))?;
    let header = json!({ "alg": "ES256", "kid": config.key_id });
    let claims = json!({ "iss": config.team_id, "iat": now.timestamp() });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key
        .sign(&rng, signing_input.as_bytes())
        .map_err(|_| PushError::Credentials("signing the provider token failed".into()))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(sig.as_ref())
    ))
}

/// The request for one push: `POST /3/device/<token>` with topic, type, priority and collapse id.
pub fn build_request(config: &ApnsConfig, push: &OutgoingPush, jwt: &str) -> HttpRequestSpec {
    let mut aps = json!({
        "alert": { "title": push.title, "body": push.body },
        "sound": "default",
        "thread-id": push.collapse_key,
    });
    if push.emergency {
        // REQ-NOT-4: marked as an emergency; time-sensitive breaks through Focus modes.
        aps["interruption-level"] = json!("time-sensitive");
    }
    if push.category == Category::Emergency || push.events.len() > 1 {
        aps["badge"] = json!(push.events.len());
    }
    let mut headers = vec![
        ("authorization".to_owned(), format!("bearer {jwt}")),
        ("apns-topic".to_owned(), config.topic.clone()),
        ("apns-push-type".to_owned(), "alert".to_owned()),
        (
            "apns-priority".to_owned(),
            if push.emergency { "10" } else { "5" }.to_owned(),
        ),
    ];
    // Apple limits collapse ids to 64 bytes.
    headers.push((
        "apns-collapse-id".to_owned(),
        push.collapse_key.chars().take(64).collect(),
    ));
    HttpRequestSpec {
        url: format!(
            "{}/3/device/{}",
            config.endpoint.trim_end_matches('/'),
            push.device_token
        ),
        headers,
        body: json!({ "aps": aps, "events": push.events }),
    }
}

/// Sends to APNs over HTTP/2, reusing its provider token.
pub struct ApnsSender {
    config: ApnsConfig,
    http: reqwest::Client,
    token: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl ApnsSender {
    /// A sender for `config`; the key is checked now, not at the first push.
    pub fn new(config: ApnsConfig) -> Result<Self, PushError> {
        provider_token(&config, Utc::now())?;
        let http = reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .map_err(|e| PushError::Transport(e.to_string()))?;
        Ok(ApnsSender {
            config,
            http,
            token: Mutex::new(None),
        })
    }

    fn current_token(&self) -> Result<String, PushError> {
        let now = Utc::now();
        let mut cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((t, at)) = cached.as_ref() {
            if now - *at < Duration::minutes(TOKEN_REUSE_MINUTES) {
                return Ok(t.clone());
            }
        }
        let t = provider_token(&self.config, now)?;
        *cached = Some((t.clone(), now));
        Ok(t)
    }
}

impl PushSender for ApnsSender {
    fn platform(&self) -> &'static str {
        "apns"
    }

    fn send<'a>(&'a self, push: &'a OutgoingPush) -> SendFuture<'a> {
        Box::pin(async move {
            let jwt = self.current_token()?;
            post(&self.http, build_request(&self.config, push, &jwt)).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
    use uuid::Uuid;

    fn config() -> (ApnsConfig, Vec<u8>) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        (
            ApnsConfig {
                team_id: "TEAM123456".into(),
                key_id: "KEY1234567".into(),
                private_key_pkcs8: pkcs8.as_ref().to_vec(),
                topic: "org.homeroom.app".into(),
                endpoint: SANDBOX.into(),
            },
            pair.public_key().as_ref().to_vec(),
        )
    }

    fn push(emergency: bool, events: usize) -> OutgoingPush {
        OutgoingPush {
            recipient_id: "tA".into(),
            platform: "apns".into(),
            device_token: "abc123".into(),
            title: "Homeroom".into(),
            body: "3 new messages from a parent".into(),
            events: (0..events as u128).map(Uuid::from_u128).collect(),
            collapse_key: "conversation:1".into(),
            category: Category::MessageFromParent,
            emergency,
            deliver_at: "2026-03-05T08:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn provider_token_is_an_es256_jwt_that_verifies_with_the_public_key() {
        let (cfg, public) = config();
        let now: DateTime<Utc> = "2026-03-05T08:00:00Z".parse().unwrap();
        let jwt = provider_token(&cfg, now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, json!({"iss": "TEAM123456", "iat": now.timestamp()}));
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64, "ES256 signatures are r||s, 64 bytes");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("signature verifies");
    }

    #[test]
    fn request_targets_the_device_with_topic_type_priority_and_collapse_id() {
        let (cfg, _) = config();
        let spec = build_request(&cfg, &push(false, 3), "JWT");
        assert_eq!(
            spec.url,
            "https://api.sandbox.push.apple.com/3/device/abc123"
        );
        assert_eq!(spec.header("authorization"), Some("bearer JWT"));
        assert_eq!(spec.header("apns-topic"), Some("org.homeroom.app"));
        assert_eq!(spec.header("apns-push-type"), Some("alert"));
        assert_eq!(spec.header("apns-priority"), Some("5"));
        assert_eq!(spec.header("apns-collapse-id"), Some("conversation:1"));
        assert_eq!(
            spec.body["aps"]["alert"]["body"],
            "3 new messages from a parent"
        );
        assert_eq!(spec.body["aps"]["thread-id"], "conversation:1");
        assert!(spec.body["aps"].get("interruption-level").is_none());
        assert_eq!(spec.body["events"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn emergency_is_sent_at_high_priority_and_time_sensitive() {
        let (cfg, _) = config();
        let spec = build_request(&cfg, &push(true, 1), "JWT");
        assert_eq!(spec.header("apns-priority"), Some("10"));
        assert_eq!(spec.body["aps"]["interruption-level"], "time-sensitive");
    }

    #[test]
    fn a_key_that_is_not_p256_pkcs8_is_a_credentials_error() {
        let (mut cfg, _) = config();
        cfg.private_key_pkcs8 = b"not a key".to_vec();
        assert!(matches!(
            provider_token(&cfg, Utc::now()),
            Err(PushError::Credentials(_))
        ));
        assert!(
            pkcs8_from_pem("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----").is_err()
        );
    }
}
