//! Parent codes over HTTP (REQ-ACC-2, ACC-3): issued by the class teacher, redeemed once before
//! they expire, revoked by reissue, at most two parents per pupil, and slow to guess.

use homeroom_e2e::{api_token as token, get_json, post_anon, post_empty_as, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn issue(http: &Client, url: &str, tok: &str, pupil: &str) -> (StatusCode, Value) {
    post_empty_as(http, &format!("{url}/v1/pupils/{pupil}/parent-code"), tok).await
}

async fn redeem(http: &Client, url: &str, code: &str, email: &str) -> (StatusCode, Value) {
    let body = json!({"code": code, "email": email, "password": "a long passphrase",
                      "display_name": "New Parent"});
    post_anon(http, &format!("{url}/v1/parent-codes/redeem"), &body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_joins_once_with_the_teachers_code_and_sees_only_their_child() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await;
    let (s, code) = issue(&http, &url, &ta, "a2").await;
    assert_eq!(s, StatusCode::OK);
    let code = code["code"].as_str().unwrap().to_owned();
    assert_eq!(homeroom_protocol::codes::normalize(&code).unwrap(), code);

    // Typed in lower case with spaces: still the same code.
    let typed = code.replace('-', " ").to_lowercase();
    let (s, joined) = redeem(&http, &url, &typed, "second.parent@example.test").await;
    assert_eq!(s, StatusCode::OK, "{joined}");
    assert_eq!(joined["me"]["role"], "parent");
    let parent = joined["token"].as_str().unwrap();
    let pulled = get_json(&http, &format!("{url}/v1/pull?since=0"), parent).await;
    let pupils: Vec<&str> = pulled["directory"]["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        pupils,
        vec!["a2"],
        "linked to their child, nothing of others (REQ-ACC-5)"
    );

    // Single use.
    let (s, e) = redeem(&http, &url, &code, "someone.else@example.test").await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("code"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_class_teacher_or_leaders_issue_and_a_reissue_revokes_the_old_code() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    for who in ["sA", "tB", "pa1"] {
        let t = token(&http, &url, who).await;
        assert_eq!(
            issue(&http, &url, &t, "a1").await.0,
            StatusCode::FORBIDDEN,
            "{who}"
        );
    }
    let leader = token(&http, &url, "L").await;
    let (_, first) = issue(&http, &url, &leader, "a2").await;
    let (_, second) = issue(&http, &url, &leader, "a2").await;
    let (s, _) = redeem(
        &http,
        &url,
        first["code"].as_str().unwrap(),
        "p1@example.test",
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "the reissue revoked the first code"
    );
    let (s, _) = redeem(
        &http,
        &url,
        second["code"].as_str().unwrap(),
        "p1@example.test",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_third_parent_needs_admin_approval() {
    // REQ-ACC-3: a1 already has pa1; a second parent joins; a third waits for the admin.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await;
    let (_, c) = issue(&http, &url, &ta, "a1").await;
    assert_eq!(
        redeem(
            &http,
            &url,
            c["code"].as_str().unwrap(),
            "second@example.test"
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, c) = issue(&http, &url, &ta, "a1").await;
    let (s, e) = redeem(
        &http,
        &url,
        c["code"].as_str().unwrap(),
        "third@example.test",
    )
    .await;
    // Not a link: a request the admin decides (tests/parent_requests.rs follows it through).
    assert_eq!(s, StatusCode::ACCEPTED, "{e}");
    assert_eq!(e["status"], "awaiting_approval");
    assert!(e["message"].as_str().unwrap().contains("approve"));
}

#[tokio::test(flavor = "multi_thread")]
async fn mistyped_expired_and_guessed_codes_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let (http, url) = (Client::new(), server.url());
    // A look-alike is named, not guessed at.
    let (s, e) = redeem(&http, &url, "ABCD-EFGH-JKMN-P0", "x@example.test").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("no 0, O, 1, I or L"));

    // An expired code gets the same answer as a wrong one.
    let ta = token(&http, &url, "tA").await;
    let (_, c) = issue(&http, &url, &ta, "a2").await;
    let pool = homeroom_e2e::server_db(&server_dir).await;
    sqlx::query("UPDATE parent_codes SET expires_at = '2000-01-01T00:00:00+00:00'")
        .execute(&pool)
        .await
        .unwrap();
    let (s, e) = redeem(
        &http,
        &url,
        c["code"].as_str().unwrap(),
        "late@example.test",
    )
    .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("code"))
    );

    // Guessing: 60 attempts a minute per client (two were made above), then refusals — the
    // limiter refills one a second, so allow a refill or two while this loop runs.
    let mut statuses = Vec::new();
    for i in 0..70 {
        let (s, _) = redeem(
            &http,
            &url,
            "ABCD-EFGH-JKMN-PQ",
            &format!("g{i}@example.test"),
        )
        .await;
        statuses.push(s);
    }
    assert!(
        statuses[..58]
            .iter()
            .all(|s| *s != StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        statuses[58..62].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count()
            >= 8
    );
}

#[test]
fn through_the_core_a_teacher_issues_and_a_parent_joins_and_sees_their_child() {
    use homeroom_core::CoreError;
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = homeroom_e2e::signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let code = tablet.issue_parent_code("a2").unwrap().code;
    // Support staff's core refuses before asking the server (REQ-ACC-2, ACC-7).
    let support = homeroom_e2e::signed_in(&server.url(), &tmp.path().join("support"), "sA");
    support.sync().unwrap();
    assert!(matches!(
        support.issue_parent_code("a2"),
        Err(CoreError::NotAllowed(_))
    ));

    let phone = homeroom_e2e::device(&server.url(), &tmp.path().join("phone"));
    // A mistyped look-alike is explained on the phone; nothing is sent.
    let typo = format!("{}0", &code[..code.len() - 1]);
    let err = phone
        .join_with_parent_code(&typo, "new@example.test", "a long passphrase", "Kim")
        .unwrap_err();
    assert!(err.to_string().contains("no 0, O, 1, I or L"), "{err}");
    let me = phone
        .join_with_parent_code(
            &code.to_lowercase(),
            "new@example.test",
            "a long passphrase",
            "Kim",
        )
        .unwrap();
    assert_eq!(me.display_name, "Kim");
    tablet
        .award_points(&["a2".into()], "classA-teamwork", Some("welcome"))
        .unwrap();
    tablet.sync().unwrap();
    phone.sync().unwrap();
    assert_eq!(
        phone.points_for("a2").unwrap()[0].record.note.as_deref(),
        Some("welcome")
    );
    assert!(phone.points_for("a1").is_err(), "nothing of other pupils");
}
