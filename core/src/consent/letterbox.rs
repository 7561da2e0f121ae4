//! Letterboxing: the oriented image scaled (aspect kept) into the model's fixed 640x480 / 480x640 input,
//! centred on a black canvas, and the inverse mapping of detections back to the oriented image.

use super::faces::FaceBox;

/// Model input long edge; CenterFace's stride 4 needs multiples of 32.
pub const INPUT_LONG: u32 = 640;
/// Model input short edge.
pub const INPUT_SHORT: u32 = 480;

/// Where an oriented image sits inside the model input, so boxes can be mapped back exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Oriented image size.
    pub src_w: u32,
    pub src_h: u32,
    /// Model input size: 640x480 for landscape (and square), 480x640 for portrait.
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
    /// The layout for an oriented `src_w` x `src_h` image (portrait images get the portrait input).
    pub fn new(src_w: u32, src_h: u32) -> Letterbox {
        let (src_w, src_h) = (src_w.max(1), src_h.max(1));
        let (input_w, input_h) = if src_h > src_w {
            (INPUT_SHORT, INPUT_LONG)
        } else {
            (INPUT_LONG, INPUT_SHORT)
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
        let lb = Letterbox::new(4032, 3024);
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
        let lb = Letterbox::new(1500, 1000);
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
        let lb = Letterbox::new(3024, 4032);
        assert_eq!((lb.input_w, lb.input_h), (480, 640));
        assert_eq!(
            (lb.content_w, lb.content_h, lb.pad_x, lb.pad_y),
            (480, 640, 0, 0)
        );
        let back = lb.to_source(&fb(48., 64., 48., 32.));
        assert!(close(&back, &fb(302.4, 403.2, 302.4, 201.6)), "{back:?}");

        let narrow = Letterbox::new(1000, 2000);
        assert_eq!((narrow.input_w, narrow.input_h), (480, 640));
        assert_eq!((narrow.content_w, narrow.content_h), (320, 640));
        assert_eq!((narrow.pad_x, narrow.pad_y), (80, 0));
        let src = fb(100., 1500., 200., 250.);
        let back = narrow.to_source(&narrow.to_input(&src));
        assert!(close(&back, &src), "{back:?}");
    }

    #[test]
    fn small_images_are_upscaled_and_boxes_in_padding_are_clipped_to_the_image() {
        let lb = Letterbox::new(500, 332);
        assert_eq!((lb.content_w, lb.content_h), (640, 425));
        let clipped = lb.to_source(&fb(600., 0., 100., 40.));
        assert!(clipped.x + clipped.w <= 500.0 && clipped.y >= 0.0);
    }
}
