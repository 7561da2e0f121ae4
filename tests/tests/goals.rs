//! Learning goals and EHCP outcomes (REQ-PTS-8) end to end: staff set and link goals through the
//! push path, families and the pupil see progress per goal in the report, nobody else sees the
//! goal at all, offline goals sync exactly once, and a pupil's goals leave a family's phone when
//! the pupil leaves and the server when the pupil is erased.

use chrono::Utc;
use homeroom_core::views::ViewUpdate;
use homeroom_core::{GoalView, GoalsListener, GoalsUpdate, HomeroomClient, HomeroomConfig};
use homeroom_e2e::{
    api_token, delete_as, device, get_as, get_json, post_as, signed_in, TestServer,
};
use homeroom_protocol::goals::{GoalKind, GoalLink};
use homeroom_protocol::reports::Period;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const TITLE: &str = "Uses words to ask for help (EHCP outcome 3)";

async fn push(http: &reqwest::Client, url: &str, token: &str, op: Value) -> Value {
    push_as(http, url, token, Uuid::new_v4(), op).await
}

async fn push_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    client_id: Uuid,
    op: Value,
) -> Value {
    let body = json!({"writes": [{"client_id": client_id, "op": op}]});
    let (status, r) = post_as(http, &format!("{url}/v1/push"), token, &body).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r["results"][0].clone()
}

fn award_op(pupil: &str, skill: &str) -> Value {
    json!({"type": "award_points", "awards": [{"award_id": Uuid::new_v4(), "pupil_id": pupil}],
           "skill_id": skill, "note": null, "awarded_at": Utc::now()})
}

