//! The load benchmark's peer (issue 5): the raw rate at which the server's own database, with the
//! same driver, pool, pragmas and write lock, commits what one award push must store — the award,
//! its change-log entry and the applied-write record, one transaction each — from CONCURRENCY
//! tasks for DURATION seconds. No HTTP, no auth, no rule check: the limit a push can approach.
//! Usage: raw_insert DATA_DIR [DATABASE_URL] (env CONCURRENCY=200, DURATION=10). Prints JSON.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use homeroom_server::db;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .ok_or("usage: raw_insert DATA_DIR [DATABASE_URL]")?;
    let url = args.get(2).filter(|u| !u.is_empty()).cloned();
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (concurrency, seconds) = (env("CONCURRENCY", 200), env("DURATION", 10));
    let pool = db::open(std::path::Path::new(dir), url.as_deref()).await?;
    homeroom_server::seed::seed_fixture(&pool).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let nonce = std::process::id();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (pool, stop, done) = (pool.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("raw-{nonce}-{t}-{n}");
                let start = Instant::now();
                let mut tx = db::write_tx(&pool).await?;
                sqlx::query(
                    "INSERT INTO awards (id, school_id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at)
                     VALUES ($1, 'greenfield', 'a1', 'classA', 'classA-teamwork', 1, NULL, 'tA', '2026-11-23T10:00:00+00:00')",
                )
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO changes (school_id, kind, pupil_id, payload) VALUES ('greenfield', 'award', 'a1', $1)",
                )
                .bind(format!("{{\"kind\":\"award\",\"id\":\"{id}\"}}"))
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO applied_writes (client_id, user_id, outcome, applied_at) VALUES ($1, 'tA', '\"accepted\"', '2026-11-23T10:00:00+00:00')",
                )
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                lat.push(start.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, homeroom_server::error::ServerError>(lat)
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    let count = done.load(Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{}",
        serde_json::json!({
            "per_second": count as f64 / elapsed.as_secs_f64(),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "concurrency": concurrency,
        })
    );
    Ok(())
}
