//! The parts of libjpeg (mozjpeg) the `mozjpeg` crate does not expose: an error manager that refuses
//! truncated data, and a compressor whose trellis and table settings can be chosen one by one.

use std::os::raw::{c_int, c_ulong, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mozjpeg_sys::{
    boolean, jpeg_common_struct, jpeg_compress_struct, jpeg_error_mgr, JSAMPROW, J_BOOLEAN_PARAM,
    J_COLOR_SPACE, J_FLOAT_PARAM, J_INT_PARAM,
};

use super::error::panic_detail;
use super::{MediaError, OrientedImage};

/// A libjpeg error manager that unwinds on fatal errors *and* on premature end of data,
/// so a truncated upload is refused instead of padded with grey.
pub(crate) fn error_mgr() -> jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills every field of a zeroed struct, as libjpeg documents.
    let mut err: jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { mozjpeg_sys::jpeg_std_error(&mut err) };
    err.error_exit = Some(jpeg_fatal);
    err.emit_message = Some(jpeg_message);
    err
}

fn jpeg_message_text(cinfo: &jpeg_common_struct) -> String {
    // SAFETY: `err` points at the error manager we installed; the table index is bounds-checked.
    unsafe {
        let Some(err) = cinfo.err.as_ref() else {
            return "libjpeg error".into();
        };
        let code = err.msg_code;
        if code > 0 && code <= err.last_jpeg_message && !err.jpeg_message_table.is_null() {
            let fmt = *err.jpeg_message_table.offset(code as isize);
            if !fmt.is_null() {
                return std::ffi::CStr::from_ptr(fmt).to_string_lossy().into_owned();
            }
        }
        format!("libjpeg error {code}")
    }
}

extern "C-unwind" fn jpeg_fatal(cinfo: &mut jpeg_common_struct) {
    std::panic::resume_unwind(Box::new(jpeg_message_text(cinfo)));
}

extern "C-unwind" fn jpeg_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return; // trace messages
    }
    // SAFETY: as above.
    let code = unsafe { cinfo.err.as_ref().map_or(0, |e| e.msg_code) };
    if code == mozjpeg_sys::JWRN_JPEG_EOF as c_int {
        std::panic::resume_unwind(Box::new(
            "truncated: premature end of JPEG data".to_string(),
        ));
    }
    // Other warnings (extraneous bytes, resync) are recoverable and common in real camera files.
    tracing::debug!(warning = %jpeg_message_text(cinfo), "libjpeg warning");
}

/// Base quantisation tables mozjpeg can scale by quality (its `JINT_BASE_QUANT_TBL_IDX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantTables {
    /// JPEG Annex K: what libjpeg-turbo, vips and Pillow use.
    AnnexK = 0,
    /// Every coefficient quantised alike.
    Flat = 1,
    /// mozjpeg's tables tuned for MS-SSIM on the Kodak set.
    MsSsim = 2,
    /// N. Robidoux's tables for ImageMagick (mozjpeg's default).
    Robidoux = 3,
    /// mozjpeg's tables tuned for PSNR-HVS-M on the Kodak set.
    PsnrHvsM = 4,
    /// Klein, Silverstein and Carney (1992).
    Klein = 5,
    /// Watson, Taylor and Borthwick (1997).
    Watson = 6,
    /// Ahumada, Watson and Peterson (1993).
    Ahumada = 7,
    /// Peterson, Ahumada and Watson (1993).
    Peterson = 8,
}

/// Chroma sampling of the two colour components relative to luma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chroma {
    /// Half resolution both ways (what vips and libjpeg choose at Q80).
    Sub420,
    /// Half resolution horizontally.
    Sub422,
    /// Full resolution.
    Full444,
}

impl Chroma {
    /// (horizontal, vertical) sampling factors of component `index` (0 luma, 1–2 chroma).
    pub(crate) fn sampling(self, index: usize) -> (c_int, c_int) {
        match (index, self) {
            (0, Chroma::Sub420) => (2, 2),
            (0, Chroma::Sub422) => (2, 1),
            _ => (1, 1),
        }
    }
}

