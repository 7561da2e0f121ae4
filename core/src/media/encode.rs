//! Encodes upload-ready bytes (JPEG via mozjpeg, or WebP) under a byte budget, writing no metadata at all.

use super::jpegli::{encode_jpegli, JpegliTuning};
use super::libjpeg::{encode_jpeg_tuned, JpegTuning};
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
/// encode at `ladder.quality`, with its bytes (DSSIM falls as quality rises). Gallops from
/// `ladder.quality` in steps of 4 until the bound is crossed, then bisects the last step: 4–6 probes
/// for a photo instead of bisecting all of 1–100. `None` when the image is too small to measure.
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
    let baseline = encode_jpeg_tuned(img, &JpegTuning::BASELINE, ladder.quality)?;
    let bound = dssim_of(&reference, &baseline)?;
    drop(baseline);
    let floor = ladder.min_quality.max(1);
    let probe = |q: u8| -> Result<(bool, Vec<u8>), MediaError> {
        let bytes = encode_once(img, format, effort, q)?;
        let d = dssim_of(&reference, &bytes)?;
        tracing::trace!(q, dssim = d, bound, bytes = bytes.len(), "quality probe");
        Ok((d <= bound, bytes))
    };
    // Invariant once both are known: `ok` meets the bound, `bad` (< ok.0) does not.
    let mut ok: Option<(u8, Vec<u8>)> = None;
    let mut bad: Option<u8> = None;
    let mut q = ladder.quality.clamp(floor, 100);
    loop {
        let (meets, bytes) = probe(q)?;
        if meets {
            ok = Some((q, bytes));
            if q == floor || bad.is_some() {
                break;
            }
            q = q.saturating_sub(GALLOP).max(floor);
        } else {
            bad = Some(q);
            if ok.is_some() || q == 100 {
                break;
            }
            q = q.saturating_add(GALLOP).min(100);
        }
    }
    // Bisect between the highest failing and the lowest passing quality.
    if let (Some(mut lo), Some((mut hi, _))) = (bad, ok.as_ref().map(|(q, _)| (*q, ()))) {
        while hi > lo + 1 {
            let mid = lo + (hi - lo) / 2;
            let (meets, bytes) = probe(mid)?;
            if meets {
                hi = mid;
                ok = Some((mid, bytes));
            } else {
                lo = mid;
            }
        }
    }
    Ok(Some(match ok {
        Some(found) => found,
        None => (100, encode_once(img, format, effort, 100)?),
    }))
}

/// Quality step of the quality search's gallop before it bisects.
const GALLOP: u8 = 4;

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
    match effort.tuning() {
        Some(tuning) => encode_jpeg_tuned(img, &tuning, quality),
        None => encode_jpegli(img, &JpegliTuning::SHIPPED, quality),
    }
}

impl JpegEffort {
    /// The mozjpeg settings behind each mozjpeg effort level (measured in `docs/benchmarks/media.md`);
    /// `None` for [`JpegEffort::Jpegli`], which is not mozjpeg.
    pub fn tuning(self) -> Option<JpegTuning> {
        let base = JpegTuning::BASELINE;
        match self {
            JpegEffort::Jpegli => None,
            JpegEffort::Fast => Some(base),
            JpegEffort::Balanced => Some(JpegTuning {
                progressive: true,
                ..base
            }),
            JpegEffort::Smallest => Some(JpegTuning {
                progressive: true,
                trellis: true,
                trellis_dc: true,
                trellis_eob_opt: true,
                ..base
            }),
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
