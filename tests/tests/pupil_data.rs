//! The subject-access export and the erasure of a pupil who has left, over real HTTP (REQ-PRV-4):
//! the export holds every kind of data the server keeps on the pupil — awards, portfolio items
//! with their comments, likes and photos, Class Story posts tagging them, consent and its
//! history, parent links and requests, shared reports — and after erasure the rows and the photo
//! files are gone, while other pupils' posts and a photo they still show stay.

use std::path::{Path, PathBuf};

use homeroom_e2e::{api_token, delete_as, get_json, post_as, put_as, server_db, TestServer};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn sha(bytes: &[u8]) -> String {
    homeroom_core::media::sha256_hex(bytes)
}

/// Where the server keeps a photo's bytes.
fn media_file(server_dir: &Path, sha: &str) -> PathBuf {
    server_dir
        .join("media")
        .join("greenfield")
        .join(&sha[..2])
        .join(sha)
}

/// Uploads `bytes` as `tok` in one chunk; returns their hash.
async fn upload(http: &Client, url: &str, tok: &str, bytes: &[u8]) -> String {
    let hash = sha(bytes);
    let (s, b) = post_as(
        http,
        &format!("{url}/v1/media/{hash}"),
        tok,
        &json!({"size": bytes.len()}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = homeroom_e2e::send(
        http.put(format!("{url}/v1/media/{hash}?offset=0"))
            .bearer_auth(tok)
            .body(bytes.to_vec()),
    )
    .await;
    assert_eq!(
        (s, b["complete"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{b}"
    );
    hash
}

/// Pushes one write as `tok` and asserts it was accepted.
async fn push(http: &Client, url: &str, tok: &str, op: Value) {
    let body = json!({"writes": [{"client_id": Uuid::new_v4(), "op": op}]});
    let (s, b) = post_as(http, &format!("{url}/v1/push"), tok, &body).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["results"][0]["status"], "accepted", "{op}: {b}");
}

/// A post with a photo; returns its id.
async fn photo_post(
    http: &Client,
    url: &str,
    tok: &str,
    audience: Value,
    caption: &str,
    photo: &str,
    tagged: &[&str],
) -> Uuid {
    let id = Uuid::new_v4();
    let op = json!({"type": "create_post", "post_id": id, "audience": audience,
                    "caption": caption, "media_sha256": photo, "tagged": tagged});
    push(http, url, tok, op).await;
    id
}

async fn count(db: &homeroom_server::db::Db, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind.to_owned())
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pupils_export_holds_everything_and_erasure_leaves_no_row_or_photo_behind() {
    // REQ-PRV-4 (export and erasure), REQ-STO-3/4 (portfolio, comments, likes), REQ-CON-1
    // (consent history), REQ-PTS-4 (shared reports), REQ-ACC-1 (a1 leaves class A first).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let server = TestServer::fresh(&dir);
    let (http, url) = (Client::new(), server.url());
    let (h, ta, pa1) = (
        api_token(&http, &url, "H").await,
        api_token(&http, &url, "tA").await,
        api_token(&http, &url, "pa1").await,
    );

    // Amira's own photo (only in her portfolio) and a group photo her class story post and
    // Ben's portfolio both show.
    let own = upload(&http, &url, &ta, b"PHOTO-OWN-a1 bytes of a portfolio photo").await;
    let group = upload(&http, &url, &ta, b"PHOTO-GROUP bytes of a class photo").await;
    let folio = json!({"feed": "portfolio", "pupil_id": "a1"});
    let story = json!({"feed": "class_story", "class_id": "classA"});
    let item = photo_post(&http, &url, &ta, folio, "CAPTION-FOLIO-a1", &own, &["a1"]).await;
    let tagged = photo_post(&http, &url, &ta, story, "CAPTION-STORY-a1", &group, &["a1"]).await;
    let bens = json!({"feed": "portfolio", "pupil_id": "a2"});
    let kept = photo_post(&http, &url, &ta, bens, "CAPTION-FOLIO-a2", &group, &["a2"]).await;
    let comment_id = Uuid::new_v4();
    push(
        &http,
        &url,
        &pa1,
        json!({"type": "comment_on_post", "comment_id": comment_id,
        "post_id": item, "body": "COMMENT-pa1 so proud"}),
    )
    .await;
    push(
        &http,
        &url,
        &pa1,
        json!({"type": "like_post", "post_id": item}),
    )
    .await;
    push(
        &http,
        &url,
        &ta,
        json!({"type": "award_points", "awards": [{"award_id": Uuid::new_v4(),
        "pupil_id": "a1"}], "skill_id": "classA-teamwork", "note": "NOTE-a1 helped a friend",
        "awarded_at": chrono::Utc::now()}),
    )
    .await;
    // The family narrows consent (a second history entry) without withdrawing either post.
    let consent = json!({"uses": {"own_portfolio": "granted", "class_story": "granted",
        "school_story": "refused"}});
    let (s, b) = put_as(&http, &format!("{url}/v1/pupils/a1/consent"), &h, &consent).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = post_as(
        &http,
        &format!("{url}/v1/pupils/a1/report-shares"),
        &ta,
        &json!({"period": "month"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let export = get_json(&http, &format!("{url}/v1/pupils/a1/export"), &h).await;
    assert_eq!(export["display_name"], "Amira");
    assert_eq!(export["parents"][0]["id"], "pa1");
    assert_eq!(export["awards"][0]["note"], "NOTE-a1 helped a friend");
    let portfolio = export["portfolio"].as_array().unwrap();
    assert_eq!(portfolio.len(), 1, "{export}");
    assert_eq!(portfolio[0]["post"]["id"], item.to_string());
    assert_eq!(portfolio[0]["post"]["caption"], "CAPTION-FOLIO-a1");
    assert_eq!(portfolio[0]["withdrawn"], false);
    assert_eq!(portfolio[0]["comments"][0]["body"], "COMMENT-pa1 so proud");
    assert_eq!(portfolio[0]["comments"][0]["author"], "pa1");
    assert_eq!(portfolio[0]["likes"][0]["user_id"], "pa1");
    let tagged_posts = export["tagged_posts"].as_array().unwrap();
    assert_eq!(tagged_posts.len(), 1, "only posts tagging a1: {export}");
    assert_eq!(tagged_posts[0]["post"]["id"], tagged.to_string());
    assert_eq!(tagged_posts[0]["post"]["tagged"], json!(["a1"]));
    let mut media: Vec<(String, u64)> = export["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["sha256"].as_str().unwrap().to_owned(),
                m["size"].as_u64().unwrap(),
            )
        })
        .collect();
    media.sort();
    let mut expected = vec![(own.clone(), 39), (group.clone(), 34)];
    expected.sort();
    assert_eq!(media, expected);
    assert_eq!(
        export["consent"]["record"]["uses"]["school_story"],
        "refused"
    );
    assert_eq!(export["consent"]["updated_by"], "H");
    let history = export["consent_history"].as_array().unwrap();
    assert_eq!(
        history.len(),
        2,
        "the seeded record, then the change: {export}"
    );
    assert_eq!(history[0]["record"]["uses"]["school_story"], "granted");
    assert_eq!(history[1], export["consent"]);
    assert_eq!(export["report_shares"][0]["shared_by"], "tA");
    assert_eq!(export["report_shares"][0]["report"]["period"], "month");

    // The archive: the same JSON and each photo's bytes.
    let resp = http
        .get(format!("{url}/v1/pupils/a1/export/archive"))
        .bearer_auth(&h)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-tar");
    let bytes = resp.bytes().await.unwrap();
    let mut files = std::collections::BTreeMap::new();
    let mut archive = tar::Archive::new(&bytes[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        files.insert(name, content);
    }
    let archived: Value = serde_json::from_slice(&files["export.json"]).unwrap();
    assert_eq!(archived["portfolio"], export["portfolio"]);
    assert_eq!(
        files[&format!("media/{own}")],
        b"PHOTO-OWN-a1 bytes of a portfolio photo"
    );
    assert_eq!(
        files[&format!("media/{group}")],
        b"PHOTO-GROUP bytes of a class photo"
    );
    assert_eq!(files.len(), 3);

    // Amira leaves; the admin erases her.
    let (s, b) = delete_as(&http, &format!("{url}/v1/classes/classA/pupils/a1"), &ta).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, erased) = delete_as(&http, &format!("{url}/v1/pupils/a1"), &h).await;
    assert_eq!(s, StatusCode::OK, "{erased}");
    assert_eq!(erased["awards_deleted"], 1);
    assert_eq!(erased["posts_deleted"], 2);
    assert_eq!(erased["comments_deleted"], 1);
    assert_eq!(
        erased["media_files_deleted"], 1,
        "the group photo is still Ben's"
    );
    assert_eq!(erased["consent_records_deleted"], 2);
    assert_eq!(erased["report_shares_deleted"], 1);
    assert_eq!(erased["parent_links_deleted"], 1);

    let db = server_db(&dir).await;
    for (what, sql, bind) in [
        (
            "awards",
            "SELECT COUNT(*) FROM awards WHERE pupil_id = $1",
            "a1",
        ),
        (
            "consent",
            "SELECT COUNT(*) FROM consent WHERE pupil_id = $1",
            "a1",
        ),
        (
            "consent history",
            "SELECT COUNT(*) FROM consent_history WHERE pupil_id = $1",
            "a1",
        ),
        (
            "report shares",
            "SELECT COUNT(*) FROM report_shares WHERE pupil_id = $1",
            "a1",
        ),
        (
            "parent links",
            "SELECT COUNT(*) FROM parent_links WHERE pupil_id = $1",
            "a1",
        ),
        (
            "tags",
            "SELECT COUNT(*) FROM post_tags WHERE pupil_id = $1",
            "a1",
        ),
        ("pupil", "SELECT COUNT(*) FROM pupils WHERE id = $1", "a1"),
        (
            "account",
            "SELECT COUNT(*) FROM users WHERE pupil_id = $1",
            "a1",
        ),
        (
            "own photo row",
            "SELECT COUNT(*) FROM media WHERE sha256 = $1",
            &own,
        ),
        (
            "log entries naming a1",
            "SELECT COUNT(*) FROM changes WHERE pupil_id = $1",
            "a1",
        ),
        (
            "captions in the log",
            "SELECT COUNT(*) FROM changes WHERE payload LIKE $1",
            "%CAPTION-%-a1%",
        ),
        (
            "comments in the log",
            "SELECT COUNT(*) FROM changes WHERE payload LIKE $1",
            "%COMMENT-pa1%",
        ),
        (
            "notes in the log",
            "SELECT COUNT(*) FROM changes WHERE payload LIKE $1",
            "%NOTE-a1%",
        ),
    ] {
        assert_eq!(count(&db, sql, bind).await, 0, "{what} still there");
    }
    for post in [item, tagged] {
        let id = post.to_string();
        for table in [
            "posts WHERE id",
            "post_comments WHERE post_id",
            "post_likes WHERE post_id",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {table} = $1");
            assert_eq!(count(&db, &sql, &id).await, 0, "{table} {id}");
        }
    }
    assert!(
        !media_file(&dir, &own).exists(),
        "the portfolio photo file is gone"
    );
    // Ben's portfolio item and the photo it shows stay.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM posts WHERE id = $1",
            &kept.to_string()
        )
        .await,
        1
    );
    assert!(media_file(&dir, &group).exists());
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM media WHERE sha256 = $1", &group).await,
        1
    );
    // Devices that cached the erased posts are told to drop them.
    let withdrawn = format!("%{tagged}%");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM changes WHERE kind = 'post_withdrawn' AND payload LIKE $1",
            &withdrawn
        )
        .await,
        1
    );
    // The export is no longer possible, and the erasure is on the audit record.
    let (s, _) = homeroom_e2e::get_as(&http, &format!("{url}/v1/pupils/a1/export"), &h).await;
    assert!(
        [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&s),
        "{s}"
    );
    let audit = get_json(&http, &format!("{url}/v1/audit"), &h).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "a1")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"erase_pupil") && actions.contains(&"export_pupil_archive"),
        "{actions:?}"
    );
}
