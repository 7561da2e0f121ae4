//! The benchmarks' class year (issue 4) written through the real API reaches an empty teacher
//! device complete, and a parent's device only with what is theirs (REQ-OFF-1, PTS-5, MSG-1).
//! The volumes are a tenth of the year here (the benchmark runs the whole year); the 30 pupils
//! and 60 parents are all there.

use homeroom_e2e::class_year::{self, AWARDS, MESSAGES, PARENTS, PHOTOS, PUPILS, STORY_POSTS};
use homeroom_e2e::{signed_in, TestServer};
use homeroom_protocol::posts::Audience;

const SHRINK: usize = 10;

#[test]
fn a_whole_class_year_reaches_an_empty_teacher_device_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let year = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(class_year::seed(&server.url(), SHRINK));
    assert_eq!(
        (
            year.pupils,
            year.parents,
            year.awards,
            year.photos,
            year.messages
        ),
        (
            PUPILS,
            PARENTS,
            AWARDS / SHRINK,
            PHOTOS / SHRINK,
            MESSAGES / SHRINK
        )
    );

    let teacher = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    teacher.sync().unwrap();
    let class = Audience::ClassStory {
        class_id: "classA".into(),
    };
    assert_eq!(teacher.feed(&class).unwrap().len(), STORY_POSTS / SHRINK);
    assert_eq!(teacher.feed_page(&class, None, 25).unwrap().len(), 25);
    // 6,000 awards over 30 pupils: 200 each, a1 included.
    assert_eq!(
        teacher.points_for("a1").unwrap().len(),
        AWARDS / SHRINK / PUPILS
    );
    assert_eq!(teacher.threads().unwrap().len(), PARENTS);

    // A parent's phone holds their own child's points and their own thread only.
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    assert_eq!(
        phone.points_for("a1").unwrap().len(),
        AWARDS / SHRINK / PUPILS
    );
    assert!(phone.points_for("a2").is_err(), "another family's child");
    assert_eq!(phone.threads().unwrap().len(), 1);
    assert_eq!(phone.feed(&class).unwrap().len(), STORY_POSTS / SHRINK);
}
