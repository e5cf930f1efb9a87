use crate::Type;

mod sealed {
    pub trait Sealed {}
}

/// An element type the library writes: `f32`, and with the `half` feature `half::f16` and
/// `half::bf16`. Without that feature, 16-bit outputs go into `u16` bit patterns through
/// [`Context::dequantize_f16_bits`](crate::Context::dequantize_f16_bits) and
/// [`Context::dequantize_bf16_bits`](crate::Context::dequantize_bf16_bits).
///
/// # Safety
/// Implemented only here: `TYPE` must be the library's type of exactly this layout.
pub unsafe trait Output: Copy + sealed::Sealed {
    const TYPE: Type;
}

impl sealed::Sealed for f32 {}
// SAFETY: TYPE is the library's output type of exactly this type's size and layout.
unsafe impl Output for f32 {
    const TYPE: Type = Type::F32;
}

#[cfg(feature = "half")]
impl sealed::Sealed for half::f16 {}
#[cfg(feature = "half")]
// SAFETY: TYPE is the library's output type of exactly this type's size and layout.
unsafe impl Output for half::f16 {
    const TYPE: Type = Type::F16;
}

#[cfg(feature = "half")]
impl sealed::Sealed for half::bf16 {}
#[cfg(feature = "half")]
// SAFETY: TYPE is the library's output type of exactly this type's size and layout.
unsafe impl Output for half::bf16 {
    const TYPE: Type = Type::BF16;
}
