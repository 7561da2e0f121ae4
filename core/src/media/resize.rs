//! SIMD downscaling (fast_image_resize) from the decoded size to the output sizes.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::{MediaError, OrientedImage};

/// Dimensions that fit `(w, h)` inside a `long_edge` square, keeping the aspect ratio; never upscales.
pub fn fit(w: u32, h: u32, long_edge: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= long_edge || long == 0 {
        return (w, h);
    }
    let scale = |v: u32| -> u32 {
        let scaled = (u64::from(v) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
    };
    if w >= h {
        (long_edge, scale(h))
    } else {
        (scale(w), long_edge)
    }
}

/// Resizes an RGB8 image to exactly `(w, h)` with a Lanczos3 convolution (returns it unchanged if already that size).
pub fn resize_to(img: OrientedImage, w: u32, h: u32) -> Result<OrientedImage, MediaError> {
    if (img.width, img.height) == (w, h) {
        return Ok(img);
    }
    resize_ref(&img, w, h)
}

/// Like [`resize_to`] but borrowing the source, for deriving the thumbnail from the large image.
pub fn resize_ref(img: &OrientedImage, w: u32, h: u32) -> Result<OrientedImage, MediaError> {
    let _span = tracing::trace_span!("media.resize", w, h).entered();
    let src = ImageRef::new(img.width, img.height, &img.rgb, PixelType::U8x3)
        .map_err(|e| MediaError::encode(format!("resize source: {e}")))?;
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &opts)
        .map_err(|e| MediaError::encode(format!("resize: {e}")))?;
    Ok(OrientedImage {
        width: w,
        height: h,
        rgb: dst.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(4032, 3024, 2048), (2048, 1536));
        assert_eq!(fit(3024, 4032, 2048), (1536, 2048));
        assert_eq!(fit(4032, 3024, 400), (400, 300));
        assert_eq!(fit(100, 50, 400), (100, 50));
        assert_eq!(fit(10_000, 1, 400), (400, 1));
    }
}
