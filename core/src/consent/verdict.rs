//! The consent verdict's rules (REQ-CON-2): tags against consent for the audience, then detected
//! faces against tags and chosen blurs. Pure, so every outcome is tested without a model or disk.

use std::collections::BTreeMap;

use homeroom_protocol::consent::ConsentRecord;
use homeroom_protocol::posts::{check_post_tags, Audience, ConsentBlock};

use super::faces::FaceBox;

/// A face the teacher chose to pixelate; `pupil_id` names the tagged pupil it is, if any
/// (a blurred pupil needs no consent: their face never leaves the device, CON-3).
#[derive(Debug, Clone, PartialEq)]
pub struct BlurredFace {
    pub pupil_id: Option<String>,
    pub face: FaceBox,
}

/// What the photo needs before it may be posted.
#[derive(Debug, Clone, PartialEq)]
pub enum Screening {
    /// Post as it is, with these tags.
    Clear { tagged: Vec<String> },
    /// Post only the copy with these boxes pixelated, with these tags.
    Blur {
        tagged: Vec<String>,
        boxes: Vec<FaceBox>,
    },
    /// Faces not accounted for by tags or blurs; or detection could not run (never a silent yes).
    NeedsReview {
        untagged_faces: u32,
        boxes: Vec<FaceBox>,
        detection_unavailable: Option<String>,
    },
    /// A tagged pupil may not appear here.
    Blocked(ConsentBlock),
}

/// Whether `face`'s centre lies inside `cover` (a blur box drawn by hand or taken from detection).
fn covers(cover: &FaceBox, face: &FaceBox) -> bool {
    let (cx, cy) = (face.x + face.w / 2.0, face.y + face.h / 2.0);
    cx >= cover.x && cx <= cover.x + cover.w && cy >= cover.y && cy <= cover.y + cover.h
}

/// Decides a photo: blocked tags first (naming the pupil), then faces no tag or blur accounts
/// for. `faces` is the detector's answer, or why it could not run.
pub fn screen(
    records: &BTreeMap<String, ConsentRecord>,
    tagged: &[String],
    audience: &Audience,
    blurred: &[BlurredFace],
    faces: Result<Vec<FaceBox>, String>,
) -> Screening {
    let blurred_pupils: Vec<&str> = blurred
        .iter()
        .filter_map(|b| b.pupil_id.as_deref())
        .collect();
    let kept: Vec<String> = tagged
        .iter()
        .filter(|t| !blurred_pupils.contains(&t.as_str()))
        .cloned()
        .collect();
    if let Err(block) = check_post_tags(records, &kept, audience) {
        return Screening::Blocked(block);
    }
    let faces = match faces {
        Ok(f) => f,
        Err(why) => {
            return Screening::NeedsReview {
                untagged_faces: 0,
                boxes: Vec::new(),
                detection_unavailable: Some(why),
            }
        }
    };
    let uncovered: Vec<FaceBox> = faces
        .into_iter()
        .filter(|f| !blurred.iter().any(|b| covers(&b.face, f)))
        .collect();
    let untagged = uncovered.len().saturating_sub(kept.len());
    if untagged > 0 {
        return Screening::NeedsReview {
            untagged_faces: untagged as u32,
            boxes: uncovered,
            detection_unavailable: None,
        };
    }
    if blurred.is_empty() {
        Screening::Clear { tagged: kept }
    } else {
        Screening::Blur {
            tagged: kept,
            boxes: blurred.iter().map(|b| b.face).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeroom_protocol::consent::ConsentDenied;
    use homeroom_protocol::fixture;

    fn face(x: f32) -> FaceBox {
        FaceBox {
            x,
            y: 10.0,
            w: 40.0,
            h: 40.0,
            score: 0.9,
        }
    }

    fn class() -> Audience {
        Audience::ClassStory {
            class_id: "classA".into(),
        }
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_tagged_restricted_pupil_blocks_and_is_named_con2() {
        let s = screen(
            &fixture::consent(),
            &tags(&["a1", "a2"]),
            &class(),
            &[],
            Ok(vec![face(0.), face(100.)]),
        );
        match s {
            Screening::Blocked(b) => {
                assert_eq!(b.pupil_id, "a2");
                assert_eq!(b.reason, ConsentDenied::Refused);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn blurring_the_restricted_pupil_allows_the_blurred_copy_only_con3() {
        let s = screen(
            &fixture::consent(),
            &tags(&["a1", "a2"]),
            &class(),
            &[BlurredFace {
                pupil_id: Some("a2".into()),
                face: face(100.),
            }],
            Ok(vec![face(0.), face(100.)]),
        );
        assert_eq!(
            s,
            Screening::Blur {
                tagged: tags(&["a1"]),
                boxes: vec![face(100.)]
            }
        );
    }

    #[test]
    fn more_faces_than_tags_needs_review_with_the_boxes() {
        let s = screen(
            &fixture::consent(),
            &tags(&["a1"]),
            &class(),
            &[],
            Ok(vec![face(0.), face(100.), face(200.)]),
        );
        assert!(matches!(
            s,
            Screening::NeedsReview {
                untagged_faces: 2,
                detection_unavailable: None,
                ..
            }
        ));
    }

    #[test]
    fn without_detection_a_photo_is_never_silently_allowed() {
        let s = screen(
            &fixture::consent(),
            &tags(&["a1"]),
            &class(),
            &[],
            Err("no face model configured".into()),
        );
        assert!(matches!(
            s,
            Screening::NeedsReview {
                detection_unavailable: Some(_),
                ..
            }
        ));
        // Tags are still checked first: a blocked pupil is named even without a model.
        let s = screen(
            &fixture::consent(),
            &tags(&["a2"]),
            &class(),
            &[],
            Err("no face model configured".into()),
        );
        assert!(matches!(s, Screening::Blocked(_)));
    }
}