/// Every change a person's pull returns, from the start, as text (to look for leaks).
async fn pull_text(http: &reqwest::Client, url: &str, token: &str) -> String {
    let (status, body) = get_as(http, &format!("{url}/v1/pull?since=0"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["changes"].to_string()
}

/// How many goals of `pupil` a device's cache file holds (the purge must reach the disk).
fn cached_goals(device_dir: &std::path::Path, pupil: &str) -> i64 {
    let conn = rusqlite::Connection::open(device_dir.join("homeroom-cache.sqlite3")).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM goals WHERE pupil_id = ?1",
        [pupil],
        |r| r.get(0),
    )
    .unwrap()
}

/// tA takes a1 out of class A (the pupil leaves: REQ-ACC-5).
async fn a1_leaves_class_a(http: &reqwest::Client, url: &str) {
    let ta = api_token(http, url, "tA").await;
    let (status, body) = delete_as(http, &format!("{url}/v1/classes/classA/pupils/a1"), &ta).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// REQ-PTS-8, PTS-4, ACC-5: a goal with a linked skill and a linked portfolio item shows its
// progress in the parent's and the pupil's week report; another family, another pupil and
// another class's teacher get nothing of it — not the report, not the title, not a change.
#[tokio::test(flavor = "multi_thread")]
async fn a_parent_sees_progress_per_goal_and_nobody_else_sees_the_goal_pts8() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let http = reqwest::Client::new();
    let ta = api_token(&http, &url, "tA").await;
    let goal = Uuid::new_v4();
    let create = json!({"type": "create_goal", "goal_id": goal, "pupil_id": "a1",
                        "title": TITLE, "kind": "ehcp_outcome", "target": 4});
    let created_id = Uuid::new_v4();
    let r = push_as(&http, &url, &ta, created_id, create.clone()).await;
    assert_eq!(r["status"], "accepted", "{r}");
    // The same write again is applied once (exactly-once push).
    let again = push_as(&http, &url, &ta, created_id, create).await;
    assert_eq!(again["status"], "already_applied", "{again}");
    let link = json!({"type": "link_goal", "goal_id": goal,
                      "link": {"kind": "skill", "skill_id": "classA-teamwork"}});
    assert_eq!(push(&http, &url, &ta, link).await["status"], "accepted");
    // A portfolio item of a1's counts too.
    let post = Uuid::new_v4();
    let item = json!({"type": "create_post", "post_id": post,
                      "audience": {"feed": "portfolio", "pupil_id": "a1"},
                      "caption": "Asked for the scissors today"});
    assert_eq!(push(&http, &url, &ta, item).await["status"], "accepted");
    let link_item = json!({"type": "link_goal", "goal_id": goal,
                           "link": {"kind": "portfolio_item", "post_id": post}});
    assert_eq!(
        push(&http, &url, &ta, link_item).await["status"],
        "accepted"
    );
    for skill in ["classA-teamwork", "classA-teamwork", "classA-hard-work"] {
        let r = push(&http, &url, &ta, award_op("a1", skill)).await;
        assert_eq!(r["status"], "accepted", "{r}");
    }

    for who in ["pa1", "a1"] {
        let token = api_token(&http, &url, who).await;
        let week = get_json(
            &http,
            &format!("{url}/v1/pupils/a1/report?period=week"),
            &token,
        )
        .await;
        let goals = week["goals"].as_array().unwrap();
        assert_eq!(goals.len(), 1, "{who}: {week}");
        assert_eq!(goals[0]["title"], TITLE);
        assert_eq!(goals[0]["kind"], "ehcp_outcome");
        assert_eq!(
            (
                &goals[0]["points"],
                &goals[0]["awards"],
                &goals[0]["portfolio_items"],
                &goals[0]["progress"],
                &goals[0]["percent"]
            ),
            (&json!(2), &json!(2), &json!(1), &json!(3), &json!(75)),
            "{who}: only the linked skill's awards and the linked item count"
        );
        assert_eq!(week["total"], 3, "the pie still counts every award");
        assert!(
            pull_text(&http, &url, &token).await.contains(TITLE),
            "{who}"
        );
    }

    // Another family, another pupil, another class's teacher: refused, and nothing leaks.
    for who in ["pa2", "a2", "pb1", "tB"] {
        let token = api_token(&http, &url, who).await;
        let (status, body) = get_as(
            &http,
            &format!("{url}/v1/pupils/a1/report?period=week"),
            &token,
        )
        .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{who}: {status}"
        );
        assert!(!body.to_string().contains(TITLE), "{who}: {body}");
        assert!(
            !pull_text(&http, &url, &token).await.contains(TITLE),
            "{who}"
        );
        // Nor can they edit it; a goal they may not read is simply not found.
        let edit = json!({"type": "update_goal", "goal_id": goal, "title": "mine now"});
        let r = push(&http, &url, &token, edit).await;
        assert_eq!(r["status"], "rejected", "{who}: {r}");
        assert!(!r.to_string().contains(TITLE), "{who}: {r}");
        if who != "tB" {
            assert_eq!(r["code"], "not_found", "{who}: {r}");
        }
    }
    // The family reads but does not set goals; bad titles are refused with the field named.
    let pa1 = api_token(&http, &url, "pa1").await;
    let by_parent = json!({"type": "create_goal", "goal_id": Uuid::new_v4(), "pupil_id": "a1",
                           "title": "Tidy room", "kind": "learning_goal"});
    assert_eq!(
        push(&http, &url, &pa1, by_parent).await["code"],
        "forbidden"
    );
    let blank = json!({"type": "create_goal", "goal_id": Uuid::new_v4(), "pupil_id": "a1",
                       "title": "   ", "kind": "learning_goal"});
    let r = push(&http, &url, &ta, blank).await;
    assert_eq!(r["code"], "invalid", "{r}");
    assert!(r["reason"].as_str().unwrap().starts_with("title:"), "{r}");
    let other_class = json!({"type": "link_goal", "goal_id": goal,
                             "link": {"kind": "skill", "skill_id": "classB-teamwork"}});
    assert_eq!(push(&http, &url, &ta, other_class).await["code"], "invalid");

    // Archived, the goal leaves the report and takes no more edits.
    let archive = json!({"type": "archive_goal", "goal_id": goal});
    assert_eq!(push(&http, &url, &ta, archive).await["status"], "accepted");
    let week = get_json(
        &http,
        &format!("{url}/v1/pupils/a1/report?period=week"),
        &pa1,
    )
    .await;
    assert_eq!(week["goals"], json!([]));
    let late = json!({"type": "update_goal", "goal_id": goal, "title": "Asks for help"});
    assert_eq!(push(&http, &url, &ta, late).await["code"], "invalid");
}

