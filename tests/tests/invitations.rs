//! Email invitations over HTTP and real SMTP (REQ-ACC-2): the class teacher emails a family a
//! parent code; the test's own SMTP sink on loopback receives the message, and the code in it
//! redeems. A failed delivery is a clear error that neither burns nor leaks a code; hostile
//! input is refused before anything is sent.

use std::path::Path;

use homeroom_e2e::smtp_sink::{SinkMode, SmtpSink, SINK_FROM};
use homeroom_e2e::{api_token, get_json, post_anon, post_as, post_empty_as, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// The first parent code in `text`, as the app would read it.
fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>')
        .filter(|w| w.len() == homeroom_protocol::codes::CODE_LEN + 3)
        .find_map(|w| homeroom_protocol::codes::normalize(w).ok())
}

async fn invite(
    http: &Client,
    url: &str,
    tok: &str,
    pupil: &str,
    body: Value,
) -> (StatusCode, Value) {
    post_as(
        http,
        &format!("{url}/v1/pupils/{pupil}/parent-invitations"),
        tok,
        &body,
    )
    .await
}

async fn redeem(http: &Client, url: &str, code: &str, email: &str) -> (StatusCode, Value) {
    let body = json!({"code": code, "email": email, "password": "a long passphrase",
                      "display_name": "Invited Parent"});
    post_anon(http, &format!("{url}/v1/parent-codes/redeem"), &body).await
}

/// Unused, unrevoked codes the server holds for `pupil`.
async fn live_codes(server_dir: &Path, pupil: &str) -> i64 {
    let db = homeroom_e2e::server_db(server_dir).await;
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM parent_codes WHERE pupil_id = $1 AND revoked = 0 AND used_at IS NULL",
    )
    .bind(pupil)
    .fetch_one(&db)
    .await
    .unwrap()
}

