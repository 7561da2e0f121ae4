//! The fixture school on a server whose clock a test holds, with a loopback push receiver and
//! the server's own push dispatcher to run at the clock's time (REQ-NOT-2, NOT-4).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeroom_server::clock::{Clock, ManualClock};
use homeroom_server::push::{
    dispatch::dispatch_due, loopback::LoopbackSender, OutgoingPush, Senders,
};
use tempfile::TempDir;

use crate::push_receiver::PushReceiver;
use crate::TestServer;

/// A server at a chosen instant, and what it pushes.
pub struct ClockedServer {
    /// The server's data directory (kept for the test's lifetime).
    pub data: TempDir,
    pub server: TestServer,
    pub clock: Arc<ManualClock>,
    pub receiver: PushReceiver,
    pub rt: tokio::runtime::Runtime,
    /// The server's database, for the dispatcher and for inspecting rows.
    pub db: homeroom_server::db::Db,
    /// A loopback sender posting to `receiver`.
    pub senders: Senders,
}

impl ClockedServer {
    /// Starts the fixture school's server with its clock at `start`; the test runs the
    /// dispatcher itself with [`ClockedServer::dispatch`].
    pub fn start(start: DateTime<Utc>) -> ClockedServer {
        Self::start_inner(start, false)
    }

    /// As [`ClockedServer::start`], with the server's own dispatcher sending to the receiver,
    /// ticking only hourly: what arrives sooner, the server woke it for.
    pub fn start_dispatching(start: DateTime<Utc>) -> ClockedServer {
        Self::start_inner(start, true)
    }

    fn start_inner(start: DateTime<Utc>, dispatching: bool) -> ClockedServer {
        let data = TempDir::new().expect("server dir");
        let clock = ManualClock::at(start);
        let receiver = PushReceiver::start();
        let senders = Senders::default().with(Arc::new(LoopbackSender::new(receiver.url())));
        let server = if dispatching {
            TestServer::start_with_dispatcher(data.path(), clock.clone(), senders.clone())
        } else {
            TestServer::start_with_clock(
                data.path(),
                "127.0.0.1:0".parse().expect("loopback"),
                clock.clone(),
            )
        };
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let db = rt.block_on(crate::server_db(server.data_dir()));
        ClockedServer {
            data,
            server,
            clock,
            receiver,
            rt,
            db,
            senders,
        }
    }

    /// Runs the server's push dispatcher at the clock's time; returns what it sent.
    pub fn dispatch(&self) -> Vec<OutgoingPush> {
        self.rt
            .block_on(dispatch_due(&self.db, &self.senders, self.clock.now()))
            .expect("dispatch")
    }
}
