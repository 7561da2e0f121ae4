//! Photos through the client: prepared on the device, content-addressed, wiped at sign-out
//! (REQ-PRV-1, PRV-3).

use homeroom_e2e::{device, signed_in, test_photo, TestServer};

#[test]
fn prepared_photos_are_named_by_their_hash_and_gone_after_sign_out() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let input = test_photo(tmp.path());
    let dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &dir, "tA");
    let p = tablet.prepare_photo(&input).unwrap();
    for f in [&p.large, &p.thumbnail] {
        assert_eq!(f.path.file_stem().unwrap().to_string_lossy(), f.sha256_hex);
        let bytes = std::fs::read(&f.path).unwrap();
        assert_eq!(bytes.len() as u64, f.bytes);
        assert!(
            !bytes.windows(6).any(|w| w == b"GPS 51"),
            "no metadata in the upload"
        );
    }
    assert_eq!(
        (p.large.width, p.large.height),
        (1365, 2048),
        "upright and within 2048"
    );
    tablet.sign_out().unwrap();
    assert!(
        !p.large.path.exists() && !p.thumbnail.path.exists(),
        "wiped at sign-out"
    );
    // Preparing works without a session too (a photo can be taken before signing in).
    let d = device(&server.url(), &tmp.path().join("other"));
    assert!(d.prepare_photo(&input).is_ok());
}

#[test]
fn a_file_that_is_not_a_photo_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let bad = tmp.path().join("note.jpg");
    std::fs::write(&bad, b"definitely not a jpeg").unwrap();
    let d = device(&server.url(), &tmp.path().join("d"));
    let err = d.prepare_photo(&bad).unwrap_err();
    assert!(matches!(err, homeroom_core::CoreError::Media(_)), "{err}");
}