async fn all_codes(server_dir: &Path) -> i64 {
    let db = homeroom_e2e::server_db(server_dir).await;
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM parent_codes")
        .fetch_one(&db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_emails_a_parent_code_and_the_code_in_the_mail_redeems() {
    // REQ-ACC-2: the invitation carries the code; the server renders it; SMTP delivers it.
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh_with_smtp(&tmp.path().join("server"), sink.config());
    let (http, url) = (Client::new(), server.url());
    let ta = api_token(&http, &url, "tA").await;
    // A code handed out earlier on paper: the invitation replaces it (one live code per pupil).
    let (s, paper) = post_empty_as(&http, &format!("{url}/v1/pupils/a2/parent-code"), &ta).await;
    assert_eq!(s, StatusCode::OK, "{paper}");

    let (s, sent) = invite(
        &http,
        &url,
        &ta,
        "a2",
        json!({"email": " Parent.Two@Example.test ", "name": "Mrs Okafor"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    assert_eq!(sent["email"], "parent.two@example.test");
    assert_eq!(sent["pupil_id"], "a2");
    assert!(
        code_in(&sent.to_string()).is_none(),
        "the code is only in the mail: {sent}"
    );

    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, vec!["parent.two@example.test".to_owned()]);
    assert_eq!(mail.mail_from, SINK_FROM);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Your invitation to join Greenfield Primary on Homeroom")
    );
    let to = mail.header("To").unwrap();
    assert!(
        to.contains("Mrs Okafor") && to.contains("parent.two@example.test"),
        "{to}"
    );
    assert!(mail.header("From").unwrap().contains("Greenfield Primary"));
    let text = mail.part("text/plain").expect("a plain-text part");
    let html = mail.part("text/html").expect("an HTML part");
    assert!(text.starts_with("Dear Mrs Okafor,"), "{text}");
    for body in [&text, &html] {
        assert!(body.contains("Ben"), "the pupil by first name: {body}");
        assert!(body.contains("expires on"), "{body}");
        assert!(
            body.contains("I have a parent code"),
            "how to redeem: {body}"
        );
        for other in ["Amira", "Chloe", "Dev"] {
            assert!(!body.contains(other), "no other child's data: {body}");
        }
    }
    let code = code_in(&text).expect("a code in the text part");
    assert_eq!(
        code_in(&html).as_deref(),
        Some(code.as_str()),
        "same code in both parts"
    );

    // The paper code stopped working; the mailed one redeems, once (REQ-ACC-2).
    let (s, _) = redeem(
        &http,
        &url,
        paper["code"].as_str().unwrap(),
        "paper@example.test",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, joined) = redeem(&http, &url, &code, "parent.two@example.test").await;
    assert_eq!(s, StatusCode::OK, "{joined}");
    let parent = joined["token"].as_str().unwrap();
    let pulled = get_json(&http, &format!("{url}/v1/pull?since=0"), parent).await;
    let pupils: Vec<&str> = pulled["directory"]["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(pupils, vec!["a2"]);
    let (s, _) = redeem(&http, &url, &code, "again@example.test").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "single use");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delivery_is_a_clear_error_that_neither_burns_nor_leaks_a_code() {
    // REQ-ACC-2: the family's earlier code still works; no undelivered code stays redeemable.
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh_with_smtp(&dir, sink.config());
    let (http, url) = (Client::new(), server.url());
    let ta = api_token(&http, &url, "tA").await;
    let (s, earlier) = post_empty_as(&http, &format!("{url}/v1/pupils/a2/parent-code"), &ta).await;
    assert_eq!(s, StatusCode::OK, "{earlier}");
    let codes_before = all_codes(&dir).await;

    for (mode, why) in [
        (SinkMode::RejectRecipients, "refused"),
        (SinkMode::RejectData, "refused"),
    ] {
        sink.set_mode(mode);
        let (s, e) = invite(
            &http,
            &url,
            &ta,
            "a2",
            json!({"email": "family@example.test"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_GATEWAY, "{mode:?}: {e}");
        assert_eq!(e["error"], "mail_not_sent");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains(why) && message.contains("earlier code still works"),
            "{message}"
        );
        assert!(
            code_in(&e.to_string()).is_none(),
            "no code in the error: {e}"
        );
        assert_eq!(
            all_codes(&dir).await,
            codes_before,
            "{mode:?}: the undelivered code is gone"
        );
        assert_eq!(
            live_codes(&dir, "a2").await,
            1,
            "{mode:?}: the earlier code is not burned"
        );
    }
    assert!(sink.received().is_empty());

    // A mail server that is not there at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut gone = sink.config();
    gone.port = closed.local_addr().unwrap().port();
    drop(closed);
    let tmp2 = tempfile::tempdir().unwrap();
    let dir2 = tmp2.path().join("server");
    let other = TestServer::fresh_with_smtp(&dir2, gone);
    let ta2 = api_token(&http, &other.url(), "tA").await;
    let (s, e) = invite(
        &http,
        &other.url(),
        &ta2,
        "a1",
        json!({"email": "family@example.test"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{e}"
    );
    assert_eq!(all_codes(&dir2).await, 0);

    // The earlier code still redeems; the server kept serving throughout.
    let (s, joined) = redeem(
        &http,
        &url,
        earlier["code"].as_str().unwrap(),
        "family@example.test",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{joined}");
    // And once the mail server takes mail again, an invitation goes out.
    sink.set_mode(SinkMode::Accept);
    let (s, _) = invite(
        &http,
        &url,
        &ta,
        "a1",
        json!({"email": "other.family@example.test"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_or_invalid_invitations_are_refused_and_nothing_is_sent() {
    // REQ-ACC-2, issue 5 "Bad input": header injection and bad addresses get a clear 4xx.
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh_with_smtp(&dir, sink.config());
    let (http, url) = (Client::new(), server.url());
    let ta = api_token(&http, &url, "tA").await;
    let cases = [
        (
            json!({"email": "a@example.test\r\nBcc: everyone@example.test"}),
            "email",
        ),
        (
            json!({"email": "a@example.test\nBcc: everyone@example.test"}),
            "email",
        ),
        (json!({"email": "a@example.test, b@example.test"}), "email"),
        (json!({"email": "Kim <kim@example.test>"}), "email"),
        (json!({"email": "not an address"}), "email"),
        (json!({"email": ""}), "email"),
        (
            json!({"email": format!("{}@example.test", "a".repeat(300))}),
            "email",
        ),
        (
            json!({"email": "kim@example.test", "name": "Kim\r\nBcc: everyone@example.test"}),
            "name",
        ),
        (
            json!({"email": "kim@example.test", "name": "Kim <evil@example.test>"}),
            "name",
        ),
        (json!({"email": "kim@example.test", "name": " "}), "name"),
    ];
    for (body, field) in cases {
        let (s, e) = invite(&http, &url, &ta, "a1", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    // Unknown fields and a wrong type are refused too.
    let (s, _) = invite(
        &http,
        &url,
        &ta,
        "a1",
        json!({"email": "kim@example.test", "cc": "x@example.test"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = invite(
        &http,
        &url,
        &ta,
        "a1",
        json!({"email": ["kim@example.test"]}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Only the class teacher or leaders invite (IssueParentCode); a pupil elsewhere is refused.
    for who in ["sA", "tB", "pa1"] {
        let t = api_token(&http, &url, who).await;
        let (s, _) = invite(&http, &url, &t, "a1", json!({"email": "kim@example.test"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    let (s, _) = invite(&http, &url, &ta, "b1", json!({"email": "kim@example.test"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(sink.received().is_empty(), "nothing was sent");
    assert_eq!(all_codes(&dir).await, 0, "nothing was written");
    // The server keeps serving.
    let (s, _) = invite(&http, &url, &ta, "a1", json!({"email": "kim@example.test"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_smtp_settings_an_invitation_says_mail_is_not_set_up() {
    // REQ-ACC-2: a server with no mail configuration answers 503 and issues no code.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh(&dir);
    let (http, url) = (Client::new(), server.url());
    let ta = api_token(&http, &url, "tA").await;
    let (s, e) = invite(&http, &url, &ta, "a1", json!({"email": "kim@example.test"})).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert_eq!(e["error"], "mail_not_configured");
    assert_eq!(all_codes(&dir).await, 0);
}
