//! dlib's labelled face set (`examples/faces/*.xml`, imglab format) and the IoU-0.5 matching the
//! accuracy test and the face benchmark both score detectors with.

use homeroom_core::consent::{iou, FaceBox};

/// The value of `name='...'` (or "...") inside one XML tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}="))? + name.len() + 2;
    let quote = tag[at..].chars().next()?;
    let rest = &tag[at + 1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// `(file, boxes)` per `<image>` of a dlib imglab XML file; a tiny reader for this one known format.
pub fn labelled(xml: &str) -> Vec<(String, Vec<FaceBox>)> {
    let mut out: Vec<(String, Vec<FaceBox>)> = Vec::new();
    for tag in xml.split('<').map(|t| t.split('>').next().unwrap_or("")) {
        if tag.starts_with("image ") {
            out.push((attr(tag, "file").expect("image without file"), Vec::new()));
        } else if tag.starts_with("box ") {
            let num = |n: &str| -> f32 {
                attr(tag, n)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("box without {n}: {tag}"))
            };
            assert!(
                attr(tag, "ignore").is_none(),
                "ignore boxes are not expected: {tag}"
            );
            let b = FaceBox {
                x: num("left"),
                y: num("top"),
                w: num("width"),
                h: num("height"),
                score: 1.0,
            };
            out.last_mut().expect("box outside an image").1.push(b);
        }
    }
    out
}

/// Every labelled photo of both XML files under `dir` (dlib's `examples/faces`).
pub fn labelled_set(dir: &std::path::Path) -> Vec<(String, Vec<FaceBox>)> {
    ["training.xml", "testing.xml"]
        .iter()
        .flat_map(|xml| {
            let text = std::fs::read_to_string(dir.join(xml))
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.join(xml).display()));
            labelled(&text)
        })
        .collect()
}

/// Greedy matching, best IoU first: (matched truths, unmatched detections).
pub fn matches(truth: &[FaceBox], found: &[FaceBox]) -> (usize, usize) {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (t, tb) in truth.iter().enumerate() {
        for (f, fb) in found.iter().enumerate() {
            let v = iou(tb, fb);
            if v >= 0.5 {
                pairs.push((v, t, f));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut t_used, mut f_used) = (vec![false; truth.len()], vec![false; found.len()]);
    let mut hit = 0;
    for (_, t, f) in pairs {
        if !t_used[t] && !f_used[f] {
            t_used[t] = true;
            f_used[f] = true;
            hit += 1;
        }
    }
    (hit, found.len() - hit)
}
