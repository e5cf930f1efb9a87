use crate::device::{Location, RawDequantize};
use crate::error::{Error, Result, Status};
use crate::{cstr, sys, Output, Type};
use std::ffi::{CStr, CString};
use std::os::raw::c_void;
use std::ptr::{self, NonNull};
use std::sync::Arc;

struct Handle(NonNull<sys::dq_context>);

// SAFETY: the C library allows a context to be used from any thread and from several at once
// (registry built under call_once, read-only afterwards; errors kept per thread), and to be
// destroyed from any thread once no call is running on it, which Arc guarantees.
unsafe impl Send for Handle {}
// SAFETY: as for Send above; calls through a shared reference only read.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: created by dq_context_create; the last owner (Arc) drops it once.
        unsafe { sys::dq_context_destroy(self.0.as_ptr()) }
    }
}

/// A dq context: the plugin registry (discovered on first use) and per-thread error
/// messages. Cheap to clone (a reference count); `Send + Sync` (see the crate's "Threads").
#[derive(Clone)]
pub struct Context {
    handle: Arc<Handle>,
}

/// A backend found by the registry (`dq_backend_info`, copied).
#[derive(Debug, Clone)]
pub struct BackendInfo {
    pub index: i32,
    pub name: String,
    pub path: String,
    pub description: String,
    pub abi: (u32, u32),
    pub loaded: bool,
    pub device_count: i32,
    /// Why it failed to load or has no device; "" when fine.
    pub status: String,
}

/// A device of a backend (`dq_device_info`, copied).
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub name: String,
    pub total_memory: u64,
    pub free_memory: u64,
    pub is_gpu: bool,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Context({:p})", self.as_raw())
    }
}

impl Context {
    pub fn new() -> Result<Context> {
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        let status = unsafe { sys::dq_context_create(&mut raw) };
        match NonNull::new(raw) {
            Some(p) if status == sys::DQ_OK => Ok(Context { handle: Arc::new(Handle(p)) }),
            _ => Err(Error::new(Status(status), "dq_context_create failed")),
        }
    }

    /// The C handle, for calls through `dq::sys`. Valid while this Context (or a clone) lives.
    pub fn as_raw(&self) -> *mut sys::dq_context {
        self.handle.0.as_ptr()
    }

    /// Ok, or the Error of the call that just failed on this thread (status + message).
    pub(crate) fn check(&self, status: sys::dq_status) -> Result<()> {
        if status == sys::DQ_OK {
            return Ok(());
        }
        // SAFETY: the message lives until the next failed call on this thread; copied now.
        let message = unsafe { CStr::from_ptr(sys::dq_last_error(self.as_raw())) };
        Err(Error::new(Status(status), message.to_string_lossy().into_owned()))
    }

    /// Every backend found (loaded, refused or failed), in search order.
    pub fn backends(&self) -> Result<Vec<BackendInfo>> {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let n = unsafe { sys::dq_backend_count(self.as_raw()) };
        (0..n).map(|i| self.backend(i)).collect()
    }

    pub fn backend(&self, index: i32) -> Result<BackendInfo> {
        // SAFETY: zeroed is a valid dq_backend_info (pointers NULL); struct_size set.
        let mut info: sys::dq_backend_info = unsafe { std::mem::zeroed() };
        info.struct_size = std::mem::size_of::<sys::dq_backend_info>();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.check(unsafe { sys::dq_backend_get_info(self.as_raw(), index, &mut info) })?;
        // SAFETY: strings owned by the context, copied here.
        unsafe {
            Ok(BackendInfo {
                index,
                name: cstr(info.name).to_owned(),
                path: cstr(info.path).to_owned(),
                description: cstr(info.description).to_owned(),
                abi: (info.abi_major, info.abi_minor),
                loaded: info.loaded != 0,
                device_count: info.device_count,
                status: cstr(info.status).to_owned(),
            })
        }
    }

    /// Index of the loaded backend of that name (else of the first that failed), or None.
    pub fn backend_find(&self, name: &str) -> Option<i32> {
        let c = CString::new(name).ok()?;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let i = unsafe { sys::dq_backend_find(self.as_raw(), c.as_ptr()) };
        (i >= 0).then_some(i)
    }

