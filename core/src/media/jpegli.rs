//! JPEG encoding with Google's jpegli (libjxl's libjpeg-compatible encoder, through `jpegli-sys`):
//! its quantisation tables and dead-zone rounding need ~17% fewer bytes than libjpeg's Annex K tables
//! at the same luma SSIM on our photos (docs/benchmarks/media.md), at libjpeg-turbo speed.

use std::os::raw::{c_int, c_ulong, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use jpegli_sys::{
    boolean, jpegli_common_struct, jpegli_compress_struct, jpegli_error_mgr, JPEG_LIB_VERSION,
    JSAMPROW, J_COLOR_SPACE,
};

use super::error::panic_detail;
use super::libjpeg::{feed_rows, Chroma};
use super::{MediaError, OrientedImage};

/// One jpegli configuration: the shipped one is [`JpegliTuning::SHIPPED`]; the benchmark compares others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegliTuning {
    /// jpegli's progressive script: 0 sequential (baseline), 1 simple, 2 jpegli's default (most scans).
    pub progressive_level: u8,
    /// jpegli's adaptive quantisation (a per-block quant field from a perceptual model). It moves bits
    /// into smooth areas, which costs SSIM on textured photos, so the shipped setting turns it off.
    pub adaptive_quantization: bool,
    pub chroma: Chroma,
}

impl JpegliTuning {
    /// Progressive level 2, no adaptive quantisation, 4:2:0: the smallest at equal luma DSSIM measured.
    pub const SHIPPED: JpegliTuning = JpegliTuning {
        progressive_level: 2,
        adaptive_quantization: false,
        chroma: Chroma::Sub420,
    };
}

// jpegli's own extensions of the libjpeg API (libjxl lib/jpegli/encode.h); `jpegli-sys` links the
// library that defines them but does not declare them.
extern "C-unwind" {
    fn jpegli_enable_adaptive_quantization(cinfo: *mut jpegli_compress_struct, value: boolean);
    fn jpegli_set_progressive_level(cinfo: *mut jpegli_compress_struct, level: c_int);
}

extern "C" {
    /// jpegli's memory destination allocates with `malloc`; the caller frees with `free`.
    fn free(ptr: *mut c_void);
}

/// jpegli reports a fatal error (a bug or out of memory: our input is checked before) by calling this;
/// it unwinds to [`encode_jpegli`]'s `catch_unwind`, like the mozjpeg error manager.
extern "C-unwind" fn jpegli_fatal(cinfo: &mut jpegli_common_struct) {
    std::panic::resume_unwind(Box::new(message_text(cinfo)));
}

extern "C-unwind" fn jpegli_message(cinfo: &mut jpegli_common_struct, level: c_int) {
    if level < 0 {
        tracing::debug!(warning = %message_text(cinfo), "jpegli warning");
    }
}

fn message_text(cinfo: &jpegli_common_struct) -> String {
    // SAFETY: `err` points at the error manager we installed; jpegli writes a NUL-terminated message
    // into `msg_parm.s` (80 bytes) before calling the handler; we read at most those 80 bytes.
    unsafe {
        let Some(err) = cinfo.err.as_ref() else {
            return "jpegli error".into();
        };
        let s = &err.msg_parm.s;
        let len = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        let bytes: Vec<u8> = s[..len].iter().map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A compressor freed on every path, including an unwind out of jpegli.
struct Compressor {
    cinfo: jpegli_compress_struct,
    /// Boxed so its address stays put while `cinfo.common.err` points at it.
    err: Box<jpegli_error_mgr>,
    out: *mut u8,
    out_len: c_ulong,
    created: bool,
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpegli_CreateCompress (when `created`); `out` is null or
        // malloc'd by jpegli_mem_dest.
        unsafe {
            if self.created {
                jpegli_sys::jpegli_destroy_compress(&mut self.cinfo);
            }
            if !self.out.is_null() {
                free(self.out.cast());
            }
        }
    }
}

/// JPEG's largest dimension; jpegli would refuse more through its error handler.
const MAX_DIMENSION: u32 = 65_500;

/// Encodes `img` (RGB8) as a JFIF JPEG with optimised Huffman tables at jpegli `quality` (1–100, its
/// own scale: jpegli q84 is about as sharp as libjpeg q80 by luma SSIM), writing no other marker.
pub fn encode_jpegli(
    img: &OrientedImage,
    tuning: &JpegliTuning,
    quality: u8,
) -> Result<Vec<u8>, MediaError> {
    let (w, h) = (img.width as usize, img.height as usize);
    if w == 0 || h == 0 || img.rgb.len() != w * h * 3 {
        return Err(MediaError::encode(
            "JPEG (jpegli): RGB buffer does not match its size",
        ));
    }
    if img.width > MAX_DIMENSION || img.height > MAX_DIMENSION {
        return Err(MediaError::encode(format!(
            "JPEG (jpegli): {}x{} is over JPEG's {MAX_DIMENSION} px limit",
            img.width, img.height
        )));
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| compress(img, tuning, quality)));
    match outcome {
        Ok(bytes) => bytes,
        Err(payload) => Err(MediaError::encode(format!(
            "JPEG (jpegli): {}",
            panic_detail(payload.as_ref())
        ))),
    }
}

