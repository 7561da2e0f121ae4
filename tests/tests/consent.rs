//! The consent filter end to end (issue 7, REQ-CON-1..5, STO-1..3; issue 4 media): a real server
//! on loopback, real cores with the real CenterFace model, real SQLite files, real dlib photos.
//!
//! Needs HOMEROOM_FACE_MODEL and HOMEROOM_FACE_TESTSET (scripts/test sets them); fails, never
//! skips, without them.

use std::path::{Path, PathBuf};

use homeroom_core::consent::BlurredFace;
use homeroom_core::photos::PhotoVerdict;
use homeroom_core::{CoreError, Homeroom, Settings};
use homeroom_e2e::fault_proxy::{Fault, FaultProxy};
use homeroom_e2e::{signed_in, TestServer, TEST_KEY};
use homeroom_protocol::consent::{ConsentDenied, ConsentRecord, ConsentState, ConsentUse};
use homeroom_protocol::fixture;
use homeroom_protocol::posts::Audience;
use homeroom_protocol::wire::RejectCode;

fn env_path(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!("{var} is not set: run scripts/fetch-face-model and scripts/fetch-face-testset (scripts/test does)"),
    }
}

/// A labelled dlib photo by file name.
fn dlib(name: &str) -> PathBuf {
    let p = env_path("HOMEROOM_FACE_TESTSET")
        .join("dlib-faces")
        .join(name);
    assert!(
        p.is_file(),
        "{} missing: rerun scripts/fetch-face-testset",
        p.display()
    );
    p
}

/// A staff device with the face model, signed in, synced.
fn staff(url: &str, dir: &Path, who: &str, chunk: Option<usize>) -> Homeroom {
    let d = Homeroom::open(Settings {
        server_url: url.to_owned(),
        data_dir: dir.to_owned(),
        device_id: Some(fixture::ENROLLED_TABLET_KEY.to_owned()),
        at_rest_key: TEST_KEY.to_vec(),
        request_timeout: None,
        face_model: Some(env_path("HOMEROOM_FACE_MODEL")),
        upload_chunk_bytes: chunk,
        media_cache_bytes: None,
    })
    .expect("core opens");
    let u = fixture::user_by_id(who).expect("fixture person");
    d.sign_in(&u.email(), &u.password()).expect("sign in");
    d.sync().expect("first sync");
    d
}

fn class_a() -> Audience {
    Audience::ClassStory {
        class_id: "classA".into(),
    }
}

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| (*s).to_owned()).collect()
}

