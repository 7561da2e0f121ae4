//! On-device photo pipeline (issue 6, REQ-PRV-1, REQ-OFF-2): decode once, orient, shrink, strip every
//! byte of metadata and hash, before anything is queued for upload.
//!
//! Stack: mozjpeg (a libjpeg-turbo fork, SIMD, builds from source for iOS and Android) for JPEG decode
//! with DCT-domain downscaling; jpegli (libjxl's JPEG encoder, C++ with Highway SIMD, built from
//! source by `jpegli-sys`) for the default encoding and mozjpeg for the other encoder settings;
//! fast_image_resize for SIMD resampling; `png` and libwebp for the other inputs. See `docs/benchmarks/media.md` for why (measured against a pure-Rust stack).
//!
//! Inputs are JPEG, PNG and WebP. HEIC is converted to JPEG by the iOS shell with the platform codec
//! before it reaches the core. Pixels are treated as sRGB; embedded ICC profiles are not carried over.

mod decode;
mod encode;
mod error;
mod exif;
mod jpegli;
mod libjpeg;
mod limits;
mod orient;
mod resize;
mod ssim;

use std::path::Path;

pub use decode::{dct_scale, sniff, SourceFormat};
pub use encode::{encode_once, sha256_hex};
pub use error::MediaError;
pub use jpegli::{encode_jpegli, JpegliTuning};
pub use libjpeg::{encode_jpeg_tuned, Chroma, JpegTuning, QuantTables, TrellisTarget};
pub use limits::Limits;
pub use orient::apply as apply_orientation;
pub use resize::fit;

/// Decoded, upright RGB8 pixels (row-major, 3 bytes a pixel, no padding): shared by the encoder and the consent filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrientedImage {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// Container of an encoded output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jpeg,
    WebP,
}

/// Which JPEG encoder, and how hard it works for size. `Fast`, `Balanced` and `Smallest` are mozjpeg with
/// libjpeg's Annex K tables (Fast and Balanced decode to identical pixels; they differ only in how the
/// coefficients are entropy-coded); `Jpegli` is Google's jpegli with its own tables and quality scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegEffort {
    /// jpegli, progressive, no adaptive quantisation ([`JpegliTuning::SHIPPED`]). The default: at the
    /// same luma DSSIM as libjpeg/vips Q80 it needs ~0.76x vips' bytes against ~0.92x for `Fast`, for
    /// ~30 ms more per 2016 px image (docs/benchmarks/media.md). Its quality scale is its own: q84 looks
    /// about like libjpeg q80.
    Jpegli,
    /// mozjpeg baseline with optimised Huffman tables (libjpeg-turbo speed); the default before jpegli.
    Fast,
    /// Progressive with optimised Huffman tables, no trellis.
    Balanced,
    /// mozjpeg trellis quantisation (AC and DC, EOB optimisation) plus progressive: ~10% fewer bytes
    /// at equal DSSIM, ~5x the encode time.
    Smallest,
}

/// Where the quality ladder starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityGoal {
    /// Start at `quality` and lower it only to meet the byte budget.
    Fixed,
    /// "Smallest file that looks at least as good": the lowest quality whose output's DSSIM (against the
    /// unencoded resized pixels) is at most that of a plain baseline Annex K JPEG at `quality` — what
    /// libjpeg, vips and Pillow write. Here `quality` is on libjpeg's scale (80 = "as good as a Q80
    /// JPEG") whichever encoder searches. Costs a few extra encode + decode + SSIM passes per output.
    MatchBaseline,
}

/// What the pipeline produces and within which limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoOptions {
    /// Long edge of the large version (REQ-PRV-1: at most 2048).
    pub large_long_edge: u32,
    /// Long edge of the thumbnail.
    pub thumbnail_long_edge: u32,
    /// Starting encoder quality, 1–100, on the chosen encoder's own scale (jpegli's is not libjpeg's).
    pub quality: u8,
    /// The quality is never lowered below this to meet a budget.
    pub min_quality: u8,
    /// Quality decrement per retry while an output is over its budget.
    pub quality_step: u8,
    /// Byte budget of the large version.
    pub large_budget_bytes: u64,
    /// Byte budget of the thumbnail.
    pub thumbnail_budget_bytes: u64,
    pub format: OutputFormat,
    pub jpeg_effort: JpegEffort,
    pub quality_goal: QualityGoal,
    /// A JPEG may come out up to this many percent under `large_long_edge` when that lets the decoder's
    /// DCT scaling hit the size directly and skip a resampling pass (4032 → 2016 instead of 2048).
    pub size_slack_percent: u8,
    pub limits: Limits,
}

/// Default quality of the default encoder (jpegli): measured on the benchmark corpus to give the same
/// luma DSSIM as vipsthumbnail's Q80 (docs/benchmarks/media.md).
pub const DEFAULT_JPEGLI_QUALITY: u8 = 84;

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions {
            large_long_edge: 2048,
            thumbnail_long_edge: 400,
            quality: DEFAULT_JPEGLI_QUALITY,
            min_quality: 40,
            quality_step: 5,
            large_budget_bytes: 600_000,
            thumbnail_budget_bytes: 40_000,
            format: OutputFormat::Jpeg,
            jpeg_effort: JpegEffort::Jpegli,
            quality_goal: QualityGoal::Fixed,
            size_slack_percent: 2,
            limits: Limits::default(),
        }
    }
}

