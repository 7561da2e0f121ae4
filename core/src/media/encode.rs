//! Encodes upload-ready bytes (JPEG via mozjpeg, or WebP) under a byte budget, writing no metadata at all.

use super::libjpeg::{encode_jpeg_tuned, Chroma, JpegTuning, QuantTables, TrellisTarget};
use super::ssim::Reference;
use super::{
    decode, EncodedImage, JpegEffort, Limits, MediaError, OrientedImage, OutputFormat, QualityGoal,
};

/// Quality ladder for one output: start, floor and step used while the bytes exceed the budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ladder {
    pub quality: u8,
    pub min_quality: u8,
    pub step: u8,
    pub budget_bytes: u64,
}

/// Encodes `img`, lowering the quality in steps until it fits the budget (or the floor is reached).
/// With [`QualityGoal::MatchBaseline`] the ladder starts from the lowest quality that still looks at
/// least as good as a baseline Annex K encode at `ladder.quality`.
pub(crate) fn encode_within_budget(
    img: &OrientedImage,
    format: OutputFormat,
    effort: JpegEffort,
    goal: QualityGoal,
    ladder: Ladder,
) -> Result<EncodedImage, MediaError> {
    let _span =
        tracing::debug_span!("media.encode", w = img.width, h = img.height, ?format).entered();
    let mut quality = ladder.quality;
    if goal == QualityGoal::MatchBaseline {
        if let Some((q, bytes)) = match_baseline(img, format, effort, ladder)? {
            if bytes.len() as u64 <= ladder.budget_bytes {
                return Ok(finish(img, format, q, bytes, true));
            }
            quality = q;
        }
    }
    loop {
        let bytes = encode_once(img, format, effort, quality)?;
        let fits = bytes.len() as u64 <= ladder.budget_bytes;
        if fits || quality <= ladder.min_quality {
            if !fits {
                tracing::warn!(
                    bytes = bytes.len(),
                    budget = ladder.budget_bytes,
                    quality,
                    "byte budget not met at the quality floor"
                );
            }
            return Ok(finish(img, format, quality, bytes, fits));
        }
        quality = quality
            .saturating_sub(ladder.step.max(1))
            .max(ladder.min_quality);
    }
}

fn finish(
    img: &OrientedImage,
    format: OutputFormat,
    quality: u8,
    bytes: Vec<u8>,
    within_budget: bool,
) -> EncodedImage {
    tracing::debug!(bytes = bytes.len(), quality, "encoded");
    EncodedImage {
        sha256_hex: sha256_hex(&bytes),
        bytes,
        width: img.width,
        height: img.height,
        format,
        quality,
        within_budget,
    }
}

/// DSSIM of an encoded output against the pixels it was made from.
fn dssim_of(reference: &Reference, bytes: &[u8]) -> Result<f64, MediaError> {
    let long = reference_long_edge(reference);
    let back = decode::decode(bytes, &Limits::default(), long, long)?;
    reference.dssim(&back.image)
}

fn reference_long_edge(r: &Reference) -> u32 {
    let (w, h) = r.size();
    w.max(h)
}

/// The lowest quality in `min_quality..=100` whose output's DSSIM is at most that of a baseline Annex K
/// encode at `ladder.quality`, found by bisection (DSSIM falls as quality rises), with its bytes.
/// `None` when the image is too small to measure.
pub(crate) fn match_baseline(
    img: &OrientedImage,
    format: OutputFormat,
    effort: JpegEffort,
    ladder: Ladder,
) -> Result<Option<(u8, Vec<u8>)>, MediaError> {
    let _span =
        tracing::debug_span!("media.match_baseline", w = img.width, h = img.height).entered();
    let Ok(reference) = Reference::new(img) else {
        return Ok(None);
    };
    let baseline = encode_jpeg(img, JpegEffort::Fast, ladder.quality)?;
    let bound = dssim_of(&reference, &baseline)?;
    // Invariant: `best` (if any) meets the bound; every quality below `lo` was measured not to.
    let (mut lo, mut hi) = (ladder.min_quality.max(1), 100u8);
    let mut best: Option<(u8, Vec<u8>)> = None;
    let mut probe = ladder.quality.clamp(lo, hi);
    while lo <= hi {
        let bytes = encode_once(img, format, effort, probe)?;
        let d = dssim_of(&reference, &bytes)?;
        tracing::trace!(
            probe,
            dssim = d,
            bound,
            bytes = bytes.len(),
            "quality probe"
        );
        if d <= bound {
            best = Some((probe, bytes));
            hi = probe - 1;
        } else {
            lo = probe + 1;
        }
        probe = lo + (hi.saturating_sub(lo)) / 2;
    }
    Ok(Some(
        best.unwrap_or((100, encode_once(img, format, effort, 100)?)),
    ))
}

/// One encode at a fixed quality.
pub fn encode_once(
    img: &OrientedImage,
    format: OutputFormat,
    effort: JpegEffort,
    quality: u8,
) -> Result<Vec<u8>, MediaError> {
    match format {
        OutputFormat::Jpeg => encode_jpeg(img, effort, quality),
        OutputFormat::WebP => encode_webp(img, quality),
    }
}

fn encode_jpeg(
    img: &OrientedImage,
    effort: JpegEffort,
    quality: u8,
) -> Result<Vec<u8>, MediaError> {
    encode_jpeg_tuned(img, &effort.tuning(), quality)
}

impl JpegEffort {
    /// The mozjpeg settings behind each effort level (measured in `docs/benchmarks/media.md`).
    pub fn tuning(self) -> JpegTuning {
        let base = JpegTuning {
            progressive: false,
            trellis: false,
            trellis_dc: false,
            trellis_eob_opt: false,
            tables: QuantTables::AnnexK,
            optimize_scans: false,
            chroma: Chroma::Sub420,
            trellis_target: TrellisTarget::PsnrHvs,
        };
        match self {
            JpegEffort::Fast => base,
            JpegEffort::Balanced => JpegTuning {
                progressive: true,
                ..base
            },
            JpegEffort::Smallest => JpegTuning {
                progressive: true,
                trellis: true,
                trellis_dc: true,
                trellis_eob_opt: true,
                ..base
            },
        }
    }
}

fn encode_webp(img: &OrientedImage, quality: u8) -> Result<Vec<u8>, MediaError> {
    let encoder = webp::Encoder::from_rgb(&img.rgb, img.width, img.height);
    let memory = encoder
        .encode_simple(false, f32::from(quality))
        .map_err(|e| MediaError::encode(format!("WebP: {e:?}")))?;
    Ok(memory.to_vec())
}

/// Lower-case hex SHA-256: the content address the upload chain uses (DESIGN: media uploaded by hash).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