fn compress(
    img: &OrientedImage,
    tuning: &JpegliTuning,
    quality: u8,
) -> Result<Vec<u8>, MediaError> {
    let mut c = Box::new(Compressor {
        // SAFETY: an all-zero compress struct is what jpegli_CreateCompress expects to fill.
        cinfo: unsafe { std::mem::zeroed() },
        // SAFETY: jpegli_std_error below fills every field of the zeroed struct.
        err: Box::new(unsafe { std::mem::zeroed() }),
        out: std::ptr::null_mut(),
        out_len: 0,
        created: false,
    });
    // SAFETY: the calls follow libjpeg's documented compression sequence on a struct we own; errors
    // unwind to `encode_jpegli`, and `Compressor::drop` releases jpegli's memory on every path. The
    // row pointers handed to jpegli point into `img.rgb`, which outlives the call, each `w * 3` long.
    unsafe {
        let cp = &mut *c;
        jpegli_sys::jpegli_std_error(&mut cp.err);
        cp.err.error_exit = Some(jpegli_fatal);
        cp.err.emit_message = Some(jpegli_message);
        cp.cinfo.common.err = &mut *cp.err;
        jpegli_sys::jpegli_CreateCompress(
            &mut cp.cinfo,
            JPEG_LIB_VERSION,
            std::mem::size_of::<jpegli_compress_struct>(),
        );
        cp.created = true;
        let cinfo = &mut cp.cinfo;
        cinfo.image_width = img.width;
        cinfo.image_height = img.height;
        cinfo.input_components = 3;
        cinfo.in_color_space = J_COLOR_SPACE::JCS_RGB;
        jpegli_sys::jpegli_set_defaults(cinfo);
        // jpegli writes no JFIF APP0 by default; write it (version 1.01, no density) like libjpeg does,
        // so every viewer reads the three components as YCbCr.
        cinfo.write_JFIF_header = 1;
        jpegli_sys::jpegli_set_quality(cinfo, c_int::from(quality.clamp(1, 100)), 1);
        jpegli_enable_adaptive_quantization(cinfo, boolean::from(tuning.adaptive_quantization));
        jpegli_set_progressive_level(cinfo, c_int::from(tuning.progressive_level.min(2)));
        cinfo.optimize_coding = 1;
        // Chroma sampling stated explicitly so a library default cannot change it.
        let comps = std::slice::from_raw_parts_mut(cinfo.comp_info, 3);
        for (i, comp) in comps.iter_mut().enumerate() {
            (comp.h_samp_factor, comp.v_samp_factor) = tuning.chroma.sampling(i);
        }
        jpegli_sys::jpegli_mem_dest(cinfo, &mut cp.out, &mut cp.out_len);
        jpegli_sys::jpegli_start_compress(&mut cp.cinfo, 1);
        feed_rows(img, |rows: &[JSAMPROW]| {
            jpegli_sys::jpegli_write_scanlines(&mut cp.cinfo, rows.as_ptr(), rows.len() as u32)
                as usize
        })?;
        jpegli_sys::jpegli_finish_compress(&mut cp.cinfo);
        let len = usize::try_from(cp.out_len).unwrap_or(0);
        if cp.out.is_null() || len == 0 {
            return Err(MediaError::encode("JPEG (jpegli): encoder wrote nothing"));
        }
        Ok(std::slice::from_raw_parts(cp.out, len).to_vec())
    }
}
