//! Crash safety: a device process is SIGKILLed at random moments while it awards and syncs;
//! after restarts, every award exists exactly once on the server and on the device (REQ-OFF-1).
//! Kill points: `HOMEROOM_KILL_POINTS` (default 100; `scripts/soak` runs 1,000).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use homeroom_e2e::{device, note_counts, signed_in, TestServer};

/// A small xorshift generator: random kill moments without a dependency; the seed is printed.
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
fn killed_mid_sync_loses_nothing_and_duplicates_nothing() {
    let kills: usize = std::env::var("HOMEROOM_KILL_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    // More work than any run can finish: every kill lands on a device still working.
    let target = usize::MAX / 2;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    eprintln!("crash test: {kills} kill points, seed {seed}");
    let mut rng = Rng(seed);

    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("tablet");
    // The tablet is signed in and synced before the kills start: the kills are about awards,
    // pushes and pulls (sign-in is rate-limited per account, as it should be).
    let tablet = signed_in(&server.url(), &dir, "tA");
    tablet.sync().unwrap();
    drop(tablet);
    let bin = env!("CARGO_BIN_EXE_crash-device");
    let mut finished_early = 0;
    for run in 0..kills {
        let mut child = Command::new(bin)
            .args([server.url(), dir.display().to_string(), target.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Most kills land in the award-and-sync loop, timed from the device's "ready" (so a
        // loaded machine's slow start does not eat the window); every fifth lands during start-up
        // (opening the cache, migrating, signing in).
        if run % 5 != 0 {
            let mut line = String::new();
            let stdout = child.stdout.take().unwrap();
            BufReader::new(stdout).read_line(&mut line).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5 + rng.next() % 60));
        if child.try_wait().unwrap().is_some() {
            finished_early += 1;
        }
        child.kill().ok(); // SIGKILL: no destructor, no flush, no goodbye
        child.wait().unwrap();
    }
    // A last run without a kill only drains the outbox.
    let out = Command::new(bin)
        .args([server.url(), dir.display().to_string(), "0".to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        finished_early, 0,
        "every kill must land on a device still working"
    );
    // The server holds every award exactly once: counted through a parent's phone.
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    let seen = note_counts(&phone, "a1");
    // The device made k-0..k-(M-1), each only after the one before had committed: its own cache
    // must hold exactly that run, with no hole, and the server exactly the same.
    let tablet = device(&server.url(), &dir);
    let made = tablet.points_for("a1").unwrap().len();
    eprintln!("crash test: {made} awards made across {kills} killed runs");
    assert!(made >= kills / 2, "killed runs made real progress ({made})");
    let expected: BTreeMap<String, usize> = (0..made).map(|i| (format!("k-{i}"), 1)).collect();
    assert_eq!(seen, expected, "every award on the server exactly once");

    // And the device agrees, with nothing left to send.
    assert_eq!(tablet.pending_writes().unwrap(), 0);
    assert!(tablet.points_for("a1").unwrap().iter().all(|a| !a.pending));
    let local = note_counts(&tablet, "a1");
    assert_eq!(local, expected, "every award on the device exactly once");
}
