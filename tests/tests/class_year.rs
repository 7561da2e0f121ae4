//! The benchmarks' class year (issue 4) written through the real API reaches an empty teacher
//! device complete, and a parent's device only with what is theirs (REQ-OFF-1, PTS-5, MSG-1).

use homeroom_e2e::class_year::{self, AWARDS, MESSAGES, PARENTS, PHOTOS, PUPILS, STORY_POSTS};
use homeroom_e2e::{signed_in, TestServer};
use homeroom_protocol::posts::Audience;

#[test]
fn a_whole_class_year_reaches_an_empty_teacher_device_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let year = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(class_year::seed(&server.url()));
    assert_eq!(
        (
            year.pupils,
            year.parents,
            year.awards,
            year.photos,
            year.messages
        ),
        (PUPILS, PARENTS, AWARDS, PHOTOS, MESSAGES)
    );

    let teacher = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    teacher.sync().unwrap();
    let class = Audience::ClassStory {
        class_id: "classA".into(),
    };
    assert_eq!(teacher.feed(&class).unwrap().len(), STORY_POSTS);
    assert_eq!(teacher.feed_page(&class, None, 50).unwrap().len(), 50);
    // 6,000 awards over 30 pupils: 200 each, a1 included.
    assert_eq!(teacher.points_for("a1").unwrap().len(), AWARDS / PUPILS);
    assert_eq!(teacher.threads().unwrap().len(), PARENTS);

    // A parent's phone holds their own child's points and their own thread only.
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    assert_eq!(phone.points_for("a1").unwrap().len(), AWARDS / PUPILS);
    assert!(phone.points_for("a2").is_err(), "another family's child");
    assert_eq!(phone.threads().unwrap().len(), 1);
    assert_eq!(phone.feed(&class).unwrap().len(), STORY_POSTS);
}
