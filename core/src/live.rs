//! Live mode (REQ-OFF-3): while an app is in the foreground, a background thread holds the
//! server's event stream open and syncs the moment the school's log grows, so a change reaches
//! every online device within a couple of seconds; listeners get their diffs from that sync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::backoff;
use crate::error::CoreError;
use crate::homeroom::Homeroom;

/// The server sends a keep-alive every 15 s; this much silence means the stream is dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(40);
/// Largest event block kept while waiting for its end: anything bigger is not ours.
const MAX_PENDING_BYTES: usize = 64 * 1024;

/// A running live mode; stops when `stop` is called or the handle is dropped.
pub struct LiveSession {
    stop: watch::Sender<bool>,
    running: Arc<AtomicBool>,
}

impl LiveSession {
    /// Stops listening (any sync in flight finishes; nothing is lost either way).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Whether the stream thread is still running (false once stopped or signed out).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How one connection ended.
enum Ended {
    Stopped,
    Dropped(CoreError),
}

/// Starts live mode for `core`: connect, sync on every announced change, reconnect with
/// backoff after failures, end on stop or when the session is gone.
pub fn start(core: Arc<Homeroom>) -> Result<LiveSession, CoreError> {
    let (stop, stop_rx) = watch::channel(false);
    let running = Arc::new(AtomicBool::new(true));
    let flag = running.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CoreError::Io(format!("cannot start the live runtime: {e}")))?;
    std::thread::Builder::new()
        .name("homeroom-live".into())
        .spawn(move || {
            run(&core, &rt, stop_rx);
            flag.store(false, Ordering::SeqCst);
        })
        .map_err(|e| CoreError::Io(format!("cannot start the live thread: {e}")))?;
    Ok(LiveSession { stop, running })
}

fn run(core: &Homeroom, rt: &tokio::runtime::Runtime, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        match connection(core, rt, &mut stop, &mut failures) {
            Ended::Stopped => return,
            Ended::Dropped(CoreError::NotSignedIn) => return,
            Ended::Dropped(CoreError::Server { status: 401, .. }) => return,
            Ended::Dropped(e) => {
                failures = failures.saturating_add(1);
                let wait = backoff::delay(failures, None);
                tracing::debug!(error = %e, ?wait, "live stream dropped; reconnecting");
                let stopped = rt.block_on(async {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => false,
                        _ = stop.changed() => true,
                    }
                });
                if stopped {
                    return;
                }
            }
        }
    }
}

/// One connection: reads events until it fails or is stopped; syncs between reads (outside
/// the live runtime, since the core's own calls block on the core's runtime).
fn connection(
    core: &Homeroom,
    rt: &tokio::runtime::Runtime,
    stop: &mut watch::Receiver<bool>,
    failures: &mut u32,
) -> Ended {
    let token = match core.session_token() {
        Ok(Some(t)) => t,
        Ok(None) => return Ended::Dropped(CoreError::NotSignedIn),
        Err(e) => return Ended::Dropped(e),
    };
    let mut resp = match rt.block_on(core.api().events(&token)) {
        Ok(r) => r,
        Err(e) => return Ended::Dropped(e),
    };
    let mut pending = Vec::<u8>::new();
    loop {
        let read = rt.block_on(async {
            tokio::select! {
                chunk = tokio::time::timeout(SILENCE_LIMIT, resp.chunk()) => Some(chunk),
                _ = stop.changed() => None,
            }
        });
        let chunk = match read {
            None => return Ended::Stopped,
            Some(Err(_)) => {
                return Ended::Dropped(CoreError::Offline("the live stream went quiet".into()))
            }
            Some(Ok(Err(e))) => {
                return Ended::Dropped(CoreError::Offline(format!("live stream: {e}")))
            }
            Some(Ok(Ok(None))) => {
                return Ended::Dropped(CoreError::Offline(
                    "the server closed the live stream".into(),
                ))
            }
            Some(Ok(Ok(Some(bytes)))) => bytes,
        };
        *failures = 0;
        pending.extend_from_slice(&chunk);
        let announced = take_events(&mut pending);
        if pending.len() > MAX_PENDING_BYTES {
            return Ended::Dropped(CoreError::Protocol(
                "live stream sent an oversized event".into(),
            ));
        }
        if announced > 0 {
            // One sync covers every change announced so far.
            match core.sync() {
                Ok(_) => {}
                Err(CoreError::NotSignedIn | CoreError::RemovedFromSchool) => {
                    return Ended::Dropped(CoreError::NotSignedIn)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "live sync failed; the outbox keeps everything")
                }
            }
        }
    }
}

/// Removes the complete event blocks from `buf` and counts the `changes` events among them.
fn take_events(buf: &mut Vec<u8>) -> usize {
    let mut count = 0;
    while let Some(end) = find_block_end(buf) {
        let block: Vec<u8> = buf.drain(..end).collect();
        let text = String::from_utf8_lossy(&block);
        if text.lines().any(|l| {
            l.trim_end_matches('\r') == "event: changes"
                || l.trim_end_matches('\r') == "event:changes"
        }) {
            count += 1;
        }
    }
    count
}

/// The end (exclusive, separator included) of the first complete block: a blank line.
fn find_block_end(buf: &[u8]) -> Option<usize> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_counted_only_when_complete() {
        let mut buf = b": live\n\nevent: changes\ndata: {\"cursor\":3}\n\nevent: chan".to_vec();
        assert_eq!(take_events(&mut buf), 1);
        assert_eq!(buf, b"event: chan");
        buf.extend_from_slice(b"ges\r\ndata: {\"cursor\":4}\r\n\r\n");
        assert_eq!(take_events(&mut buf), 1);
        assert!(buf.is_empty());
    }

    #[test]
    fn comments_and_other_events_do_not_trigger_a_sync() {
        let mut buf = b": keep-alive\n\nevent: other\ndata: x\n\n".to_vec();
        assert_eq!(take_events(&mut buf), 0);
        assert!(buf.is_empty());
    }
}
