//! The walking skeleton's journey: a point awarded on a teacher's tablet reaches a parent's
//! phone, through the real core, the real server on loopback and real SQLite files.

use std::sync::{Arc, Mutex};

use homeroom_core::CoreError;
use homeroom_e2e::{device, signed_in, TestServer};
use homeroom_protocol::access::Denied;

#[test]
fn award_on_tablet_reaches_parent_phone_with_note() {
    // REQ-PTS-2, PTS-5
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    tablet.sync().unwrap();
    phone.sync().unwrap();

    let ids = tablet
        .award_points(
            &["a1".into()],
            "classA-teamwork",
            Some("helped tidy the reading corner"),
        )
        .unwrap();
    assert_eq!(ids.len(), 1);
    // Shown at once on the tablet, marked pending until the server acknowledges it.
    let local = tablet.points_for("a1").unwrap();
    assert_eq!(local.len(), 1);
    assert!(local[0].pending);

    let sent = tablet.sync().unwrap();
    assert_eq!(sent.sent, 1);
    assert!(!tablet.points_for("a1").unwrap()[0].pending);

    phone.sync().unwrap();
    let seen = phone.points_for("a1").unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].record.points, 1);
    assert_eq!(
        seen[0].record.note.as_deref(),
        Some("helped tidy the reading corner")
    );
    assert_eq!(seen[0].record.awarded_by, "tA");
    assert_eq!(seen[0].record.id.to_string(), ids[0]);
}

#[test]
fn parent_of_another_pupil_sees_nothing_of_a1() {
    // REQ-ACC-5: pb1 gets neither the award nor a1 in their directory, and the cache holds nothing.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    tablet
        .award_points(&["a1".into(), "a2".into()], "classA-hard-work", None)
        .unwrap();
    tablet.sync().unwrap();

    let other = signed_in(&server.url(), &tmp.path().join("other"), "pb1");
    let got = other.sync().unwrap();
    assert_eq!(got.received, 0);
    assert!(matches!(
        other.points_for("a1"),
        Err(CoreError::NotAllowed(_))
    ));
    let dir = other.directory().unwrap().unwrap();
    assert!(
        dir.pupils.iter().all(|p| p.id == "b1"),
        "pb1 sees only their own child"
    );
    // Nothing of a1 in the SQLite file itself.
    let db = homeroom_e2e::cached_awards(&tmp.path().join("other"), "a1");
    assert_eq!(db, 0);

    // pa2 sees a2's award but not a1's.
    let pa2 = signed_in(&server.url(), &tmp.path().join("pa2"), "pa2");
    assert_eq!(pa2.sync().unwrap().received, 1);
    assert_eq!(pa2.points_for("a2").unwrap().len(), 1);
    assert!(pa2.points_for("a1").is_err());
}

#[test]
fn hidden_class_points_are_not_sent_to_parents() {
    // REQ-PTS-5: class B hides points; pb1 receives nothing of b1's award, b1 sees their own.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tB");
    tablet.sync().unwrap();
    tablet
        .award_points(&["b1".into()], "classB-teamwork", None)
        .unwrap();
    tablet.sync().unwrap();

    let parent = signed_in(&server.url(), &tmp.path().join("pb1"), "pb1");
    assert_eq!(parent.sync().unwrap().received, 0);
    assert!(matches!(
        parent.points_for("b1"),
        Err(CoreError::NotAllowed(Denied::PointsHiddenFromParents))
    ));

    let pupil = device(&server.url(), &tmp.path().join("b1"));
    pupil.sign_in_with_pupil_code("PUPIL-B1").unwrap();
    pupil.sync().unwrap();
    assert_eq!(pupil.points_for("b1").unwrap().len(), 1);
}

#[test]
fn wrong_password_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let d = device(&server.url(), &tmp.path().join("d"));
    let err = d.sign_in("ta@greenfield.test", "not-it").unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials));
    assert!(err.to_string().contains("wrong"));
    assert!(d.me().unwrap().is_none());
}

