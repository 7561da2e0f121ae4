//! Message attachments end to end (REQ-MSG-1, MSG-5, PRV-1, PRV-3): real cores and the real
//! server on loopback — photos through the pipeline, files by allowlist, uploads by hash in
//! resumable chunks before the message, and the media served only to the thread's people.

use std::path::{Path, PathBuf};

use homeroom_core::messaging::NewAttachment;
use homeroom_core::{CoreError, Homeroom, Settings};
use homeroom_e2e::fault_proxy::{Fault, FaultProxy};
use homeroom_e2e::{api_token, signed_in, test_photo, TestServer, TEST_KEY};
use homeroom_protocol::attachments::AttachmentKind;
use homeroom_protocol::fixture;
use homeroom_protocol::wire::{PushResponse, RejectCode, WriteOutcome};
use reqwest::StatusCode;
use tempfile::TempDir;

/// A small PDF: the allowlist checks the magic bytes, not the layout.
const PDF: &[u8] = b"%PDF-1.4\n% permission slip for the museum trip\n%%EOF\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write a test file");
    p
}

fn sha256_hex(bytes: &[u8]) -> String {
    homeroom_core::media::sha256_hex(bytes)
}

/// A signed-in device talking to `url`, uploading in 4 KB chunks (many chunks per photo).
fn phone(url: &str, dir: &Path, who: &str) -> Homeroom {
    let d = Homeroom::open(Settings {
        server_url: url.to_owned(),
        data_dir: dir.to_owned(),
        device_id: Some(fixture::ENROLLED_TABLET_KEY.to_owned()),
        at_rest_key: TEST_KEY.to_vec(),
        request_timeout: Some(std::time::Duration::from_secs(5)),
        face_model: None,
        upload_chunk_bytes: Some(4096),
        media_cache_bytes: None,
    })
    .expect("core opens");
    let u = fixture::user_by_id(who).expect("fixture person");
    d.sign_in(&u.email(), &u.password()).expect("sign in");
    d
}

