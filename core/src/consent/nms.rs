//! Greedy non-maximum suppression: one box per face out of CenterFace's neighbouring heatmap peaks.

use super::faces::{iou, FaceBox};

/// Keeps the best-scoring box of every cluster overlapping by more than `iou_threshold`; best first.
pub fn nms(mut boxes: Vec<FaceBox>, iou_threshold: f32) -> Vec<FaceBox> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<FaceBox> = Vec::with_capacity(boxes.len().min(64));
    for candidate in boxes {
        if kept.iter().all(|k| iou(k, &candidate) <= iou_threshold) {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, s: f32, score: f32) -> FaceBox {
        FaceBox {
            x,
            y,
            w: s,
            h: s,
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_all_separate_ones() {
        let out = nms(
            vec![
                b(0., 0., 10., 0.6),
                b(1., 1., 10., 0.9),
                b(50., 50., 10., 0.5),
                b(2., 0., 10., 0.7),
            ],
            0.3,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], b(1., 1., 10., 0.9));
        assert_eq!(out[1], b(50., 50., 10., 0.5));
    }

    #[test]
    fn nms_keeps_boxes_overlapping_less_than_the_threshold() {
        // IoU of these two is 1/3 > 0.3 but < 0.5.
        let pair = vec![b(0., 0., 10., 0.9), b(5., 0., 10., 0.8)];
        assert_eq!(nms(pair.clone(), 0.3).len(), 1);
        assert_eq!(nms(pair, 0.5).len(), 2);
        assert!(nms(Vec::new(), 0.3).is_empty());
    }
}
