//! The device cache at rest: sealed with the keystore key, refused under another key, and
//! rebuilt when damaged without losing unsent writes (REQ-PRV-3, OFF-1).

use std::path::Path;

use homeroom_core::{CoreError, Homeroom, Settings};
use homeroom_e2e::{device, signed_in, TestServer};

fn cache_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["homeroom-cache.sqlite3", "homeroom-cache.sqlite3-wal"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn open_with_key(url: &str, dir: &Path, key: [u8; 32]) -> Result<Homeroom, CoreError> {
    Homeroom::open(Settings {
        server_url: url.to_owned(),
        data_dir: dir.to_owned(),
        device_id: Some(homeroom_protocol::fixture::ENROLLED_TABLET_KEY.to_owned()),
        at_rest_key: key.to_vec(),
        request_timeout: None,
    })
}

#[test]
fn notes_names_and_queued_writes_are_never_stored_in_plain_text() {
    // REQ-PRV-3: the note (in the award and in the outbox) and pupils' names (in the directory).
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &dir, "tA");
    tablet.sync().unwrap();
    server.stop();
    let note = "worried about her reading at home";
    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some(note))
        .unwrap();
    assert_eq!(tablet.pending_writes().unwrap(), 1);
    let bytes = cache_bytes(&dir);
    assert!(!bytes.is_empty());
    assert!(!contains(&bytes, note), "note in plain text");
    assert!(
        !contains(&bytes, "reading at home"),
        "note fragment in plain text"
    );
    assert!(!contains(&bytes, "Amira"), "a pupil's name in plain text");
    assert!(
        !contains(&bytes, "Ms Khan"),
        "a teacher's name in plain text"
    );
    // ...and the app still reads it back.
    assert_eq!(
        tablet.points_for("a1").unwrap()[0].record.note.as_deref(),
        Some(note)
    );
}

#[test]
fn a_wrong_key_is_a_clear_error_never_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &dir, "pa1");
    phone.sync().unwrap();
    drop(phone);
    let err = open_with_key(&server.url(), &dir, [9; 32])
        .err()
        .expect("another key is refused");
    assert!(matches!(err, CoreError::WrongKey), "{err}");
    assert!(err.to_string().contains("key"));
    // The right key still opens it, with the session intact.
    let again = device(&server.url(), &dir);
    assert_eq!(again.me().unwrap().unwrap().user_id, "pa1");
}

#[test]
fn a_garbage_cache_file_is_reported_loudly_once_then_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("phone");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("homeroom-cache.sqlite3"), vec![0x5a; 64 * 1024]).unwrap();
    let err = open_with_key(&server.url(), &dir, homeroom_e2e::TEST_KEY)
        .err()
        .expect("loud");
    assert!(matches!(err, CoreError::CacheCorrupt(_)), "{err}");
    assert!(err.to_string().contains("could not be recovered"));
    // The damaged copy is kept for inspection; the next open starts clean and works.
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("corrupt-"));
    assert!(kept, "the damaged file is kept aside");
    let phone = device(&server.url(), &dir);
    assert!(phone.me().unwrap().is_none());
    let u = homeroom_protocol::fixture::user_by_id("pa1").unwrap();
    phone.sign_in(&u.email(), &u.password()).unwrap();
    phone.sync().unwrap();
}

/// Queues an award offline, damages the cache with `damage`, and checks the next launch
/// rebuilds it with the session and the unsent award intact, sent exactly once.
fn damaged_cache_keeps_the_unsent_award(damage: impl FnOnce(&Path), found_by_a_query: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &dir, "tA");
    tablet.sync().unwrap();
    server.stop();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("kept"))
        .unwrap();
    drop(tablet);
    damage(&dir.join("homeroom-cache.sqlite3"));

    if found_by_a_query {
        // The file opens; the first read of the damaged table fails and marks it for rebuild.
        let tablet = device(&server.url(), &dir);
        let err = tablet.points_for("a1").unwrap_err();
        assert!(matches!(err, CoreError::Storage { .. }), "{err}");
    }
    // Next launch: rebuilt, still signed in, the unsent award still queued and then sent once.
    server.restart();
    let tablet = device(&server.url(), &dir);
    assert_eq!(tablet.me().unwrap().unwrap().user_id, "tA");
    assert_eq!(tablet.pending_writes().unwrap(), 1);
    assert_eq!(tablet.sync().unwrap().sent, 1);
    assert_eq!(
        tablet.points_for("a1").unwrap().len(),
        1,
        "the cache is rebuilt from the server"
    );
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    assert_eq!(
        phone.points_for("a1").unwrap()[0].record.note.as_deref(),
        Some("kept")
    );
}

#[test]
fn a_cache_with_a_damaged_schema_is_rebuilt_at_open_keeping_the_unsent_award() {
    // REQ-OFF-1: the cache may be rebuilt from the server, the outbox never silently.
    damaged_cache_keeps_the_unsent_award(
        |db| {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.execute_batch(
                "PRAGMA writable_schema = ON;
                 UPDATE sqlite_master SET rootpage = 99999 WHERE name = 'awards';
                 PRAGMA writable_schema = OFF;",
            )
            .unwrap();
        },
        false,
    );
}

#[test]
fn a_cache_with_a_garbled_table_page_is_rebuilt_after_the_failing_read() {
    damaged_cache_keeps_the_unsent_award(
        |db| {
            let (root, page_size) = {
                let conn = rusqlite::Connection::open(db).unwrap();
                conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                    .unwrap();
                let root: i64 = conn
                    .query_row(
                        "SELECT rootpage FROM sqlite_master WHERE name = 'awards'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                let size: i64 = conn
                    .query_row("PRAGMA page_size", [], |r| r.get(0))
                    .unwrap();
                (root, size)
            };
            let mut bytes = std::fs::read(db).unwrap();
            let at = ((root - 1) * page_size) as usize;
            for b in &mut bytes[at..at + page_size as usize] {
                *b = 0xee;
            }
            std::fs::write(db, bytes).unwrap();
        },
        true,
    );
}

#[test]
fn the_scheduler_is_told_to_wait_after_a_failure_and_to_sync_when_writes_wait() {
    use homeroom_core::NextTask;
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    assert_eq!(tablet.next_task().unwrap(), NextTask::Idle);
    server.stop();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap();
    assert_eq!(tablet.next_task().unwrap(), NextTask::SyncNow);
    assert!(tablet.sync().is_err());
    match tablet.next_task().unwrap() {
        NextTask::Wait(d) => assert!(d <= std::time::Duration::from_millis(500), "{d:?}"),
        other => panic!("expected a short wait after the first failure, got {other:?}"),
    }
    server.restart();
    assert_eq!(tablet.sync().unwrap().sent, 1);
    assert_eq!(tablet.next_task().unwrap(), NextTask::Idle);
}
