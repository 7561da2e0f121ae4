//! School-registered devices and sessions over real HTTP (REQ-ACC-6): staff sign in only on a
//! device the admin enrolled, revoking a device ends its sessions at once, and signing out ends
//! the session on the server.

use homeroom_e2e::{api_token, TestServer};
use homeroom_protocol::fixture::ENROLLED_TABLET_KEY;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const MATRIX: &str = include_str!("../../../shared/policy/access-matrix.csv");

async fn sign_in(http: &Client, url: &str, who: &str, device: Option<&str>) -> (StatusCode, Value) {
    let u = homeroom_protocol::fixture::user_by_id(who).unwrap();
    let mut body = json!({"method": "password", "email": u.email(), "password": u.password()});
    if let Some(d) = device {
        body["device_id"] = json!(d);
    }
    let r = http
        .post(format!("{url}/v1/sessions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn enrol(http: &Client, url: &str, tok: &str, label: &str) -> (StatusCode, Value) {
    let r = http
        .post(format!("{url}/v1/devices"))
        .bearer_auth(tok)
        .json(&json!({"label": label}))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_sign_in_only_on_a_device_the_school_enrolled() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    for who in ["tA", "sA", "L"] {
        let (s, v) = sign_in(&http, &url, who, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
        assert_eq!(v["error"], "device_not_enrolled");
        let (s, _) = sign_in(&http, &url, who, Some("a-personal-phone")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who} on an unknown device");
        let (s, v) = sign_in(&http, &url, who, Some(ENROLLED_TABLET_KEY)).await;
        assert_eq!(s, StatusCode::OK, "{who} on the school tablet: {v}");
    }
    // Parents use their own phones; the admin signs in anywhere to enrol the first tablet.
    for who in ["pa1", "H"] {
        let (s, v) = sign_in(&http, &url, who, None).await;
        assert_eq!(s, StatusCode::OK, "{who}: {v}");
    }
    // A key is per school: a Greenfield tablet does not open a Riverside account.
    let h = api_token(&http, &url, "H").await;
    let (_, greenfield_only) = enrol(&http, &url, &h, "Greenfield office iPad").await;
    let key = greenfield_only["device_key"].as_str().unwrap();
    let (s, _) = sign_in(&http, &url, "tA", Some(key)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = sign_in(&http, &url, "X", Some(key)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = sign_in(&http, &url, "X", Some(ENROLLED_TABLET_KEY)).await;
    assert_eq!(s, StatusCode::OK, "Riverside's own tablet");
}

#[test]
fn the_admin_enrols_a_tablet_and_revoking_it_ends_its_sessions_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = Client::new();
    let h = rt.block_on(api_token(&http, &url, "H"));

    // The enrol_device rows of the access matrix (REQ-ACC-6).
    let mut checked = 0;
    for line in MATRIX.lines().filter(|l| l.contains(",enrol_device,")) {
        let f: Vec<&str> = line.split(',').collect();
        let tok = rt.block_on(api_token(&http, &url, f[0]));
        let (s, v) = rt.block_on(enrol(&http, &url, &tok, "matrix tablet"));
        assert_eq!(s.is_success(), f[3] == "allow", "{line}: {s} {v}");
        if f[3] == "deny" {
            assert!(v.get("device_key").is_none(), "{line}: no key in a refusal");
        }
        checked += 1;
    }
    assert_eq!(checked, 2);

    let (s, enrolled) = rt.block_on(enrol(&http, &url, &h, "Class A tablet 2"));
    assert_eq!(s, StatusCode::CREATED);
    let key = enrolled["device_key"].as_str().unwrap().to_owned();
    let id = enrolled["device_id"].as_str().unwrap().to_owned();

    // The tablet: a core whose device id is the key the admin handed over.
    let tablet = homeroom_core::Homeroom::open(homeroom_core::Settings {
        server_url: url.clone(),
        data_dir: tmp.path().join("tablet"),
        device_id: Some(key.clone()),
        at_rest_key: homeroom_e2e::TEST_KEY.to_vec(),
        request_timeout: None,
    })
    .unwrap();
    tablet.sign_in("ta@greenfield.test", "tA-password").unwrap();
    tablet.sync().unwrap();

    let listed: Value = rt
        .block_on(http.get(format!("{url}/v1/devices")).bearer_auth(&h).send())
        .unwrap()
        .json_sync(&rt);
    let labels: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"Class A tablet 2"), "{labels:?}");

    let s = rt
        .block_on(
            http.delete(format!("{url}/v1/devices/{id}"))
                .bearer_auth(&h)
                .send(),
        )
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::NO_CONTENT);
    // At once: the very next request from the tablet is refused, and so is signing in again.
    let err = tablet.sync().unwrap_err();
    assert!(err.to_string().to_lowercase().contains("sign"), "{err}");
    assert!(tablet.sign_in("ta@greenfield.test", "tA-password").is_err());

    let audit: Value = rt
        .block_on(http.get(format!("{url}/v1/audit")).bearer_auth(&h).send())
        .unwrap()
        .json_sync(&rt);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(&actions[..2], ["revoke_device", "enrol_device"]);
}

/// Reads a JSON body inside a sync test.
trait JsonSync {
    fn json_sync(self, rt: &tokio::runtime::Runtime) -> Value;
}

impl JsonSync for reqwest::Response {
    fn json_sync(self, rt: &tokio::runtime::Runtime) -> Value {
        rt.block_on(self.json()).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_ends_the_session_on_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let (http, url) = (Client::new(), server.url());
    let tok = api_token(&http, &url, "pa1").await;
    let pull = |t: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.get(format!("{url}/v1/pull"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(pull(tok.clone()).await, StatusCode::OK);
    let s = http
        .delete(format!("{url}/v1/sessions/current"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(pull(tok).await, StatusCode::UNAUTHORIZED);
}

#[test]
fn signing_out_through_the_core_ends_the_server_session_and_works_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let phone = homeroom_e2e::signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    phone.sync().unwrap();
    phone.sign_out().unwrap();
    assert!(phone.sync().is_err(), "signed out: nothing to sync as");
    // Offline, sign-out still wipes the device.
    let tablet = homeroom_e2e::signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    tablet.sync().unwrap();
    server.stop();
    tablet.sign_out().unwrap();
    assert!(tablet.directory().unwrap().is_none());
}
