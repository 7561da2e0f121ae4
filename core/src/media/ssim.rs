//! Mean luma SSIM (Wang et al. 2004: 11-tap Gaussian window, sigma 1.5, K1 0.01, K2 0.03), the metric
//! `scripts/bench.d/media.sh` reports as DSSIM = (1 - SSIM) / 2; used to stop a quality search at
//! "looks at least as good as" a reference encode.

use super::{MediaError, OrientedImage};

const TAPS: usize = 11;

/// The normalised 11-tap Gaussian (sigma 1.5).
fn kernel() -> [f32; TAPS] {
    let mut k = [0f32; TAPS];
    for (i, v) in k.iter_mut().enumerate() {
        let x = i as f32 - 5.0;
        *v = (-(x * x) / (2.0 * 1.5 * 1.5)).exp();
    }
    let sum: f32 = k.iter().sum();
    k.map(|v| v / sum)
}

/// BT.601 luma of `rows` rows of an RGB8 image from row `y0`, as f32.
fn luma_rows(img: &OrientedImage, y0: usize, rows: usize) -> Vec<f32> {
    let stride = img.width as usize * 3;
    img.rgb[y0 * stride..(y0 + rows) * stride]
        .chunks_exact(3)
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

/// Separable Gaussian blur keeping only the "valid" region: (w - 10) x (h - 10).
fn blur(src: &[f32], w: usize, h: usize, k: &[f32; TAPS]) -> Vec<f32> {
    let (vw, vh) = (w - (TAPS - 1), h - (TAPS - 1));
    let mut horiz = vec![0f32; vw * h];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut horiz[y * vw..(y + 1) * vw];
        for (i, &kv) in k.iter().enumerate() {
            for (o, &s) in out.iter_mut().zip(&row[i..i + vw]) {
                *o += kv * s;
            }
        }
    }
    let mut out = vec![0f32; vw * vh];
    for (i, &kv) in k.iter().enumerate() {
        for y in 0..vh {
            let src_row = &horiz[(y + i) * vw..(y + i + 1) * vw];
            for (o, &s) in out[y * vw..(y + 1) * vw].iter_mut().zip(src_row) {
                *o += kv * s;
            }
        }
    }
    out
}

/// SSIM windows (output rows) computed per band: the blurred moments exist for one band at a time
/// (~0.6 MB per moment at 2016 px wide) instead of five full-frame f32 planes (~12 MB each).
const BAND_ROWS: usize = 64;

/// The luma of one image, compared against many candidates.
pub(crate) struct Reference {
    width: u32,
    height: u32,
    luma: Vec<f32>,
}

impl Reference {
    /// Prepares `img` as the reference; images smaller than the 11 px window cannot be compared.
    pub(crate) fn new(img: &OrientedImage) -> Result<Self, MediaError> {
        let (w, h) = (img.width as usize, img.height as usize);
        if w < TAPS || h < TAPS || img.rgb.len() != w * h * 3 {
            return Err(MediaError::encode(format!(
                "SSIM: {w}x{h} is smaller than the {TAPS} px window or mis-sized"
            )));
        }
        Ok(Reference {
            width: img.width,
            height: img.height,
            luma: luma_rows(img, 0, h),
        })
    }

