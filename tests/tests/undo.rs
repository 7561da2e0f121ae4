//! Undoing an award (REQ-PTS-3): staff of the pupil's class take it back and it disappears
//! everywhere — screens, caches and the server — online or offline.

use homeroom_core::CoreError;
use homeroom_e2e::{signed_in, TestServer};
use serde_json::{json, Value};

#[test]
fn an_undone_award_disappears_from_every_device_and_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let support = signed_in(&server.url(), &tmp.path().join("support"), "sA");
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &phone_dir, "pa1");
    tablet.sync().unwrap();
    let id = tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("oops, wrong child"))
        .unwrap()
        .remove(0);
    tablet.sync().unwrap();
    phone.sync().unwrap();
    support.sync().unwrap();
    assert_eq!(phone.points_for("a1").unwrap().len(), 1);

    // Support staff of the class undo it: gone on their tablet at once, offline or not.
    support.undo_award(&id).unwrap();
    assert!(support.points_for("a1").unwrap().is_empty());
    assert_eq!(support.sync().unwrap().sent, 1);

    phone.sync().unwrap();
    assert!(phone.points_for("a1").unwrap().is_empty());
    assert_eq!(
        homeroom_e2e::cached_awards(&phone_dir, "a1"),
        0,
        "gone from the parent's SQLite file too"
    );
    tablet.sync().unwrap();
    assert!(tablet.points_for("a1").unwrap().is_empty());
    // A parent who signs in later never sees it either.
    let later = signed_in(&server.url(), &tmp.path().join("later"), "pa1");
    later.sync().unwrap();
    assert!(later.points_for("a1").unwrap().is_empty());
}

#[test]
fn an_award_undone_before_it_was_sent_never_reaches_the_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    server.stop();
    let id = tablet
        .award_points(&["a1".into()], "classA-off-task", None)
        .unwrap()
        .remove(0);
    tablet.undo_award(&id).unwrap();
    assert!(tablet.points_for("a1").unwrap().is_empty());
    assert_eq!(tablet.pending_writes().unwrap(), 2);
    server.restart();
    let r = tablet.sync().unwrap();
    assert_eq!((r.sent, r.refused.len()), (2, 0));
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    assert!(phone.points_for("a1").unwrap().is_empty());
}

#[test]
fn only_staff_of_the_pupils_class_may_undo() {
    // REQ-PTS-3 with the matrix rows: tB, pa1 and a1 may not undo a1's award.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let id = tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap()
        .remove(0);
    tablet.sync().unwrap();

    // The parent's core refuses before queueing.
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    assert!(matches!(
        phone.undo_award(&id),
        Err(CoreError::NotAllowed(_))
    ));
    assert_eq!(phone.pending_writes().unwrap(), 0);

    // Forced over HTTP by another class's teacher: the server refuses and the award stays.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let url = server.url();
    let status = rt.block_on(async {
        let t: Value = http
            .post(format!("{url}/v1/sessions"))
            .json(&json!({"method": "password", "email": "tb@greenfield.test", "password": "tB-password", "device_id": homeroom_protocol::fixture::ENROLLED_TABLET_KEY}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r: Value = http
            .post(format!("{url}/v1/push"))
            .bearer_auth(t["token"].as_str().unwrap())
            .json(&json!({"writes": [{"client_id": uuid::Uuid::new_v4(), "op": {"type": "undo_award", "award_id": id}}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["results"][0].clone()
    });
    assert_eq!(status["status"], "rejected");
    assert_eq!(status["code"], "forbidden");
    phone.sync().unwrap();
    assert_eq!(phone.points_for("a1").unwrap().len(), 1, "the award stands");
}

#[test]
fn two_staff_undoing_the_same_award_both_end_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let support = signed_in(&server.url(), &tmp.path().join("support"), "sA");
    tablet.sync().unwrap();
    let id = tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap()
        .remove(0);
    tablet.sync().unwrap();
    support.sync().unwrap();
    tablet.undo_award(&id).unwrap();
    support.undo_award(&id).unwrap();
    assert_eq!(tablet.sync().unwrap().sent, 1);
    // The second undo finds nothing to undo: reported, and the award stays gone (not shown again).
    let r = support.sync().unwrap();
    assert_eq!(r.refused.len(), 1);
    assert!(support.points_for("a1").unwrap().is_empty());
    assert_eq!(support.pending_writes().unwrap(), 0);
}
