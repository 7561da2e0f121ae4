//! Client benchmarks of the offline-first path, each beside its peer in the same run:
//! an award on the device (cache + sealed outbox, one transaction) vs a bare rusqlite insert and
//! commit with the same pragmas; a no-op incremental sync; a cold initial sync; live mode; and the
//! issue's "class year" (30 pupils, 60 parents, 6,000 awards, 400 posts, 1,200 photo records,
//! 3,000 messages): cold sync time, peak RSS of the device process, bytes on the wire, and the
//! first page of Class Story from a cold-opened cache.
//! Prints a Markdown table. Run: `cargo bench -p homeroom-e2e --bench sync`.

use std::time::{Duration, Instant};

use homeroom_e2e::{device, signed_in, TestServer};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (percentile(&v, 0.5), percentile(&v, 0.99))
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// The peer: one row insert and commit per award, same pragmas as the cache, no sealing.
fn bare_rusqlite(n: usize, dir: &std::path::Path) -> Vec<Duration> {
    let conn = rusqlite::Connection::open(dir.join("bare.sqlite3")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "temp_store", "MEMORY").unwrap();
    conn.execute_batch(
        "CREATE TABLE awards (id TEXT PRIMARY KEY, pupil_id TEXT, class_id TEXT, skill_id TEXT,
         points INTEGER, note BLOB, awarded_by TEXT, awarded_at TEXT, pending INTEGER);",
    )
    .unwrap();
    let mut out = Vec::with_capacity(n);
    let mut conn = conn;
    for i in 0..n {
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO awards VALUES (?1, 'a1', 'classA', 'classA-teamwork', 1, ?2, 'tA', ?3, 1)",
            (
                uuid::Uuid::new_v4().to_string(),
                format!("note {i}"),
                chrono_now(),
            ),
        )
        .unwrap();
        tx.commit().unwrap();
        out.push(t.elapsed());
    }
    out
}