/// One number from a device's cache file (asserting on the SQLite file, not only the API).
fn cache_count(dir: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("homeroom-cache.sqlite3")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Files the server stores under its media directory (complete uploads only), by name.
fn server_media(server_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let root = server_dir.join("media").join(fixture::SCHOOL_ID);
    for sub in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        if sub.file_name() == "partial" {
            continue;
        }
        for f in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(f.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

fn sha_of(path: &Path) -> String {
    homeroom_core::media::sha256_hex(&std::fs::read(path).unwrap())
}

/// Checks, posts and syncs an allowed photo; returns (post id, media hash).
fn post_allowed(
    d: &Homeroom,
    photo: &Path,
    tagged: &[String],
    audience: &Audience,
) -> (String, String) {
    let v = d.check_photo(photo, tagged, audience, &[]).unwrap();
    let PhotoVerdict::Allowed { photo, tagged, .. } = v else {
        panic!("expected Allowed, got {v:?}")
    };
    let sha = photo.large.sha256_hex.clone();
    let id = d.post_photo(audience, "our day", &sha, &tagged).unwrap();
    let out = d.sync().unwrap();
    assert!(out.failed_posts.is_empty(), "{:?}", out.failed_posts);
    (id, sha)
}

#[test]
fn class_story_photo_of_a1_and_restricted_a2_is_blocked_naming_a2_con2() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let t = staff(&server.url(), &tmp.path().join("tA"), "tA", None);
    let v = t
        .check_photo(
            &dlib("2008_001009.jpg"),
            &tags(&["a1", "a2"]),
            &class_a(),
            &[],
        )
        .unwrap();
    match v {
        PhotoVerdict::Blocked {
            pupil_id,
            used,
            reason,
            faces,
        } => {
            assert_eq!(pupil_id, "a2");
            assert_eq!(used, ConsentUse::ClassStory);
            assert_eq!(reason, ConsentDenied::Refused);
            assert_eq!(faces.len(), 2, "both faces found for the blur choice");
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    // Nothing was cleared, so nothing can be queued.
    let err = t
        .post_photo(
            &class_a(),
            "sports day",
            &"0".repeat(64),
            &tags(&["a1", "a2"]),
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::PhotoNotCleared(_)), "{err}");
    assert_eq!(t.pending_writes().unwrap(), 0);
}

#[test]
fn blurring_a2_allows_the_photo_and_only_the_blurred_bytes_reach_the_server_con3() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let t = staff(&server.url(), &tmp.path().join("tA"), "tA", None);
    let photo = dlib("2008_001009.jpg");
    let PhotoVerdict::Blocked { faces, .. } = t
        .check_photo(&photo, &tags(&["a1", "a2"]), &class_a(), &[])
        .unwrap()
    else {
        panic!("expected Blocked first")
    };
    // The teacher marks the lower face as a2 and blurs it.
    let a2_face = *faces.iter().max_by(|a, b| a.y.total_cmp(&b.y)).unwrap();
    let blur = [BlurredFace {
        pupil_id: Some("a2".into()),
        face: a2_face,
    }];
    let v = t
        .check_photo(&photo, &tags(&["a1", "a2"]), &class_a(), &blur)
        .unwrap();
    let PhotoVerdict::AllowedAfterBlur {
        photo: blurred,
        tagged,
        boxes,
    } = v
    else {
        panic!("expected AllowedAfterBlur, got {v:?}")
    };
    assert_eq!(
        tagged,
        tags(&["a1"]),
        "the blurred pupil is no longer tagged"
    );
    assert_eq!(boxes, vec![a2_face]);
    let unblurred = t.prepare_photo(&photo).unwrap();
    assert_ne!(blurred.large.sha256_hex, unblurred.large.sha256_hex);
    // The unblurred bytes were never cleared: posting them is refused on the device.
    let err = t
        .post_photo(&class_a(), "", &unblurred.large.sha256_hex, &tagged)
        .unwrap_err();
    assert!(matches!(err, CoreError::PhotoNotCleared(_)), "{err}");

    t.post_photo(&class_a(), "sports day", &blurred.large.sha256_hex, &tagged)
        .unwrap();
    let out = t.sync().unwrap();
    assert!(out.failed_posts.is_empty(), "{:?}", out.failed_posts);
    assert_eq!(out.uploads.len(), 1);
    // The server holds exactly the blurred bytes, under their hash, and nothing else.
    let stored = server_media(&server_dir);
    assert_eq!(stored, vec![blurred.large.sha256_hex.clone()]);
    let on_disk = server_dir
        .join("media")
        .join(fixture::SCHOOL_ID)
        .join(&stored[0][..2])
        .join(&stored[0]);
    assert_eq!(sha_of(&on_disk), blurred.large.sha256_hex);
    // pa1 sees the post and downloads exactly those bytes.
    let phone = signed_in(&server.url(), &tmp.path().join("pa1"), "pa1");
    phone.sync().unwrap();
    let feed = phone.feed(&class_a()).unwrap();
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].record.tagged, tags(&["a1"]));
    let sha = feed[0].record.media_sha256.clone().unwrap();
    let bytes = phone.photo_bytes(&sha).unwrap();
    assert_eq!(
        homeroom_core::media::sha256_hex(&bytes),
        blurred.large.sha256_hex
    );
}

#[test]
fn restricted_a2_may_appear_in_their_own_portfolio_only_con1() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let t = staff(&server.url(), &tmp.path().join("tA"), "tA", None);
    let photo = dlib("Tom_Cruise_avp_2014_4.jpg");
    let own = Audience::Portfolio {
        pupil_id: "a2".into(),
    };
    let (post_id, _) = post_allowed(&t, &photo, &tags(&["a2"]), &own);
    // Anywhere else the same photo of a2 is blocked.
    for other in [
        class_a(),
        Audience::SchoolStory,
        Audience::Portfolio {
            pupil_id: "a1".into(),
        },
    ] {
        let v = t.check_photo(&photo, &tags(&["a2"]), &other, &[]).unwrap();
        assert!(
            matches!(&v, PhotoVerdict::Blocked { pupil_id, .. } if pupil_id == "a2"),
            "{other:?}: {v:?}"
        );
    }
    // a2's family sees it; a1's family never receives it.
    let pa2 = signed_in(&server.url(), &tmp.path().join("pa2"), "pa2");
    pa2.sync().unwrap();
    let feed = pa2.feed(&own).unwrap();
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].record.id.to_string(), post_id);
    let pa1_dir = tmp.path().join("pa1");
    let pa1 = signed_in(&server.url(), &pa1_dir, "pa1");
    pa1.sync().unwrap();
    assert!(pa1.feed(&own).is_err(), "pa1 may not open a2's portfolio");
    assert_eq!(cache_count(&pa1_dir, "SELECT COUNT(*) FROM posts"), 0);
}

