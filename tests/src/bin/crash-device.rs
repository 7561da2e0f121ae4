//! A device for the crash-safety test: awards a1 notes `k-0`, `k-1`, … up to a target and syncs
//! after each, resuming from what its own cache says it already made. The test SIGKILLs it at
//! random moments (mid-award, mid-push, mid-pull) and restarts it. TARGET 0 only drains the
//! outbox (the test's last, unkilled run).
//! Usage: crash-device SERVER_URL DATA_DIR TARGET

use std::process::ExitCode;

use homeroom_core::{Homeroom, Settings};
use homeroom_protocol::fixture;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash-device: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, dir, target] = args.as_slice() else {
        return Err("usage: crash-device SERVER_URL DATA_DIR TARGET".into());
    };
    let target: usize = target.parse()?;
    let device = Homeroom::open(Settings {
        server_url: url.clone(),
        data_dir: dir.into(),
        device_id: Some(homeroom_protocol::fixture::ENROLLED_TABLET_KEY.to_owned()),
        at_rest_key: homeroom_e2e::TEST_KEY.to_vec(),
        request_timeout: None,
        face_model: None,
        upload_chunk_bytes: None,
        media_cache_bytes: None,
    })?;
    if device.me()?.is_none() {
        let t = fixture::user_by_id("tA").ok_or("fixture")?;
        device.sign_in(&t.email(), &t.password())?;
    }
    if device.directory()?.is_none() {
        device.sync()?;
    }
    // What this device already made is whatever its cache holds: the award and its outbox
    // entry commit together, so a kill can never leave one without the other.
    let made = device
        .points_for("a1")?
        .iter()
        .filter_map(|a| {
            a.record
                .note
                .as_deref()?
                .strip_prefix("k-")?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map_or(0, |m| m + 1);
    // The test waits for this line before it picks its moment, so a slow start on a loaded
    // machine does not use up the window in which the kill should land.
    println!("ready");
    std::io::Write::flush(&mut std::io::stdout())?;
    for i in made..target {
        device.award_points(&["a1".into()], "classA-teamwork", Some(&format!("k-{i}")))?;
        // A failed sync is fine here: the outbox keeps it for the next one.
        let _ = device.sync();
    }
    device.sync()?;
    println!("made {}", target.saturating_sub(made));
    Ok(())
}
