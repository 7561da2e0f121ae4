//! Learning goals and EHCP outcomes (REQ-PTS-8) end to end: staff set and link goals through the
//! push path, families and the pupil see progress per goal in the report, nobody else sees the
//! goal at all, offline goals sync exactly once, and a pupil's goals leave a family's phone when
//! the pupil leaves and the server when the pupil is erased.

use chrono::Utc;
use homeroom_e2e::{api_token, get_as, get_json, post_as, signed_in, TestServer};
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
        (1, Some(50))
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
    assert_eq!(
        g.progress,
        from_server["goals"][0]["progress"].as_i64().unwrap()
    );
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
    rt.block_on(async {
        let ta = api_token(&http, &url, "tA").await;
        let r = http
            .delete(format!("{url}/v1/classes/classA/pupils/a1"))
            .bearer_auth(&ta)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    });
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
