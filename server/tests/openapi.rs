//! The OpenAPI document stays true: every route served is documented, every documented route is
//! served, and the server hands the document out at /v1/openapi.json.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use homeroom_server::app::{router, AppState, OPENAPI_JSON, ROUTES};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[test]
fn every_route_is_documented_and_every_documented_route_is_listed() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (method, path) in ROUTES {
        assert!(
            paths
                .get(*path)
                .and_then(|p| p.get(method.to_lowercase()))
                .is_some(),
            "{method} {path} is served but not documented"
        );
    }
    for (path, ops) in paths {
        for method in ops.as_object().expect("operations").keys() {
            assert!(
                ROUTES
                    .iter()
                    .any(|(m, p)| p == path && m.eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not served"
            );
        }
    }
}

#[tokio::test]
async fn every_listed_route_is_really_served() {
    let tmp = tempfile::tempdir().unwrap();
    let db = homeroom_server::db::open(tmp.path(), None).await.unwrap();
    let app = router(AppState::new(db));
    for (method, path) in ROUTES {
        let req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(*path)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let status = app.clone().oneshot(req).await.unwrap().status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} answered {status}"
        );
    }
    let resp = app
        .oneshot(
            Request::get("/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, OPENAPI_JSON.as_bytes());
}