#[test]
fn award_outside_teachers_classes_is_refused_before_queueing() {
    // REQ-PTS-2, ACC-7: the core refuses what the server would refuse; nothing is queued.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let err = tablet
        .award_points(&["b1".into()], "classB-teamwork", None)
        .unwrap_err();
    assert!(matches!(err, CoreError::NotAllowed(_)), "{err}");
    assert_eq!(tablet.pending_writes().unwrap(), 0);
}

#[test]
fn server_refuses_a_forced_award_and_the_core_rolls_it_back() {
    // REQ-ACC-7: a write that slipped past the device (stale directory) is refused by the server;
    // the optimistic award disappears and the reason is reported.
    use homeroom_core::store::{kv, Store};
    use homeroom_protocol::wire::{Directory, SkillInfo};
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &dir, "tA");
    tablet.sync().unwrap();
    drop(tablet);
    // Forge the cached directory so the core believes tA teaches b1, as a tampered or stale
    // device would (the forger holds the device key).
    {
        let store =
            Store::open(&dir.join("homeroom-cache.sqlite3"), &homeroom_e2e::TEST_KEY).unwrap();
        let conn = store.conn();
        let mut d: Directory = kv::get(&conn, store.sealer(), kv::DIRECTORY)
            .unwrap()
            .unwrap();
        d.version = "stale".into();
        let mut class_b = d.facts.classes["classA"].clone();
        class_b.teacher_ids = vec!["tA".into()];
        d.facts.classes.insert("classB".into(), class_b);
        d.facts.pupils.insert(
            "b1".into(),
            homeroom_protocol::access::PupilFacts {
                school_id: "greenfield".into(),
                class_id: Some("classB".into()),
                parent_ids: vec![],
            },
        );
        d.skills.push(SkillInfo {
            id: "classB-teamwork".into(),
            class_id: "classB".into(),
            name: "Teamwork".into(),
            icon: "people".into(),
            weight: 1,
            kind: homeroom_protocol::skills::SkillKind::Positive,
            category: "attitudes".into(),
        });
        kv::put(&conn, store.sealer(), kv::DIRECTORY, &d).unwrap();
    }
    let tablet = device(&server.url(), &dir);
    tablet
        .award_points(&["b1".into()], "classB-teamwork", None)
        .unwrap();
    assert_eq!(tablet.pending_writes().unwrap(), 1);
    let report = tablet.sync().unwrap();
    assert_eq!(report.sent, 0);
    assert_eq!(report.refused.len(), 1);
    assert!(
        report.refused[0].1.contains("not allowed"),
        "{:?}",
        report.refused
    );
    assert_eq!(tablet.pending_writes().unwrap(), 0);
    // The server's directory replaced the forged one, and the optimistic award is gone.
    assert!(tablet.points_for("b1").is_err());
    assert_eq!(homeroom_e2e::cached_awards(&dir, "b1"), 0);
}

#[test]
fn award_made_offline_is_kept_and_sent_once_when_back_online() {
    // REQ-OFF-1: server down → the award stays queued; a later sync sends it exactly once.
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet_dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &tablet_dir, "tA");
    tablet.sync().unwrap();
    server.stop();

    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("offline award"))
        .unwrap();
    let err = tablet.sync().unwrap_err();
    assert!(matches!(err, CoreError::Offline(_)), "{err}");
    assert_eq!(tablet.pending_writes().unwrap(), 1);

    // The app is killed and reopened while still offline: nothing is lost.
    drop(tablet);
    let tablet = device(&server.url(), &tablet_dir);
    assert_eq!(tablet.pending_writes().unwrap(), 1);
    assert_eq!(tablet.points_for("a1").unwrap().len(), 1);

    server.restart();
    assert_eq!(tablet.sync().unwrap().sent, 1);
    assert_eq!(tablet.sync().unwrap().sent, 0, "nothing is sent twice");
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    let seen = phone.points_for("a1").unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].record.note.as_deref(), Some("offline award"));
}

