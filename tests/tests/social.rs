//! Comments and likes on Class Story posts and portfolio items, end to end (REQ-STO-1..4, issue 4
//! store and listeners, issue 5 access rows): a real server on loopback, real cores, real SQLite
//! files, on SQLite and PostgreSQL alike.

use std::path::Path;
use std::sync::{Arc, Mutex};

use homeroom_core::social::FeedItem;
use homeroom_core::store::social::CachedComment;
use homeroom_core::views::ViewUpdate;
use homeroom_core::{CoreError, Homeroom};
use homeroom_e2e::{signed_in, TestServer};
use homeroom_protocol::consent::{ConsentState, ConsentUse};
use homeroom_protocol::fixture;
use homeroom_protocol::posts::Audience;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const MATRIX: &str = include_str!("../../../shared/policy/access-matrix.csv");

/// The actions of the access matrix this file checks over HTTP.
const STORY_ACTIONS: [&str; 10] = [
    "read_story",
    "post_story",
    "comment_story",
    "like_story",
    "post_school_story",
    "read_school_story",
    "read_portfolio",
    "add_portfolio_item",
    "comment_portfolio",
    "like_portfolio",
];

fn class_a() -> Audience {
    Audience::ClassStory {
        class_id: "classA".into(),
    }
}

/// A session token: pupils sign in with their code, everyone else through the shared helper.
async fn token(http: &Client, url: &str, who: &str) -> Option<String> {
    let u = fixture::user_by_id(who)?;
    let body = match u.pupil_code() {
        Some(code) => json!({"method": "pupil_code", "code": code}),
        None => json!({"method": "password", "email": u.email(), "password": u.password(),
                       "device_id": fixture::ENROLLED_TABLET_KEY}),
    };
    let r = http
        .post(format!("{url}/v1/sessions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{who} signs in");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .map(str::to_owned)
}

/// Pushes one write; returns the HTTP status, the whole body and the write's status.
async fn push(
    http: &Client,
    url: &str,
    tok: Option<&str>,
    client_id: Uuid,
    op: Value,
) -> (StatusCode, String, String) {
    let mut r = http
        .post(format!("{url}/v1/push"))
        .json(&json!({"writes": [{"client_id": client_id, "op": op}]}));
    if let Some(t) = tok {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let outcome = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["results"][0]["status"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status, text, outcome)
}

async fn pull(http: &Client, url: &str, tok: Option<&str>) -> (StatusCode, String) {
    let mut r = http.get(format!("{url}/v1/pull?since=0"));
    if let Some(t) = tok {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// A text post by `tok` to `audience`; returns its id.
async fn text_post(http: &Client, url: &str, tok: &str, audience: Value, caption: &str) -> Uuid {
    text_post_tagged(http, url, tok, audience, caption, &[]).await
}

async fn text_post_tagged(
    http: &Client,
    url: &str,
    tok: &str,
    audience: Value,
    caption: &str,
    tagged: &[&str],
) -> Uuid {
    let id = Uuid::new_v4();
    let op = json!({"type": "create_post", "post_id": id, "audience": audience,
                    "caption": caption, "tagged": tagged});
    let (_, body, outcome) = push(http, url, Some(tok), Uuid::new_v4(), op).await;
    assert_eq!(outcome, "accepted", "{body}");
    id
}

/// A text post by `tok` to Class A's story.
async fn class_post(http: &Client, url: &str, tok: &str, caption: &str) -> Uuid {
    let class_a = json!({"feed": "class_story", "class_id": "classA"});
    text_post(http, url, tok, class_a, caption).await
}

/// The kinds of the changes in a pull answer, in order.
fn kinds(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap();
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn comment_op(post: Uuid, body: &str) -> Value {
    json!({"type": "comment_on_post", "comment_id": Uuid::new_v4(), "post_id": post, "body": body})
}

#[tokio::test(flavor = "multi_thread")]
async fn story_comment_and_like_rows_of_the_access_matrix_hold_over_http() {
    // REQ-STO-1..4, ACC-5, issue 5: every read/post/comment/like row of Class Story, School Story
    // and portfolios, through push and pull; a refusal leaks neither the post nor its comments.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await.unwrap();
    let h = token(&http, &url, "H").await.unwrap();
    let pa1 = token(&http, &url, "pa1").await.unwrap();
    let story = class_post(&http, &url, &ta, "CAPTION-STORY-classA").await;
    let folio = text_post(
        &http,
        &url,
        &ta,
        json!({"feed": "portfolio", "pupil_id": "a1"}),
        "CAPTION-FOLIO-a1",
    )
    .await;
    let school = text_post(
        &http,
        &url,
        &h,
        json!({"feed": "school_story"}),
        "CAPTION-SCHOOL",
    )
    .await;
    for (post, text) in [(story, "COMMENT-STORY-pa1"), (folio, "COMMENT-FOLIO-pa1")] {
        let (_, body, outcome) = push(
            &http,
            &url,
            Some(&pa1),
            Uuid::new_v4(),
            comment_op(post, text),
        )
        .await;
        assert_eq!(outcome, "accepted", "{body}");
    }
    let secrets = |target: &str| -> Vec<String> {
        match target {
            "classA" => vec![
                "CAPTION-STORY-classA".into(),
                "COMMENT-STORY-pa1".into(),
                story.to_string(),
            ],
            "a1" => vec![
                "CAPTION-FOLIO-a1".into(),
                "COMMENT-FOLIO-pa1".into(),
                folio.to_string(),
            ],
            _ => vec!["CAPTION-SCHOOL".into(), school.to_string()],
        }
    };

    let mut tokens = std::collections::HashMap::<String, Option<String>>::new();
    let (mut checked, mut failures) = (0, Vec::new());
    for line in MATRIX
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split(',').collect();
        let (actor, action, target, allow) = (f[0], f[1], f[2], f[3] == "allow");
        if !STORY_ACTIONS.contains(&action) {
            continue;
        }
        if !tokens.contains_key(actor) {
            let t = if actor == "anon" {
                None
            } else {
                token(&http, &url, actor).await
            };
            tokens.insert(actor.to_owned(), t);
        }
        let tok = tokens[actor].as_deref();
        let (post, audience) = match target {
            "classA" => (story, json!({"feed": "class_story", "class_id": "classA"})),
            "a1" => (folio, json!({"feed": "portfolio", "pupil_id": "a1"})),
            _ => (school, json!({"feed": "school_story"})),
        };
        let (got_allow, body) = match action {
            "read_story" | "read_school_story" | "read_portfolio" => {
                let (status, body) = pull(&http, &url, tok).await;
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let changes = v["changes"].as_array().cloned().unwrap_or_default();
                let sees_post = changes
                    .iter()
                    .any(|c| c["kind"] == "post" && c["id"] == post.to_string());
                let sees_comment = changes
                    .iter()
                    .any(|c| c["kind"] == "comment" && c["post_id"] == post.to_string());
                if sees_post && target != "school" && !sees_comment {
                    failures.push(format!("{line}: the post came without its comment"));
                }
                (status == StatusCode::OK && sees_post, body)
            }
            "post_story" | "post_school_story" | "add_portfolio_item" => {
                let op = json!({"type": "create_post", "post_id": Uuid::new_v4(),
                                "audience": audience, "caption": "matrix post"});
                let (status, body, outcome) = push(&http, &url, tok, Uuid::new_v4(), op).await;
                (status == StatusCode::OK && outcome == "accepted", body)
            }
            "comment_story" | "comment_portfolio" => {
                let op = comment_op(post, &format!("matrix comment by {actor}"));
                let (status, body, outcome) = push(&http, &url, tok, Uuid::new_v4(), op).await;
                (status == StatusCode::OK && outcome == "accepted", body)
            }
            _ => {
                let op = json!({"type": "like_post", "post_id": post});
                let (status, body, outcome) = push(&http, &url, tok, Uuid::new_v4(), op).await;
                (status == StatusCode::OK && outcome == "accepted", body)
            }
        };
        if got_allow != allow {
            failures.push(format!(
                "{line}: got {}: {body}",
                if got_allow { "allow" } else { "deny" }
            ));
        }
        if !allow {
            for s in secrets(target) {
                if body.contains(&s) {
                    failures.push(format!("{line}: the refusal leaks {s}: {body}"));
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 46, "every story, portfolio, comment and like row");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every update a listener was sent, in order.
type Seen<T> = Arc<Mutex<Vec<ViewUpdate<T>>>>;

/// Collects every update a listener is sent.
fn collector<T: Send + 'static>() -> (Seen<T>, homeroom_core::social::Observer<T>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, Arc::new(move |u| sink.lock().unwrap().push(u)))
}

fn synced(url: &str, dir: &Path, who: &str) -> Homeroom {
    let d = signed_in(url, dir, who);
    d.sync().expect("first sync");
    d
}

fn cache_count(dir: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("homeroom-cache.sqlite3")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn parent_likes_and_comments_and_the_teachers_story_listener_sees_it() {
    // REQ-STO-4, OFF-3, issue 4 §4: the teacher's feed listener gets the snapshot, then the like
    // and the comment as one updated item after a sync; the comment listener gets the comment.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let t = synced(&url, &tmp.path().join("tA"), "tA");
    let post = t.post_text(&class_a(), "Our trip to the farm").unwrap();
    assert_eq!(t.sync().unwrap().sent, 1);

    let (feed_seen, feed_obs) = collector::<FeedItem>();
    let feed_sub = t.observe_feed(&class_a(), feed_obs).unwrap();
    let (comments_seen, comments_obs) = collector::<CachedComment>();
    t.observe_comments(&post, comments_obs).unwrap();
    match &feed_seen.lock().unwrap()[0] {
        ViewUpdate::Snapshot(items) => {
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].post.record.caption, "Our trip to the farm");
            assert_eq!(items[0].stats.likes, 0);
        }
        other => panic!("first a snapshot, got {other:?}"),
    }

    let p = synced(&url, &tmp.path().join("pa1"), "pa1");
    p.like_post(&post).unwrap();
    let c = p.comment_on_post(&post, "  Amira loved it!  ").unwrap();
    assert!(c.pending);
    assert_eq!(c.body, "Amira loved it!");
    let mine = p.story_feed(&class_a()).unwrap();
    assert!(mine[0].stats.liked_by_me && mine[0].stats.comments == 1);
    assert_eq!(p.pending_writes().unwrap(), 2);
    assert_eq!(p.sync().unwrap().sent, 2);
    assert!(!p.comments(&post).unwrap()[0].pending, "acknowledged");

    t.sync().unwrap();
    {
        let seen = feed_seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "one batched diff after the sync: {seen:?}");
        match &seen[1] {
            ViewUpdate::Changes {
                inserted,
                updated,
                removed,
            } => {
                assert!(inserted.is_empty() && removed.is_empty());
                assert_eq!(updated.len(), 1);
                let s = updated[0].stats;
                assert_eq!((s.likes, s.liked_by_me, s.comments), (1, false, 1));
            }
            other => panic!("then changes, got {other:?}"),
        }
    }
    {
        let seen = comments_seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        match &seen[1] {
            ViewUpdate::Changes { inserted, .. } => {
                assert_eq!(inserted.len(), 1);
                assert_eq!(inserted[0].author, "pa1");
                assert_eq!(inserted[0].body, "Amira loved it!");
            }
            other => panic!("then changes, got {other:?}"),
        }
    }
    // Unsubscribed: nothing more arrives.
    t.unobserve(feed_sub);
    p.unlike_post(&post).unwrap();
    p.sync().unwrap();
    t.sync().unwrap();
    assert_eq!(feed_seen.lock().unwrap().len(), 2);
    assert_eq!(t.story_feed(&class_a()).unwrap()[0].stats.likes, 0);
    // The comment text is sealed at rest on the teacher's tablet.
    let conn = rusqlite::Connection::open(tmp.path().join("tA/homeroom-cache.sqlite3")).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM comments", [], |r| r.get(0))
        .unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("Amira"));
}

#[test]
fn authors_delete_their_own_comments_and_class_staff_remove_any() {
    // REQ-STO-4: authors delete their own; class staff remove any in the class; another parent
    // and another class's teacher cannot. Gone from every device's SQLite file.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let t = synced(&url, &tmp.path().join("tA"), "tA");
    let post = t.post_text(&class_a(), "Sports day").unwrap();
    t.sync().unwrap();
    let p1_dir = tmp.path().join("pa1");
    let p1 = synced(&url, &p1_dir, "pa1");
    let p2 = synced(&url, &tmp.path().join("pa2"), "pa2");
    let c1 = p1.comment_on_post(&post, "Well done all").unwrap();
    let c1b = p1.comment_on_post(&post, "Second thought").unwrap();
    p1.sync().unwrap();
    let c2 = p2.comment_on_post(&post, "Great day").unwrap();
    p2.sync().unwrap();
    p1.sync().unwrap();
    assert_eq!(p1.comments(&post).unwrap().len(), 3);
    // Another family's parent is named by the server, not by pa1's directory.
    let names: Vec<String> = p1
        .comments(&post)
        .unwrap()
        .into_iter()
        .map(|c| c.author_name)
        .collect();
    assert_eq!(names, vec!["Sara Ahmed", "Sara Ahmed", "Tom Baker"]);

    // Another parent may not remove pa1's comment: refused on the phone, nothing queued.
    let before = p2.pending_writes().unwrap();
    assert!(matches!(
        p2.remove_comment(&c1.id),
        Err(CoreError::NotAllowed(_))
    ));
    assert_eq!(p2.pending_writes().unwrap(), before);

    // The author deletes their own; support staff remove another parent's.
    p1.remove_comment(&c1.id).unwrap();
    assert_eq!(p1.comments(&post).unwrap().len(), 2, "hidden at once");
    p1.sync().unwrap();
    let s = synced(&url, &tmp.path().join("sA"), "sA");
    s.remove_comment(&c2.id).unwrap();
    s.sync().unwrap();
    p1.sync().unwrap();
    p2.sync().unwrap();
    for d in [&p1, &p2, &s] {
        let left: Vec<String> = d
            .comments(&post)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(left, vec![c1b.id.clone()]);
    }
    assert_eq!(cache_count(&p1_dir, "SELECT COUNT(*) FROM comments"), 1);

    // Over HTTP, another class's teacher is refused too (the rule, not only the phone).
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = Client::new();
        let tb = token(&http, &url, "tB").await.unwrap();
        let op = json!({"type": "remove_comment", "comment_id": c1b.id});
        let (_, body, outcome) = push(&http, &url, Some(&tb), Uuid::new_v4(), op).await;
        assert_eq!(outcome, "rejected", "{body}");
        assert!(!body.contains("Second thought"));
    });
    p1.sync().unwrap();
    assert_eq!(p1.comments(&post).unwrap().len(), 1);
}

#[test]
fn a_comment_the_server_refuses_is_rolled_back_and_the_listener_told() {
    // REQ-STO-4, issue 4 outbox: comments turned off while a parent was offline; the queued
    // comment is refused, taken off the phone, the reason kept; the view shows the removal.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let t = synced(&url, &tmp.path().join("tA"), "tA");
    let post = t.post_text(&class_a(), "Homework club").unwrap();
    t.sync().unwrap();
    let p = synced(&url, &tmp.path().join("pa1"), "pa1");
    let (seen, obs) = collector::<CachedComment>();
    p.observe_comments(&post, obs).unwrap();

    t.set_comments_open(&post, false).unwrap();
    assert!(t.story_feed(&class_a()).unwrap()[0].stats.comments_off);
    t.sync().unwrap();

    let c = p.comment_on_post(&post, "Can we join?").unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2, "shown at once");
    let outcome = p.sync().unwrap();
    assert_eq!(outcome.refused.len(), 1);
    assert!(
        outcome.refused[0].1.contains("turned off"),
        "{:?}",
        outcome.refused
    );
    assert!(p.comments(&post).unwrap().is_empty());
    match seen.lock().unwrap().last().unwrap() {
        ViewUpdate::Changes { removed, .. } => assert_eq!(removed, &vec![c.id.clone()]),
        other => panic!("a removal, got {other:?}"),
    }
    // Now the phone knows: refused before anything is queued.
    assert!(p.story_feed(&class_a()).unwrap()[0].stats.comments_off);
    assert!(matches!(
        p.comment_on_post(&post, "Again?"),
        Err(CoreError::NotAllowed(_))
    ));
    assert_eq!(p.pending_writes().unwrap(), 0);
    // Turned on again, a comment goes through.
    t.set_comments_open(&post, true).unwrap();
    t.sync().unwrap();
    p.sync().unwrap();
    p.comment_on_post(&post, "Thanks!").unwrap();
    assert_eq!(p.sync().unwrap().sent, 1);
}

#[test]
fn withdrawn_post_takes_its_comments_and_likes_off_every_device() {
    // REQ-CON-4, STO-4: consent withdrawn → the post, its comments and its likes leave every
    // device (asserted on the SQLite file) and the server's log.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = Client::new();
    let post = rt.block_on(async {
        let ta = token(&http, &url, "tA").await.unwrap();
        text_post_tagged(
            &http,
            &url,
            &ta,
            json!({"feed": "class_story", "class_id": "classA"}),
            "Amira's painting",
            &["a1"],
        )
        .await
    });
    let post = post.to_string();
    let p1 = synced(&url, &tmp.path().join("pa1"), "pa1");
    p1.like_post(&post).unwrap();
    p1.comment_on_post(&post, "So proud").unwrap();
    p1.sync().unwrap();
    let p2_dir = tmp.path().join("pa2");
    let p2 = synced(&url, &p2_dir, "pa2");
    p2.like_post(&post).unwrap();
    p2.sync().unwrap();
    assert_eq!(cache_count(&p2_dir, "SELECT COUNT(*) FROM comments"), 1);
    assert_eq!(cache_count(&p2_dir, "SELECT COUNT(*) FROM likes"), 2);
    let (seen, obs) = collector::<FeedItem>();
    p2.observe_feed(&class_a(), obs).unwrap();

    let h = synced(&url, &tmp.path().join("H"), "H");
    let mut a1 = fixture::consent()["a1"].clone();
    a1.uses
        .insert(ConsentUse::ClassStory, ConsentState::Refused);
    h.set_consent("a1", &a1).unwrap();

    p2.sync().unwrap();
    assert!(p2.story_feed(&class_a()).unwrap().is_empty());
    for table in ["posts", "comments", "likes"] {
        assert_eq!(
            cache_count(&p2_dir, &format!("SELECT COUNT(*) FROM {table}")),
            0,
            "{table} purged from the SQLite file"
        );
    }
    match seen.lock().unwrap().last().unwrap() {
        ViewUpdate::Changes { removed, .. } => assert_eq!(removed, &vec![post.clone()]),
        other => panic!("a removal, got {other:?}"),
    }
    // A device pulling from scratch gets none of it; a comment on the withdrawn post is refused.
    rt.block_on(async {
        let pa2 = token(&http, &url, "pa2").await.unwrap();
        let (_, body) = pull(&http, &url, Some(&pa2)).await;
        assert_eq!(kinds(&body), vec!["post_withdrawn"], "{body}");
        assert!(
            !body.contains("So proud") && !body.contains("painting"),
            "{body}"
        );
        let op = comment_op(post.parse().unwrap(), "Still here?");
        let (_, body, outcome) = push(&http, &url, Some(&pa2), Uuid::new_v4(), op).await;
        assert_eq!(outcome, "rejected", "{body}");
        assert!(body.contains("not_found"), "{body}");
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_comments_and_likes_apply_once() {
    // REQ-STO-4, issue 4: a replayed push (same client id) is applied once; liking twice is one
    // like; pull carries one comment and one like.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let ta = token(&http, &url, "tA").await.unwrap();
    let pa1 = token(&http, &url, "pa1").await.unwrap();
    let post = class_post(&http, &url, &ta, "Assembly").await;
    let (id, op) = (Uuid::new_v4(), comment_op(post, "Once only"));
    let first = push(&http, &url, Some(&pa1), id, op.clone()).await;
    let again = push(&http, &url, Some(&pa1), id, op).await;
    assert_eq!(
        (first.2.as_str(), again.2.as_str()),
        ("accepted", "already_applied")
    );
    for _ in 0..2 {
        let like = json!({"type": "like_post", "post_id": post});
        assert_eq!(
            push(&http, &url, Some(&pa1), Uuid::new_v4(), like).await.2,
            "accepted"
        );
    }
    let (_, body) = pull(&http, &url, Some(&ta)).await;
    assert_eq!(kinds(&body), vec!["post", "comment", "like"], "{body}");
    // Unlike then like again: the log keeps only the latest state of that like.
    let unlike = json!({"type": "unlike_post", "post_id": post});
    push(&http, &url, Some(&pa1), Uuid::new_v4(), unlike).await;
    let (_, body) = pull(&http, &url, Some(&ta)).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let likes: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "like")
        .collect();
    assert_eq!(likes.len(), 1);
    assert_eq!(likes[0]["liked"], false);
}

#[test]
fn bad_comments_get_clear_errors_and_queue_nothing() {
    // REQ-STO-4, issue 5 bad input: empty and over-long comments, pupils, unknown posts and
    // unknown fields: typed errors on the phone, JSON errors from the server, nothing written.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let t = synced(&url, &tmp.path().join("tA"), "tA");
    let post = t.post_text(&class_a(), "Library day").unwrap();
    t.sync().unwrap();
    let p = synced(&url, &tmp.path().join("pa1"), "pa1");
    let long = "x".repeat(homeroom_protocol::social::MAX_COMMENT_CHARS + 1);
    for bad in ["   ", long.as_str()] {
        match p.comment_on_post(&post, bad) {
            Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "body"),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    assert!(matches!(
        p.comment_on_post(&Uuid::new_v4().to_string(), "hello"),
        Err(CoreError::InvalidInput { .. })
    ));
    assert_eq!(p.pending_writes().unwrap(), 0);

    // A pupil reads the class story but may not comment or like (REQ-STO-4: parents and staff).
    let pupil = homeroom_e2e::device(&url, &tmp.path().join("a1"));
    pupil
        .sign_in_with_pupil_code(&fixture::user_by_id("a1").unwrap().pupil_code().unwrap())
        .unwrap();
    pupil.sync().unwrap();
    assert_eq!(pupil.story_feed(&class_a()).unwrap().len(), 1);
    assert!(matches!(
        pupil.comment_on_post(&post, "hi"),
        Err(CoreError::NotAllowed(_))
    ));
    assert!(matches!(
        pupil.like_post(&post),
        Err(CoreError::NotAllowed(_))
    ));
    assert_eq!(pupil.pending_writes().unwrap(), 0);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = Client::new();
        let pa1 = token(&http, &url, "pa1").await.unwrap();
        let post: Uuid = post.parse().unwrap();
        let (_, body, outcome) = push(
            &http,
            &url,
            Some(&pa1),
            Uuid::new_v4(),
            comment_op(post, &long),
        )
        .await;
        assert_eq!(outcome, "rejected");
        assert!(
            body.contains("invalid") && body.contains("at most 1000"),
            "{body}"
        );
        let (_, body, outcome) = push(
            &http,
            &url,
            Some(&pa1),
            Uuid::new_v4(),
            comment_op(Uuid::new_v4(), "hello"),
        )
        .await;
        assert_eq!(outcome, "rejected");
        assert!(body.contains("not_found"), "{body}");
        let extra = json!({"type": "like_post", "post_id": post, "admin": true});
        let (status, body, _) = push(&http, &url, Some(&pa1), Uuid::new_v4(), extra).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
        let (_, body) = pull(&http, &url, Some(&pa1)).await;
        assert!(
            !body.contains("\"comment\"") && !body.contains("\"like\""),
            "{body}"
        );
    });
}
