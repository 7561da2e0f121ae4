//! Retention (REQ-PTS-7, PRV-5): awards older than 12 months are deleted on the server — row and
//! change-log entry, note included — and in every device cache; reports count only what remains.

use chrono::{Duration, Months, Utc};
use homeroom_core::store::{awards, Store};
use homeroom_e2e::{signed_in, TestServer, TEST_KEY};

fn cache_rows(dir: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("homeroom-cache.sqlite3")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM awards", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn expired_awards_are_deleted_on_the_server_and_in_every_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    tablet
        .award_points(
            &["a1".into()],
            "classA-teamwork",
            Some("helped at sports day last year"),
        )
        .unwrap();
    tablet.sync().unwrap();
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &phone_dir, "pa1");
    phone.sync().unwrap();
    assert_eq!(phone.points_for("a1").unwrap().len(), 1);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let pool = rt.block_on(homeroom_e2e::server_db(&server_dir));
    // Today nothing is old enough; thirteen months on, the award is past the cut-off.
    assert_eq!(
        rt.block_on(homeroom_server::retention::run_once(&pool, Utc::now()))
            .unwrap(),
        0
    );
    let later = Utc::now().checked_add_months(Months::new(13)).unwrap();
    assert_eq!(
        rt.block_on(homeroom_server::retention::run_once(&pool, later))
            .unwrap(),
        1
    );
    // Gone from the server's log too: the note does not linger there.
    let lingering: i64 = rt
        .block_on(
            sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE payload LIKE '%sports day%'")
                .fetch_one(&pool),
        )
        .unwrap();
    assert_eq!(lingering, 0);

    phone.sync().unwrap();
    assert!(phone.points_for("a1").unwrap().is_empty());
    assert_eq!(
        cache_rows(&phone_dir),
        0,
        "purged from the parent's SQLite file"
    );
    tablet.sync().unwrap();
    assert!(tablet.points_for("a1").unwrap().is_empty());
    // A new device gets only the removal tombstone (ids, no note), never the award.
    let fresh_dir = tmp.path().join("fresh");
    let fresh = signed_in(&server.url(), &fresh_dir, "pa1");
    fresh.sync().unwrap();
    assert!(fresh.points_for("a1").unwrap().is_empty());
    assert_eq!(cache_rows(&fresh_dir), 0);
}

#[test]
fn a_device_never_shows_an_expired_award_even_before_the_server_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &dir, "pa1");
    phone.sync().unwrap();
    drop(phone);
    // An award from 13 months ago sits in the cache (the phone was offline all that time).
    {
        let store = Store::open(&dir.join("homeroom-cache.sqlite3"), &TEST_KEY).unwrap();
        let old = homeroom_protocol::wire::AwardRecord {
            id: uuid::Uuid::new_v4(),
            pupil_id: "a1".into(),
            class_id: "classA".into(),
            skill_id: "classA-teamwork".into(),
            points: 1,
            note: None,
            awarded_by: "tA".into(),
            awarded_at: Utc::now() - Duration::days(400),
        };
        awards::upsert_pulled(&store.conn(), store.sealer(), &old).unwrap();
    }
    let phone = homeroom_e2e::device(&server.url(), &dir);
    assert!(
        phone.points_for("a1").unwrap().is_empty(),
        "never shown, not even offline"
    );
    assert_eq!(cache_rows(&dir), 1);
    phone.sync().unwrap();
    assert_eq!(cache_rows(&dir), 0, "and deleted at the next sync");
}
