use crate::sys;
use std::ffi::CString;
use std::fmt;

/// A ggml tensor type id (`dq_type`). A newtype, not an enum: a GGUF file may hold ids this
/// version does not know, and those must pass through to the library's own refusal.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Type(pub i32);

impl Type {
    pub const F32: Type = Type(sys::DQ_TYPE_F32);
    pub const F16: Type = Type(sys::DQ_TYPE_F16);
    pub const BF16: Type = Type(sys::DQ_TYPE_BF16);
    pub const Q4_0: Type = Type(sys::DQ_TYPE_Q4_0);
    pub const Q4_1: Type = Type(sys::DQ_TYPE_Q4_1);
    pub const Q5_0: Type = Type(sys::DQ_TYPE_Q5_0);
    pub const Q5_1: Type = Type(sys::DQ_TYPE_Q5_1);
    pub const Q8_0: Type = Type(sys::DQ_TYPE_Q8_0);
    pub const Q8_1: Type = Type(sys::DQ_TYPE_Q8_1);
    pub const Q2_K: Type = Type(sys::DQ_TYPE_Q2_K);
    pub const Q3_K: Type = Type(sys::DQ_TYPE_Q3_K);
    pub const Q4_K: Type = Type(sys::DQ_TYPE_Q4_K);
    pub const Q5_K: Type = Type(sys::DQ_TYPE_Q5_K);
    pub const Q6_K: Type = Type(sys::DQ_TYPE_Q6_K);
    pub const Q8_K: Type = Type(sys::DQ_TYPE_Q8_K);
    pub const IQ2_XXS: Type = Type(sys::DQ_TYPE_IQ2_XXS);
    pub const IQ2_XS: Type = Type(sys::DQ_TYPE_IQ2_XS);
    pub const IQ3_XXS: Type = Type(sys::DQ_TYPE_IQ3_XXS);
    pub const IQ1_S: Type = Type(sys::DQ_TYPE_IQ1_S);
    pub const IQ4_NL: Type = Type(sys::DQ_TYPE_IQ4_NL);
    pub const IQ3_S: Type = Type(sys::DQ_TYPE_IQ3_S);
    pub const IQ2_S: Type = Type(sys::DQ_TYPE_IQ2_S);
    pub const IQ4_XS: Type = Type(sys::DQ_TYPE_IQ4_XS);
    pub const IQ1_M: Type = Type(sys::DQ_TYPE_IQ1_M);
    pub const TQ1_0: Type = Type(sys::DQ_TYPE_TQ1_0);
    pub const TQ2_0: Type = Type(sys::DQ_TYPE_TQ2_0);
    pub const MXFP4: Type = Type(sys::DQ_TYPE_MXFP4);
    pub const NVFP4: Type = Type(sys::DQ_TYPE_NVFP4);
    pub const Q1_0: Type = Type(sys::DQ_TYPE_Q1_0);
    pub const Q2_0: Type = Type(sys::DQ_TYPE_Q2_0);

    /// Every type that dequantizes to floats (what the library can be asked to convert).
    pub fn all_dequantizable() -> Vec<Type> {
        (0..sys::DQ_TYPE_COUNT)
            .map(Type)
            .filter(|t| t.block_elements() > 0 && !matches!(t.0, 24..=28))
            .collect()
    }

    /// ggml's name ("q6_K"), or None for an unknown or retired id.
    pub fn name(self) -> Option<&'static str> {
        // SAFETY: static strings or NULL.
        let p = unsafe { sys::dq_type_name(self.0) };
        // SAFETY: a NUL-terminated string (or NULL) owned by the library, alive as long as its owner.
        (!p.is_null()).then(|| unsafe { crate::cstr_static(p) })
    }

    /// The id for a name (case-insensitive); None when unknown or retired.
    pub fn from_name(name: &str) -> Option<Type> {
        let c = CString::new(name).ok()?;
        // SAFETY: a valid C string for the call's duration.
        let id = unsafe { sys::dq_type_from_name(c.as_ptr()) };
        (id >= 0).then_some(Type(id))
    }

    /// Elements per block (0 for unknown ids).
    pub fn block_elements(self) -> i64 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_type_block_elements(self.0) }
    }

    /// Bytes per block (0 for unknown ids).
    pub fn block_bytes(self) -> usize {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_type_block_bytes(self.0) }
    }

    /// Bytes that `n_elements` of this type occupy.
    pub fn nbytes(self, n_elements: i64) -> crate::Result<u64> {
        let mut out = 0u64;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        crate::error::check_plain(unsafe { sys::dq_type_nbytes(self.0, n_elements, &mut out) },
                                  &format!("{self:?} x {n_elements} elements"))?;
        Ok(out)
    }
}

impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type({})", self.0),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
