//! One device in a process of its own, so the sync benchmark can read its peak memory alone
//! (issue 4: cold initial sync < 64 MB). Prints one JSON line.
//! Usage: cold-sync sync SERVER_URL DATA_DIR WHO   — sign in, then time one full sync
//!        cold-sync first-page SERVER_URL DATA_DIR  — open the cache cold, time Class Story's first 50

use std::process::ExitCode;
use std::time::Instant;

use homeroom_protocol::posts::Audience;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cold-sync: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The process's peak resident set so far, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.as_slice() {
        [_, mode, url, dir, who] if mode == "sync" => {
            let device = homeroom_e2e::signed_in(url, std::path::Path::new(dir), who);
            let t = Instant::now();
            let r = device.sync()?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            println!(
                "{}",
                serde_json::json!({"sync_ms": ms, "received": r.received, "peak_rss_kib": peak_rss_kib()})
            );
        }
        [_, mode, url, dir] if mode == "first-page" => {
            let t = Instant::now();
            let device = homeroom_e2e::device(url, std::path::Path::new(dir));
            let open_ms = t.elapsed().as_secs_f64() * 1e3;
            let class = Audience::ClassStory {
                class_id: "classA".into(),
            };
            let t = Instant::now();
            let page = device.feed_page(&class, None, 50)?;
            let page_ms = t.elapsed().as_secs_f64() * 1e3;
            println!(
                "{}",
                serde_json::json!({"open_ms": open_ms, "page_ms": page_ms, "posts": page.len()})
            );
        }
        _ => return Err("usage: cold-sync sync URL DIR WHO | cold-sync first-page URL DIR".into()),
    }
    Ok(())
}
