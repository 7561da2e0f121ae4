//! Applies an EXIF orientation to decoded pixels, so every photo leaves the device upright with no tag to interpret.

use super::OrientedImage;

/// Square tile edge for the transposing orientations: keeps source and destination rows in cache.
const TILE: usize = 64;

/// Returns the image turned upright for EXIF `orientation` (1–8; anything else is treated as 1).
///
/// 2 mirrors, 3 rotates 180°, 4 flips, 5 transposes, 6 rotates 90° clockwise,
/// 7 transverses, 8 rotates 90° anticlockwise — as the EXIF 2.3 table defines them.
pub fn apply(img: OrientedImage, orientation: u8) -> OrientedImage {
    if !(2..=8).contains(&orientation) {
        return img;
    }
    let (w, h) = (img.width as usize, img.height as usize);
    let swaps = orientation >= 5;
    let (ow, oh) = if swaps { (h, w) } else { (w, h) };
    let src = &img.rgb;
    let mut out = vec![0u8; ow * oh * 3];
    // Source coordinate of output pixel (x, y): sx = ax + bx*x + cx*y, sy = ay + by*x + cy*y.
    let (w1, h1) = (w as isize - 1, h as isize - 1);
    let (ax, bx, cx, ay, by, cy): (isize, isize, isize, isize, isize, isize) = match orientation {
        2 => (w1, -1, 0, 0, 0, 1),
        3 => (w1, -1, 0, h1, 0, -1),
        4 => (0, 1, 0, h1, 0, -1),
        5 => (0, 0, 1, 0, 1, 0),
        6 => (0, 0, 1, h1, -1, 0),
        7 => (w1, 0, -1, h1, -1, 0),
        _ => (w1, 0, -1, 0, 1, 0),
    };
    let stride = w as isize * 3;
    for ty in (0..oh).step_by(TILE) {
        for tx in (0..ow).step_by(TILE) {
            for y in ty..(ty + TILE).min(oh) {
                let yi = y as isize;
                let x0 = tx as isize;
                // Start offset and per-output-pixel step in the source buffer (both in bytes).
                let mut s = (ay + by * x0 + cy * yi) * stride + (ax + bx * x0 + cx * yi) * 3;
                let step = by * stride + bx * 3;
                let row = &mut out[y * ow * 3..(y + 1) * ow * 3];
                for px in row[tx * 3..(tx + TILE).min(ow) * 3].chunks_exact_mut(3) {
                    let i = s as usize;
                    px.copy_from_slice(&src[i..i + 3]);
                    s += step;
                }
            }
        }
    }
    OrientedImage {
        width: ow as u32,
        height: oh as u32,
        rgb: out,
    }
}

/// Writes source rows into an upright destination as they are decoded, so a JPEG is turned while its
/// rows are still in cache and no second full-size buffer is needed.
pub struct RowScatter {
    src_w: usize,
    out_w: usize,
    /// Destination pixel of source (sx, sy): ox = ax + bx*sx + cx*sy, oy = ay + by*sx + cy*sy.
    map: [isize; 6],
    out: Vec<u8>,
    out_h: usize,
}

impl RowScatter {
    /// Prepares an upright `src_w x src_h` destination for EXIF `orientation`.
    pub fn new(src_w: usize, src_h: usize, orientation: u8) -> Self {
        let (w1, h1) = (src_w as isize - 1, src_h as isize - 1);
        let map = match orientation {
            2 => [w1, -1, 0, 0, 0, 1],
            3 => [w1, -1, 0, h1, 0, -1],
            4 => [0, 1, 0, h1, 0, -1],
            5 => [0, 0, 1, 0, 1, 0],
            6 => [h1, 0, -1, 0, 1, 0],
            7 => [h1, 0, -1, w1, -1, 0],
            8 => [0, 0, 1, w1, -1, 0],
            _ => [0, 1, 0, 0, 0, 1],
        };
        let (out_w, out_h) = if (5..=8).contains(&orientation) {
            (src_h, src_w)
        } else {
            (src_w, src_h)
        };
        RowScatter {
            src_w,
            out_w,
            map,
            out: vec![0u8; src_w * src_h * 3],
            out_h,
        }
    }

