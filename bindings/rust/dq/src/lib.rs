//! Safe Rust API of libdq-core: open GGUF models (metadata, tensors, zero-copy byte slices),
//! dequantize any ggml type into `f32`, `f16` or `bf16`, and load whole models onto a device.
//!
//! ```no_run
//! let ctx = dq::Context::new()?;
//! let model = dq::Model::open(&ctx, "model.gguf")?;
//! for t in model.tensors()? {
//!     let mut out = vec![0f32; t.n_elements as usize];
//!     ctx.dequantize(t.ty, t.data, &mut out)?;
//! }
//! # Ok::<(), dq::Error>(())
//! ```
//!
//! # Threads
//! The C library's rules (docs/ARCHITECTURE.md, "Threads"), carried by the types:
//! - [`Context`] is `Send + Sync`: after its lazily built plugin registry exists it is
//!   read-only, and the registry's construction is guarded inside the library. Error messages
//!   are kept per thread, so a failing call's [`Error`] always carries its own message.
//! - [`Model`] is `Send + Sync`: after opening, every `dq_model_*`/`dq_value_*` call only reads.
//! - [`LoadedModel`] is `Send + Sync` (read-only getters; freed once, on drop).
//! - [`Loader`] is `Send` but not `Sync`: it owns one staging ring, so loads through it take
//!   `&mut self` and run one at a time.
//! - [`DeviceBuffer`] is `Send + Sync` as a handle; what runs on it is the caller's business.
//!
//! Every handle keeps its [`Context`] alive (a reference-counted clone), so a model, a loaded
//! model or a buffer can never outlive the context the C library needs to free it.
#![warn(clippy::undocumented_unsafe_blocks)] // every unsafe block says why it is sound
pub use dq_sys as sys;

mod batch;
mod context;
mod device;
mod error;
mod loader;
mod model;
mod output;
mod types;

pub use batch::BatchRequest;
pub use context::{BackendInfo, Context, DeviceInfo};
pub use device::{DeviceBuffer, Location, RawDequantize};
pub use error::{Error, Result, Status};
pub use loader::{LoadOptions, LoadPart, LoadStats, LoadedModel, LoadedTensor, Loader, OutputType};
pub use model::{Model, TensorInfo, Value, ValueType};
pub use output::Output;
pub use types::Type;

/// The library's version string ("0.1.0").
pub fn version() -> &'static str {
    // SAFETY: a static, NUL-terminated string owned by the library.
    unsafe { cstr_static(sys::dq_version_string()) }
}

/// A string owned by the library for the process's life (or NULL: "").
pub(crate) unsafe fn cstr_static(p: *const std::os::raw::c_char) -> &'static str {
    if p.is_null() {
        ""
    } else {
        std::ffi::CStr::from_ptr(p).to_str().unwrap_or("")
    }
}

/// A string owned by the library that stays valid as long as `'a` (its owner).
pub(crate) unsafe fn cstr<'a>(p: *const std::os::raw::c_char) -> &'a str {
    cstr_static(p)
}

/// A tensor name for the library: one holding a NUL is an error that shows it.
pub(crate) fn c_name(name: &str) -> Result<std::ffi::CString> {
    std::ffi::CString::new(name).map_err(|_| {
        Error::new(Status::INVALID_ARGUMENT, format!("tensor name '{}' holds a NUL", name.escape_debug()))
    })
}

/// A name read from a GGUF file (owned by the library for `'a`, or NULL: ""). The format says
/// UTF-8 but the library does not check: other bytes are an error with status BAD_FILE that
/// says whose name (`what`) and shows it, never a silent "".
pub(crate) unsafe fn cstr_name<'a>(p: *const std::os::raw::c_char, what: impl FnOnce() -> String) -> Result<&'a str> {
    if p.is_null() {
        return Ok("");
    }
    let c = std::ffi::CStr::from_ptr(p);
    c.to_str().map_err(|_| {
        Error::new(Status::BAD_FILE, format!("{}: name {:?} is not UTF-8", what(), String::from_utf8_lossy(c.to_bytes())))
    })
}
