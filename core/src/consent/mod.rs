//! On-device consent filter (issue 7, REQ-CON-2, CON-3, CON-6): face *detection* and pixelation on the
//! oriented photo before anything leaves a staff device.
//!
//! Detection only: boxes and scores, never embeddings or identities (CON-6). The detector sits behind
//! [`FaceDetector`] so a faster model can replace CenterFace without touching callers. Images come from
//! [`crate::media::decode_oriented`], so a photo is decoded once for the filter and the encoder.

mod blur;
mod centerface;
mod faces;
mod letterbox;
mod nms;
mod verdict;

pub use blur::{enlarged, pixelate, BLUR_ENLARGE, PIXEL_BLOCKS_ACROSS};
pub use centerface::{CenterFace, CenterFaceConfig, DEFAULT_INPUT_LONG_EDGE};
pub use faces::{iou, FaceBox, FaceDetector, FaceError};
pub use letterbox::{InputSize, Letterbox};
pub use nms::nms;
pub use verdict::{screen, BlurredFace, Screening};
