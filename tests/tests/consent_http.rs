//! Consent records and media uploads over real HTTP on loopback: the read_consent and
//! write_consent rows of the access matrix, and hostile upload input (REQ-CON-1, CON-4, issue 4).

use homeroom_e2e::{
    api_token as token, get_as, get_bytes_as, get_json, post_as, put_as, send, TestServer,
};
use homeroom_protocol::fixture;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const MATRIX: &str = include_str!("../../../shared/policy/access-matrix.csv");

fn sha(bytes: &[u8]) -> String {
    homeroom_core::media::sha256_hex(bytes)
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_rows_of_the_access_matrix_hold_over_http() {
    // REQ-CON-1, CON-5: staff of the class and the pupil's own parents read; admin and leaders write.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let mut tokens = std::collections::HashMap::new();
    let (mut checked, mut failures) = (0, Vec::new());
    for line in MATRIX
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split(',').collect();
        let (actor, action, target, allow) = (f[0], f[1], f[2], f[3] == "allow");
        if action != "read_consent" && action != "write_consent" {
            continue;
        }
        if !tokens.contains_key(actor) {
            tokens.insert(actor.to_owned(), token(&http, &url, actor).await);
        }
        let path = format!("{url}/v1/pupils/{target}/consent");
        let (status, body) = if action == "read_consent" {
            get_as(&http, &path, &tokens[actor]).await
        } else {
            let record = serde_json::to_value(&fixture::consent()[target]).unwrap();
            put_as(&http, &path, &tokens[actor], &record).await
        };
        if (status == StatusCode::OK) != allow {
            failures.push(format!("{line}: got {status}"));
        }
        if allow && action == "read_consent" && body["uses"]["class_story"] != "granted" {
            failures.push(format!("{line}: record not returned: {body}"));
        }
        if !allow && body["error"].as_str().is_none() {
            failures.push(format!("{line}: refusal is not a JSON error: {body}"));
        }
        checked += 1;
    }
    assert_eq!(
        checked, 11,
        "every read_consent and write_consent row is checked"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_uploads_get_json_errors_and_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = TestServer::fresh(&server_dir);
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await;
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let good = sha(&bytes);
    // Not a hash, too big, and not staff.
    let (s, b) = post_as(
        &http,
        &format!("{url}/v1/media/NOTAHASH"),
        &ta,
        &json!({"size": 10}),
    )
    .await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sha256"))
    );
    let (s, b) = post_as(
        &http,
        &format!("{url}/v1/media/{good}"),
        &ta,
        &json!({"size": 1u64 << 40}),
    )
    .await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("size"))
    );
    // Parents upload message attachments (REQ-MSG-1); pupils upload nothing (REQ-MSG-2).
    let a1 = token(&http, &url, "a1").await;
    let (s, _) = post_as(
        &http,
        &format!("{url}/v1/media/{good}"),
        &a1,
        &json!({"size": 10_000}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A real upload: a chunk at the wrong offset is refused and the acknowledged bytes stay.
    let (s, b) = post_as(
        &http,
        &format!("{url}/v1/media/{good}"),
        &ta,
        &json!({"size": 10_000}),
    )
    .await;
    assert_eq!((s, b["received"].as_u64()), (StatusCode::OK, Some(0)));
    let put = |offset: usize, chunk: Vec<u8>, hash: String| {
        send(
            http.put(format!("{url}/v1/media/{hash}?offset={offset}"))
                .bearer_auth(&ta)
                .body(chunk),
        )
    };
    let (s, b) = put(0, bytes[..4000].to_vec(), good.clone()).await;
    assert_eq!((s, b["received"].as_u64()), (StatusCode::OK, Some(4000)));
    let (s, b) = put(0, bytes[..4000].to_vec(), good.clone()).await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("offset"))
    );
    let (s, b) = put(4000, vec![0; 7000], good.clone()).await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body")),
        "past the size"
    );
    let (s, b) = get_as(&http, &format!("{url}/v1/media/{good}"), &ta).await;
    assert_eq!(
        (s, b["received"].as_u64()),
        (StatusCode::OK, Some(4000)),
        "status to resume from"
    );
    let (s, b) = put(4000, bytes[4000..].to_vec(), good.clone()).await;
    assert_eq!((s, b["complete"].as_bool()), (StatusCode::OK, Some(true)));

    // Bytes that do not match their name are thrown away, never served.
    let liar = sha(b"something else entirely");
    let (s, b) = post_as(
        &http,
        &format!("{url}/v1/media/{liar}"),
        &ta,
        &json!({"size": 100}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = put(0, vec![1; 100], liar.clone()).await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sha256"))
    );
    let (s, b) = get_as(&http, &format!("{url}/v1/media/{liar}"), &ta).await;
    assert_eq!(
        (s, b["received"].as_u64(), b["complete"].as_bool()),
        (StatusCode::OK, Some(0), Some(false))
    );
    // The verified photo is served to its uploader, and to nobody who cannot see a post of it.
    let got = get_bytes_as(&http, &format!("{url}/v1/media/{good}/content"), &ta).await;
    assert_eq!(got, (StatusCode::OK, bytes));
    let pa1 = token(&http, &url, "pa1").await;
    let (s, b) = get_as(&http, &format!("{url}/v1/media/{good}/content"), &pa1).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_reach_only_their_audience_and_tags_are_rechecked_con4() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await;
    let post = |tags: Value, caption: &str| {
        json!({"writes": [{"client_id": uuid::Uuid::new_v4(), "op": {"type": "create_post",
            "post_id": uuid::Uuid::new_v4(), "audience": {"feed": "class_story", "class_id": "classA"},
            "caption": caption, "tagged": tags}}]})
    };
    let push = |body: Value| {
        let (http, url, ta) = (&http, &url, &ta);
        async move {
            let (s, r) = post_as(http, &format!("{url}/v1/push"), ta, &body).await;
            assert_eq!(s, StatusCode::OK, "{r}");
            r
        }
    };
    let r = push(post(json!(["a1", "a2"]), "blocked")).await;
    assert_eq!(r["results"][0]["status"], "rejected");
    assert_eq!(r["results"][0]["code"], "consent_blocked");
    let r = push(post(json!(["a1"]), "reading week")).await;
    assert_eq!(r["results"][0]["status"], "accepted");
    for (who, sees) in [("pa1", true), ("pa2", true), ("pb1", false), ("tB", false)] {
        let t = token(&http, &url, who).await;
        let page = get_json(&http, &format!("{url}/v1/pull?since=0"), &t).await;
        let got = page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "post" && c["caption"] == "reading week");
        assert_eq!(got, sees, "{who}");
    }
}
