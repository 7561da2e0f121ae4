//! A deterministic "class year" for the sync benchmarks (issue 4): 30 pupils, 60 parents,
//! 6,000 awards, 400 Class Story posts, 1,200 photo records, 2,000 comments, 3,000 messages — written through
//! the server's real HTTP API, as the school's devices would have written them over a year.

use homeroom_protocol::fixture;
use homeroom_protocol::membership::{AddPupilRequest, AddedPupil};
use homeroom_protocol::posts::{Audience, NewPost, StartUpload};
use homeroom_protocol::wire::{
    AwardTarget, ClientWrite, ParentCode, PushRequest, PushResponse, RedeemParentCode,
    SignInResponse, WriteOp, WriteOutcome, MAX_WRITES_PER_PUSH,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// The sizes the issue names.
pub const PUPILS: usize = 30;
pub const PARENTS: usize = 60;
pub const AWARDS: usize = 6_000;
pub const STORY_POSTS: usize = 400;
pub const PHOTOS: usize = 1_200;
pub const MESSAGES: usize = 3_000;
pub const COMMENTS: usize = 2_000;

/// What was written, counted from the server's answers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClassYear {
    pub pupils: usize,
    pub parents: usize,
    pub awards: usize,
    pub story_posts: usize,
    pub photos: usize,
    pub messages: usize,
    pub comments: usize,
}

