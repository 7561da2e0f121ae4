//! Live mode (REQ-OFF-3): a foreground device holds `GET /v1/events` open and hears within a
//! moment that its school's change log grew, then pulls as usual. The event carries only the
//! new cursor — what changed, and whether this person may see it, is for the pull to say.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::watch;

use crate::app::AppState;
use crate::auth::Caller;
use crate::db::{backend, Backend, Db};
use crate::error::ServerError;
use crate::json::ApiQuery;

/// The PostgreSQL channel instances use to tell each other a school's log grew.
const PG_CHANNEL: &str = "homeroom_changes";

/// Wakes the event streams of a school when its change log grows.
#[derive(Default)]
pub struct LiveHub {
    schools: Mutex<HashMap<String, watch::Sender<u64>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl LiveHub {
    /// Ends every stream (shutdown): dropping the senders ends each waiting stream, and streams
    /// opened from now on end at once.
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.schools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn sender(&self, school_id: &str) -> watch::Sender<u64> {
        let mut map = self.schools.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(school_id.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    /// Wakes this process's streams of `school_id`.
    pub fn wake(&self, school_id: &str) {
        self.sender(school_id)
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    fn subscribe(&self, school_id: &str) -> watch::Receiver<u64> {
        self.sender(school_id).subscribe()
    }
}

/// Call after committing changes to `school_id`'s log: wakes streams here and, on PostgreSQL,
/// on every other instance behind the load balancer.
pub async fn changed(state: &AppState, school_id: &str) {
    state.live.wake(school_id);
    if backend(&state.db) == Backend::Postgres {
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PG_CHANNEL)
            .bind(school_id)
            .execute(&state.db)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not notify other instances of a change");
        }
    }
}

/// On PostgreSQL, relays other instances' notifications into this process's hub.
pub fn spawn_pg_relay(db: &Db, hub: Arc<LiveHub>) -> Option<tokio::task::JoinHandle<()>> {
    if backend(db) != Backend::Postgres {
        return None;
    }
    let url = db.connect_options().database_url.to_string();
    Some(tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if listener.listen(PG_CHANNEL).await.is_ok() {
                        while let Ok(n) = listener.recv().await {
                            hub.wake(n.payload());
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live relay cannot connect"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The cursor the device already has; an event comes at once if the log is past it.
    #[serde(default)]
    pub since: u64,
}

async fn latest_seq(db: &Db, school_id: &str) -> Result<u64, ServerError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM changes WHERE school_id = $1",
    )
    .bind(school_id)
    .fetch_one(db)
    .await?;
    Ok(n.max(0) as u64)
}

/// `GET /v1/events?since=N`: server-sent events, `event: changes` with `{"cursor": M}` each
/// time the school's log moves past what was last announced; a comment every 15 s keeps
/// proxies from closing the stream.
#[tracing::instrument(skip_all)]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ServerError> {
    let rx = state.live.subscribe(&caller.school_id);
    let start = (state, caller.school_id, rx, q.since, true);
    let events = stream::unfold(
        start,
        |(state, school, mut rx, mut sent, first)| async move {
            loop {
                // The first round looks at the log at once; later rounds wait for a wake.
                if !first {
                    rx.changed().await.ok()?;
                }
                if state.live.is_closed() {
                    return None;
                }
                rx.borrow_and_update();
                let latest = match latest_seq(&state.db, &school).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "live stream cannot read the log");
                        return None;
                    }
                };
                let event = if latest > sent {
                    sent = latest;
                    Event::default()
                        .event("changes")
                        .data(format!("{{\"cursor\":{latest}}}"))
                } else if first {
                    // Tells the device the stream is up, so it knows it is live.
                    Event::default().comment("live")
                } else {
                    continue;
                };
                return Some((Ok(event), (state, school, rx, sent, false)));
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
