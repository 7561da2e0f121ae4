//! Bad request bodies get a JSON error with the right status, straight from the router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use homeroom_protocol::wire::{ApiError, MAX_BODY_BYTES};
use homeroom_server::app::{router, AppState};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn post(body: Vec<u8>) -> (StatusCode, ApiError) {
    let tmp = tempfile::tempdir().unwrap();
    let db = homeroom_server::db::open(tmp.path(), None).await.unwrap();
    let app = router(AppState::new(db));
    let req = Request::post("/v1/sessions")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).expect("error bodies are JSON"),
    )
}

#[tokio::test]
async fn oversized_body_is_413_with_a_json_error() {
    let (status, err) = post(vec![b' '; MAX_BODY_BYTES + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err.error, "too_large");
}

#[tokio::test]
async fn malformed_json_is_400_with_a_json_error() {
    let (status, err) = post(b"{\"method\": ".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err.error, "bad_request");
}

#[tokio::test]
async fn unknown_sign_in_method_is_400_naming_the_problem() {
    let (status, err) = post(br#"{"method": "magic", "wand": 1}"#.to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err.message.contains("magic"), "{}", err.message);
}