/// Ids are derived from a counter, so two runs write the same year.
fn id(kind: u128, n: usize) -> Uuid {
    Uuid::from_u128((kind << 64) | n as u128)
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> T {
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.url))
                .json(body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.expect("server reachable");
            let status = resp.status();
            if status == 429 {
                // Rate limits hold for the generator too: wait as a device would.
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1u64);
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                continue;
            }
            let text = resp.text().await.expect("answer body");
            assert!(status.is_success(), "{method} {path}: {status} {text}");
            return serde_json::from_str(&text).expect("answer parses");
        }
    }

    async fn sign_in(&self, who: &str) -> String {
        let u = fixture::user_by_id(who).expect("fixture person");
        let body = serde_json::json!({
            "method": "password",
            "email": u.email(),
            "password": u.password(),
            "device_id": fixture::ENROLLED_TABLET_KEY,
        });
        let r: SignInResponse = self
            .call(reqwest::Method::POST, "/v1/sessions", None, &body)
            .await;
        r.token
    }

    /// Pushes `ops` in full batches; every write must be accepted.
    async fn push(&self, token: &str, kind: u128, ops: Vec<WriteOp>) -> usize {
        let mut n = 0;
        for chunk in ops.chunks(MAX_WRITES_PER_PUSH) {
            let writes = chunk
                .iter()
                .map(|op| {
                    n += 1;
                    ClientWrite {
                        client_id: id(kind, n),
                        op: op.clone(),
                    }
                })
                .collect();
            let r: PushResponse = self
                .call(
                    reqwest::Method::POST,
                    "/v1/push",
                    Some(token),
                    &PushRequest { writes },
                )
                .await;
            for w in &r.results {
                assert!(
                    matches!(
                        w.outcome,
                        WriteOutcome::Accepted | WriteOutcome::AlreadyApplied
                    ),
                    "seed write refused: {:?}",
                    w.outcome
                );
            }
        }
        n
    }

    /// Uploads `bytes` as one chunk (staff only) and returns its hash.
    async fn upload(&self, token: &str, bytes: Vec<u8>) -> String {
        let sha = hex(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref());
        let _: serde_json::Value = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/media/{sha}"),
                Some(token),
                &StartUpload {
                    size: bytes.len() as u64,
                },
            )
            .await;
        let resp = self
            .http
            .put(format!("{}/v1/media/{sha}?offset=0", self.url))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload reachable");
        assert!(resp.status().is_success(), "upload: {}", resp.status());
        sha
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the class year into the fixture school on the server at `url` (class A). `shrink`
/// divides the volumes (awards, photos, posts, comments, messages) for quick tests; 1 is the year.
/// Pupils and parents are never shrunk.
pub async fn seed(url: &str, shrink: usize) -> ClassYear {
    let shrink = shrink.max(1);
    let (awards_n, photos_n, story_n, messages_n) = (
        AWARDS / shrink,
        PHOTOS / shrink,
        STORY_POSTS / shrink,
        MESSAGES / shrink,
    );
    let c = Client {
        http: reqwest::Client::new(),
        url: url.to_owned(),
    };
    let mut year = ClassYear::default();
    let teacher = c.sign_in("tA").await;

    // Pupils: the fixture's a1 and a2, and 28 more added mid-year by the teacher (REQ-ACC-1).
    let mut pupils = vec!["a1".to_owned(), "a2".to_owned()];
    for i in pupils.len()..PUPILS {
        let added: AddedPupil = c
            .call(
                reqwest::Method::POST,
                "/v1/classes/classA/pupils",
                Some(&teacher),
                &AddPupilRequest {
                    display_name: format!("Pupil {i:02}"),
                },
            )
            .await;
        pupils.push(added.pupil_id);
    }
    year.pupils = pupils.len();

    // Parents: two per pupil; pa1 and pa2 exist, the rest join with a parent code (REQ-ACC-2).
    let mut parents: Vec<(String, String)> = vec![
        ("pa1".into(), c.sign_in("pa1").await),
        ("pa2".into(), c.sign_in("pa2").await),
    ];
    for (i, pupil) in pupils.iter().enumerate() {
        let have = usize::from(i < 2);
        for k in have..2 {
            let code: ParentCode = c
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/pupils/{pupil}/parent-code"),
                    Some(&teacher),
                    &serde_json::json!({}),
                )
                .await;
            let joined: SignInResponse = c
                .call(
                    reqwest::Method::POST,
                    "/v1/parent-codes/redeem",
                    None,
                    &RedeemParentCode {
                        code: code.code,
                        email: format!("parent-{i}-{k}@families.test"),
                        password: format!("family-password-{i}-{k}"),
                        display_name: format!("Parent {i}-{k}"),
                        device_id: None,
                    },
                )
                .await;
            parents.push((joined.me.user_id, joined.token));
        }
    }
    year.parents = parents.len();

    // Awards: 200 per pupil over the year, one tap each.
    let skills = ["classA-teamwork", "classA-hard-work"];
    let awards = (0..awards_n)
        .map(|n| WriteOp::AwardPoints {
            awards: vec![AwardTarget {
                award_id: id(1, n),
                pupil_id: pupils[n % pupils.len()].clone(),
            }],
            skill_id: skills[n % skills.len()].to_owned(),
            note: (n % 3 == 0).then(|| format!("well done on task {n}")),
            awarded_at: chrono::Utc::now(),
        })
        .collect();
    year.awards = c.push(&teacher, 2, awards).await;

    // Photos: 1,200 distinct uploads; 400 go with Class Story posts, 800 into portfolios.
    let mut shas = Vec::with_capacity(photos_n);
    for n in 0..photos_n {
        let mut bytes = vec![0xFFu8, 0xD8, 0xFF, 0xE0];
        bytes.extend(format!("class-year photo {n}").bytes());
        bytes.resize(2_048, (n % 251) as u8);
        shas.push(c.upload(&teacher, bytes).await);
    }
    let posts = shas
        .iter()
        .enumerate()
        .map(|(n, sha)| {
            let audience = if n < story_n {
                Audience::ClassStory {
                    class_id: "classA".into(),
                }
            } else {
                Audience::Portfolio {
                    pupil_id: pupils[n % pupils.len()].clone(),
                }
            };
            WriteOp::CreatePost(NewPost {
                post_id: id(3, n),
                audience,
                caption: format!("What we learned today, part {n}"),
                media_sha256: Some(sha.clone()),
                tagged: vec![],
            })
        })
        .collect();
    year.photos = c.push(&teacher, 4, posts).await;
    year.story_posts = story_n;

    // Comments (REQ-STO-4): parents on Class Story posts, spread over the year's posts.
    let mut by_parent: Vec<Vec<WriteOp>> = vec![Vec::new(); parents.len()];
    for n in 0..COMMENTS / shrink {
        by_parent[n % parents.len()].push(WriteOp::CommentOnPost {
            comment_id: id(7, n),
            post_id: id(3, n % story_n),
            body: format!("Lovely work, comment {n}"),
        });
    }
    for (p, ((_, token), ops)) in parents.iter().zip(by_parent).enumerate() {
        year.comments += c.push(token, 2_000 + p as u128, ops).await;
    }

    // Messages: 50 per parent with the class teacher, half each way.
    let per_parent = messages_n / parents.len();
    let mut replies = Vec::new();
    for (p, (parent_id, token)) in parents.iter().enumerate() {
        let mut from_parent = Vec::new();
        for m in 0..per_parent {
            let message_id = id(5, p * per_parent + m);
            let body = format!("Message {m} about the week");
            if m % 2 == 0 {
                from_parent.push(WriteOp::SendMessage {
                    message_id,
                    to: "tA".into(),
                    body,
                    attachments: Vec::new(),
                });
            } else {
                replies.push(WriteOp::SendMessage {
                    message_id,
                    to: parent_id.clone(),
                    body,
                    attachments: Vec::new(),
                });
            }
        }
        year.messages += c.push(token, 6 + p as u128, from_parent).await;
    }
    year.messages += c.push(&teacher, 1_000, replies).await;
    year
}