fn chrono_now() -> String {
    format!("{:?}", std::time::SystemTime::now())
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    // 5,000 taps in 25 blocks of 200: the p99 is the 50th-slowest tap, steadier than over 2,000.
    let n = 5000;
    let per_block = 200;

    // 1. Award on the device vs bare insert, interleaved in blocks so machine noise hits both.
    let tablet = signed_in(&url, &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let mut ours = Vec::with_capacity(n);
    let mut bare = Vec::with_capacity(n);
    for block in 0..n / per_block {
        let bare_dir = tmp.path().join(format!("bare{block}"));
        std::fs::create_dir_all(&bare_dir).unwrap();
        bare.extend(bare_rusqlite(per_block, &bare_dir));
        for i in 0..per_block {
            let t = Instant::now();
            tablet
                .award_points(
                    &["a1".into()],
                    "classA-teamwork",
                    Some(&format!("note {i}")),
                )
                .unwrap();
            ours.push(t.elapsed());
        }
    }
    let (o50, o99) = summary(ours);
    let (b50, b99) = summary(bare);

    // 2. Push them, then a no-op incremental sync: an empty outbox sends nothing, one pull.
    tablet.sync().unwrap();
    let mut noop = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let r = tablet.sync().unwrap();
        noop.push(t.elapsed());
        assert_eq!((r.sent, r.received), (0, 0));
    }
    let (n50, n99) = summary(noop);

    // 3. Cold initial sync: a class's year of awards (6,000) into an empty cache.
    // Seeded through a second device: the real client path.
    let seeder = signed_in(&url, &tmp.path().join("seeder"), "sA");
    seeder.sync().unwrap();
    let target = 6000;
    let have = n;
    for i in have..target {
        let pupil = if i % 2 == 0 { "a1" } else { "a2" };
        seeder
            .award_points(
                &[pupil.into()],
                "classA-hard-work",
                Some(&format!("seed {i}")),
            )
            .unwrap();
        if i % 500 == 0 {
            seeder.sync().unwrap();
        }
    }
    seeder.sync().unwrap();
    let mut cold = Vec::new();
    let mut received = 0;
    for run in 0..5 {
        let d = device(&url, &tmp.path().join(format!("cold{run}")));
        let u = homeroom_protocol::fixture::user_by_id("tA").unwrap();
        d.sign_in(&u.email(), &u.password()).unwrap();
        let t = Instant::now();
        received = d.sync().unwrap().received;
        cold.push(t.elapsed());
    }
    let (c50, _) = summary(cold);

    // 4. Live mode (REQ-OFF-3): from the tablet's tap to the parent's listener, the phone never
    // asking — the server's event stream wakes it and it syncs.
    let phone = std::sync::Arc::new(signed_in(&url, &tmp.path().join("phone"), "pa1"));
    phone.sync().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    phone
        .observe_points(
            "a1",
            std::sync::Arc::new(move |_, u| {
                if let homeroom_core::views::ViewUpdate::Changes { inserted, .. } = u {
                    for _ in inserted {
                        let _ = tx.send(Instant::now());
                    }
                }
            }),
        )
        .unwrap();
    let live = homeroom_core::live::start(phone.clone()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut reach = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        tablet
            .award_points(
                &["a1".into()],
                "classA-teamwork",
                Some(&format!("live {i}")),
            )
            .unwrap();
        tablet.sync().unwrap();
        let heard = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        reach.push(heard - t);
    }
    live.stop();
    let (l50, l99) = summary(reach);

    // 5. The class year, on a server of its own, synced by device processes of their own (so
    // their peak RSS is theirs alone) through a loopback proxy that counts the bytes.
    let year_server = TestServer::fresh(&tmp.path().join("year-server"));
    let seeding = Instant::now();
    let year = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(homeroom_e2e::class_year::seed(&year_server.url(), 1));
    eprintln!("class year seeded in {:?}: {year:?}", seeding.elapsed());
    let proxy = homeroom_e2e::fault_proxy::FaultProxy::start(year_server.addr);
    let child = env!("CARGO_BIN_EXE_cold-sync");
    let run_child = |args: &[String]| -> serde_json::Value {
        let out = std::process::Command::new(child)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut year_rows = Vec::new();
    let mut last_teacher_dir = None;
    for who in ["tA", "pa1"] {
        let (mut times, mut rss, mut down, mut up, mut got) = (vec![], vec![], vec![], vec![], 0);
        for run in 0..3 {
            let dir = tmp.path().join(format!("year-{who}-{run}"));
            let before = proxy.bytes();
            let v = run_child(&[
                "sync".into(),
                proxy.url(),
                dir.display().to_string(),
                who.into(),
            ]);
            let after = proxy.bytes();
            times.push(Duration::from_secs_f64(
                v["sync_ms"].as_f64().unwrap() / 1e3,
            ));
            rss.push(v["peak_rss_kib"].as_u64().unwrap());
            up.push(after.0 - before.0);
            down.push(after.1 - before.1);
            got = v["received"].as_u64().unwrap();
            if who == "tA" {
                last_teacher_dir = Some(dir);
            }
        }
        let (t50, _) = summary(times);
        rss.sort();
        down.sort();
        up.sort();
        year_rows.push((who, got, t50, rss[1], down[1], up[1]));
    }
    let mut open = Vec::new();
    let mut page = Vec::new();
    let mut story = Vec::new();
    let mut page_posts = 0;
    for _ in 0..7 {
        let v = run_child(&[
            "first-page".into(),
            proxy.url(),
            last_teacher_dir.as_ref().unwrap().display().to_string(),
        ]);
        open.push(Duration::from_secs_f64(
            v["open_ms"].as_f64().unwrap() / 1e3,
        ));
        page.push(Duration::from_secs_f64(
            v["page_ms"].as_f64().unwrap() / 1e3,
        ));
        story.push(Duration::from_secs_f64(
            v["story_page_ms"].as_f64().unwrap() / 1e3,
        ));
        page_posts = v["posts"].as_u64().unwrap();
    }
    let (open50, open99) = summary(open);
    let (page50, page99) = summary(page);
    let (story50, story99) = summary(story);

    println!(
        "| measurement | ours p50 | ours p99 | peer | peer p50 | peer p99 | ratio (p50 / p99) | target |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| award on device (cache + sealed outbox, 1 transaction), ms | {} | {} | bare rusqlite insert + commit, same pragmas | {} | {} | {:.2}× / {:.2}× | ≤ 2× |",
        ms(o50),
        ms(o99),
        ms(b50),
        ms(b99),
        o50.as_secs_f64() / b50.as_secs_f64(),
        o99.as_secs_f64() / b99.as_secs_f64()
    );
    println!(
        "| no-op incremental sync (1 request), ms | {} | {} | – | – | – | – | < 5 ms |",
        ms(n50),
        ms(n99)
    );
    println!(
        "| cold initial sync of {received} awards (median of 5), ms | {} | – | – | – | – | – | < 1 s |",
        ms(c50)
    );
    println!(
        "| live: tablet award → parent's listener (50 awards), ms | {} | {} | – | – | – | – | < 2 s |",
        ms(l50),
        ms(l99)
    );
    println!();
    println!(
        "Class year: {} pupils, {} parents, {} awards, {} Class Story posts, {} photo records, {} comments, {} messages.",
        year.pupils, year.parents, year.awards, year.story_posts, year.photos, year.comments, year.messages
    );
    println!();
    println!("| cold initial sync of the class year | changes received | wall ms (median of 3) | peak RSS of the device process, MB | bytes from server (gzip) | bytes to server | targets |");
    println!("|---|---|---|---|---|---|---|");
    for (who, got, t50, rss, down, up) in &year_rows {
        println!(
            "| {who} | {got} | {} | {:.1} | {:.2} MB | {:.2} MB | < 1 s, < 64 MB, < 3 MB |",
            ms(*t50),
            *rss as f64 / 1024.0,
            *down as f64 / 1e6,
            *up as f64 / 1e6
        );
    }
    println!();
    println!(
        "| first page of Class Story ({page_posts} posts) from a cold-opened cache | p50 | p99 (of 7) | target |"
    );
    println!("|---|---|---|---|");
    println!(
        "| opening the cache (new process) | {} | {} | – |",
        ms(open50),
        ms(open99)
    );
    println!(
        "| the page query | {} | {} | < 5 ms |",
        ms(page50),
        ms(page99)
    );
    println!(
        "| the page with likes and comment counts (story_page) | {} | {} | < 5 ms |",
        ms(story50),
        ms(story99)
    );
}
