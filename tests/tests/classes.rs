//! Creating a class over real HTTP (REQ-ACC-1): teachers create classes they teach, the admin and
//! leaders name the teachers; the new class reaches its teacher's tablet with skills ready for an
//! award; bad input is a JSON 400 naming the field and writes nothing; each creation is audited.

use homeroom_e2e::{api_token, get_json, post_as, server_db, signed_in, table_counts, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn class_rows(dir: &std::path::Path) -> Vec<i64> {
    table_counts(dir, &["classes", "class_staff", "skills"]).await
}

async fn create(http: &Client, url: &str, tok: &str, body: &Value) -> (StatusCode, Value) {
    post_as(http, &format!("{url}/v1/classes"), tok, body).await
}

#[test]
fn the_admin_creates_a_class_and_its_teacher_awards_a_point_in_it_from_the_tablet() {
    // REQ-ACC-1 (create a class, add a pupil), REQ-PTS-2 (award), REQ-OFF-1 (directory sync).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh(&dir);
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = Client::new();
    let h = rt.block_on(api_token(&http, &url, "H"));
    let body = json!({"name": "  Class C (Year 5) ", "teacher_ids": ["tB", "tB"], "staff_ids": ["sA"],
                      "show_points_to_parents": false});
    let (s, created) = rt.block_on(create(&http, &url, &h, &body));
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "Class C (Year 5)");
    assert_eq!(created["teacher_ids"], json!(["tB"]), "named once");
    assert_eq!(created["staff_ids"], json!(["sA"]));
    assert_eq!(created["show_points_to_parents"], false);
    assert!(created["skills"].as_u64().unwrap() > 0);
    let class_id = created["class_id"].as_str().unwrap().to_owned();
    let (s, pupil) = rt.block_on(post_as(
        &http,
        &format!("{url}/v1/classes/{class_id}/pupils"),
        &h,
        &json!({"display_name": "Zoe"}),
    ));
    assert_eq!(s, StatusCode::CREATED, "{pupil}");
    let zoe = pupil["pupil_id"].as_str().unwrap().to_owned();

    let tablet = signed_in(&url, &tmp.path().join("tablet"), "tB");
    tablet.sync().unwrap();
    let directory = tablet.directory().unwrap().unwrap();
    let class = directory
        .classes
        .iter()
        .find(|c| c.id == class_id)
        .expect("the new class is on its teacher's tablet");
    assert_eq!(class.name, "Class C (Year 5)");
    assert!(!class.show_points_to_parents);
    let skill = directory
        .skills
        .iter()
        .find(|s| s.class_id == class_id)
        .expect("the class's skills came with it")
        .id
        .clone();
    tablet
        .award_points(std::slice::from_ref(&zoe), &skill, Some("first day"))
        .unwrap();
    let pushed = tablet.sync().unwrap();
    assert_eq!((pushed.sent, pushed.refused.len()), (1, 0), "{pushed:?}");
    let db = rt.block_on(server_db(&dir));
    let awards: i64 = rt
        .block_on(
            sqlx::query_scalar("SELECT COUNT(*) FROM awards WHERE pupil_id = $1 AND class_id = $2")
                .bind(&zoe)
                .bind(&class_id)
                .fetch_one(&db),
        )
        .unwrap();
    assert_eq!(awards, 1, "the award reached the server");
    // Another class's teacher does not see it (REQ-ACC-5).
    let other = signed_in(&url, &tmp.path().join("other"), "tA");
    other.sync().unwrap();
    let theirs = other.directory().unwrap().unwrap();
    assert!(theirs.classes.iter().all(|c| c.id != class_id));
    // On the audit record.
    let audit = rt.block_on(get_json(&http, &format!("{url}/v1/audit"), &h));
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "create_class"
            && e["target"] == class_id.as_str()
            && e["actor_id"] == "H"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_teaches_the_class_they_create_and_nobody_else_may_create_one() {
    // REQ-ACC-1: teachers create classes; support staff, parents and pupils do not.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh(&dir);
    let (http, url) = (Client::new(), server.url());
    let ta = api_token(&http, &url, "tA").await;
    let (s, created) = create(&http, &url, &ta, &json!({"name": "Reading club"})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["teacher_ids"], json!(["tA"]));
    assert_eq!(created["show_points_to_parents"], true);
    let class_id = created["class_id"].as_str().unwrap();
    let (s, b) = post_as(
        &http,
        &format!("{url}/v1/classes/{class_id}/pupils"),
        &ta,
        &json!({"display_name": "Ava"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "the creator owns the class: {b}");

    let before = class_rows(&dir).await;
    // (Another school's teacher is refused by the rule itself: protocol/tests/access_policy.rs.)
    for who in ["sA", "pa1", "a1"] {
        let tok = api_token(&http, &url, who).await;
        let (s, e) = create(&http, &url, &tok, &json!({"name": "Sneaky class"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {e}");
        assert_eq!(e["error"], "forbidden", "{who}: {e}");
    }
    assert_eq!(class_rows(&dir).await, before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_class_input_is_a_json_400_naming_the_field_and_writes_nothing() {
    // REQ-ACC-1 with issue 5's bad input: names, people of the wrong role or school, unknown fields.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh(&dir);
    let (http, url) = (Client::new(), server.url());
    let h = api_token(&http, &url, "H").await;
    let before = class_rows(&dir).await;
    let too_many: Vec<String> = (0..21).map(|_| "tA".to_owned()).collect();
    for (body, field) in [
        (json!({"name": "   "}), Some("name")),
        (json!({"name": "x".repeat(81)}), Some("name")),
        (json!({"name": "Class\u{0}D"}), Some("name")),
        (
            json!({"name": "Class D", "teacher_ids": ["pa1"]}),
            Some("teacher_ids"),
        ),
        (
            json!({"name": "Class D", "teacher_ids": ["sA"]}),
            Some("teacher_ids"),
        ),
        (
            json!({"name": "Class D", "teacher_ids": ["X"]}),
            Some("teacher_ids"),
        ),
        (
            json!({"name": "Class D", "teacher_ids": ["'; DROP TABLE classes; --"]}),
            Some("teacher_ids"),
        ),
        (
            json!({"name": "Class D", "staff_ids": ["tA"]}),
            Some("staff_ids"),
        ),
        (
            json!({"name": "Class D", "teacher_ids": too_many}),
            Some("teacher_ids"),
        ),
        (json!({"name": "Class D", "school_id": "riverside"}), None),
        (json!({"name": 7}), None),
    ] {
        let (s, e) = create(&http, &url, &h, &body).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{body}: {e}"
        );
        if let Some(field) = field {
            assert_eq!(e["field"], field, "{body}: {e}");
        }
    }
    assert_eq!(class_rows(&dir).await, before, "nothing was written");
}
