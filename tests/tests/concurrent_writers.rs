//! Several devices of one person writing at the same moment: every write arrives exactly once
//! and every device converges (REQ-OFF-1).

use homeroom_e2e::{note_counts, signed_in, TestServer};

#[test]
fn two_devices_of_one_teacher_writing_at_once_both_arrive_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let mut handles = Vec::new();
    for name in ["tablet", "phone"] {
        let url = url.clone();
        let dir = tmp.path().join(name);
        handles.push(std::thread::spawn(move || {
            let d = signed_in(&url, &dir, "tA");
            d.sync().unwrap();
            for i in 0..15 {
                d.award_points(
                    &["a1".into()],
                    "classA-teamwork",
                    Some(&format!("{name}-{i}")),
                )
                .unwrap();
                d.sync().unwrap();
            }
            d.sync().unwrap();
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let parent = signed_in(&url, &tmp.path().join("parent"), "pa1");
    parent.sync().unwrap();
    let got = note_counts(&parent, "a1");
    assert_eq!(got.len(), 30);
    assert!(got.values().all(|n| *n == 1), "{got:?}");
    // Each device sees the other's awards too.
    let tablet = homeroom_e2e::device(&url, &tmp.path().join("tablet"));
    tablet.sync().unwrap();
    assert_eq!(note_counts(&tablet, "a1"), got);
}