// REQ-PTS-8, OFF-1, PTS-7: a goal set, linked and earned on an offline tablet shows at once in
// its own report, reaches the server exactly once, and the parent's phone then shows the same
// progress as the server, offline too. Only awards still held count.
#[test]
fn an_offline_goal_syncs_exactly_once_and_the_phone_shows_the_servers_progress_pts8() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let mut server = TestServer::fresh(&server_dir);
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &phone_dir, "pa1");
    tablet.sync().unwrap();
    phone.sync().unwrap();
    // The parent cannot set goals, even offline.
    assert!(phone
        .create_goal("a1", "Tidy up", GoalKind::LearningGoal, None)
        .is_err());
    server.stop();

    let goal = tablet
        .create_goal(
            "a1",
            "  Shares equipment  ",
            GoalKind::LearningGoal,
            Some(2),
        )
        .unwrap();
    let teamwork = GoalLink::Skill {
        skill_id: "classA-teamwork".into(),
    };
    tablet.link_goal(&goal, teamwork, true).unwrap();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", None)
        .unwrap();
    assert!(
        tablet
            .create_goal("a1", "", GoalKind::LearningGoal, None)
            .is_err(),
        "an empty title is refused before it is queued"
    );
    let offline = tablet
        .points_report("a1", Period::Week, Utc::now())
        .unwrap();
    assert_eq!(offline.goals.len(), 1);
    assert_eq!(offline.goals[0].title, "Shares equipment");
    assert_eq!(
        (offline.goals[0].points, offline.goals[0].percent),
        (Some(1), Some(50))
    );

    server.restart();
    let first = tablet.sync().unwrap();
    assert_eq!(first.sent, 3, "goal, link, award");
    assert!(first.refused.is_empty(), "{:?}", first.refused);
    tablet.sync().unwrap();
    assert_eq!(tablet.pending_writes().unwrap(), 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (rows, from_server) = rt.block_on(async {
        let pool = homeroom_e2e::server_db(&server_dir).await;
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM goals WHERE pupil_id = 'a1'")
            .fetch_one(&pool)
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let pa1 = api_token(&http, &server.url(), "pa1").await;
        let report = get_json(
            &http,
            &format!("{}/v1/pupils/a1/report?period=week", server.url()),
            &pa1,
        )
        .await;
        (rows, report)
    });
    assert_eq!(rows, 1, "the goal reached the server exactly once");
    assert_eq!(from_server["goals"][0]["points"], 1);
    assert_eq!(tablet.goals_for("a1").unwrap().len(), 1);

    phone.sync().unwrap();
    assert_eq!(cached_goals(&phone_dir, "a1"), 1);
    server.stop();
    let on_phone = phone.points_report("a1", Period::Week, Utc::now()).unwrap();
    assert_eq!(on_phone.goals.len(), 1);
    let g = &on_phone.goals[0];
    assert_eq!(g.title, from_server["goals"][0]["title"].as_str().unwrap());
    assert_eq!(g.progress, from_server["goals"][0]["progress"].as_i64());
    assert_eq!(g.percent, Some(50));
    let goals = phone.goals_for("a1").unwrap();
    assert!(goals[0].skill_ids.contains("classA-teamwork"));
    // Another family's child's goals are not readable on this phone.
    assert!(phone.goals_for("a2").is_err());
}

// REQ-PTS-8, ACC-5, PRV-4: a pupil who leaves takes their goals off the family's phone (from the
// SQLite file, not only the screen); the export holds them; erasure deletes them on the server.
#[test]
fn a_pupil_who_leaves_takes_their_goals_off_the_parents_phone_and_erasure_deletes_them_pts8() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let url = server.url();
    let tablet = signed_in(&url, &tmp.path().join("tablet"), "tA");
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&url, &phone_dir, "pa1");
    tablet.sync().unwrap();
    tablet
        .create_goal("a1", TITLE, GoalKind::EhcpOutcome, Some(10))
        .unwrap();
    tablet.sync().unwrap();
    phone.sync().unwrap();
    assert_eq!(phone.goals_for("a1").unwrap().len(), 1);
    assert_eq!(cached_goals(&phone_dir, "a1"), 1);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    rt.block_on(a1_leaves_class_a(&http, &url));
    // Whether the family stays in the school or not, nothing of a1's goals stays on the phone.
    let _ = phone.sync();
    assert_eq!(cached_goals(&phone_dir, "a1"), 0);
    assert!(phone.goals_for("a1").map_or(true, |g| g.is_empty()));

    rt.block_on(async {
        let h = api_token(&http, &url, "H").await;
        let export = get_json(&http, &format!("{url}/v1/pupils/a1/export"), &h).await;
        assert_eq!(export["goals"][0]["title"], TITLE, "{export}");
        let r = http
            .delete(format!("{url}/v1/pupils/a1"))
            .bearer_auth(&h)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let erased: Value = r.json().await.unwrap();
        assert_eq!(erased["goals_deleted"], 1, "{erased}");
        let pool = homeroom_e2e::server_db(&server_dir).await;
        for sql in [
            "SELECT COUNT(*) FROM goals WHERE pupil_id = 'a1'",
            "SELECT COUNT(*) FROM changes WHERE kind = 'goal'",
        ] {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            assert_eq!(n, 0, "{sql}");
        }
    });
}

