//! One school moment, narrated through the real core and the real server process:
//! a teacher's offline tablet awards a point; back online it syncs; a parent's phone shows it.
//! Then messaging: a parent writes at 21:30, the teacher gets one digest at 08:00 and replies.
//! Usage: homeroom-demo PATH/TO/homeroom-server

mod messaging;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, ExitCode, Stdio};

use homeroom_core::{CoreError, Homeroom, Settings};
use homeroom_protocol::fixture;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Stops the server process however the demo ends.
struct ServerProcess(Child);
impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn say(who: &str, what: &str) {
    println!("  [{who:<14}] {what}");
}

/// What a demo scene returns.
type DemoResult = Result<(), Box<dyn std::error::Error>>;

/// A device's core over `dir`, talking to `url`.
fn open_device(url: &str, dir: &std::path::Path) -> Result<Homeroom, CoreError> {
    Homeroom::open(Settings {
        server_url: url.to_owned(),
        data_dir: dir.to_owned(),
        // The fixture school enrolled this tablet (REQ-ACC-6: staff sign in only on school devices).
        device_id: Some(homeroom_protocol::fixture::ENROLLED_TABLET_KEY.into()),
        // A real app keeps 32 random bytes in the Android Keystore / iOS Keychain.
        at_rest_key: vec![42; 32],
        request_timeout: None,
        face_model: None,
        upload_chunk_bytes: None,
        media_cache_bytes: None,
    })
}

fn run() -> DemoResult {
    let server_bin = std::env::args()
        .nth(1)
        .ok_or("usage: homeroom-demo PATH/TO/homeroom-server")?;
    let tmp = tempfile::tempdir()?;
    println!("Homeroom demo: a point awarded on a teacher's tablet reaches a parent's phone\n");

    let mut child = Command::new(&server_bin)
        .args(["--listen", "127.0.0.1:0", "--seed-fixture", "--data-dir"])
        .arg(tmp.path().join("server"))
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no server stdout")?;
    let server = ServerProcess(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first)?;
    let url = first
        .trim()
        .rsplit(' ')
        .next()
        .ok_or("server did not report its address")?
        .to_owned();
    say(
        "server",
        &format!(
            "{} with a fresh SQLite database at {url}",
            fixture::SCHOOL_NAME
        ),
    );

    let teacher = fixture::user_by_id("tA").ok_or("fixture")?;
    let parent = fixture::user_by_id("pa1").ok_or("fixture")?;
    let tablet_dir = tmp.path().join("tablet");
    let open = open_device;

    // Morning, staff room Wi-Fi: the teacher signs in and the tablet caches the class.
    let tablet = open(&url, &tablet_dir)?;
    let me = tablet.sign_in(&teacher.email(), &teacher.password())?;
    tablet.sync()?;
    say(
        "teacher tablet",
        &format!(
            "{} signed in; class cached for offline use",
            me.display_name
        ),
    );
    drop(tablet);

    // In the classroom there is no Wi-Fi: the same tablet, no route to the server.
    let unreachable = {
        let l = TcpListener::bind("127.0.0.1:0")?;
        format!("http://{}", l.local_addr()?)
    };
    let tablet = open(&unreachable, &tablet_dir)?;
    say("teacher tablet", "offline (no Wi-Fi in the classroom)");
    let dir = tablet.directory()?.ok_or("no cached directory")?;
    let pupil = dir
        .pupils
        .iter()
        .find(|p| p.id == "a1")
        .ok_or("a1 not cached")?;
    let skill = dir
        .skills
        .iter()
        .find(|s| s.id == "classA-teamwork")
        .ok_or("skill not cached")?;
    let note = "helped tidy the reading corner";
    tablet.award_points(std::slice::from_ref(&pupil.id), &skill.id, Some(note))?;
    say(
        "teacher tablet",
        &format!(
            "awarded {} \"{} {:+}\" — {note}",
            pupil.display_name, skill.name, skill.weight
        ),
    );
    let shown = tablet.points_for(&pupil.id)?;
    say(
        "teacher tablet",
        &format!(
            "shown at once: {} point(s), {} waiting in the outbox",
            shown.iter().map(|a| a.record.points).sum::<i32>(),
            tablet.pending_writes()?
        ),
    );
    match tablet.sync() {
        Err(CoreError::Offline(_)) => say(
            "teacher tablet",
            "sync: server unreachable — the award stays queued, nothing lost",
        ),
        other => return Err(format!("expected to be offline, got {other:?}").into()),
    }
    drop(tablet);

    // Break time, back on Wi-Fi.
    let tablet = open(&url, &tablet_dir)?;
    let report = tablet.sync()?;
    say(
        "teacher tablet",
        &format!(
            "back online: sent {} write(s), {} left in the outbox",
            report.sent,
            tablet.pending_writes()?
        ),
    );

    // The parent's phone, on the bus home.
    let phone = open(&url, &tmp.path().join("phone"))?;
    let pme = phone.sign_in(&parent.email(), &parent.password())?;
    phone.sync()?;
    let points = phone.points_for(&pupil.id)?;
    let total: i32 = points.iter().map(|a| a.record.points).sum();
    say(
        "parent phone",
        &format!(
            "{} opens Homeroom: {} has {total} point(s)",
            pme.display_name, pupil.display_name
        ),
    );
    for a in &points {
        say(
            "parent phone",
            &format!(
                "  {} {:+} from {} — \"{}\"",
                skill.name,
                a.record.points,
                teacher.display_name,
                a.record.note.as_deref().unwrap_or("")
            ),
        );
    }
    if total != 1 || points.len() != 1 {
        return Err("the parent should see exactly the one award".into());
    }
    drop(server);
    say("server", "stopped");

    messaging::run(&tmp.path().join("messaging"))?;
    say("server", "stopped; temporary data removed");
    println!("\nDone.");
    Ok(())
}
