//! Helpers for end-to-end tests: the real server on a loopback port, and core instances with
//! their own data directories — no mocks of our own parts.

pub mod class_year;
pub mod clocked;
pub mod fault_proxy;
pub mod push_receiver;
pub mod smtp_sink;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use homeroom_core::{Homeroom, Settings};
use homeroom_protocol::fixture;

/// A running homeroom-server on loopback, in its own thread and runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    data_dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server over `data_dir` seeded with the fixture school, on `addr` (port 0: any).
    pub fn start(data_dir: &Path, addr: SocketAddr) -> TestServer {
        Self::start_with_clock(
            data_dir,
            addr,
            std::sync::Arc::new(homeroom_server::clock::SystemClock),
        )
    }

    /// As [`TestServer::start`], reading time from `clock` (quiet hours end to end, REQ-NOT-2).
    pub fn start_with_clock(
        data_dir: &Path,
        addr: SocketAddr,
        clock: homeroom_server::clock::SharedClock,
    ) -> TestServer {
        Self::launch(data_dir, addr, clock, None, None)
    }

    /// A fresh server that sends invitation emails through `smtp` (a test's own sink, REQ-ACC-2).
    pub fn fresh_with_smtp(
        data_dir: &Path,
        smtp: homeroom_server::mail::smtp::SmtpConfig,
    ) -> TestServer {
        Self::launch(
            data_dir,
            "127.0.0.1:0".parse().expect("loopback"),
            std::sync::Arc::new(homeroom_server::clock::SystemClock),
            Some(smtp),
            None,
        )
    }

    /// As [`TestServer::start_with_clock`], with the server's own push dispatcher running on
    /// `senders` as in production, but ticking only hourly: what goes out sooner was woken
    /// (an admin's emergency, REQ-NOT-4).
    pub fn start_with_dispatcher(
        data_dir: &Path,
        clock: homeroom_server::clock::SharedClock,
        senders: homeroom_server::push::Senders,
    ) -> TestServer {
        let addr = "127.0.0.1:0".parse().expect("loopback");
        Self::launch(data_dir, addr, clock, None, Some(senders))
    }

    fn launch(
        data_dir: &Path,
        addr: SocketAddr,
        clock: homeroom_server::clock::SharedClock,
        smtp: Option<homeroom_server::mail::smtp::SmtpConfig>,
        senders: Option<homeroom_server::push::Senders>,
    ) -> TestServer {
        let (tx_addr, rx_addr) = mpsc::channel();
        let (tx_stop, rx_stop) = tokio::sync::oneshot::channel::<()>();
        let dir = data_dir.to_owned();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let config = homeroom_server::Config {
                    listen: addr,
                    database_url: test_database_url(&dir).await,
                    data_dir: dir,
                    seed_fixture: true,
                    smtp,
                };
                let bound = homeroom_server::bind_with_clock(&config, clock.clone())
                    .await
                    .expect("server binds");
                let _dispatcher = senders.map(|s| {
                    homeroom_server::push::dispatch::spawn(
                        bound.db(),
                        std::sync::Arc::new(s),
                        clock,
                        std::time::Duration::from_secs(3600),
                        bound.push_wake(),
                    )
                });
                tx_addr.send(bound.addr).expect("report address");
                bound
                    .serve(async {
                        let _ = rx_stop.await;
                    })
                    .await
                    .expect("server runs");
            });
        });
        let addr = rx_addr.recv().expect("server started");
        TestServer {
            addr,
            data_dir: data_dir.to_owned(),
            stop: Some(tx_stop),
            thread: Some(thread),
        }
    }

    /// Starts a fresh server on any free loopback port.
    pub fn fresh(data_dir: &Path) -> TestServer {
        Self::start(data_dir, "127.0.0.1:0".parse().expect("loopback"))
    }

    /// The server's data directory (tests open the same database to drive the push dispatcher).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server (the port is free again when this returns).
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Starts the same server again, same data and port.
    pub fn restart(&mut self) {
        self.stop();
        *self = TestServer::start(&self.data_dir.clone(), self.addr);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How many awards of `pupil` a device's cache file holds (asserting on the SQLite file, not
/// only on the API: purges must reach the disk).
pub fn cached_awards(device_dir: &Path, pupil: &str) -> i64 {
    let conn = rusqlite::Connection::open(device_dir.join("homeroom-cache.sqlite3"))
        .expect("open the device cache");
    conn.query_row(
        "SELECT COUNT(*) FROM awards WHERE pupil_id = ?1",
        [pupil],
        |r| r.get(0),
    )
    .expect("count cached awards")
}

/// A session token for a fixture person (`tA`, `H`, `pa1`, pupils with their code…) straight
/// from the HTTP API.
pub async fn api_token(http: &reqwest::Client, url: &str, who: &str) -> String {
    let body = match fixture::user_by_id(who).and_then(|u| u.pupil_code()) {
        Some(code) => serde_json::json!({"method": "pupil_code", "code": code}),
        None => serde_json::json!({
            "method": "password",
            "email": format!("{}@greenfield.test", who.to_lowercase()),
            "password": format!("{who}-password"),
            "device_id": fixture::ENROLLED_TABLET_KEY,
        }),
    };
    let v: serde_json::Value = http
        .post(format!("{url}/v1/sessions"))
        .json(&body)
        .send()
        .await
        .expect("sign-in request")
        .json()
        .await
        .expect("sign-in answer");
    v["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{who} signs in: {v}"))
        .to_owned()
}