/// A portfolio item of `pupil`'s, posted by `token`'s owner over the push path, tagging `tagged`.
async fn portfolio_item(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    pupil: &str,
    caption: &str,
    tagged: &[&str],
) -> Uuid {
    let post = Uuid::new_v4();
    let op = json!({"type": "create_post", "post_id": post,
                    "audience": {"feed": "portfolio", "pupil_id": pupil},
                    "caption": caption, "tagged": tagged});
    let r = push(http, url, token, op).await;
    assert_eq!(r["status"], "accepted", "{r}");
    post
}

/// A new goal for `pupil` (TITLE, an EHCP outcome with target 4), set by `token`'s owner.
async fn new_goal(http: &reqwest::Client, url: &str, token: &str, pupil: &str) -> Uuid {
    let goal = Uuid::new_v4();
    let create = json!({"type": "create_goal", "goal_id": goal, "pupil_id": pupil,
                        "title": TITLE, "kind": "ehcp_outcome", "target": 4});
    let r = push(http, url, token, create).await;
    assert_eq!(r["status"], "accepted", "{r}");
    goal
}

fn link_op(goal: Uuid, link: Value) -> Value {
    json!({"type": "link_goal", "goal_id": goal, "link": link})
}

// REQ-PTS-8, CON-4, OFF-1: a linked portfolio item withdrawn because consent changed stops
// counting towards the goal — in the server's report and in the parent's offline report alike,
// and its link leaves the parent's goal list.
#[test]
fn a_withdrawn_linked_item_stops_counting_on_the_server_and_the_phone_pts8_con4() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let http = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (kept, withdrawn) = rt.block_on(async {
        let ta = api_token(&http, &url, "tA").await;
        let goal = new_goal(&http, &url, &ta, "a1").await;
        let kept = portfolio_item(&http, &url, &ta, "a1", "Asked for glue", &[]).await;
        let withdrawn = portfolio_item(&http, &url, &ta, "a1", "Asked for help", &["a1"]).await;
        for post in [kept, withdrawn] {
            let link = link_op(goal, json!({"kind": "portfolio_item", "post_id": post}));
            assert_eq!(push(&http, &url, &ta, link).await["status"], "accepted");
        }
        (kept, withdrawn)
    });
    let server_goal = |who: &'static str| {
        rt.block_on(async {
            let token = api_token(&http, &url, who).await;
            let week = get_json(
                &http,
                &format!("{url}/v1/pupils/a1/report?period=week"),
                &token,
            )
            .await;
            week["goals"][0].clone()
        })
    };
    let before = server_goal("pa1");
    assert_eq!(
        (&before["portfolio_items"], &before["percent"]),
        (&json!(2), &json!(50))
    );
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&url, &phone_dir, "pa1");
    phone.sync().unwrap();
    let on_phone = phone.points_report("a1", Period::Week, Utc::now()).unwrap();
    assert_eq!(on_phone.goals[0].portfolio_items, 2);
    // The phone's goals listener is told too: the goal updated, the withdrawn link gone.
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    let listening = phone
        .observe_goals(
            "a1",
            std::sync::Arc::new(move |u| sink.lock().unwrap().push(u)),
        )
        .unwrap();

    // The family withdraws portfolio consent; the head teacher records it (REQ-CON-4).
    let h = signed_in(&url, &tmp.path().join("head"), "H");
    let mut a1 = homeroom_protocol::fixture::consent()["a1"].clone();
    a1.uses.insert(
        homeroom_protocol::consent::ConsentUse::OwnPortfolio,
        homeroom_protocol::consent::ConsentState::Refused,
    );
    h.set_consent("a1", &a1).unwrap();

    for who in ["pa1", "tA", "a1"] {
        let after = server_goal(who);
        assert_eq!(
            (
                &after["portfolio_items"],
                &after["progress"],
                &after["percent"]
            ),
            (&json!(1), &json!(1), &json!(25)),
            "{who}: only the item still standing counts"
        );
    }
    phone.sync().unwrap();
    let on_phone = phone.points_report("a1", Period::Week, Utc::now()).unwrap();
    let g = &on_phone.goals[0];
    assert_eq!(
        (g.portfolio_items, g.progress, g.percent),
        (1, Some(1), Some(25)),
        "the phone agrees with the server"
    );
    let offline = phone.goal_progress("a1", Period::Week, Utc::now()).unwrap();
    assert_eq!(offline, on_phone.goals);
    let shown = phone.goals_for("a1").unwrap();
    let items: Vec<Uuid> = shown[0].items.iter().map(|i| i.post_id).collect();
    assert_eq!(items, vec![kept], "{withdrawn} left the goal on the phone");
    let heard = std::mem::take(&mut *heard.lock().unwrap());
    phone.unobserve(listening);
    match heard.as_slice() {
        [ViewUpdate::Snapshot(first), ViewUpdate::Changes {
            inserted,
            updated,
            removed,
        }] => {
            assert_eq!(first[0].items.len(), 2);
            assert!(inserted.is_empty() && removed.is_empty());
            let now: Vec<Uuid> = updated[0].items.iter().map(|i| i.post_id).collect();
            assert_eq!(now, vec![kept]);
        }
        other => panic!("the snapshot, then one update: {other:?}"),
    }
}