    pub fn devices(&self, backend: i32) -> Result<Vec<DeviceInfo>> {
        let info = self.backend(backend)?;
        (0..info.device_count)
            .map(|d| {
                // SAFETY: all-zero is a valid value of this C struct (numbers 0, pointers NULL).
                let mut dev: sys::dq_device_info = unsafe { std::mem::zeroed() };
                dev.struct_size = std::mem::size_of::<sys::dq_device_info>();
                // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
                self.check(unsafe { sys::dq_backend_get_device(self.as_raw(), backend, d, &mut dev) })?;
                Ok(DeviceInfo {
                    // SAFETY: a NUL-terminated string (or NULL) owned by the library, alive as long as its owner.
                    name: unsafe { cstr(dev.name) }.to_owned(),
                    total_memory: dev.total_memory,
                    free_memory: dev.free_memory,
                    is_gpu: dev.is_gpu != 0,
                })
            })
            .collect()
    }

    /// Whether backend `index` dequantizes `src` into `dst` (F32, F16 or BF16).
    pub fn supports(&self, backend: i32, src: Type, dst: Type) -> bool {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_backend_supports(self.as_raw(), backend, src.0, dst.0) != 0 }
    }

    /// Dequantizes host bytes `src` of type `src_type` into `dst` (`dst.len()` elements);
    /// the registry picks the backend per tensor (DQ_BACKEND, DQ_GPU_MIN_BYTES).
    pub fn dequantize<T: Output>(&self, src_type: Type, src: &[u8], dst: &mut [T]) -> Result<()> {
        self.dequantize_host(None, src_type, T::TYPE, src, dst.as_mut_ptr().cast(), dst.len(),
                             std::mem::size_of_val(dst))
    }

    /// As [`dequantize`](Self::dequantize), on the named backend ("cpu", "cuda").
    pub fn dequantize_on<T: Output>(&self, backend: &str, src_type: Type, src: &[u8], dst: &mut [T]) -> Result<()> {
        let b = CString::new(backend).map_err(|_| Error::new(Status::INVALID_ARGUMENT, "backend name holds a NUL"))?;
        self.dequantize_host(Some(&b), src_type, T::TYPE, src, dst.as_mut_ptr().cast(), dst.len(),
                             std::mem::size_of_val(dst))
    }

    /// Dequantizes into IEEE half-precision bit patterns.
    pub fn dequantize_f16_bits(&self, src_type: Type, src: &[u8], dst: &mut [u16]) -> Result<()> {
        self.dequantize_host(None, src_type, Type::F16, src, dst.as_mut_ptr().cast(), dst.len(),
                             std::mem::size_of_val(dst))
    }

    /// Dequantizes into bfloat16 bit patterns.
    pub fn dequantize_bf16_bits(&self, src_type: Type, src: &[u8], dst: &mut [u16]) -> Result<()> {
        self.dequantize_host(None, src_type, Type::BF16, src, dst.as_mut_ptr().cast(), dst.len(),
                             std::mem::size_of_val(dst))
    }

    #[allow(clippy::too_many_arguments)]
    fn dequantize_host(&self, backend: Option<&CStr>, src_type: Type, dst_type: Type, src: &[u8],
                       dst: *mut c_void, n: usize, dst_bytes: usize) -> Result<()> {
        let req = RawDequantize { backend, ..RawDequantize::host(src_type, dst_type, src, dst, n, dst_bytes) };
        // SAFETY: src and dst are live host slices of the sizes given; the library checks
        // that n elements of src_type fit src_bytes and of dst_type fit dst_bytes.
        unsafe { self.dequantize_raw(&req) }
    }

    /// Dequantizes with raw pointers: device memory, a native stream (cudaStream_t).
    ///
    /// # Safety
    /// `src` and `dst` must point to at least `src_bytes` / `dst_bytes` bytes at the
    /// locations given, valid until the work finishes: with a stream the call may return
    /// before that (wait with [`synchronize`](Self::synchronize)). `stream` must be a stream
    /// of that device's backend, or null.
    pub unsafe fn dequantize_raw(&self, req: &RawDequantize<'_>) -> Result<()> {
        self.check(sys::dq_dequantize(self.as_raw(), &req.as_raw()))
    }

    /// Waits for the work queued on `stream` (null: the backend's own) at `where_`.
    ///
    /// # Safety
    /// `stream` must be null or a live native stream of that device.
    pub unsafe fn synchronize(&self, where_: &Location, stream: *mut c_void) -> Result<()> {
        self.check(sys::dq_synchronize(self.as_raw(), where_.as_raw(), stream))
    }

    /// Name of the backend that served this thread's last dequantize ("" before any).
    pub fn last_backend(&self) -> String {
        // SAFETY: a NUL-terminated string (or NULL) owned by the library, alive as long as its owner.
        unsafe { cstr(sys::dq_last_backend(self.as_raw())) }.to_owned()
    }
}
