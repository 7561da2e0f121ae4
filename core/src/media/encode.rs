//! Encodes upload-ready bytes (JPEG via mozjpeg, or WebP) under a byte budget, writing no metadata at all.

use super::libjpeg::{encode_jpeg_tuned, JpegTuning, QuantTables};
use super::{EncodedImage, JpegEffort, MediaError, OrientedImage, OutputFormat};

/// Quality ladder for one output: start, floor and step used while the bytes exceed the budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ladder {
    pub quality: u8,
    pub min_quality: u8,
    pub step: u8,
    pub budget_bytes: u64,
}

/// Encodes `img`, lowering the quality in steps until it fits the budget (or the floor is reached).
pub(crate) fn encode_within_budget(
    img: &OrientedImage,
    format: OutputFormat,
    effort: JpegEffort,
    ladder: Ladder,
) -> Result<EncodedImage, MediaError> {
    let _span =
        tracing::debug_span!("media.encode", w = img.width, h = img.height, ?format).entered();
    let mut quality = ladder.quality;
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
            tracing::debug!(bytes = bytes.len(), quality, "encoded");
            return Ok(EncodedImage {
                sha256_hex: sha256_hex(&bytes),
                bytes,
                width: img.width,
                height: img.height,
                format,
                quality,
                within_budget: fits,
            });
        }
        quality = quality
            .saturating_sub(ladder.step.max(1))
            .max(ladder.min_quality);
    }
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
