//! Helpers for end-to-end tests: the real server on a loopback port, and core instances with
//! their own data directories — no mocks of our own parts.

pub mod fault_proxy;

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
                    data_dir: dir,
                    seed_fixture: true,
                };
                let bound = homeroom_server::bind(&config).await.expect("server binds");
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

/// The at-rest key test devices use (a real app keeps 32 random bytes in the keystore).
pub const TEST_KEY: [u8; 32] = [7; 32];

/// A device: a core over its own data directory.
pub fn device(server_url: &str, data_dir: &Path) -> Homeroom {
    Homeroom::open(Settings {
        server_url: server_url.to_owned(),
        data_dir: data_dir.to_owned(),
        device_id: None,
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
