//! The detector contract shared by every face model: boxes in the oriented image's pixels, nothing more.

use std::path::PathBuf;

use crate::media::OrientedImage;

/// One detected face, in pixels of the oriented (upright) image it was found in; `score` is in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub score: f32,
}

impl FaceBox {
    /// Area in square pixels (zero for degenerate boxes) so IoU never divides by a negative.
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// The same box in an image of another size, for detection on a downscaled copy and blur at full size.
    pub fn rescaled(&self, from: (u32, u32), to: (u32, u32)) -> FaceBox {
        let sx = to.0 as f32 / from.0.max(1) as f32;
        let sy = to.1 as f32 / from.1.max(1) as f32;
        FaceBox {
            x: self.x * sx,
            y: self.y * sy,
            w: self.w * sx,
            h: self.h * sy,
            score: self.score,
        }
    }

    /// The box clipped to a `width` x `height` image, so callers never index outside it.
    pub fn clamped(&self, width: u32, height: u32) -> FaceBox {
        let (wf, hf) = (width as f32, height as f32);
        let x0 = self.x.clamp(0.0, wf);
        let y0 = self.y.clamp(0.0, hf);
        let x1 = (self.x + self.w).clamp(0.0, wf);
        let y1 = (self.y + self.h).clamp(0.0, hf);
        FaceBox {
            x: x0,
            y: y0,
            w: (x1 - x0).max(0.0),
            h: (y1 - y0).max(0.0),
            score: self.score,
        }
    }
}

/// Intersection over union of two boxes, the overlap measure for NMS and for the accuracy test.
pub fn iou(a: &FaceBox, b: &FaceBox) -> f32 {
    let ix = ((a.x + a.w).min(b.x + b.w) - a.x.max(b.x)).max(0.0);
    let iy = ((a.y + a.h).min(b.y + b.h) - a.y.max(b.y)).max(0.0);
    let inter = ix * iy;
    let union = a.area() + b.area() - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Finds faces (never identifies them, REQ-CON-6); a trait so a faster model can replace CenterFace.
pub trait FaceDetector: Send + Sync {
    /// Face boxes in `img`'s own pixel coordinates, best score first.
    fn detect(&self, img: &OrientedImage) -> Result<Vec<FaceBox>, FaceError>;
}

/// Why face detection could not run; the consent filter treats any of these as "cannot clear the photo".
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("reading face model {path}: {source}")]
    ModelRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("loading face model {path} for {width}x{height} input: {detail}")]
    ModelLoad {
        path: PathBuf,
        width: u32,
        height: u32,
        detail: String,
    },
    #[error("face model input long edge {long_edge} is not a positive multiple of {multiple}")]
    BadInputSize { long_edge: u32, multiple: u32 },
    #[error("face model output {index} has shape {shape:?}, expected {expected}")]
    ModelOutput {
        index: usize,
        shape: Vec<usize>,
        expected: String,
    },
    #[error("face detection on a {width}x{height} image: {detail}")]
    Inference {
        width: u32,
        height: u32,
        detail: String,
    },
    #[error("image buffer of {len} bytes is not {width}x{height} RGB8")]
    BadImage { width: u32, height: u32, len: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, w: f32, h: f32) -> FaceBox {
        FaceBox {
            x,
            y,
            w,
            h,
            score: 1.0,
        }
    }

    #[test]
    fn iou_is_one_for_identical_zero_for_disjoint_and_exact_for_half_overlap() {
        assert!((iou(&b(0., 0., 10., 10.), &b(0., 0., 10., 10.)) - 1.0).abs() < 1e-6);
        assert_eq!(iou(&b(0., 0., 10., 10.), &b(20., 20., 5., 5.)), 0.0);
        // 50 overlap / (100 + 100 - 50) = 1/3
        assert!((iou(&b(0., 0., 10., 10.), &b(5., 0., 10., 10.)) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou(&b(0., 0., 0., 0.), &b(0., 0., 0., 0.)), 0.0);
    }

    #[test]
    fn clamped_box_stays_inside_the_image() {
        let c = b(-5., 90., 20., 20.).clamped(100, 100);
        assert_eq!((c.x, c.y, c.w, c.h), (0., 90., 15., 10.));
    }

    #[test]
    fn rescaled_box_maps_a_detection_copy_to_full_resolution() {
        let r = b(10., 20., 30., 40.).rescaled((400, 300), (4000, 3000));
        assert_eq!((r.x, r.y, r.w, r.h), (100., 200., 300., 400.));
    }
}
