//! A sync with nothing new writes nothing on the device — no page, no WAL frame, no checkpoint
//! fsync — while a sync that brings something still moves the cursor past it (issue 4 "no-op
//! incremental sync"; REQ-OFF-1). A phone polls often; an idle poll should not wear its storage.

use std::path::Path;

use homeroom_e2e::{signed_in, TestServer};

/// The cache file and its WAL, byte for byte.
fn cache_files(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_default();
    (
        read("homeroom-cache.sqlite3"),
        read("homeroom-cache.sqlite3-wal"),
    )
}

#[test]
fn a_sync_with_nothing_new_leaves_the_cache_files_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("parent");
    let parent = signed_in(&server.url(), &dir, "pa1");
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    parent.sync().unwrap();
    tablet.sync().unwrap();
    let before = cache_files(&dir);
    for _ in 0..3 {
        let r = parent.sync().unwrap();
        assert_eq!((r.sent, r.received), (0, 0));
    }
    assert!(
        cache_files(&dir) == before,
        "an idle sync changed the cache file or its WAL"
    );

    // Something new: received once, and the cursor moved past it (not pulled again).
    tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap();
    assert_eq!(tablet.sync().unwrap().sent, 1);
    assert_eq!(parent.sync().unwrap().received, 1);
    assert_eq!(parent.sync().unwrap().received, 0, "the award came twice");
    assert_eq!(parent.points_for("a1").unwrap().len(), 1);
}
