//! Membership and data protection over real HTTP (REQ-ACC-1, ACC-5, PRV-4): pupils join and
//! leave classes, a family leaves with its child and its devices purge the child, a pupil who
//! has left is exported and erased, and leadership actions land in the audit log.

use homeroom_e2e::{api_token as token, cached_awards, TestServer};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const MATRIX: &str = include_str!("../../../shared/policy/access-matrix.csv");

async fn call(
    http: &Client,
    method: Method,
    url: &str,
    tok: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut r = http.request(method, url).bearer_auth(tok);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let s = resp.status();
    (s, resp.text().await.unwrap())
}

async fn add_pupil(
    http: &Client,
    url: &str,
    tok: &str,
    class: &str,
    name: &str,
) -> (StatusCode, Value) {
    let (s, body) = call(
        http,
        Method::POST,
        &format!("{url}/v1/classes/{class}/pupils"),
        tok,
        Some(json!({"display_name": name})),
    )
    .await;
    (s, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn membership_and_data_protection_rows_of_the_access_matrix_hold_over_http() {
    // REQ-ACC-1, ACC-6 (leaders), PRV-4: every add_pupil, remove_pupil, export_pupil and
    // erase_pupil row, through the real API. Deny rows run first: the allow rows change data.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await;
    let rows: Vec<Vec<&str>> = MATRIX
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| ["add_pupil", "remove_pupil", "export_pupil", "erase_pupil"].contains(&f[1]))
        .collect();
    let mut ordered: Vec<&Vec<&str>> = rows.iter().filter(|f| f[3] == "deny").collect();
    ordered.extend(rows.iter().filter(|f| f[3] == "allow"));
    let mut tokens = std::collections::HashMap::new();
    let mut failures = Vec::new();
    for f in ordered {
        let (actor, action, target, allow) = (f[0], f[1], f[2], f[3] == "allow");
        if !tokens.contains_key(actor) {
            tokens.insert(actor, token(&http, &url, actor).await);
        }
        let tok = tokens[actor].clone();
        let (status, body) = match action {
            "add_pupil" => {
                let (s, v) = add_pupil(&http, &url, &tok, target, "Matrix Pupil").await;
                (s, v.to_string())
            }
            "remove_pupil" => {
                // A pupil of the class to remove, added by its teacher for this row.
                let (s, added) = add_pupil(&http, &url, &ta, target, "Leaving Pupil").await;
                assert_eq!(s, StatusCode::CREATED);
                let id = added["pupil_id"].as_str().unwrap();
                call(
                    &http,
                    Method::DELETE,
                    &format!("{url}/v1/classes/{target}/pupils/{id}"),
                    &tok,
                    None,
                )
                .await
            }
            "export_pupil" => {
                call(
                    &http,
                    Method::GET,
                    &format!("{url}/v1/pupils/{target}/export"),
                    &tok,
                    None,
                )
                .await
            }
            _ => {
                call(
                    &http,
                    Method::DELETE,
                    &format!("{url}/v1/pupils/{target}"),
                    &tok,
                    None,
                )
                .await
            }
        };
        let got_allow = status.is_success();
        if got_allow != allow {
            failures.push(format!("{}: got {status} {body}", f.join(",")));
        }
        if !allow {
            // Nothing of the target in a refusal: no names, no parents, no points.
            for secret in ["Amara", "Dev", "Omar", "Kofi", "@greenfield"] {
                if body.contains(secret) {
                    failures.push(format!("{}: refusal leaks {secret}: {body}", f.join(",")));
                }
            }
        }
    }
    assert_eq!(
        rows.len(),
        11,
        "every membership and data-protection row is checked"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_a_pupil_checks_the_name_and_hands_out_a_working_pupil_code() {
    // REQ-ACC-1 (mid-year), ACC-4 (pupil codes issued by the teacher).
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await;
    let (s, v) = add_pupil(&http, &url, &ta, "classA", "   ").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "display_name");
    let (s, v) = add_pupil(&http, &url, &ta, "classA", &"x".repeat(81)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, body) = call(
        &http,
        Method::POST,
        &format!("{url}/v1/classes/classA/pupils"),
        &ta,
        Some(json!({"display_name": "Zara", "class": "classB"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused: {body}"
    );

    let (s, added) = add_pupil(&http, &url, &ta, "classA", "  Zara Okafor ").await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(added["display_name"], "Zara Okafor");
    let code = added["pupil_code"].as_str().unwrap();
    let me: Value = http
        .post(format!("{url}/v1/sessions"))
        .json(&json!({"method": "pupil_code", "code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["me"]["role"], "pupil", "{me}");
    assert_eq!(me["me"]["display_name"], "Zara Okafor");
}

#[test]
fn removing_a_pupil_takes_their_family_out_and_the_familys_phone_purges_them() {
    // REQ-ACC-1, ACC-5: the family leaves with the pupil; the phone's SQLite file forgets them.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = Client::new();
    let ta = rt.block_on(token(&http, &url, "tA"));
    let (_, added) = rt.block_on(add_pupil(&http, &url, &ta, "classA", "Zara"));
    let zara = added["pupil_id"].as_str().unwrap().to_owned();
    let pupil_code = added["pupil_code"].as_str().unwrap().to_owned();

    let tablet = homeroom_e2e::signed_in(&url, &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let parent_code = tablet.issue_parent_code(&zara).unwrap().code;
    let phone_dir = tmp.path().join("phone");
    let phone = homeroom_e2e::device(&url, &phone_dir);
    phone
        .join_with_parent_code(
            &parent_code,
            "zara.parent@example.test",
            "a long passphrase",
            "Ngozi",
        )
        .unwrap();
    let child = homeroom_e2e::device(&url, &tmp.path().join("child"));
    child.sign_in_with_pupil_code(&pupil_code).unwrap();

    tablet
        .award_points(
            std::slice::from_ref(&zara),
            "classA-teamwork",
            Some("first day, helped a friend"),
        )
        .unwrap();
    tablet.sync().unwrap();
    phone.sync().unwrap();
    child.sync().unwrap();
    assert_eq!(phone.points_for(&zara).unwrap().len(), 1);
    assert_eq!(child.points_for(&zara).unwrap().len(), 1);
    assert_eq!(cached_awards(&phone_dir, &zara), 1);

    let (s, body) = rt.block_on(call(
        &http,
        Method::DELETE,
        &format!("{url}/v1/classes/classA/pupils/{zara}"),
        &ta,
        None,
    ));
    assert_eq!(s, StatusCode::OK, "{body}");
    let removed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(removed["parents_removed"].as_array().unwrap().len(), 1);

    // The family's phone: nothing of Zara after the next sync — not on screen, not on disk.
    phone.sync().unwrap();
    match phone.points_for(&zara) {
        Ok(points) => assert!(points.is_empty()),
        Err(e) => assert!(matches!(e, homeroom_core::CoreError::NotAllowed(_)), "{e}"),
    }
    assert_eq!(cached_awards(&phone_dir, &zara), 0);
    let dir = phone.directory().unwrap().unwrap();
    assert!(dir.pupils.iter().all(|p| p.id != zara), "{:?}", dir.pupils);
    // The pupil's own sessions ended with the removal.
    assert!(child.sync().is_err());
    // Removing twice finds nothing; the teacher of another class cannot even try.
    let (s, _) = rt.block_on(call(
        &http,
        Method::DELETE,
        &format!("{url}/v1/classes/classA/pupils/{zara}"),
        &ta,
        None,
    ));
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pupil_who_left_is_exported_then_erased_and_both_are_audited() {
    // REQ-PRV-4: subject access export, then erasure of a pupil who has left (a3); audit log.
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let (http, url) = (Client::new(), server.url());
    let h = token(&http, &url, "H").await;
    let ta = token(&http, &url, "tA").await;
    // a3 had points while in class A: put one on record directly, as history would have.
    let pool = homeroom_e2e::server_db(&server_dir).await;
    sqlx::query(
        "INSERT INTO awards (id, school_id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at)
         VALUES ($1, 'greenfield', 'a3', 'classA', 'classA-teamwork', 1, 'kind to a new pupil', 'tA', $2)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(chrono::Utc::now().to_rfc3339())
    .execute(&pool)
    .await
    .unwrap();

    let (s, body) = call(
        &http,
        Method::GET,
        &format!("{url}/v1/pupils/a3/export"),
        &h,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let export: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(export["pupil_id"], "a3");
    assert_eq!(export["display_name"], "Dev");
    assert_eq!(export["parents"][0]["id"], "pa3");
    assert_eq!(export["awards"][0]["note"], "kind to a new pupil");

    let (s, body) = call(
        &http,
        Method::DELETE,
        &format!("{url}/v1/pupils/a3"),
        &h,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let erased: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(erased["awards_deleted"], 1);
    assert_eq!(erased["parent_links_deleted"], 1);
    for table in ["awards", "parent_links", "parent_codes"] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE pupil_id = 'a3'"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table} still holds a3");
    }
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = 'a3' OR pupil_id = 'a3'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(n, 0, "the pupil's account is gone");
    let (s, _) = call(
        &http,
        Method::GET,
        &format!("{url}/v1/pupils/a3/export"),
        &h,
        None,
    )
    .await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
        "{s}"
    );
    // A pupil still in a class cannot be erased, even by the admin.
    let (s, _) = call(
        &http,
        Method::DELETE,
        &format!("{url}/v1/pupils/a1"),
        &h,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, body) = call(&http, Method::GET, &format!("{url}/v1/audit"), &h, None).await;
    assert_eq!(s, StatusCode::OK);
    let log: Value = serde_json::from_str(&body).unwrap();
    let actions: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(actions, vec![("erase_pupil", "H"), ("export_pupil", "H")]);
    let (s, _) = call(&http, Method::GET, &format!("{url}/v1/audit"), &ta, None).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a teacher does not read the audit log"
    );
}