/// Hands `img`'s rows to a libjpeg-style `write_scanlines` (which returns how many it took), 16 at a
/// time; the row pointers point into `img.rgb` and live as long as the call.
pub(crate) fn feed_rows(
    img: &OrientedImage,
    mut write_scanlines: impl FnMut(&[*const u8]) -> usize,
) -> Result<(), MediaError> {
    let (w, h) = (img.width as usize, img.height as usize);
    let stride = w * 3;
    let mut rows: Vec<*const u8> = Vec::with_capacity(16);
    let mut y = 0usize;
    while y < h {
        rows.clear();
        let n = 16.min(h - y);
        rows.extend((y..y + n).map(|r| img.rgb[r * stride..].as_ptr()));
        let written = write_scanlines(&rows);
        if written == 0 {
            return Err(MediaError::encode("JPEG: encoder accepted no rows"));
        }
        y += written;
    }
    Ok(())
}

/// One mozjpeg encoder configuration; `JpegEffort` names the shipped ones, the benchmark compares others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegTuning {
    /// Progressive scans (the standard script) instead of one baseline scan.
    pub progressive: bool,
    /// Trellis quantisation of the AC coefficients (rate-distortion optimised rounding).
    pub trellis: bool,
    /// Trellis on the DC coefficients too (costs a second pass over all blocks).
    pub trellis_dc: bool,
    /// Let the trellis end blocks early where a run of zeros is cheaper.
    pub trellis_eob_opt: bool,
    pub tables: QuantTables,
    /// mozjpeg's search for the best progressive scan split (slow).
    pub optimize_scans: bool,
    pub chroma: Chroma,
    /// What the trellis trades bits against (only with `trellis`).
    pub trellis_target: TrellisTarget,
}

impl JpegTuning {
    /// Baseline, optimised Huffman, Annex K tables, 4:2:0: libjpeg-turbo's output (`JpegEffort::Fast`).
    pub const BASELINE: JpegTuning = JpegTuning {
        progressive: false,
        trellis: false,
        trellis_dc: false,
        trellis_eob_opt: false,
        tables: QuantTables::AnnexK,
        optimize_scans: false,
        chroma: Chroma::Sub420,
        trellis_target: TrellisTarget::PsnrHvs,
    };
}

/// The rate-distortion weighting of mozjpeg's trellis (its cjpeg `-tune-*` presets, without their table choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrellisTarget {
    /// mozjpeg's default: PSNR-HVS with per-frequency lambda weights (log scales 14.75 / 16.5).
    PsnrHvs,
    /// `-tune-ssim`: log scales 11.5 / 12.75, no per-frequency weights.
    Ssim,
    /// `-tune-ms-ssim`: log scales 12.0 / 13.0 with per-frequency weights.
    MsSsim,
}

/// A compressor freed on every path, including an unwind out of libjpeg.
struct Compressor {
    cinfo: jpeg_compress_struct,
    /// Boxed so its address stays put while `cinfo.common.err` points at it.
    _err: Box<jpeg_error_mgr>,
    out: *mut u8,
    out_len: c_ulong,
}

extern "C" {
    /// libjpeg's memory destination allocates with `malloc`; the caller frees with `free`.
    fn free(ptr: *mut c_void);
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpeg_CreateCompress; `out` is null or malloc'd by jpeg_mem_dest.
        unsafe {
            mozjpeg_sys::jpeg_destroy_compress(&mut self.cinfo);
            if !self.out.is_null() {
                free(self.out.cast());
            }
        }
    }
}

const TRUE: boolean = 1;
const FALSE: boolean = 0;

/// Encodes `img` (RGB8) as a JFIF JPEG with optimised Huffman tables, writing no other marker.
pub fn encode_jpeg_tuned(
    img: &OrientedImage,
    tuning: &JpegTuning,
    quality: u8,
) -> Result<Vec<u8>, MediaError> {
    let outcome = catch_unwind(AssertUnwindSafe(|| compress(img, tuning, quality)));
    match outcome {
        Ok(bytes) => bytes,
        Err(payload) => Err(MediaError::encode(format!(
            "JPEG: {}",
            panic_detail(payload.as_ref())
        ))),
    }
}

