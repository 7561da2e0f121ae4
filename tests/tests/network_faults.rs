//! Network faults between a device and the server — dropped, stalled, garbled and truncated
//! connections — give typed errors, lose nothing, apply nothing twice and never skip a change
//! (REQ-OFF-1, OFF-2).

use std::collections::BTreeMap;
use std::time::Duration;

use homeroom_core::{CoreError, Homeroom, Settings};
use homeroom_e2e::fault_proxy::{Fault, FaultProxy};
use homeroom_e2e::{note_counts, signed_in, TestServer, TEST_KEY};
use homeroom_protocol::fixture;

fn tablet_behind(proxy: &FaultProxy, dir: &std::path::Path) -> Homeroom {
    let d = Homeroom::open(Settings {
        server_url: proxy.url(),
        data_dir: dir.to_owned(),
        device_id: Some(fixture::ENROLLED_TABLET_KEY.to_owned()),
        at_rest_key: TEST_KEY.to_vec(),
        request_timeout: Some(Duration::from_millis(800)),
    })
    .unwrap();
    let t = fixture::user_by_id("tA").unwrap();
    d.sign_in(&t.email(), &t.password()).unwrap();
    d.sync().unwrap();
    d
}

#[test]
fn every_fault_is_a_typed_error_and_a_clean_retry_delivers_everything_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let proxy = FaultProxy::start(server.addr);
    let tablet = tablet_behind(&proxy, &tmp.path().join("tablet"));
    // Another member of staff, on a good connection, keeps changing things meanwhile.
    let colleague = signed_in(&server.url(), &tmp.path().join("colleague"), "sA");
    colleague.sync().unwrap();

    let faults = [Fault::Drop, Fault::Stall, Fault::Garbage, Fault::Truncate];
    for (i, fault) in faults.iter().enumerate() {
        colleague
            .award_points(
                &["a2".into()],
                "classA-teamwork",
                Some(&format!("colleague-{i}")),
            )
            .unwrap();
        colleague.sync().unwrap();
        tablet
            .award_points(
                &["a1".into()],
                "classA-teamwork",
                Some(&format!("tablet-{i}")),
            )
            .unwrap();
        proxy.set(*fault);
        let err = tablet.sync().unwrap_err();
        match fault {
            Fault::Garbage => assert!(matches!(err, CoreError::Protocol(_)), "{fault:?}: {err}"),
            _ => assert!(matches!(err, CoreError::Offline(_)), "{fault:?}: {err}"),
        }
        assert!(!err.to_string().is_empty());
        // The award is shown and kept, whatever the network did.
        assert!(note_counts(&tablet, "a1").contains_key(&format!("tablet-{i}")));
        proxy.set(Fault::Pass);
    }
    // The truncated push was applied on the server but its answer was lost: the retry must
    // be recognised, not applied twice.
    let report = tablet.sync().unwrap();
    assert!(report.sent >= 1);
    assert_eq!(tablet.pending_writes().unwrap(), 0);

    let expected_a1: BTreeMap<String, usize> = (0..faults.len())
        .map(|i| (format!("tablet-{i}"), 1))
        .collect();
    let expected_a2: BTreeMap<String, usize> = (0..faults.len())
        .map(|i| (format!("colleague-{i}"), 1))
        .collect();
    // No change was skipped by a failed pull: the tablet has all of the colleague's awards.
    assert_eq!(note_counts(&tablet, "a2"), expected_a2);
    assert_eq!(note_counts(&tablet, "a1"), expected_a1);
    // And the server holds each of the tablet's awards exactly once.
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    assert_eq!(note_counts(&phone, "a1"), expected_a1);
}
