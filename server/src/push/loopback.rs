//! A sender that posts each push as JSON to a URL of the caller's choosing: tests and the demo run
//! a tiny receiver of their own that records what would be sent and when.

use super::{post, HttpRequestSpec, OutgoingPush, PushSender, SendFuture};

/// Posts [`OutgoingPush`] JSON to `url`; devices register with platform `loopback`.
pub struct LoopbackSender {
    url: String,
    http: reqwest::Client,
}

impl LoopbackSender {
    /// A sender posting to `url` (e.g. `http://127.0.0.1:4321/push`).
    pub fn new(url: impl Into<String>) -> Self {
        LoopbackSender {
            url: url.into(),
            http: reqwest::Client::new(),
        }
    }
}

impl PushSender for LoopbackSender {
    fn platform(&self) -> &'static str {
        "loopback"
    }

    fn send<'a>(&'a self, push: &'a OutgoingPush) -> SendFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_value(push)
                .map_err(|e| super::PushError::Transport(e.to_string()))?;
            post(
                &self.http,
                HttpRequestSpec {
                    url: self.url.clone(),
                    headers: Vec::new(),
                    body,
                },
            )
            .await
        })
    }
}
