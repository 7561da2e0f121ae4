//! Letterboxing: the oriented image scaled (aspect kept) into the model's fixed landscape input (e.g.
//! 640x480) or its portrait twin, centred on a black canvas, and the inverse mapping of detections back
//! to the oriented image.

use super::faces::FaceBox;

/// CenterFace downsamples by 32 before its upsampling path, so both input edges must be multiples of it.
pub const INPUT_MULTIPLE: u32 = 32;

/// The model's fixed landscape input (portrait images get it transposed): the long edge chosen, the
/// short edge the 4:3 camera frame needs, rounded up to [`INPUT_MULTIPLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSize {
    pub long: u32,
    pub short: u32,
}

impl InputSize {
    /// The input for a long edge (a multiple of [`INPUT_MULTIPLE`]); `None` for any other edge.
    pub fn for_long_edge(long: u32) -> Option<InputSize> {
        if long == 0 || !long.is_multiple_of(INPUT_MULTIPLE) {
            return None;
        }
        let short = (long * 3 / 4).div_ceil(INPUT_MULTIPLE) * INPUT_MULTIPLE;
        Some(InputSize { long, short })
    }
}

/// Where an oriented image sits inside the model input, so boxes can be mapped back exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Oriented image size.
    pub src_w: u32,
    pub src_h: u32,
    /// Model input size: e.g. 640x480 for landscape (and square), 480x640 for portrait.
    pub input_w: u32,
    pub input_h: u32,
    /// Size of the scaled image inside the input.
    pub content_w: u32,
    pub content_h: u32,
    /// Left and top padding of the content.
    pub pad_x: u32,
    pub pad_y: u32,
}

impl Letterbox {
    /// The layout for an oriented `src_w` x `src_h` image in `input` (portrait images get it transposed).
    pub fn new(src_w: u32, src_h: u32, input: InputSize) -> Letterbox {
        let (src_w, src_h) = (src_w.max(1), src_h.max(1));
        let (input_w, input_h) = if src_h > src_w {
            (input.short, input.long)
        } else {
            (input.long, input.short)
        };
        let scale =
            (f64::from(input_w) / f64::from(src_w)).min(f64::from(input_h) / f64::from(src_h));
        let content_w = ((f64::from(src_w) * scale).round() as u32).clamp(1, input_w);
        let content_h = ((f64::from(src_h) * scale).round() as u32).clamp(1, input_h);
        Letterbox {
            src_w,
            src_h,
            input_w,
            input_h,
            content_w,
            content_h,
            pad_x: (input_w - content_w) / 2,
            pad_y: (input_h - content_h) / 2,
        }
    }

    /// A box in model-input pixels mapped to oriented-image pixels, clipped to the image.
    pub fn to_source(&self, b: &FaceBox) -> FaceBox {
        let sx = self.src_w as f32 / self.content_w as f32;
        let sy = self.src_h as f32 / self.content_h as f32;
        FaceBox {
            x: (b.x - self.pad_x as f32) * sx,
            y: (b.y - self.pad_y as f32) * sy,
            w: b.w * sx,
            h: b.h * sy,
            score: b.score,
        }
        .clamped(self.src_w, self.src_h)
    }

