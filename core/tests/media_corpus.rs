//! Replays every input in `tests/media_corpus/` (hand-made edge cases and minimised fuzz finds from
//! `core/fuzz`) through the photo pipeline: each must give its recorded outcome and none may panic (REQ-PRV-1).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use homeroom_core::media::{prepare_photo, MediaError, PhotoOptions};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/media_corpus")
}

fn expected() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpus_dir().join("EXPECTED")).expect("EXPECTED file");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let file = parts.next().unwrap_or_default().to_string();
            let outcome = parts.next().unwrap_or_default().to_string();
            (file, outcome)
        })
        .collect()
}

fn outcome_name(r: &Result<homeroom_core::media::PreparedPhoto, MediaError>) -> &'static str {
    match r {
        Ok(_) => "Ok",
        Err(MediaError::TooLarge { .. }) => "TooLarge",
        Err(MediaError::TooManyPixels { .. }) => "TooManyPixels",
        Err(MediaError::UnsupportedFormat { .. }) => "UnsupportedFormat",
        Err(MediaError::Corrupt { .. }) => "Corrupt",
        Err(MediaError::Io { .. }) => "Io",
        Err(MediaError::Encode { .. }) => "Encode",
        Err(MediaError::InvalidOptions { .. }) => "InvalidOptions",
    }
}

#[test]
fn every_corpus_input_gives_its_recorded_typed_outcome_without_panicking() {
    let expected = expected();
    let mut seen = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name == "EXPECTED" {
            continue;
        }
        let want = expected
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is not listed in EXPECTED"));
        let result = std::panic::catch_unwind(|| prepare_photo(&path, &PhotoOptions::default()));
        let got = match &result {
            Ok(r) => outcome_name(r),
            Err(_) => "PANIC",
        };
        if got != want {
            failures.push(format!(
                "{name}: expected {want}, got {got} ({:?})",
                result.as_ref().ok().and_then(|r| r.as_ref().err())
            ));
        }
        seen += 1;
    }
    assert!(seen >= 10, "corpus went missing ({seen} files)");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
