//! The router and the process around it: state, limits, and binding a loopback address.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::db::Db;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::serve::ListenerExt;
use axum::Router;
use homeroom_protocol::wire::MAX_BODY_BYTES;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;

use crate::error::ServerError;
use crate::{audit, routes};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Guessing limits, shared by every request of this server process.
    pub limits: std::sync::Arc<crate::limits::Limits>,
    /// Where uploaded media is stored (`<data dir>/media`).
    pub media_dir: PathBuf,
    /// Wakes live event streams when a school's change log grows (REQ-OFF-3).
    pub live: std::sync::Arc<crate::live::LiveHub>,
    /// Where "now" comes from: messages are stamped and pushes planned with it (REQ-NOT-2).
    pub clock: crate::clock::SharedClock,
    /// Carries invitation emails (REQ-ACC-2); `None` when no SMTP server is configured.
    pub mailer: Option<std::sync::Arc<dyn crate::mail::Mailer>>,
    /// Wakes the push dispatcher at once (an admin's emergency cannot wait for its tick: REQ-NOT-4).
    pub push_wake: std::sync::Arc<tokio::sync::Notify>,
    /// The instance's group-committing writer for pushes (issue 5 load target).
    pub writer: std::sync::Arc<crate::writer::Writer>,
    /// The schools' facts and people's directories, reused until the database says they changed.
    pub facts: std::sync::Arc<crate::facts_cache::FactsCache>,
}

impl AppState {
    /// State over `db` with fresh limits and the system clock, keeping media under `data_dir`.
    pub fn new(db: Db, data_dir: &std::path::Path) -> Self {
        Self::with_clock(db, data_dir, std::sync::Arc::new(crate::clock::SystemClock))
    }

    /// State over `db` reading time from `clock`.
    pub fn with_clock(
        db: Db,
        data_dir: &std::path::Path,
        clock: crate::clock::SharedClock,
    ) -> Self {
        AppState {
            db,
            limits: Default::default(),
            media_dir: data_dir.join("media"),
            live: Default::default(),
            clock,
            mailer: None,
            push_wake: Default::default(),
            writer: Default::default(),
            facts: Default::default(),
        }
    }
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// A `postgres://` URL to keep the school's data in PostgreSQL instead of embedded SQLite.
    pub database_url: Option<String>,
    pub seed_fixture: bool,
    /// Where invitation emails go out (REQ-ACC-2); without it invitations answer 503.
    pub smtp: Option<crate::mail::smtp::SmtpConfig>,
}

/// The API's OpenAPI 3 document, kept true by `server/tests/openapi.rs`.
pub const OPENAPI_JSON: &str = include_str!("../api/openapi.json");

/// Every route the server serves, as (method, path): the OpenAPI test checks both ways.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/sessions"),
    ("POST", "/v1/push"),
    ("GET", "/v1/pull"),
    ("POST", "/v1/pupils/{id}/parent-code"),
    ("POST", "/v1/parent-codes/redeem"),
    ("POST", "/v1/messages"),
    ("PUT", "/v1/me/notify-settings"),
    ("PUT", "/v1/me/push-device"),
    ("GET", "/v1/threads/{id}/export"),
    ("GET", "/v1/reports"),
    ("POST", "/v1/users/{id}/messaging-warnings"),
    ("POST", "/v1/users/{id}/messaging-removal"),
    ("GET", "/v1/pupils/{id}/consent"),
    ("PUT", "/v1/pupils/{id}/consent"),
    ("POST", "/v1/media/{sha256}"),
    ("PUT", "/v1/media/{sha256}"),
    ("GET", "/v1/media/{sha256}"),
    ("GET", "/v1/media/{sha256}/content"),
    ("POST", "/v1/classes/{class_id}/pupils"),
    ("DELETE", "/v1/classes/{class_id}/pupils/{pupil_id}"),
    ("DELETE", "/v1/pupils/{id}"),
    ("GET", "/v1/pupils/{id}/export"),
    ("GET", "/v1/pupils/{id}/report"),
    ("GET", "/v1/pupils/{id}/report-shares"),
    ("POST", "/v1/pupils/{id}/report-shares"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/events"),
    ("DELETE", "/v1/sessions/current"),
    ("POST", "/v1/devices"),
    ("GET", "/v1/devices"),
    ("DELETE", "/v1/devices/{id}"),
    ("POST", "/v1/pupils/{id}/parent-invitations"),
    ("GET", "/v1/parent-requests"),
    ("POST", "/v1/parent-requests/{id}/approve"),
    ("POST", "/v1/parent-requests/{id}/decline"),
    ("POST", "/v1/emergencies"),
    ("POST", "/v1/users/{id}/school-removal"),
    ("GET", "/v1/school/working-hours"),
    ("PUT", "/v1/school/working-hours"),
    ("GET", "/v1/safeguarding"),
];