    /// Width and height of the reference image.
    pub(crate) fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// DSSIM = (1 - mean SSIM) / 2 of `img` against this reference (0 for identical pixels), computed
    /// band by band (same windows and sums as a full-frame pass, a fraction of the memory).
    pub(crate) fn dssim(&self, img: &OrientedImage) -> Result<f64, MediaError> {
        let (w, h) = (self.width as usize, self.height as usize);
        if (img.width, img.height) != (self.width, self.height) || img.rgb.len() != w * h * 3 {
            return Err(MediaError::encode("SSIM: images differ in size"));
        }
        let k = kernel();
        let (c1, c2) = ((0.01f32 * 255.0).powi(2), (0.03f32 * 255.0).powi(2));
        let valid_rows = h - (TAPS - 1);
        let mut sum = 0f64;
        let mut y0 = 0;
        while y0 < valid_rows {
            let rows = BAND_ROWS.min(valid_rows - y0);
            let in_rows = rows + TAPS - 1;
            let x = luma_rows(img, y0, in_rows);
            let r = &self.luma[y0 * w..(y0 + in_rows) * w];
            let mx = blur(&x, w, in_rows, &k);
            let my = blur(r, w, in_rows, &k);
            let product = |a: &[f32], b: &[f32]| -> Vec<f32> {
                let p: Vec<f32> = a.iter().zip(b).map(|(u, v)| u * v).collect();
                blur(&p, w, in_rows, &k)
            };
            let sxx = product(&x, &x);
            let syy = product(r, r);
            let sxy = product(&x, r);
            for i in 0..mx.len() {
                let (a, b) = (mx[i], my[i]);
                let vx = sxx[i] - a * a;
                let vy = syy[i] - b * b;
                let cov = sxy[i] - a * b;
                let s = ((2.0 * a * b + c1) * (2.0 * cov + c2))
                    / ((a * a + b * b + c1) * (vx + vy + c2));
                sum += f64::from(s);
            }
            y0 += rows;
        }
        let ssim = sum / ((w - (TAPS - 1)) * valid_rows) as f64;
        Ok((1.0 - ssim) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32, noise: u8) -> OrientedImage {
        let mut s = 12345u32;
        let rgb = (0..w * h)
            .flat_map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let n = (s % (u32::from(noise) + 1)) as u8;
                let v = ((i % w) * 200 / w) as u8;
                [v.saturating_add(n), v, v / 2]
            })
            .collect();
        OrientedImage {
            width: w,
            height: h,
            rgb,
        }
    }

    #[test]
    fn identical_images_have_zero_dssim_and_noise_raises_it() {
        let a = gradient(64, 48, 0);
        let r = Reference::new(&a).expect("reference");
        assert!(r.dssim(&a).expect("same size").abs() < 1e-6);
        let small = r.dssim(&gradient(64, 48, 8)).expect("dssim");
        let large = r.dssim(&gradient(64, 48, 60)).expect("dssim");
        assert!(small > 0.0 && large > small, "{small} {large}");
    }

    #[test]
    fn banded_dssim_equals_a_full_frame_computation() {
        // The band-by-band pass (memory bound for the quality search) must not change the metric.
        let (w, h) = (70usize, 3 * BAND_ROWS + 17);
        let a = gradient(w as u32, h as u32, 0);
        let b = gradient(w as u32, h as u32, 40);
        let k = kernel();
        let (x, y) = (luma_rows(&b, 0, h), luma_rows(&a, 0, h));
        let sq =
            |p: &[f32], q: &[f32]| -> Vec<f32> { p.iter().zip(q).map(|(u, v)| u * v).collect() };
        let (mx, my) = (blur(&x, w, h, &k), blur(&y, w, h, &k));
        let (sxx, syy, sxy) = (
            blur(&sq(&x, &x), w, h, &k),
            blur(&sq(&y, &y), w, h, &k),
            blur(&sq(&x, &y), w, h, &k),
        );
        let (c1, c2) = ((0.01f32 * 255.0).powi(2), (0.03f32 * 255.0).powi(2));
        let mut sum = 0f64;
        for i in 0..mx.len() {
            let (p, q) = (mx[i], my[i]);
            let s = ((2.0 * p * q + c1) * (2.0 * (sxy[i] - p * q) + c2))
                / ((p * p + q * q + c1) * (sxx[i] - p * p + syy[i] - q * q + c2));
            sum += f64::from(s);
        }
        let full = (1.0 - sum / mx.len() as f64) / 2.0;
        let banded = Reference::new(&a)
            .expect("reference")
            .dssim(&b)
            .expect("dssim");
        assert!(full > 0.0);
        assert!(
            (banded - full).abs() < 1e-9,
            "banded {banded} vs full {full}"
        );
    }

    #[test]
    fn tiny_or_mismatched_images_are_refused() {
        assert!(Reference::new(&gradient(8, 8, 0)).is_err());
        let r = Reference::new(&gradient(64, 48, 0)).expect("reference");
        assert!(r.dssim(&gradient(48, 64, 0)).is_err());
    }
}