#[test]
fn three_faces_with_two_tags_need_review_con2() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    // The head teacher grants a2 Class Story, so two tags are allowed.
    let h = signed_in(&server.url(), &tmp.path().join("H"), "H");
    let mut a2 = fixture::consent()["a2"].clone();
    a2.uses
        .insert(ConsentUse::ClassStory, ConsentState::Granted);
    h.set_consent("a2", &a2).unwrap();
    let t = staff(&server.url(), &tmp.path().join("tA"), "tA", None);
    let v = t
        .check_photo(
            &dlib("2008_001322.jpg"),
            &tags(&["a1", "a2"]),
            &class_a(),
            &[],
        )
        .unwrap();
    match v {
        PhotoVerdict::NeedsReview {
            untagged_faces,
            boxes,
            detection_unavailable,
        } => {
            assert_eq!(untagged_faces, 1);
            assert_eq!(boxes.len(), 3);
            assert_eq!(detection_unavailable, None);
        }
        other => panic!("expected NeedsReview, got {other:?}"),
    }
}

#[test]
fn without_a_face_model_tags_are_still_checked_and_nothing_is_silently_allowed_con2() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let t = signed_in(&server.url(), &tmp.path().join("tA"), "tA");
    t.sync().unwrap();
    let photo = dlib("Tom_Cruise_avp_2014_4.jpg");
    let v = t
        .check_photo(&photo, &tags(&["a1"]), &class_a(), &[])
        .unwrap();
    assert!(
        matches!(
            v,
            PhotoVerdict::NeedsReview {
                detection_unavailable: Some(_),
                ..
            }
        ),
        "{v:?}"
    );
    let v = t
        .check_photo(&photo, &tags(&["a2"]), &class_a(), &[])
        .unwrap();
    assert!(matches!(v, PhotoVerdict::Blocked { .. }), "{v:?}");
}

#[test]
fn consent_withdrawn_after_posting_removes_the_post_from_feed_and_cache_con4() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let t = staff(&server.url(), &tmp.path().join("tA"), "tA", None);
    let (_, sha) = post_allowed(
        &t,
        &dlib("Tom_Cruise_avp_2014_4.jpg"),
        &tags(&["a1"]),
        &class_a(),
    );
    let pa1_dir = tmp.path().join("pa1");
    let pa1 = signed_in(&server.url(), &pa1_dir, "pa1");
    pa1.sync().unwrap();
    assert_eq!(pa1.feed(&class_a()).unwrap().len(), 1);
    pa1.photo_bytes(&sha).unwrap();
    assert!(pa1.photo_cached(&sha));
    assert_eq!(cache_count(&pa1_dir, "SELECT COUNT(*) FROM posts"), 1);

    // The family withdraws Class Story consent; the head teacher records it.
    let h = signed_in(&server.url(), &tmp.path().join("H"), "H");
    let mut a1 = fixture::consent()["a1"].clone();
    a1.uses
        .insert(ConsentUse::ClassStory, ConsentState::Refused);
    h.set_consent("a1", &a1).unwrap();

    pa1.sync().unwrap();
    assert!(pa1.feed(&class_a()).unwrap().is_empty());
    assert_eq!(
        cache_count(&pa1_dir, "SELECT COUNT(*) FROM posts"),
        0,
        "purged from the SQLite file"
    );
    assert_eq!(cache_count(&pa1_dir, "SELECT COUNT(*) FROM media_cache"), 0);
    assert!(!pa1.photo_cached(&sha), "the sealed photo file is deleted");
    t.sync().unwrap();
    assert!(t.feed(&class_a()).unwrap().is_empty());
    // The teacher's picker now badges a1 for Class Story (REQ-CON-5).
    let badges = t.consent_badges().unwrap();
    assert!(badges["a1"]
        .iter()
        .any(|(u, why)| *u == ConsentUse::ClassStory && *why == ConsentDenied::Refused));
    // A device that never saw the post never receives it.
    let fresh_dir = tmp.path().join("fresh");
    let fresh = signed_in(&server.url(), &fresh_dir, "pa1");
    fresh.sync().unwrap();
    assert_eq!(cache_count(&fresh_dir, "SELECT COUNT(*) FROM posts"), 0);
}

