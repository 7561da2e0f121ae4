//! FCM HTTP v1 access tokens minted from a service account: a JWT signed RS256 with the
//! account's key is exchanged at the account's token endpoint for an OAuth 2 bearer token
//! (the JWT-bearer grant, RFC 7523), which is reused until shortly before it expires.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde::Deserialize;
use serde_json::json;

use super::PushError;

/// The OAuth 2 scope FCM's send API asks for.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The grant type of a signed-JWT token request.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How long an assertion is valid (the token endpoint allows at most an hour).
const ASSERTION_SECS: i64 = 3600;
/// A token this close to expiry is replaced before use.
const REFRESH_MARGIN_SECS: i64 = 300;

/// The fields of a service-account key file the minter needs.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    /// The Firebase project, when the file names it.
    #[serde(default)]
    pub project_id: Option<String>,
    pub client_email: String,
    /// PKCS#8 PEM.
    pub private_key: String,
    /// Where assertions are exchanged for access tokens.
    pub token_uri: String,
}

impl ServiceAccount {
    /// Reads a service-account key file's JSON.
    pub fn from_json(text: &str) -> Result<Self, PushError> {
        serde_json::from_str(text)
            .map_err(|e| PushError::Credentials(format!("not a service-account key file: {e}")))
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
}

/// Mints and caches FCM access tokens for one service account.
pub struct TokenMinter {
    account: ServiceAccount,
    key: RsaKeyPair,
    http: reqwest::Client,
    cached: tokio::sync::Mutex<Option<(String, DateTime<Utc>)>>,
}

impl TokenMinter {
    /// A minter for `account`; its key is checked now, not at the first push.
    pub fn new(account: ServiceAccount) -> Result<Self, PushError> {
        let der = super::apns::pkcs8_from_pem(&account.private_key)?;
        let key = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| PushError::Credentials(format!("not an RSA PKCS#8 key: {e}")))?;
        if !account.token_uri.starts_with("https://") && !account.token_uri.starts_with("http://") {
            return Err(PushError::Credentials(
                "the service account's token_uri is not a URL".into(),
            ));
        }
        Ok(TokenMinter {
            account,
            key,
            http: reqwest::Client::new(),
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// The signed assertion: `{alg: RS256, typ: JWT}.{iss, scope, aud, iat, exp}`.
    pub fn assertion(&self, now: DateTime<Utc>) -> Result<String, PushError> {
        let header = json!({ "alg": "RS256", "typ": "JWT" });
        let claims = json!({
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.account.token_uri,
            "iat": now.timestamp(),
            "exp": now.timestamp() + ASSERTION_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| PushError::Credentials("signing the token assertion failed".into()))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    /// An access token valid at `now`: the cached one, or a fresh one from the token endpoint.
    #[tracing::instrument(skip_all)]
    pub async fn token(&self, now: DateTime<Utc>) -> Result<String, PushError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref() {
            if now + Duration::seconds(REFRESH_MARGIN_SECS) < *expires {
                return Ok(token.clone());
            }
        }
        let assertion = self.assertion(now)?;
        let resp = self
            .http
            .post(&self.account.token_uri)
            .form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &assertion)])
            .send()
            .await
            .map_err(|e| PushError::Transport(format!("token endpoint: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            let detail: String = resp.text().await.unwrap_or_default();
            return Err(PushError::Refused {
                status: status.as_u16(),
                detail: detail.chars().take(200).collect(),
            });
        }
        let answer: TokenAnswer = resp
            .json()
            .await
            .map_err(|e| PushError::Transport(format!("token endpoint answer: {e}")))?;
        if answer.access_token.trim().is_empty() {
            return Err(PushError::Credentials(
                "the token endpoint sent an empty token".into(),
            ));
        }
        let expires = now + Duration::seconds(answer.expires_in.max(0));
        *cached = Some((answer.access_token.clone(), expires));
        Ok(answer.access_token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use axum::{Form, Json, Router};
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use std::collections::HashMap;

    use super::*;
    use crate::push::fcm::{FcmConfig, FcmSender};
    use crate::push::{OutgoingPush, PushSender};

    const TEST_KEY: &str = include_str!("testdata/test-only-rsa-key.pem");

    /// What the loopback endpoints were sent: token requests (form, content type) and sends
    /// (authorization header).
    #[derive(Default)]
    struct Seen {
        token_requests: Vec<(HashMap<String, String>, String)>,
        sends: Vec<String>,
    }

    /// A token endpoint and an FCM endpoint of the test's own on a loopback port.
    async fn endpoints() -> (String, Arc<Mutex<Seen>>) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = Router::new()
            .route(
                "/token",
                post(
                    |State(seen): State<Arc<Mutex<Seen>>>,
                     headers: HeaderMap,
                     Form(form): Form<HashMap<String, String>>| async move {
                        let ct = headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let mut s = seen.lock().unwrap();
                        s.token_requests.push((form, ct));
                        let n = s.token_requests.len();
                        Json(json!({
                            "access_token": format!("minted-{n}"),
                            "expires_in": 3599,
                            "token_type": "Bearer",
                        }))
                    },
                ),
            )
            .route(
                "/v1/projects/{project}/messages:send",
                post(
                    |State(seen): State<Arc<Mutex<Seen>>>, headers: HeaderMap| async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        seen.lock().unwrap().sends.push(auth);
                        Json(json!({"name": "projects/p/messages/1"}))
                    },
                ),
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    fn account(base: &str) -> ServiceAccount {
        ServiceAccount::from_json(
            &json!({
                "type": "service_account",
                "project_id": "homeroom-demo",
                "client_email": "push@homeroom-demo.iam.example",
                "private_key": TEST_KEY,
                "token_uri": format!("{base}/token"),
            })
            .to_string(),
        )
        .unwrap()
    }

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let p = jwt.split('.').nth(i).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn assertion_is_an_rs256_jwt_for_the_fcm_scope_that_verifies_with_the_public_key() {
        let minter = TokenMinter::new(account("https://oauth.example")).unwrap();
        let now: DateTime<Utc> = "2026-03-05T08:00:00Z".parse().unwrap();
        let jwt = minter.assertion(now).unwrap();
        assert_eq!(part(&jwt, 0), json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(
            part(&jwt, 1),
            json!({
                "iss": "push@homeroom-demo.iam.example",
                "scope": SCOPE,
                "aud": "https://oauth.example/token",
                "iat": now.timestamp(),
                "exp": now.timestamp() + 3600,
            })
        );
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, minter.key.public().as_ref())
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .expect("signature verifies with the account's public key");
    }

    #[tokio::test]
    async fn token_request_is_a_jwt_bearer_form_post_and_the_token_is_reused_until_near_expiry() {
        let (base, seen) = endpoints().await;
        let minter = TokenMinter::new(account(&base)).unwrap();
        let now: DateTime<Utc> = "2026-03-05T08:00:00Z".parse().unwrap();
        assert_eq!(minter.token(now).await.unwrap(), "minted-1");
        assert_eq!(
            minter.token(now + Duration::minutes(50)).await.unwrap(),
            "minted-1",
            "reused while valid"
        );
        assert_eq!(
            minter.token(now + Duration::minutes(56)).await.unwrap(),
            "minted-2",
            "replaced within five minutes of expiry"
        );
        let s = seen.lock().unwrap();
        assert_eq!(s.token_requests.len(), 2);
        let (form, content_type) = &s.token_requests[0];
        assert_eq!(content_type, "application/x-www-form-urlencoded");
        assert_eq!(form["grant_type"], JWT_BEARER_GRANT);
        assert_eq!(part(&form["assertion"], 1)["iat"], now.timestamp());
        assert_eq!(form.len(), 2, "only grant_type and assertion: {form:?}");
    }

    #[tokio::test]
    async fn fcm_sender_with_a_service_account_sends_the_minted_token_as_bearer() {
        let (base, seen) = endpoints().await;
        let sender = FcmSender::with_service_account(
            FcmConfig {
                project_id: "homeroom-demo".into(),
                endpoint: base.clone(),
            },
            TokenMinter::new(account(&base)).unwrap(),
        );
        let push = OutgoingPush {
            recipient_id: "pa1".into(),
            platform: "fcm".into(),
            device_token: "fcm-device-token".into(),
            title: "Emergency".into(),
            body: "Emergency announcement from school".into(),
            events: vec![uuid::Uuid::from_u128(7)],
            collapse_key: "event:7".into(),
            category: homeroom_protocol::notify::Category::Emergency,
            emergency: true,
            deliver_at: Utc::now(),
        };
        sender.send(&push).await.unwrap();
        sender.send(&push).await.unwrap();
        let s = seen.lock().unwrap();
        assert_eq!(s.sends, ["Bearer minted-1", "Bearer minted-1"]);
        assert_eq!(s.token_requests.len(), 1, "one token for both sends");
    }

    #[test]
    fn a_key_file_without_a_usable_rsa_key_is_a_credentials_error() {
        let mut a = account("https://oauth.example");
        a.private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
        assert!(matches!(
            TokenMinter::new(a),
            Err(PushError::Credentials(_))
        ));
        assert!(matches!(
            ServiceAccount::from_json("{\"client_email\": 3}"),
            Err(PushError::Credentials(_))
        ));
    }
}