fn compress(img: &OrientedImage, tuning: &JpegTuning, quality: u8) -> Result<Vec<u8>, MediaError> {
    let (w, h) = (img.width as usize, img.height as usize);
    if w == 0 || h == 0 || img.rgb.len() != w * h * 3 {
        return Err(MediaError::encode(
            "JPEG: RGB buffer does not match its size",
        ));
    }
    let mut c = Box::new(Compressor {
        // SAFETY: an all-zero jpeg_compress_struct is what jpeg_CreateCompress expects to fill.
        cinfo: unsafe { std::mem::zeroed() },
        _err: Box::new(error_mgr()),
        out: std::ptr::null_mut(),
        out_len: 0,
    });
    // SAFETY: the calls follow libjpeg's documented compression sequence on a struct we own; errors
    // unwind to `encode_jpeg_tuned`, and `Compressor::drop` releases libjpeg's memory on every path.
    unsafe {
        let cp = &mut *c;
        cp.cinfo.common.err = &mut *cp._err;
        mozjpeg_sys::jpeg_create_compress(&mut cp.cinfo);
        let cinfo = &mut cp.cinfo;
        cinfo.image_width = img.width;
        cinfo.image_height = img.height;
        cinfo.input_components = 3;
        cinfo.in_color_space = J_COLOR_SPACE::JCS_RGB;
        mozjpeg_sys::jpeg_c_set_int_param(
            cinfo,
            J_INT_PARAM::JINT_COMPRESS_PROFILE,
            mozjpeg_sys::JCP_FASTEST as c_int,
        );
        mozjpeg_sys::jpeg_set_defaults(cinfo);
        let set = |cinfo: &mut jpeg_compress_struct, p, v: bool| {
            mozjpeg_sys::jpeg_c_set_bool_param(cinfo, p, if v { TRUE } else { FALSE })
        };
        set(
            cinfo,
            J_BOOLEAN_PARAM::JBOOLEAN_TRELLIS_QUANT,
            tuning.trellis,
        );
        set(
            cinfo,
            J_BOOLEAN_PARAM::JBOOLEAN_TRELLIS_QUANT_DC,
            tuning.trellis && tuning.trellis_dc,
        );
        set(
            cinfo,
            J_BOOLEAN_PARAM::JBOOLEAN_TRELLIS_EOB_OPT,
            tuning.trellis && tuning.trellis_eob_opt,
        );
        set(
            cinfo,
            J_BOOLEAN_PARAM::JBOOLEAN_OPTIMIZE_SCANS,
            tuning.progressive && tuning.optimize_scans,
        );
        set(cinfo, J_BOOLEAN_PARAM::JBOOLEAN_OVERSHOOT_DERINGING, false);
        let (scale1, scale2, weights) = match tuning.trellis_target {
            TrellisTarget::PsnrHvs => (14.75, 16.5, true),
            TrellisTarget::Ssim => (11.5, 12.75, false),
            TrellisTarget::MsSsim => (12.0, 13.0, true),
        };
        mozjpeg_sys::jpeg_c_set_float_param(cinfo, J_FLOAT_PARAM::JFLOAT_LAMBDA_LOG_SCALE1, scale1);
        mozjpeg_sys::jpeg_c_set_float_param(cinfo, J_FLOAT_PARAM::JFLOAT_LAMBDA_LOG_SCALE2, scale2);
        set(
            cinfo,
            J_BOOLEAN_PARAM::JBOOLEAN_USE_LAMBDA_WEIGHT_TBL,
            weights,
        );
        mozjpeg_sys::jpeg_c_set_int_param(
            cinfo,
            J_INT_PARAM::JINT_BASE_QUANT_TBL_IDX,
            tuning.tables as c_int,
        );
        mozjpeg_sys::jpeg_set_quality(cinfo, c_int::from(quality.clamp(1, 100)), FALSE);
        cinfo.optimize_coding = TRUE;
        // Chroma sampling stated explicitly so a library default cannot change it.
        let comps = std::slice::from_raw_parts_mut(cinfo.comp_info, 3);
        for (i, comp) in comps.iter_mut().enumerate() {
            (comp.h_samp_factor, comp.v_samp_factor) = tuning.chroma.sampling(i);
        }
        if tuning.progressive {
            mozjpeg_sys::jpeg_simple_progression(cinfo);
        }
        mozjpeg_sys::jpeg_mem_dest(cinfo, &mut cp.out, &mut cp.out_len);
        mozjpeg_sys::jpeg_start_compress(&mut cp.cinfo, TRUE);
        feed_rows(img, |rows: &[JSAMPROW]| {
            mozjpeg_sys::jpeg_write_scanlines(&mut cp.cinfo, rows.as_ptr(), rows.len() as u32)
                as usize
        })?;
        mozjpeg_sys::jpeg_finish_compress(&mut cp.cinfo);
        let len = usize::try_from(cp.out_len).unwrap_or(0);
        if cp.out.is_null() || len == 0 {
            return Err(MediaError::encode("JPEG: encoder wrote nothing"));
        }
        Ok(std::slice::from_raw_parts(cp.out, len).to_vec())
    }
}