#[test]
fn a_post_the_server_refuses_on_consent_is_a_typed_failure_and_rolled_back_con4() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let t = staff(&server.url(), &tmp.path().join("tA"), "tA", None);
    let v = t
        .check_photo(
            &dlib("Tom_Cruise_avp_2014_4.jpg"),
            &tags(&["a1"]),
            &class_a(),
            &[],
        )
        .unwrap();
    let PhotoVerdict::Allowed { photo, tagged, .. } = v else {
        panic!("{v:?}")
    };
    t.post_photo(&class_a(), "", &photo.large.sha256_hex, &tagged)
        .unwrap();
    assert_eq!(
        t.feed(&class_a()).unwrap().len(),
        1,
        "shown at once, pending"
    );
    // Consent changes on the server before the tablet syncs.
    let h = signed_in(&server.url(), &tmp.path().join("H"), "H");
    h.set_consent("a1", &ConsentRecord::default()).unwrap();
    let out = t.sync().unwrap();
    assert_eq!(out.failed_posts.len(), 1);
    assert_eq!(out.failed_posts[0].code, RejectCode::ConsentBlocked);
    assert!(
        out.failed_posts[0].reason.contains("a1"),
        "{}",
        out.failed_posts[0].reason
    );
    assert!(t.feed(&class_a()).unwrap().is_empty(), "rolled back");
}

#[test]
fn an_interrupted_upload_resumes_from_the_acknowledged_chunk() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let proxy = FaultProxy::start(server.addr);
    let dir = tmp.path().join("tA");
    let t = staff(&proxy.url(), &dir, "tA", Some(4096));
    let v = t
        .check_photo(
            &dlib("bald_guys.jpg"),
            &[],
            &Audience::Portfolio {
                pupil_id: "a1".into(),
            },
            &[],
        )
        .unwrap();
    // bald_guys has faces and no tags: blur them all, then post the blurred copy.
    let PhotoVerdict::NeedsReview { boxes, .. } = v else {
        panic!("{v:?}")
    };
    let blur: Vec<BlurredFace> = boxes
        .into_iter()
        .map(|face| BlurredFace {
            pupil_id: None,
            face,
        })
        .collect();
    let audience = Audience::Portfolio {
        pupil_id: "a1".into(),
    };
    let PhotoVerdict::AllowedAfterBlur { photo, tagged, .. } = t
        .check_photo(&dlib("bald_guys.jpg"), &[], &audience, &blur)
        .unwrap()
    else {
        panic!("expected AllowedAfterBlur")
    };
    let size = photo.large.bytes;
    assert!(size > 40_000, "a photo of several chunks ({size} bytes)");
    t.post_photo(&audience, "", &photo.large.sha256_hex, &tagged)
        .unwrap();

    // The connection dies about half way through the upload.
    proxy.set(Fault::CutAfter(size / 2));
    let err = t.sync().unwrap_err();
    assert!(matches!(err, CoreError::Offline(_)), "{err}");
    let acked = cache_count(&dir, "SELECT acked FROM media_uploads") as u64;
    assert!(acked > 0 && acked < size, "acked {acked} of {size}");
    assert_eq!(acked % 4096, 0, "whole chunks only");
    // The server's own row (SQLite or PostgreSQL, whichever the run uses).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server_received: i64 = rt.block_on(async {
        let db = homeroom_e2e::server_db(&server_dir).await;
        sqlx::query_scalar("SELECT received FROM media")
            .fetch_one(&db)
            .await
            .unwrap()
    });
    let server_received = server_received as u64;
    assert_eq!(server_received, acked);

    proxy.set(Fault::Pass);
    let out = t.sync().unwrap();
    assert_eq!(
        out.uploads,
        vec![(photo.large.sha256_hex.clone(), acked, size)],
        "resumed from the acknowledged offset"
    );
    assert!(out.failed_posts.is_empty());
    assert_eq!(
        server_media(&server_dir),
        vec![photo.large.sha256_hex.clone()]
    );
    assert_eq!(cache_count(&dir, "SELECT done FROM media_uploads"), 1);
}