/// Whether any file under `dir` contains `needle` (plaintext at rest).
fn any_file_contains(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            any_file_contains(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

/// `GET /v1/media/{sha}/content` as a fixture person.
fn fetch_media(rt: &tokio::runtime::Runtime, url: &str, who: &str, sha: &str) -> StatusCode {
    rt.block_on(async {
        let http = reqwest::Client::new();
        let token = api_token(&http, url, who).await;
        http.get(format!("{url}/v1/media/{sha}/content"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
    })
}

// REQ-MSG-1, PRV-1, PRV-3: a parent's photo (through the pipeline) and PDF reach the teacher;
// the teacher's device gets the very bytes the parent's sent (hash equal), and neither device
// keeps an attachment in plaintext.
#[test]
fn a_parents_photo_and_pdf_reach_the_teacher_byte_for_byte() {
    let tmp = TempDir::new().expect("tmp");
    let server = TestServer::fresh(&tmp.path().join("server"));
    let photo = test_photo(tmp.path());
    let pdf = write(tmp.path(), "slip.pdf", PDF);
    let pa1_dir = tmp.path().join("pa1");
    let pa1 = signed_in(&server.url(), &pa1_dir, "pa1");
    pa1.sync().expect("first sync");
    let sent = pa1
        .send_message_with(
            "tA",
            "Here is the signed slip, and Amira's model volcano",
            &[
                NewAttachment::Photo {
                    path: photo.clone(),
                },
                NewAttachment::File {
                    path: pdf,
                    name: "permission-slip.pdf".into(),
                    content_type: "application/pdf".into(),
                },
            ],
        )
        .expect("a parent may attach a photo and a PDF");
    assert!(sent.pending);
    let [p, f] = sent.record.attachments.as_slice() else {
        panic!("two attachments: {:?}", sent.record.attachments)
    };
    assert_eq!(p.kind, AttachmentKind::Photo);
    assert_eq!(p.content_type, "image/jpeg");
    assert_eq!(f.kind, AttachmentKind::File);
    assert_eq!(f.sha256, sha256_hex(PDF));
    // The sender sees their own attachment at once, offline too, from the sealed copy.
    let own_photo = pa1
        .attachment_bytes(&sent.record.id.to_string(), &p.sha256)
        .expect("own attachment");
    assert_eq!(sha256_hex(&own_photo), p.sha256);
    assert!(
        !own_photo.windows(6).any(|w| w == b"GPS 51"),
        "the pipeline stripped the metadata (REQ-PRV-1)"
    );

    let out = pa1.sync().expect("sent");
    assert_eq!(out.sent, 1);
    assert_eq!(out.uploads.len(), 2, "both uploaded before the message");
    assert!(out.refused.is_empty(), "{:?}", out.refused);
    // Once uploaded, the sender's sealed copies join the LRU cache (its byte budget applies).
    assert!(pa1.photo_cached(&p.sha256) && pa1.photo_cached(&f.sha256));
    assert_eq!(
        pa1.attachment_bytes(&sent.record.id.to_string(), &p.sha256)
            .expect("own attachment, from the cache"),
        own_photo
    );

    let ta = signed_in(&server.url(), &tmp.path().join("tA"), "tA");
    ta.sync().expect("teacher syncs");
    let thread = ta.thread_with("pa1").expect("thread id");
    let got = ta.thread(&thread).expect("thread");
    assert_eq!(got.len(), 1);
    let m = &got[0].record;
    assert_eq!(
        m.attachments, sent.record.attachments,
        "the same attachments"
    );
    for a in &m.attachments {
        let bytes = ta
            .attachment_bytes(&m.id.to_string(), &a.sha256)
            .expect("the teacher downloads the attachment");
        assert_eq!(sha256_hex(&bytes), a.sha256, "hash equal");
        assert_eq!(bytes.len() as u64, a.size);
    }
    assert_eq!(
        ta.attachment_bytes(&m.id.to_string(), &f.sha256)
            .expect("again, from the cache"),
        PDF
    );
    // REQ-PRV-3: at rest, attachments and their names are sealed on both devices.
    for dir in [pa1_dir.as_path(), &tmp.path().join("tA")] {
        assert!(!any_file_contains(dir, b"museum trip"), "{}", dir.display());
        assert!(
            !any_file_contains(dir, b"permission-slip"),
            "{}",
            dir.display()
        );
    }
}

// REQ-MSG-1, MSG-5: an attachment is served to the thread's two people; not to a parent of
// another pupil, another teacher or a pupil; to a leader only once the message was reported.
#[test]
fn only_the_threads_people_and_leaders_after_a_report_may_fetch_an_attachment() {
    let tmp = TempDir::new().expect("tmp");
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let pdf = write(tmp.path(), "slip.pdf", PDF);
    let pa1 = signed_in(&url, &tmp.path().join("pa1"), "pa1");
    pa1.sync().expect("first sync");
    let sent = pa1
        .send_message_with(
            "tA",
            "",
            &[NewAttachment::File {
                path: pdf,
                name: "slip.pdf".into(),
                content_type: "application/pdf".into(),
            }],
        )
        .expect("an attachment without text");
    assert_eq!(pa1.sync().expect("sent").sent, 1);
    let sha = sha256_hex(PDF);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    assert_eq!(fetch_media(&rt, &url, "pa1", &sha), StatusCode::OK);
    assert_eq!(fetch_media(&rt, &url, "tA", &sha), StatusCode::OK);
    for outsider in ["pa2", "tB", "L", "H"] {
        assert_eq!(
            fetch_media(&rt, &url, outsider, &sha),
            StatusCode::NOT_FOUND,
            "{outsider} is not in the thread"
        );
    }
    let pupil_status = fetch_media(&rt, &url, "a1", &sha);
    assert_eq!(pupil_status, StatusCode::NOT_FOUND, "pupils: REQ-MSG-2");

    // The teacher reports the message: the school's leaders may now see it, attachment too.
    let ta = signed_in(&url, &tmp.path().join("tA"), "tA");
    ta.sync().expect("teacher syncs");
    ta.report_message(&sent.record.id.to_string(), Some("not for school"))
        .expect("the recipient may report");
    ta.sync().expect("report sent");
    assert_eq!(fetch_media(&rt, &url, "L", &sha), StatusCode::OK);
    assert_eq!(fetch_media(&rt, &url, "pa2", &sha), StatusCode::NOT_FOUND);
    let reports: serde_json::Value = rt.block_on(async {
        let http = reqwest::Client::new();
        let token = api_token(&http, &url, "L").await;
        http.get(format!("{url}/v1/reports"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    });
    assert_eq!(
        reports[0]["message"]["attachments"][0]["sha256"], sha,
        "the leader's report lists the attachment: {reports}"
    );
}

// REQ-MSG-1: the server refuses a message naming media it does not hold (MediaMissing), or
// whose bytes are not the declared type; pupils cannot upload at all (REQ-MSG-2).
#[test]
fn the_server_refuses_a_message_whose_media_it_does_not_have() {
    let tmp = TempDir::new().expect("tmp");
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let http = reqwest::Client::new();
    let token = rt.block_on(api_token(&http, &url, "pa1"));
    let push = |sha: &str, content_type: &str, size: usize| -> PushResponse {
        let id = uuid::Uuid::new_v4();
        rt.block_on(async {
            http.post(format!("{url}/v1/push"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"writes": [{
                    "client_id": id,
                    "op": {"type": "send_message", "message_id": id, "to": "tA", "body": "see attached",
                           "attachments": [{"sha256": sha, "kind": "file", "name": "a.pdf",
                                            "content_type": content_type, "size": size}]}
                }]}))
                .send()
                .await
                .expect("push")
                .json()
                .await
                .expect("push answer")
        })
    };
    let code = |r: &PushResponse| match &r.results[0].outcome {
        WriteOutcome::Rejected { code, .. } => Some(*code),
        _ => None,
    };
    // Never uploaded.
    let missing = push(&sha256_hex(PDF), "application/pdf", PDF.len());
    assert_eq!(code(&missing), Some(RejectCode::MediaMissing));
    // Sends `bytes[from..to]` of an upload of `bytes` (started first if need be).
    let upload = |bytes: &[u8], from: usize, to: usize| {
        let sha = sha256_hex(bytes);
        rt.block_on(async {
            let r = http
                .post(format!("{url}/v1/media/{sha}"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"size": bytes.len()}))
                .send()
                .await
                .expect("start");
            assert_eq!(r.status(), StatusCode::OK, "a parent may upload");
            let r = http
                .put(format!("{url}/v1/media/{sha}?offset={from}"))
                .bearer_auth(&token)
                .body(bytes[from..to].to_vec())
                .send()
                .await
                .expect("chunk");
            assert_eq!(r.status(), StatusCode::OK);
        });
        sha
    };
    // Uploaded halfway only.
    let half = upload(PDF, 0, PDF.len() / 2);
    assert_eq!(
        code(&push(&half, "application/pdf", PDF.len())),
        Some(RejectCode::MediaMissing)
    );
    // Complete, but not a PDF: refused as invalid.
    let exe = b"MZ\x90\x00 not a document at all";
    let exe_sha = upload(exe, 0, exe.len());
    assert_eq!(
        code(&push(&exe_sha, "application/pdf", exe.len())),
        Some(RejectCode::Invalid)
    );
    // Complete and a PDF: accepted.
    let whole = upload(PDF, PDF.len() / 2, PDF.len());
    assert_eq!(
        push(&whole, "application/pdf", PDF.len()).results[0].outcome,
        WriteOutcome::Accepted
    );
    // The direct route says which field is at fault.
    let direct = rt.block_on(async {
        http.post(format!("{url}/v1/messages"))
            .bearer_auth(&token)
            .json(
                &serde_json::json!({"message_id": uuid::Uuid::new_v4(), "to": "tA", "body": "x",
                "attachments": [{"sha256": "b".repeat(64), "kind": "file", "name": "b.pdf",
                                 "content_type": "application/pdf", "size": 10}]}),
            )
            .send()
            .await
            .expect("send")
    });
    assert_eq!(direct.status(), StatusCode::BAD_REQUEST);
    // Pupils have no messaging, so no uploads (REQ-MSG-2).
    let pupil = rt.block_on(async {
        let token = api_token(&http, &url, "a1").await;
        http.post(format!("{url}/v1/media/{}", "c".repeat(64)))
            .bearer_auth(token)
            .json(&serde_json::json!({"size": 10}))
            .send()
            .await
            .expect("start")
            .status()
    });
    assert_eq!(pupil, StatusCode::FORBIDDEN);
}

// REQ-MSG-1 (and the outbox's at-most-once rule): an attachment upload cut half way keeps the
// message waiting in the outbox; the next sync resumes from the acknowledged offset and the
// teacher gets the message exactly once.
#[test]
fn a_message_whose_upload_was_interrupted_is_delivered_once_after_resume() {
    let tmp = TempDir::new().expect("tmp");
    let server = TestServer::fresh(&tmp.path().join("server"));
    let proxy = FaultProxy::start(server.addr);
    let photo = test_photo(tmp.path());
    let dir = tmp.path().join("pa1");
    let pa1 = phone(&proxy.url(), &dir, "pa1");
    pa1.sync().expect("first sync");
    let sent = pa1
        .send_message_with(
            "tA",
            "Amira's volcano",
            &[NewAttachment::Photo { path: photo }],
        )
        .expect("queued");
    let size = sent.record.attachments[0].size;
    assert!(size > 40_000, "a photo of several chunks ({size} bytes)");

    proxy.set(Fault::CutAfter(size / 2));
    let err = pa1.sync().unwrap_err();
    assert!(matches!(err, CoreError::Offline(_)), "{err}");
    assert_eq!(
        pa1.pending_writes().expect("outbox"),
        1,
        "the message waits"
    );
    let conn = rusqlite::Connection::open(dir.join("homeroom-cache.sqlite3")).expect("cache");
    let acked: i64 = conn
        .query_row("SELECT acked FROM media_uploads", [], |r| r.get(0))
        .expect("upload row");
    let acked = acked as u64;
    assert!(acked > 0 && acked < size, "acked {acked} of {size}");

    // The teacher has nothing yet: the message did not go ahead of its photo.
    let ta = signed_in(&server.url(), &tmp.path().join("tA"), "tA");
    ta.sync().expect("teacher syncs");
    let thread = ta.thread_with("pa1").expect("thread id");
    assert!(ta.thread(&thread).expect("thread").is_empty());

    proxy.set(Fault::Pass);
    let out = pa1.sync().expect("resumed");
    assert_eq!(
        out.uploads,
        vec![(sent.record.attachments[0].sha256.clone(), acked, size)],
        "resumed from the acknowledged offset"
    );
    assert_eq!(out.sent, 1);
    // A further sync sends nothing again.
    assert_eq!(pa1.sync().expect("idle").sent, 0);
    ta.sync().expect("teacher syncs");
    let got = ta.thread(&thread).expect("thread");
    assert_eq!(got.len(), 1, "delivered exactly once");
    let a = &got[0].record.attachments[0];
    let bytes = ta
        .attachment_bytes(&got[0].record.id.to_string(), &a.sha256)
        .expect("download");
    assert_eq!(sha256_hex(&bytes), a.sha256);
}

// REQ-MSG-1: a file outside the allowlist, one whose content is not what it claims, or one over
// the size limit is refused on the phone with a typed error, and nothing is queued.
#[test]
fn a_file_that_may_not_be_attached_is_a_typed_error_and_nothing_is_queued() {
    let tmp = TempDir::new().expect("tmp");
    let server = TestServer::fresh(&tmp.path().join("server"));
    let pa1 = signed_in(&server.url(), &tmp.path().join("pa1"), "pa1");
    pa1.sync().expect("first sync");
    let exe = write(tmp.path(), "game.exe", b"MZ\x90\x00");
    let big = write(
        tmp.path(),
        "huge.pdf",
        &[b"%PDF-1.4\n".as_slice(), &vec![b' '; 11 * 1024 * 1024]].concat(),
    );
    let cases = [
        (exe.clone(), "game.exe", "application/x-msdownload"),
        (exe, "game.pdf", "application/pdf"),
        (big, "huge.pdf", "application/pdf"),
    ];
    for (path, name, content_type) in cases {
        let err = pa1
            .send_message_with(
                "tA",
                "see attached",
                &[NewAttachment::File {
                    path,
                    name: name.into(),
                    content_type: content_type.into(),
                }],
            )
            .unwrap_err();
        assert!(
            matches!(err, CoreError::InvalidAttachment(_)),
            "{name}: {err}"
        );
    }
    let not_a_photo = write(tmp.path(), "photo.jpg", b"not a jpeg");
    let err = pa1
        .send_message_with("tA", "", &[NewAttachment::Photo { path: not_a_photo }])
        .unwrap_err();
    assert!(matches!(err, CoreError::Media(_)), "{err}");
    assert_eq!(pa1.pending_writes().expect("outbox"), 0, "nothing queued");
    let thread = pa1.thread_with("tA").expect("thread id");
    assert!(pa1.thread(&thread).expect("thread").is_empty());
}