// REQ-PTS-5, PTS-8: class B hides points from parents. pb1 still follows b1's goal — title,
// linked items — but never its points, on the phone and on the server; the pupil always sees
// their own points towards it, and a parent of a class that shows points sees them.
#[test]
fn a_parent_of_a_class_hiding_points_follows_goals_without_their_points_pts5_pts8() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let http = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for (teacher, pupil, class) in [("tB", "b1", "classB"), ("tA", "a1", "classA")] {
            let t = api_token(&http, &url, teacher).await;
            let goal = new_goal(&http, &url, &t, pupil).await;
            let skill = format!("{class}-teamwork");
            let item = portfolio_item(&http, &url, &t, pupil, "Asked for help", &[]).await;
            for link in [
                json!({"kind": "skill", "skill_id": skill}),
                json!({"kind": "portfolio_item", "post_id": item}),
            ] {
                let r = push(&http, &url, &t, link_op(goal, link)).await;
                assert_eq!(r["status"], "accepted", "{r}");
            }
            let r = push(&http, &url, &t, award_op(pupil, &skill)).await;
            assert_eq!(r["status"], "accepted", "{r}");
        }
        // The server: pb1 gets no report of b1 at all (PTS-5); b1 sees their own points.
        let pb1 = api_token(&http, &url, "pb1").await;
        let (status, body) = get_as(
            &http,
            &format!("{url}/v1/pupils/b1/report?period=week"),
            &pb1,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let b1 = api_token(&http, &url, "b1").await;
        let own = get_json(
            &http,
            &format!("{url}/v1/pupils/b1/report?period=week"),
            &b1,
        )
        .await;
        assert_eq!(own["goals"][0]["points"], 1, "{own}");
        assert_eq!(own["goals"][0]["points_hidden"], false, "{own}");
    });

    let phone = signed_in(&url, &tmp.path().join("pb1"), "pb1");
    phone.sync().unwrap();
    assert!(phone.points_report("b1", Period::Week, Utc::now()).is_err());
    let seen = phone.goal_progress("b1", Period::Week, Utc::now()).unwrap();
    assert_eq!(seen.len(), 1);
    let g = &seen[0];
    assert_eq!((g.title.as_str(), g.portfolio_items), (TITLE, 1));
    assert!(g.points_hidden);
    assert_eq!(
        (g.points, g.awards, g.progress, g.percent),
        (None, None, None, None),
        "no points, and no share that would reveal them"
    );
    assert_eq!(phone.goals_for("b1").unwrap()[0].items.len(), 1);

    let pupil = device(&url, &tmp.path().join("b1"));
    pupil.sign_in_with_pupil_code("PUPIL-B1").unwrap();
    pupil.sync().unwrap();
    let own = pupil.goal_progress("b1", Period::Week, Utc::now()).unwrap();
    assert_eq!(
        (own[0].points, own[0].progress, own[0].percent),
        (Some(1), Some(2), Some(50)),
        "the pupil always sees their own"
    );

    let shown = signed_in(&url, &tmp.path().join("pa1"), "pa1");
    shown.sync().unwrap();
    let a1 = shown.goal_progress("a1", Period::Week, Utc::now()).unwrap();
    assert_eq!((a1[0].points, a1[0].points_hidden), (Some(1), false));
    assert_eq!(
        a1,
        shown
            .points_report("a1", Period::Week, Utc::now())
            .unwrap()
            .goals
    );
    // Beyond a fortnight only staff see points (PTS-4); the items still count for the family.
    let month = shown
        .goal_progress("a1", Period::Month, Utc::now())
        .unwrap();
    assert!(month[0].points_hidden);
    assert_eq!(month[0].portfolio_items, 1);
}