    /// Places `rows` (whole RGB8 source rows starting at source row `y0`) in the destination.
    pub fn put_rows(&mut self, y0: usize, rows: &[u8]) {
        let [ax, bx, cx, ay, by, cy] = self.map;
        let line = self.src_w * 3;
        if line == 0 {
            return;
        }
        let n = rows.len() / line;
        if bx != 0 {
            // Orientations 1–4: a source row is a destination row, possibly mirrored.
            for (r, src) in rows.chunks_exact(line).enumerate() {
                let oy = (ay + cy * (y0 + r) as isize) as usize;
                let dst = &mut self.out[oy * line..(oy + 1) * line];
                if bx > 0 {
                    dst.copy_from_slice(src);
                } else {
                    for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(3).rev()) {
                        d.copy_from_slice(s);
                    }
                }
            }
            return;
        }
        // Orientations 5–8: source column sx becomes destination row oy; the batch's rows land
        // side by side in it, forwards (cx = 1) or backwards (cx = -1).
        let first = ax + cx * y0 as isize;
        let lo = if cx > 0 {
            first
        } else {
            first - (n as isize - 1)
        } as usize;
        for sx in 0..self.src_w {
            let oy = (ay + by * sx as isize) as usize;
            let start = (oy * self.out_w + lo) * 3;
            let dst = &mut self.out[start..start + n * 3];
            let src_px = |r: usize| &rows[r * line + sx * 3..r * line + sx * 3 + 3];
            if cx > 0 {
                for (r, d) in dst.chunks_exact_mut(3).enumerate() {
                    d.copy_from_slice(src_px(r));
                }
            } else {
                for (r, d) in dst.chunks_exact_mut(3).rev().enumerate() {
                    d.copy_from_slice(src_px(r));
                }
            }
        }
    }

    /// The finished upright image.
    pub fn finish(self) -> OrientedImage {
        OrientedImage {
            width: self.out_w as u32,
            height: self.out_h as u32,
            rgb: self.out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 image whose pixel values encode their own coordinates.
    fn sample() -> OrientedImage {
        let mut rgb = Vec::new();
        for y in 0..2u8 {
            for x in 0..3u8 {
                rgb.extend_from_slice(&[x, y, 7]);
            }
        }
        OrientedImage {
            width: 3,
            height: 2,
            rgb,
        }
    }

    fn at(img: &OrientedImage, x: usize, y: usize) -> (u8, u8) {
        let i = (y * img.width as usize + x) * 3;
        (img.rgb[i], img.rgb[i + 1])
    }

    #[test]
    fn scattering_rows_matches_turning_the_whole_image() {
        let src = sample();
        for o in 1..=8 {
            let mut sc = RowScatter::new(3, 2, o);
            sc.put_rows(0, &src.rgb[..9]);
            sc.put_rows(1, &src.rgb[9..]);
            assert_eq!(sc.finish(), apply(sample(), o), "orientation {o}");
        }
    }

    #[test]
    fn each_orientation_maps_the_source_corner_where_exif_says() {
        // (orientation, output dims, source coords found at output top-left and top-right)
        let cases = [
            (1, (3, 2), (0, 0), (2, 0)),
            (2, (3, 2), (2, 0), (0, 0)),
            (3, (3, 2), (2, 1), (0, 1)),
            (4, (3, 2), (0, 1), (2, 1)),
            (5, (2, 3), (0, 0), (0, 1)),
            (6, (2, 3), (0, 1), (0, 0)),
            (7, (2, 3), (2, 1), (2, 0)),
            (8, (2, 3), (2, 0), (2, 1)),
        ];
        for (o, dims, tl, tr) in cases {
            let out = apply(sample(), o);
            assert_eq!((out.width, out.height), dims, "orientation {o}");
            assert_eq!(at(&out, 0, 0), tl, "orientation {o} top-left");
            assert_eq!(
                at(&out, out.width as usize - 1, 0),
                tr,
                "orientation {o} top-right"
            );
        }
    }
}
