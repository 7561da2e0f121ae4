//! The server process is SIGKILLed at random moments while a tablet pushes and pulls; after each
//! restart the tablet syncs on, and at the end every award exists exactly once on the server, on
//! the tablet and on a parent's phone (REQ-OFF-1, issue 4 "server restarts mid-sync").

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use homeroom_e2e::{note_counts, signed_in};

/// The server as a child process the test can kill without warning.
struct ServerProcess {
    child: Child,
}

impl ServerProcess {
    /// Starts it and waits until it listens; returns it and the address it bound.
    fn start(dir: &Path, addr: &str) -> (ServerProcess, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-server"))
            .args([dir.display().to_string(), addr.to_owned()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("server stdout"))
            .read_line(&mut line)
            .expect("server reports its address");
        let bound = line.trim().to_owned();
        assert!(!bound.is_empty(), "the server process did not start");
        (ServerProcess { child }, bound)
    }

    /// SIGKILL: no graceful shutdown, open transactions die with the process.
    fn kill(mut self) {
        self.child.kill().expect("kill the server");
        self.child.wait().expect("reap the server");
    }
}

/// xorshift: random kill moments without a dependency; the seed is printed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn a_server_killed_mid_sync_loses_nothing_and_applies_nothing_twice() {
    let rounds = 20;
    let per_round = 30;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    eprintln!("server kill test: {rounds} kill points, seed {seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let (mut server, addr) = ServerProcess::start(&server_dir, "127.0.0.1:0");
    let url = format!("http://{addr}");
    let tablet = std::sync::Arc::new(signed_in(&url, &tmp.path().join("tablet"), "tA"));
    let phone = signed_in(&url, &tmp.path().join("phone"), "pa1");
    tablet.sync().unwrap();
    phone.sync().unwrap();

    let mut expected = BTreeMap::new();
    let mut interrupted = 0;
    for round in 0..rounds {
        for i in 0..per_round {
            let note = format!("r{round}-{i}");
            tablet
                .award_points(&["a1".into()], "classA-teamwork", Some(&note))
                .unwrap();
            expected.insert(note, 1);
        }
        let syncing = {
            let tablet = tablet.clone();
            std::thread::spawn(move || tablet.sync())
        };
        std::thread::sleep(Duration::from_micros(rng.next() % 60_000));
        server.kill();
        if syncing.join().unwrap().is_err() {
            interrupted += 1;
        }
        server = ServerProcess::start(&server_dir, &addr).0;
    }
    eprintln!("{interrupted} of {rounds} syncs were cut by the kill");

    // Sync until the outbox is empty (a cut sync may need a second pass), then compare exactly.
    for _ in 0..5 {
        if tablet.sync().is_ok() && tablet.pending_writes().unwrap() == 0 {
            break;
        }
    }
    assert_eq!(tablet.pending_writes().unwrap(), 0);
    assert_eq!(
        note_counts(&tablet, "a1"),
        expected,
        "tablet: each award once"
    );
    phone.sync().unwrap();
    assert_eq!(
        note_counts(&phone, "a1"),
        expected,
        "phone: each award once"
    );
    let fresh = signed_in(&url, &tmp.path().join("fresh"), "pa1");
    fresh.sync().unwrap();
    assert_eq!(
        note_counts(&fresh, "a1"),
        expected,
        "server: each award once"
    );
    server.kill();
}
