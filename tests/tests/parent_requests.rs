//! A third parent only with the admin's approval (REQ-ACC-3): redeeming a code for a pupil who
//! already has two parents makes a pending request, not a link; the admin lists, approves or
//! declines it (audit-logged); once approved, the parent's pull sees the child and their points.

use homeroom_e2e::{api_token, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "a long passphrase";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

async fn call(
    http: &Client,
    method: reqwest::Method,
    url: String,
    tok: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = http.request(method, url);
    if let Some(t) = tok {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

/// A fresh code for `pupil` from their class teacher, redeemed by a new parent at `email`.
async fn join(http: &Client, url: &str, pupil: &str, email: &str) -> (StatusCode, Value) {
    let ta = api_token(http, url, "tA").await;
    let (_, code) = call(
        http,
        reqwest::Method::POST,
        format!("{url}/v1/pupils/{pupil}/parent-code"),
        Some(&ta),
        None,
    )
    .await;
    call(
        http,
        reqwest::Method::POST,
        format!("{url}/v1/parent-codes/redeem"),
        None,
        Some(json!({"code": code["code"], "email": email, "password": PASSWORD, "display_name": "Third Parent"})),
    )
    .await
}

async fn sign_in(http: &Client, url: &str, email: &str) -> (StatusCode, Value) {
    call(
        http,
        reqwest::Method::POST,
        format!("{url}/v1/sessions"),
        None,
        Some(json!({"method": "password", "email": email, "password": PASSWORD})),
    )
    .await
}

async fn requests(http: &Client, url: &str, tok: &str, query: &str) -> (StatusCode, Value) {
    call(
        http,
        reqwest::Method::GET,
        format!("{url}/v1/parent-requests{query}"),
        Some(tok),
        None,
    )
    .await
}

async fn decide(http: &Client, url: &str, tok: &str, id: &str, verb: &str) -> (StatusCode, Value) {
    call(
        http,
        reqwest::Method::POST,
        format!("{url}/v1/parent-requests/{id}/{verb}"),
        Some(tok),
        None,
    )
    .await
}

async fn audit_actions(http: &Client, url: &str, tok: &str) -> Vec<(String, String)> {
    let (_, log) = call(
        http,
        reqwest::Method::GET,
        format!("{url}/v1/audit"),
        Some(tok),
        None,
    )
    .await;
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_third_parent_waits_for_the_admin_and_after_approval_their_pull_sees_the_child() {
    // REQ-ACC-3: a1 has pa1; a second parent links at once; a third waits for the admin.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let rt = runtime();
    let http = Client::new();
    let tablet = homeroom_e2e::signed_in(&url, &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("before approval"))
        .unwrap();
    tablet.sync().unwrap();

    let request_id = rt.block_on(async {
        let (s, second) = join(&http, &url, "a1", "second@example.test").await;
        assert_eq!(s, StatusCode::OK, "{second}");
        let (s, pending) = join(&http, &url, "a1", "third@example.test").await;
        assert_eq!(s, StatusCode::ACCEPTED, "{pending}");
        assert_eq!(pending["status"], "awaiting_approval");
        assert!(
            pending["message"].as_str().unwrap().contains("approve"),
            "{pending}"
        );
        assert!(
            pending.get("token").is_none(),
            "no session before approval: {pending}"
        );
        // No session yet, with a reason the app can show.
        let (s, e) = sign_in(&http, &url, "third@example.test").await;
        assert_eq!(
            (s, e["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("awaiting_approval"))
        );

        // Only the admin sees and decides requests; nobody else learns one exists.
        for who in ["L", "tA", "pa1"] {
            let t = api_token(&http, &url, who).await;
            assert_eq!(
                requests(&http, &url, &t, "").await.0,
                StatusCode::FORBIDDEN,
                "{who}"
            );
            let id = pending["request_id"].as_str().unwrap();
            let (s, e) = decide(&http, &url, &t, id, "approve").await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {e}");
        }
        let h = api_token(&http, &url, "H").await;
        let (s, list) = requests(&http, &url, &h, "").await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1);
        let req = &list[0];
        assert_eq!(req["id"], pending["request_id"]);
        assert_eq!(req["pupil_id"], "a1");
        assert_eq!(req["parent_email"], "third@example.test");
        assert_eq!(req["status"], "pending");
        assert_eq!(req["linked_parents"].as_array().unwrap().len(), 2);
        let id = req["id"].as_str().unwrap().to_owned();

        let (s, decided) = decide(&http, &url, &h, &id, "approve").await;
        assert_eq!(s, StatusCode::OK, "{decided}");
        assert_eq!(decided["status"], "approved");
        let parent_id = decided["parent_id"].as_str().unwrap();
        assert!(audit_actions(&http, &url, &h)
            .await
            .contains(&("approve_parent_link".into(), format!("a1/{parent_id}"))));
        // Decided once: a second decision is a conflict, and the list of pending is empty.
        assert_eq!(
            decide(&http, &url, &h, &id, "decline").await.0,
            StatusCode::CONFLICT
        );
        assert_eq!(requests(&http, &url, &h, "").await.1, json!([]));
        let (_, approved) = requests(&http, &url, &h, "?status=approved").await;
        assert_eq!(approved.as_array().unwrap().len(), 1);
        assert_eq!(
            requests(&http, &url, &h, "?status=maybe").await.0,
            StatusCode::BAD_REQUEST
        );
        id
    });
    assert!(!request_id.is_empty());

    // The parent signs in; the first pull brings the child and the child's earlier points.
    let phone = homeroom_e2e::device(&url, &tmp.path().join("phone"));
    phone.sign_in("third@example.test", PASSWORD).unwrap();
    phone.sync().unwrap();
    let pupils: Vec<String> = phone
        .directory()
        .unwrap()
        .unwrap()
        .pupils
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(pupils, vec!["a1".to_owned()]);
    let notes: Vec<Option<String>> = phone
        .points_for("a1")
        .unwrap()
        .into_iter()
        .map(|p| p.record.note)
        .collect();
    assert!(notes.contains(&Some("before approval".into())), "{notes:?}");
    assert!(
        phone.points_for("a2").is_err(),
        "nothing of other pupils (REQ-ACC-5)"
    );
}

#[test]
fn a_declined_third_parent_stays_unlinked_and_a_leaving_pupil_withdraws_requests() {
    // REQ-ACC-3: declining is audit-logged and links nothing; the pupil leaving (ACC-1) ends a
    // pending request, and erasing the pupil (PRV-4) removes the requests with them.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let rt = runtime();
    let http = Client::new();
    rt.block_on(async {
        assert_eq!(
            join(&http, &url, "a1", "second@example.test").await.0,
            StatusCode::OK
        );
        let (_, first) = join(&http, &url, "a1", "third@example.test").await;
        let (_, other) = join(&http, &url, "a1", "fourth@example.test").await;
        let h = api_token(&http, &url, "H").await;
        let (_, list) = requests(&http, &url, &h, "").await;
        assert_eq!(list.as_array().unwrap().len(), 2);

        let id = first["request_id"].as_str().unwrap();
        let (s, decided) = decide(&http, &url, &h, id, "decline").await;
        assert_eq!(
            (s, decided["status"].as_str()),
            (StatusCode::OK, Some("declined"))
        );
        let parent_id = decided["parent_id"].as_str().unwrap();
        assert!(audit_actions(&http, &url, &h)
            .await
            .contains(&("decline_parent_link".into(), format!("a1/{parent_id}"))));
        let (s, e) = sign_in(&http, &url, "third@example.test").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "declined: still no session");
        assert!(
            e["message"].as_str().unwrap().contains("not approved"),
            "{e}"
        );
        assert_eq!(
            decide(&http, &url, &h, id, "approve").await.0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            decide(&http, &url, &h, "no-such-request", "approve")
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // a1 leaves: the other pending request is withdrawn, and cannot be approved any more.
        let ta = api_token(&http, &url, "tA").await;
        let (s, _) = call(
            &http,
            reqwest::Method::DELETE,
            format!("{url}/v1/classes/classA/pupils/a1"),
            Some(&ta),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (_, list) = requests(&http, &url, &h, "?status=withdrawn").await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        let other_id = other["request_id"].as_str().unwrap();
        assert_ne!(
            decide(&http, &url, &h, other_id, "approve").await.0,
            StatusCode::OK
        );
        // Erasure still works with requests on file, and takes them along.
        let (s, e) = call(
            &http,
            reqwest::Method::DELETE,
            format!("{url}/v1/pupils/a1"),
            Some(&h),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let (_, all) = requests(&http, &url, &h, "?status=all").await;
        assert_eq!(all, json!([]));
    });
}

#[test]
fn through_the_core_a_third_parent_is_told_the_school_must_approve() {
    // REQ-ACC-3 on the phone: the join is not an error the app cannot explain, and no session
    // is kept while the request waits.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let http = Client::new();
    runtime().block_on(async {
        assert_eq!(
            join(&http, &url, "a1", "second@example.test").await.0,
            StatusCode::OK
        );
    });
    let tablet = homeroom_e2e::signed_in(&url, &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    let code = tablet.issue_parent_code("a1").unwrap().code;
    let phone = homeroom_e2e::device(&url, &tmp.path().join("phone"));
    let err = phone
        .join_with_parent_code(&code, "third@example.test", PASSWORD, "Kim")
        .unwrap_err();
    assert!(
        matches!(err, homeroom_core::CoreError::Server { status: 202, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("approve"), "{err}");
    assert!(matches!(
        phone.sync(),
        Err(homeroom_core::CoreError::NotSignedIn)
    ));
}
