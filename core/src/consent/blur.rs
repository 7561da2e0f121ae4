//! Face pixelation (REQ-CON-3): coarse mosaic blocks that cannot be undone the way a light blur can.

use super::faces::FaceBox;
use crate::media::OrientedImage;

/// Growth of each box before blurring (15 %), so hairline, ears and a loose detection are covered too.
pub const BLUR_ENLARGE: f32 = 0.15;
/// Mosaic blocks across the enlarged box's longer side: few enough that no facial feature survives.
pub const PIXEL_BLOCKS_ACROSS: u32 = 8;

/// The box grown by [`BLUR_ENLARGE`] about its centre and clipped to a `width` x `height` image.
pub fn enlarged(b: &FaceBox, width: u32, height: u32) -> FaceBox {
    let (dw, dh) = (b.w * BLUR_ENLARGE, b.h * BLUR_ENLARGE);
    FaceBox {
        x: b.x - dw / 2.0,
        y: b.y - dh / 2.0,
        w: b.w + dw,
        h: b.h + dh,
        score: b.score,
    }
    .clamped(width, height)
}

/// Pixelates every box (enlarged 15 %, clipped to the image) in place; pixels outside are not touched.
pub fn pixelate(img: &mut OrientedImage, boxes: &[FaceBox]) {
    let (width, height) = (img.width, img.height);
    if img.rgb.len() != width as usize * height as usize * 3 {
        tracing::warn!(
            width,
            height,
            len = img.rgb.len(),
            "pixelate: buffer is not RGB8 of its size; left as is"
        );
        return;
    }
    for b in boxes {
        let e = enlarged(b, width, height);
        let x0 = e.x.floor() as u32;
        let y0 = e.y.floor() as u32;
        let x1 = ((e.x + e.w).ceil() as u32).min(width);
        let y1 = ((e.y + e.h).ceil() as u32).min(height);
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let block = ((x1 - x0).max(y1 - y0))
            .div_ceil(PIXEL_BLOCKS_ACROSS)
            .max(4);
        let mut by = y0;
        while by < y1 {
            let bye = (by + block).min(y1);
            let mut bx = x0;
            while bx < x1 {
                let bxe = (bx + block).min(x1);
                fill_mean(img, bx, by, bxe, bye);
                bx = bxe;
            }
            by = bye;
        }
    }
}

/// Replaces the rectangle `[x0, x1) x [y0, y1)` with its mean colour.
fn fill_mean(img: &mut OrientedImage, x0: u32, y0: u32, x1: u32, y1: u32) {
    let stride = img.width as usize * 3;
    let mut sum = [0u64; 3];
    for y in y0..y1 {
        let row =
            &img.rgb[y as usize * stride + x0 as usize * 3..y as usize * stride + x1 as usize * 3];
        for px in row.chunks_exact(3) {
            for (s, v) in sum.iter_mut().zip(px) {
                *s += u64::from(*v);
            }
        }
    }
    let n = u64::from(x1 - x0) * u64::from(y1 - y0);
    let mean = sum.map(|s| ((s + n / 2) / n.max(1)) as u8);
    for y in y0..y1 {
        let row = &mut img.rgb
            [y as usize * stride + x0 as usize * 3..y as usize * stride + x1 as usize * 3];
        for px in row.chunks_exact_mut(3) {
            px.copy_from_slice(&mean);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic high-variance noise (xorshift), standing in for facial detail.
    fn noise(width: u32, height: u32) -> OrientedImage {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let rgb = (0..width * height * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        OrientedImage { width, height, rgb }
    }

    fn variance(img: &OrientedImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
        let mut vals = Vec::new();
        for y in y0..y1 {
            for x in x0..x1 {
                vals.push(f64::from(img.rgb[((y * img.width + x) * 3) as usize]));
            }
        }
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64
    }

    fn fb(x: f32, y: f32, w: f32, h: f32) -> FaceBox {
        FaceBox {
            x,
            y,
            w,
            h,
            score: 0.9,
        }
    }

    #[test]
    fn pixelate_collapses_the_face_variance_and_leaves_other_pixels_untouched_con3() {
        let original = noise(200, 160);
        let mut img = original.clone();
        let face = fb(60., 40., 80., 80.);
        pixelate(&mut img, &[face]);

        let before = variance(&original, 60, 40, 140, 120);
        let after = variance(&img, 60, 40, 140, 120);
        assert!(after < before / 20.0, "variance {before} -> {after}");

        // The 15 % enlargement covers 54..146 x 34..126; everything outside is byte-identical.
        let e = enlarged(&face, 200, 160);
        assert_eq!((e.x, e.y, e.w, e.h), (54., 34., 92., 92.));
        for y in 0..160u32 {
            for x in 0..200u32 {
                let inside = (54..146).contains(&x) && (34..126).contains(&y);
                let i = ((y * 200 + x) * 3) as usize;
                if !inside {
                    assert_eq!(
                        img.rgb[i..i + 3],
                        original.rgb[i..i + 3],
                        "pixel {x},{y} changed"
                    );
                }
            }
        }
        // Inside, the enlarged margin is pixelated too.
        assert!(variance(&img, 54, 34, 60, 126) < variance(&original, 54, 34, 60, 126) / 5.0);
    }

    #[test]
    fn pixelate_uses_coarse_blocks_not_a_light_blur_con3() {
        let mut img = noise(200, 160);
        pixelate(&mut img, &[fb(60., 40., 80., 80.)]);
        // 92 px enlarged side / 8 blocks -> 12 px blocks of one colour each.
        let px = |x: u32, y: u32| {
            img.rgb[((y * 200 + x) * 3) as usize..((y * 200 + x) * 3 + 3) as usize].to_vec()
        };
        for (x, y) in [(55, 35), (60, 40), (65, 45), (54, 45), (65, 34)] {
            assert_eq!(
                px(x, y),
                px(54, 34),
                "pixel {x},{y} is not in the first 12 px block's colour"
            );
        }
    }

    #[test]
    fn pixelate_clamps_boxes_at_the_edges_and_ignores_boxes_outside() {
        let original = noise(100, 80);
        let mut img = original.clone();
        pixelate(
            &mut img,
            &[fb(-30., -30., 60., 60.), fb(500., 500., 10., 10.)],
        );
        assert!(variance(&img, 0, 0, 30, 30) < variance(&original, 0, 0, 30, 30) / 10.0);
        assert_eq!(
            img.rgb[(79 * 100 + 99) * 3],
            original.rgb[(79 * 100 + 99) * 3]
        );
    }
}
