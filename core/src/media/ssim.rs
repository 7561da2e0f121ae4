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

/// BT.601 luma of an RGB8 image as f32.
fn luma(img: &OrientedImage) -> Vec<f32> {
    img.rgb
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

/// Blurred moments of one image, computed once and compared against many candidates.
pub(crate) struct Reference {
    width: u32,
    height: u32,
    luma: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
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
        let k = kernel();
        let y = luma(img);
        let mean = blur(&y, w, h, &k);
        let sq: Vec<f32> = y.iter().map(|v| v * v).collect();
        let var = blur(&sq, w, h, &k)
            .into_iter()
            .zip(&mean)
            .map(|(s, m)| s - m * m)
            .collect();
        Ok(Reference {
            width: img.width,
            height: img.height,
            luma: y,
            mean,
            var,
        })
    }

    /// Width and height of the reference image.
    pub(crate) fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// DSSIM = (1 - mean SSIM) / 2 of `img` against this reference (0 for identical pixels).
    pub(crate) fn dssim(&self, img: &OrientedImage) -> Result<f64, MediaError> {
        if (img.width, img.height) != (self.width, self.height) {
            return Err(MediaError::encode("SSIM: images differ in size"));
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let k = kernel();
        let x = luma(img);
        let mx = blur(&x, w, h, &k);
        let xx: Vec<f32> = x.iter().map(|v| v * v).collect();
        let sxx = blur(&xx, w, h, &k);
        let xy: Vec<f32> = x.iter().zip(&self.luma).map(|(a, b)| a * b).collect();
        let sxy = blur(&xy, w, h, &k);
        let (c1, c2) = ((0.01f32 * 255.0).powi(2), (0.03f32 * 255.0).powi(2));
        let mut sum = 0f64;
        for i in 0..mx.len() {
            let (a, b) = (mx[i], self.mean[i]);
            let vx = sxx[i] - a * a;
            let cov = sxy[i] - a * b;
            let s = ((2.0 * a * b + c1) * (2.0 * cov + c2))
                / ((a * a + b * b + c1) * (vx + self.var[i] + c2));
            sum += f64::from(s);
        }
        let ssim = sum / mx.len() as f64;
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
    fn tiny_or_mismatched_images_are_refused() {
        assert!(Reference::new(&gradient(8, 8, 0)).is_err());
        let r = Reference::new(&gradient(64, 48, 0)).expect("reference");
        assert!(r.dssim(&gradient(48, 64, 0)).is_err());
    }
}
