//! Live mode through the FFI (REQ-OFF-3): the shells start it when the app comes to the
//! foreground and stop it (or drop the handle) when it leaves.

use std::sync::Arc;

use super::{HomeroomClient, HomeroomError};

/// A running live mode; `stop()` or dropping it ends the stream.
#[derive(uniffi::Object)]
pub struct LiveMode {
    inner: crate::live::LiveSession,
}

#[uniffi::export]
impl LiveMode {
    /// Stops listening for changes.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Whether the stream is still running (false after stop or sign-out).
    pub fn is_running(&self) -> bool {
        self.inner.is_running()
    }
}

#[uniffi::export]
impl HomeroomClient {
    /// Starts live mode: changes by others reach this device's listeners within a moment while
    /// the app is in the foreground. Background refresh stays with `next_step`.
    pub fn start_live(&self) -> Result<Arc<LiveMode>, HomeroomError> {
        let inner = crate::live::start(self.inner.clone())?;
        Ok(Arc::new(LiveMode { inner }))
    }
}