    /// A box in oriented-image pixels mapped into the model input (the inverse of [`Self::to_source`]).
    pub fn to_input(&self, b: &FaceBox) -> FaceBox {
        let sx = self.content_w as f32 / self.src_w as f32;
        let sy = self.content_h as f32 / self.src_h as f32;
        FaceBox {
            x: b.x * sx + self.pad_x as f32,
            y: b.y * sy + self.pad_y as f32,
            w: b.w * sx,
            h: b.h * sy,
            score: b.score,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VGA: InputSize = InputSize {
        long: 640,
        short: 480,
    };

    fn close(a: &FaceBox, b: &FaceBox) -> bool {
        [(a.x, b.x), (a.y, b.y), (a.w, b.w), (a.h, b.h)]
            .iter()
            .all(|(p, q)| (p - q).abs() < 0.01)
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
    fn landscape_4_3_fills_640x480_and_maps_back_to_the_oriented_image() {
        let lb = Letterbox::new(4032, 3024, VGA);
        assert_eq!((lb.input_w, lb.input_h), (640, 480));
        assert_eq!(
            (lb.content_w, lb.content_h, lb.pad_x, lb.pad_y),
            (640, 480, 0, 0)
        );
        let back = lb.to_source(&fb(64., 48., 32., 48.));
        assert!(close(&back, &fb(403.2, 302.4, 201.6, 302.4)), "{back:?}");
    }

    #[test]
    fn landscape_3_2_is_padded_top_and_bottom_and_padding_is_removed_on_the_way_back() {
        let lb = Letterbox::new(1500, 1000, VGA);
        assert_eq!((lb.input_w, lb.input_h), (640, 480));
        assert_eq!((lb.content_w, lb.content_h), (640, 427));
        assert_eq!((lb.pad_x, lb.pad_y), (0, 26));
        let src = fb(300., 200., 150., 180.);
        let back = lb.to_source(&lb.to_input(&src));
        assert!(close(&back, &src), "{back:?}");
        // The content's top-left corner in the input is the image's origin.
        let origin = lb.to_source(&fb(0., 26., 10., 10.));
        assert!(origin.x.abs() < 0.01 && origin.y.abs() < 0.01);
    }

    #[test]
    fn portrait_uses_480x640_input_and_maps_back_to_the_oriented_image() {
        let lb = Letterbox::new(3024, 4032, VGA);
        assert_eq!((lb.input_w, lb.input_h), (480, 640));
        assert_eq!(
            (lb.content_w, lb.content_h, lb.pad_x, lb.pad_y),
            (480, 640, 0, 0)
        );
        let back = lb.to_source(&fb(48., 64., 48., 32.));
        assert!(close(&back, &fb(302.4, 403.2, 302.4, 201.6)), "{back:?}");

        let narrow = Letterbox::new(1000, 2000, VGA);
        assert_eq!((narrow.input_w, narrow.input_h), (480, 640));
        assert_eq!((narrow.content_w, narrow.content_h), (320, 640));
        assert_eq!((narrow.pad_x, narrow.pad_y), (80, 0));
        let src = fb(100., 1500., 200., 250.);
        let back = narrow.to_source(&narrow.to_input(&src));
        assert!(close(&back, &src), "{back:?}");
    }

    #[test]
    fn small_images_are_upscaled_and_boxes_in_padding_are_clipped_to_the_image() {
        let lb = Letterbox::new(500, 332, VGA);
        assert_eq!((lb.content_w, lb.content_h), (640, 425));
        let clipped = lb.to_source(&fb(600., 0., 100., 40.));
        assert!(clipped.x + clipped.w <= 500.0 && clipped.y >= 0.0);
    }

    #[test]
    fn input_sizes_round_the_short_edge_up_to_a_multiple_of_32_and_refuse_other_long_edges() {
        let size = |long| InputSize::for_long_edge(long).map(|s| (s.long, s.short));
        assert_eq!(size(640), Some((640, 480)));
        assert_eq!(size(480), Some((480, 384)));
        assert_eq!(size(416), Some((416, 320)));
        assert_eq!(size(320), Some((320, 256)));
        assert_eq!(size(500), None);
        assert_eq!(size(0), None);
    }

    #[test]
    fn a_4_3_photo_in_a_320x256_input_is_padded_top_and_bottom_and_maps_back() {
        let input = InputSize::for_long_edge(320).expect("multiple of 32");
        let lb = Letterbox::new(4032, 3024, input);
        assert_eq!((lb.input_w, lb.input_h), (320, 256));
        assert_eq!(
            (lb.content_w, lb.content_h, lb.pad_x, lb.pad_y),
            (320, 240, 0, 8)
        );
        let src = fb(1000., 800., 400., 500.);
        let back = lb.to_source(&lb.to_input(&src));
        assert!(close(&back, &src), "{back:?}");
        let portrait = Letterbox::new(3024, 4032, input);
        assert_eq!((portrait.input_w, portrait.input_h), (256, 320));
        assert_eq!((portrait.pad_x, portrait.pad_y), (8, 0));
    }
}