/// `GET url` as the bearer of `token`, answered 200 with JSON (which it returns).
pub async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    let r = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("server reachable");
    assert_eq!(r.status(), 200, "GET {url}");
    r.json().await.expect("JSON answer")
}

/// `GET url` as `token`: the status and the JSON body (`Null` if none).
pub async fn get_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    answer(http.get(url).bearer_auth(token)).await
}

/// `POST url` with a JSON `body` as `token`: the status and the JSON body (`Null` if none).
pub async fn post_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> (reqwest::StatusCode, serde_json::Value) {
    answer(http.post(url).bearer_auth(token).json(body)).await
}

/// `POST url` with no body as `token` (actions the path names alone): status and JSON body.
pub async fn post_empty_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    answer(http.post(url).bearer_auth(token)).await
}

/// `PUT url` with a JSON `body` as `token`: the status and the JSON body (`Null` if none).
pub async fn put_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> (reqwest::StatusCode, serde_json::Value) {
    answer(http.put(url).bearer_auth(token).json(body)).await
}

/// `DELETE url` as `token`: the status and the JSON body (`Null` if none).
pub async fn delete_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    answer(http.delete(url).bearer_auth(token)).await
}

/// `POST url` with a JSON `body` and no session (sign-in, code redemption): status and JSON.
pub async fn post_anon(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> (reqwest::StatusCode, serde_json::Value) {
    answer(http.post(url).json(body)).await
}

/// `GET url` as `token`: the status and the raw bytes (photos, archives).
pub async fn get_bytes_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> (reqwest::StatusCode, Vec<u8>) {
    let r = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("server reachable");
    let status = r.status();
    (status, r.bytes().await.expect("body readable").to_vec())
}

/// Sends a prepared request: the status and the JSON body (`Null` if none), for requests the
/// helpers above do not shape (raw bodies, other methods, headers).
pub async fn send(req: reqwest::RequestBuilder) -> (reqwest::StatusCode, serde_json::Value) {
    answer(req).await
}

async fn answer(req: reqwest::RequestBuilder) -> (reqwest::StatusCode, serde_json::Value) {
    let r = req.send().await.expect("server reachable");
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// The server's own database behind `data_dir`, for tests that inspect or age server rows.
pub async fn server_db(data_dir: &Path) -> homeroom_server::db::Db {
    let url = test_database_url(data_dir).await;
    homeroom_server::db::open(data_dir, url.as_deref())
        .await
        .expect("open the server's database")
}

/// Rows in each of `tables` of the server behind `data_dir`: "nothing was written" checks.
pub async fn table_counts(data_dir: &Path, tables: &[&str]) -> Vec<i64> {
    let db = server_db(data_dir).await;
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&db)
                .await
                .expect("count rows");
        counts.push(n);
    }
    counts
}

/// With `HOMEROOM_TEST_DATABASE_URL` set (scripts/test does, for its PostgreSQL pass), each
/// server data directory gets its own PostgreSQL database, created on first use; otherwise the
/// server keeps embedded SQLite in the directory.
pub async fn test_database_url(data_dir: &Path) -> Option<String> {
    use sqlx::Connection;
    let base = std::env::var("HOMEROOM_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let digest = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        data_dir.hash(&mut h);
        h.finish()
    };
    let name = format!("homeroom_test_{digest:016x}");
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to the test PostgreSQL cluster");
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await
        .expect("list test databases");
    if exists.is_none() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
    }
    let _ = admin.close().await;
    let (root, _) = base.rsplit_once('/').expect("database URL has a path");
    Some(format!("{root}/{name}"))
}

/// The at-rest key test devices use (a real app keeps 32 random bytes in the keystore).
pub const TEST_KEY: [u8; 32] = [7; 32];

/// A device: a core over its own data directory.
pub fn device(server_url: &str, data_dir: &Path) -> Homeroom {
    Homeroom::open(Settings {
        server_url: server_url.to_owned(),
        data_dir: data_dir.to_owned(),
        // Every test device carries the fixture's enrolment key, so staff can sign in (ACC-6).
        device_id: Some(fixture::ENROLLED_TABLET_KEY.to_owned()),
        at_rest_key: TEST_KEY.to_vec(),
        request_timeout: None,
        face_model: None,
        upload_chunk_bytes: None,
        media_cache_bytes: None,
    })
    .expect("core opens")
}

/// A device signed in as a fixture person.
pub fn signed_in(server_url: &str, data_dir: &Path, who: &str) -> Homeroom {
    let d = device(server_url, data_dir);
    let u = fixture::user_by_id(who).expect("fixture person");
    d.sign_in(&u.email(), &u.password()).expect("sign in");
    d
}

/// How many times each award note appears in a pupil's points on `d`: "exactly once" checks.
pub fn note_counts(d: &Homeroom, pupil: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for a in d.points_for(pupil).expect("points readable") {
        *m.entry(a.record.note.unwrap_or_default()).or_default() += 1;
    }
    m
}

/// A camera-like test photo (3000×2000 JPEG, EXIF orientation 6, a GPS-like marker that must
/// never reach an upload) written to `dir/camera.jpg` by the core's `test-photo` example.
pub fn test_photo(dir: &Path) -> PathBuf {
    let out = dir.join("camera.jpg");
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "run",
            "-q",
            "-p",
            "homeroom-core",
            "--example",
            "test-photo",
            "--",
        ])
        .arg(&out)
        .status()
        .expect("run the test-photo example");
    assert!(status.success(), "the test-photo example failed");
    out
}