#[test]
fn points_view_gets_a_snapshot_then_only_changes() {
    // REQ-STO-6, OFF-3: first the whole view, then inserts/updates/removals by id.
    use homeroom_core::views::ViewUpdate;
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    tablet.sync().unwrap();
    phone.sync().unwrap();

    type Heard = Arc<Mutex<Vec<ViewUpdate<homeroom_core::store::awards::CachedAward>>>>;
    let listen = |d: &homeroom_core::Homeroom| -> (Heard, u64) {
        let heard: Heard = Arc::default();
        let h = heard.clone();
        let id = d
            .observe_points(
                "a1",
                Arc::new(move |pupil, u| {
                    assert_eq!(pupil, "a1");
                    h.lock().unwrap().push(u)
                }),
            )
            .unwrap();
        (heard, id)
    };
    let (on_tablet, _) = listen(&tablet);
    let (on_phone, phone_sub) = listen(&phone);
    assert_eq!(
        *on_phone.lock().unwrap(),
        vec![ViewUpdate::Snapshot(vec![])]
    );

    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("tidy"))
        .unwrap();
    tablet.sync().unwrap();
    phone.sync().unwrap();
    // The tablet saw its award appear (pending), then be confirmed (updated, no longer pending).
    let t = on_tablet.lock().unwrap().clone();
    assert_eq!(t.len(), 3, "{t:?}");
    match (&t[1], &t[2]) {
        (
            ViewUpdate::Changes {
                inserted,
                updated,
                removed,
            },
            ViewUpdate::Changes {
                inserted: i2,
                updated: u2,
                removed: r2,
            },
        ) => {
            assert!(
                inserted.len() == 1
                    && inserted[0].pending
                    && updated.is_empty()
                    && removed.is_empty()
            );
            assert!(i2.is_empty() && u2.len() == 1 && !u2[0].pending && r2.is_empty());
        }
        other => panic!("expected two change sets, got {other:?}"),
    }
    // The phone got one insert; a sync with nothing new sends nothing.
    phone.sync().unwrap();
    let p = on_phone.lock().unwrap().clone();
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        matches!(&p[1], ViewUpdate::Changes { inserted, .. } if inserted.len() == 1
        && inserted[0].record.note.as_deref() == Some("tidy"))
    );

    phone.unobserve(phone_sub);
    tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap();
    tablet.sync().unwrap();
    phone.sync().unwrap();
    assert_eq!(
        on_phone.lock().unwrap().len(),
        2,
        "a cancelled listener hears nothing"
    );
}

#[test]
fn a_listener_on_a_pupil_one_may_not_see_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let other = signed_in(&server.url(), &tmp.path().join("other"), "pb1");
    other.sync().unwrap();
    let r = other.observe_points("a1", Arc::new(|_, _| panic!("must not be called")));
    assert!(matches!(r, Err(CoreError::NotAllowed(_))));
}

#[test]
fn oversized_note_is_refused_with_the_field_named() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let long = "x".repeat(501);
    let err = tablet
        .award_points(&["a1".into()], "classA-teamwork", Some(&long))
        .unwrap_err();
    assert!(err.to_string().starts_with("note:"), "{err}");
    assert_eq!(tablet.pending_writes().unwrap(), 0);
}

#[test]
fn sign_out_wipes_the_cache_and_outbox() {
    // REQ-PRV-3
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &dir, "tA");
    tablet.sync().unwrap();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap();
    tablet.sign_out().unwrap();
    assert!(tablet.me().unwrap().is_none());
    assert_eq!(tablet.pending_writes().unwrap(), 0);
    assert_eq!(homeroom_e2e::cached_awards(&dir, "a1"), 0);
}