impl PhotoOptions {
    fn validate(&self) -> Result<(), MediaError> {
        let bad = |detail: &str| {
            Err(MediaError::InvalidOptions {
                detail: detail.to_string(),
            })
        };
        if self.large_long_edge == 0 || self.thumbnail_long_edge == 0 {
            return bad("long edges must be positive");
        }
        if self.thumbnail_long_edge > self.large_long_edge {
            return bad("thumbnail must not be larger than the large version");
        }
        if !(1..=100).contains(&self.quality) || !(1..=self.quality).contains(&self.min_quality) {
            return bad("need 1 <= min_quality <= quality <= 100");
        }
        if self.size_slack_percent > 50 {
            return bad("size_slack_percent must be at most 50");
        }
        Ok(())
    }
}

/// One upload-ready output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of `bytes`, lower-case hex: the content address for the chunked upload.
    pub sha256_hex: String,
    pub format: OutputFormat,
    /// Quality the bytes were finally encoded at.
    pub quality: u8,
    /// False when even `min_quality` could not meet the byte budget (the photo is still usable).
    pub within_budget: bool,
}

/// The large version and thumbnail of one photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedPhoto {
    pub large: EncodedImage,
    pub thumbnail: EncodedImage,
}

/// DSSIM = (1 - mean luma SSIM) / 2 of `candidate` against `reference` (same size): the quality
/// measure `QualityGoal::MatchBaseline` stops on, and the one `docs/benchmarks/media.md` reports.
pub fn dssim(reference: &OrientedImage, candidate: &OrientedImage) -> Result<f64, MediaError> {
    ssim::Reference::new(reference)?.dssim(candidate)
}

/// Reads a photo the shell saved (camera JPEG, PNG, WebP), and returns its upright, metadata-free
/// large version and thumbnail (REQ-PRV-1).
pub fn prepare_photo(path: &Path, opts: &PhotoOptions) -> Result<PreparedPhoto, MediaError> {
    let _span = tracing::info_span!("media.prepare_photo").entered();
    opts.validate()?;
    let bytes = limits::read_limited(path, &opts.limits)?;
    prepare_photo_bytes(&bytes, opts)
}

/// [`prepare_photo`] for bytes already in memory.
pub fn prepare_photo_bytes(bytes: &[u8], opts: &PhotoOptions) -> Result<PreparedPhoto, MediaError> {
    opts.validate()?;
    let img = decode_oriented_bytes(
        bytes,
        opts.large_long_edge,
        opts.size_slack_percent,
        &opts.limits,
    )?;
    encode_prepared(&img, opts)
}

/// Decodes a photo file once into upright RGB8 whose long edge is at most `max_long_edge`
/// (and at least `max_long_edge * (100 - slack_percent) / 100` when the source is that big).
/// The consent filter reuses this image, so the photo is decoded once for both.
pub fn decode_oriented(
    path: &Path,
    max_long_edge: u32,
    slack_percent: u8,
    limits: &Limits,
) -> Result<OrientedImage, MediaError> {
    let bytes = limits::read_limited(path, limits)?;
    decode_oriented_bytes(&bytes, max_long_edge, slack_percent, limits)
}

/// [`decode_oriented`] for bytes already in memory.
pub fn decode_oriented_bytes(
    bytes: &[u8],
    max_long_edge: u32,
    slack_percent: u8,
    limits: &Limits,
) -> Result<OrientedImage, MediaError> {
    let max_long_edge = max_long_edge.max(1);
    let slack = u64::from(slack_percent.min(99));
    let min_long_edge = (u64::from(max_long_edge) * (100 - slack)).div_ceil(100) as u32;
    let decoded = decode::decode(bytes, limits, min_long_edge, max_long_edge)?;
    tracing::debug!(
        format = ?decoded.format,
        source_width = decoded.source_width,
        source_height = decoded.source_height,
        orientation = decoded.orientation,
        "decoded photo"
    );
    let (w, h) = (decoded.image.width, decoded.image.height);
    let (tw, th) = resize::fit(w, h, max_long_edge);
    let image = resize::resize_to(decoded.image, tw, th)?;
    Ok(orient::apply(image, decoded.orientation))
}

/// Encodes an already decoded (and possibly face-blurred) upright image into the large version and
/// thumbnail. The thumbnail is resampled from the large version, never from the original file.
pub fn encode_prepared(
    img: &OrientedImage,
    opts: &PhotoOptions,
) -> Result<PreparedPhoto, MediaError> {
    opts.validate()?;
    let expected = img.width as usize * img.height as usize * 3;
    if img.rgb.len() != expected || expected == 0 {
        return Err(MediaError::InvalidOptions {
            detail: format!(
                "RGB buffer is {} bytes, {}x{} needs {expected}",
                img.rgb.len(),
                img.width,
                img.height
            ),
        });
    }
    let (lw, lh) = resize::fit(img.width, img.height, opts.large_long_edge);
    let resized;
    let large_img = if (lw, lh) == (img.width, img.height) {
        img
    } else {
        resized = resize::resize_ref(img, lw, lh)?;
        &resized
    };
    let ladder = |budget_bytes| encode::Ladder {
        quality: opts.quality,
        min_quality: opts.min_quality,
        step: opts.quality_step,
        budget_bytes,
    };
    let large = encode::encode_within_budget(
        large_img,
        opts.format,
        opts.jpeg_effort,
        opts.quality_goal,
        ladder(opts.large_budget_bytes),
    )?;
    let (tw, th) = resize::fit(lw, lh, opts.thumbnail_long_edge);
    let thumb_img = resize::resize_ref(large_img, tw, th)?;
    let thumbnail = encode::encode_within_budget(
        &thumb_img,
        opts.format,
        opts.jpeg_effort,
        opts.quality_goal,
        ladder(opts.thumbnail_budget_bytes),
    )?;
    Ok(PreparedPhoto { large, thumbnail })
}
