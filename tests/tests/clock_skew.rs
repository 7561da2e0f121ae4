//! A device clock that jumps backwards between writes (a dead battery, a manual change, a
//! network time fix) does not reorder what the device sends: the server applies the writes in the
//! order the teacher made them (issue 4 "Bad input": clock skew; REQ-OFF-1).

use homeroom_e2e::{server_db, signed_in, TestServer};
use sqlx::Row;

#[test]
fn a_clock_that_jumps_back_does_not_reorder_the_outbox() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet_dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &tablet_dir, "tA");
    tablet.sync().unwrap();
    server.stop();
    let notes = ["first", "second", "third", "fourth"];
    for note in notes {
        tablet
            .award_points(&["a1".into()], "classA-teamwork", Some(note))
            .unwrap();
    }
    // Each write was stamped an hour *earlier* than the one before: the device clock went back.
    {
        let cache = rusqlite::Connection::open(tablet_dir.join("homeroom-cache.sqlite3")).unwrap();
        let skewed = cache
            .execute(
                "UPDATE outbox SET created_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', \
                 '-' || seq || ' hours')",
                [],
            )
            .unwrap();
        assert_eq!(skewed, notes.len());
        cache
            .execute(
                // Award ids are time-ordered (v7), so the n-th award made is the n-th by id.
                "UPDATE awards SET awarded_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', \
                 '-' || (SELECT COUNT(*) FROM awards e WHERE e.pending = 1 AND e.id <= awards.id) \
                 || ' hours') WHERE pending = 1",
                [],
            )
            .unwrap();
    }
    server.restart();
    assert_eq!(tablet.sync().unwrap().sent, notes.len() as u32);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let applied: Vec<String> = rt.block_on(async {
        let db = server_db(server.data_dir()).await;
        let rows = sqlx::query("SELECT payload FROM changes WHERE kind = 'award' ORDER BY seq")
            .fetch_all(&db)
            .await
            .unwrap();
        db.close().await;
        rows.iter()
            .map(|r| {
                let v: serde_json::Value =
                    serde_json::from_str(r.try_get::<&str, _>("payload").unwrap()).unwrap();
                v["note"].as_str().unwrap_or_default().to_owned()
            })
            .filter(|n| notes.contains(&n.as_str()))
            .collect()
    });
    assert_eq!(
        applied, notes,
        "the server's log holds them in the order they were made"
    );
    // The server's clock stamps awards, so the device's skew shows nowhere once synced.
    let points = tablet.points_for("a1").unwrap();
    assert_eq!(points.len(), notes.len());
    let now = chrono::Utc::now();
    for p in &points {
        let age = now - p.record.awarded_at;
        assert!(
            age < chrono::Duration::minutes(10),
            "awarded_at {} comes from the server",
            p.record.awarded_at
        );
    }
}