/// Collects what a goals listener is told.
#[derive(Default)]
struct Heard(std::sync::Mutex<Vec<GoalsUpdate>>);

impl GoalsListener for Heard {
    fn on_goals_update(&self, pupil_id: String, update: GoalsUpdate) {
        assert_eq!(pupil_id, "a1");
        self.0.lock().unwrap().push(update);
    }
}

impl Heard {
    fn take(&self) -> Vec<GoalsUpdate> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn ids(goals: &[GoalView]) -> Vec<String> {
    goals.iter().map(|g| g.id.clone()).collect()
}

// REQ-OFF-1, PTS-8, issue 4 §4: a goals-of-a-pupil listener through the FFI gets the snapshot
// first, then one batch per sync — a new goal inserted, a renamed goal updated, and every goal
// removed when the pupil leaves — and nothing at all once its handle is dropped.
#[test]
fn the_goals_listener_sends_the_snapshot_then_diffs_after_sync_and_stops_when_dropped_off1() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let tablet = signed_in(&url, &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let first = tablet
        .create_goal("a1", "Shares equipment", GoalKind::LearningGoal, None)
        .unwrap();
    tablet.sync().unwrap();

    let u = homeroom_protocol::fixture::user_by_id("pa1").unwrap();
    let phone = HomeroomClient::new(HomeroomConfig {
        server_url: url.clone(),
        data_dir: tmp.path().join("phone").display().to_string(),
        device_id: None,
        at_rest_key: homeroom_e2e::TEST_KEY.to_vec(),
        face_model_path: None,
    })
    .unwrap();
    phone.sign_in(u.email(), u.password()).unwrap();
    phone.sync().unwrap();
    let kept = std::sync::Arc::new(Heard::default());
    let dropped = std::sync::Arc::new(Heard::default());
    let kept_sub = phone.subscribe_goals("a1".into(), kept.clone()).unwrap();
    let dropped_sub = phone.subscribe_goals("a1".into(), dropped.clone()).unwrap();
    for heard in [&kept, &dropped] {
        match heard.take().as_slice() {
            [GoalsUpdate::Snapshot { goals }] => {
                assert_eq!(ids(goals), vec![first.clone()]);
                assert_eq!(goals[0].title, "Shares equipment");
            }
            other => panic!("the first message is the snapshot: {other:?}"),
        }
    }

    // A new goal and a new title reach the phone in one sync: one batch, by id.
    let second = tablet
        .create_goal("a1", "Reads aloud", GoalKind::LearningGoal, Some(5))
        .unwrap();
    tablet
        .update_goal(&first, "Shares equipment with a partner", None)
        .unwrap();
    tablet.sync().unwrap();
    phone.sync().unwrap();
    for heard in [&kept, &dropped] {
        match heard.take().as_slice() {
            [GoalsUpdate::Changes {
                inserted,
                updated,
                removed,
            }] => {
                assert_eq!(ids(inserted), vec![second.clone()]);
                assert_eq!(ids(updated), vec![first.clone()]);
                assert_eq!(updated[0].title, "Shares equipment with a partner");
                assert!(removed.is_empty(), "{removed:?}");
            }
            other => panic!("one batch of changes: {other:?}"),
        }
    }
    // Nothing changed, nothing sent.
    phone.sync().unwrap();
    assert!(kept.take().is_empty());

    drop(dropped_sub);
    // a1 leaves the class: every goal of theirs leaves the family's screen.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(a1_leaves_class_a(&reqwest::Client::new(), &url));
    let _ = phone.sync();
    match kept.take().as_slice() {
        [GoalsUpdate::Changes {
            inserted,
            updated,
            removed,
        }] => {
            assert!(inserted.is_empty() && updated.is_empty());
            let mut want = vec![first, second];
            want.sort();
            let mut got = removed.clone();
            got.sort();
            assert_eq!(got, want);
        }
        other => panic!("the removal, once: {other:?}"),
    }
    assert!(
        dropped.take().is_empty(),
        "a dropped handle hears nothing more"
    );
    drop(kept_sub);
}