/// The `/v1` API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route(
            "/v1/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI_JSON,
                )
            }),
        )
        .route("/v1/sessions", post(routes::session::sign_in))
        .route("/v1/push", post(routes::sync::push))
        .route("/v1/pull", get(routes::sync::pull))
        .route("/v1/pupils/{id}/parent-code", post(routes::codes::issue))
        .route("/v1/parent-codes/redeem", post(routes::codes::redeem))
        .route("/v1/messages", post(routes::messages::send))
        .route(
            "/v1/me/notify-settings",
            put(routes::messages::set_notify_settings),
        )
        .route(
            "/v1/me/push-device",
            put(routes::messages::register_push_device),
        )
        .route("/v1/threads/{id}/export", get(routes::messages::export))
        .route("/v1/reports", get(routes::messages::reports))
        .route(
            "/v1/users/{id}/messaging-warnings",
            post(routes::messages::warn),
        )
        .route(
            "/v1/users/{id}/messaging-removal",
            post(routes::messages::remove_messaging),
        )
        .route(
            "/v1/pupils/{id}/consent",
            get(routes::consent::read).put(routes::consent::write),
        )
        .route(
            "/v1/media/{sha256}",
            post(routes::media::start)
                .put(routes::media::chunk)
                .get(routes::media::status),
        )
        .route("/v1/media/{sha256}/content", get(routes::media::content))
        .route(
            "/v1/classes/{class_id}/pupils",
            post(routes::membership::add_pupil),
        )
        .route(
            "/v1/classes/{class_id}/pupils/{pupil_id}",
            delete(routes::membership::remove_pupil),
        )
        .route("/v1/pupils/{id}", delete(routes::pupils::erase))
        .route("/v1/pupils/{id}/export", get(routes::pupils::export))
        .route("/v1/pupils/{id}/report", get(routes::reports::report))
        .route(
            "/v1/pupils/{id}/report-shares",
            get(routes::reports::shared).post(routes::reports::share),
        )
        .route("/v1/audit", get(audit::list))
        .route("/v1/events", get(crate::live::events))
        .route("/v1/sessions/current", delete(routes::session::sign_out))
        .route(
            "/v1/devices",
            post(routes::devices::enrol).get(routes::devices::list),
        )
        .route("/v1/devices/{id}", delete(routes::devices::revoke))
        .route(
            "/v1/pupils/{id}/parent-invitations",
            post(routes::invitations::send),
        )
        .route("/v1/parent-requests", get(routes::parent_requests::list))
        .route(
            "/v1/parent-requests/{id}/approve",
            post(routes::parent_requests::approve),
        )
        .route(
            "/v1/parent-requests/{id}/decline",
            post(routes::parent_requests::decline),
        )
        .route("/v1/emergencies", post(routes::emergencies::send))
        .route(
            "/v1/users/{id}/school-removal",
            post(routes::parents::remove_from_school),
        )
        .route(
            "/v1/school/working-hours",
            get(routes::school_hours::read).put(routes::school_hours::write),
        )
        .route("/v1/safeguarding", get(routes::safeguarding::list))
        .fallback(|| async { ServerError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A bound, migrated server, ready to serve.
pub struct Bound {
    pub addr: SocketAddr,
    listener: TcpListener,
    app: Router,
    db: Db,
    live: std::sync::Arc<crate::live::LiveHub>,
    push_wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Bound {
    /// The database, for background jobs started beside the server.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// What handlers notify when a push must go out now; give it to the push dispatcher.
    pub fn push_wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.push_wake.clone()
    }

    /// Serves until the future `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        // Live event streams never end on their own: close them when shutdown begins, or a
        // graceful shutdown would wait for them forever.
        let live = self.live.clone();
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        // Small writes go out at once: with Nagle's algorithm a response's last segment can wait
        // for the device's delayed acknowledgement (tens of milliseconds per request).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            self.app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| ServerError::Internal(format!("serve: {e}")))
    }
}

/// Opens the database, seeds if asked, and binds the listen address (port 0 picks a free one).
pub async fn bind(config: &Config) -> Result<Bound, ServerError> {
    bind_with_clock(config, std::sync::Arc::new(crate::clock::SystemClock)).await
}

/// As [`bind`], reading time from `clock` (tests and the demo move it).
pub async fn bind_with_clock(
    config: &Config,
    clock: crate::clock::SharedClock,
) -> Result<Bound, ServerError> {
    let db = crate::db::open(&config.data_dir, config.database_url.as_deref()).await?;
    if config.seed_fixture {
        crate::seed::seed_fixture(&db).await?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServerError::Internal(format!("bind {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Internal(format!("local addr: {e}")))?;
    let mut state = AppState::with_clock(db.clone(), &config.data_dir, clock);
    if let Some(smtp) = &config.smtp {
        let mailer = crate::mail::smtp::SmtpMailer::new(smtp)
            .map_err(|e| ServerError::Internal(format!("SMTP configuration: {e}")))?;
        state.mailer = Some(std::sync::Arc::new(mailer));
    }
    // Other instances' changes reach this one's live streams (PostgreSQL only; detached).
    let _relay = crate::live::spawn_pg_relay(&db, state.live.clone());
    let live = state.live.clone();
    let push_wake = state.push_wake.clone();
    Ok(Bound {
        addr,
        listener,
        app: router(state),
        db,
        live,
        push_wake,
    })
}
