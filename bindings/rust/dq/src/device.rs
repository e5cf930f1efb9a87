use crate::error::{Error, Result, Status};
use crate::{sys, Context, Type};
use std::ffi::{CStr, CString};
use std::os::raw::c_void;
use std::ptr;

/// Where bytes live: host memory, or device `device` of a backend ("cuda", 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    backend: Option<CString>,
    device: i32,
}

impl Location {
    pub fn host() -> Location {
        Location { backend: None, device: 0 }
    }

    pub fn device(backend: &str, device: i32) -> Result<Location> {
        let b = CString::new(backend).map_err(|_| Error::new(Status::INVALID_ARGUMENT, "backend name holds a NUL"))?;
        Ok(Location { backend: Some(b), device })
    }

    /// "host" / "cpu" (host memory), "cuda" (device 0) or "cuda:1".
    pub fn parse(text: &str) -> Result<Location> {
        match text {
            "host" | "cpu" => Ok(Location::host()),
            _ => {
                let (name, dev) = text.split_once(':').unwrap_or((text, "0"));
                let dev = dev.parse::<i32>().map_err(|_| {
                    Error::new(Status::INVALID_ARGUMENT, format!("device '{text}': expected BACKEND[:INDEX], e.g. cuda:0"))
                })?;
                Location::device(name, dev)
            }
        }
    }

    pub fn is_host(&self) -> bool {
        self.backend.as_deref().map_or(true, |b| matches!(b.to_bytes(), b"" | b"host" | b"cpu"))
    }

    pub fn backend(&self) -> &str {
        self.backend.as_deref().map_or("host", |b| b.to_str().unwrap_or(""))
    }

    pub fn device_index(&self) -> i32 {
        self.device
    }

    /// The C struct; its string points into self.
    pub fn as_raw(&self) -> sys::dq_location {
        sys::dq_location { backend: self.backend.as_deref().map_or(ptr::null(), CStr::as_ptr), device: self.device }
    }
}

/// The fields of one `dq_dequantize` call with raw pointers ([`Context::dequantize_raw`]).
#[derive(Debug)]
pub struct RawDequantize<'a> {
    pub src_type: Type,
    /// Type::F32, Type::F16 or Type::BF16.
    pub dst_type: Type,
    pub src: *const c_void,
    pub src_bytes: usize,
    pub n_elements: i64,
    pub dst: *mut c_void,
    pub dst_bytes: usize,
    pub src_where: Location,
    pub dst_where: Location,
    /// Native stream (cudaStream_t) or null.
    pub stream: *mut c_void,
    /// Force a backend; None: per-tensor selection.
    pub backend: Option<&'a CStr>,
}

impl<'a> RawDequantize<'a> {
    /// `n` elements of `src_type` from host bytes `src` into `dst_bytes` bytes of host memory
    /// at `dst` as `dst_type`, on the backend's own stream, backend chosen per tensor. The
    /// one place the host requests of [`Context::dequantize`] and `BatchRequest` are built.
    pub(crate) fn host(src_type: Type, dst_type: Type, src: &[u8], dst: *mut c_void, n: usize, dst_bytes: usize)
                       -> Self {
        RawDequantize {
            src_type,
            dst_type,
            src: src.as_ptr().cast(),
            src_bytes: src.len(),
            n_elements: n as i64,
            dst,
            dst_bytes,
            src_where: Location::host(),
            dst_where: Location::host(),
            stream: ptr::null_mut(),
            backend: None,
        }
    }

    /// The C request; its strings point into self.
    pub(crate) fn as_raw(&self) -> sys::dq_dequantize_request {
        sys::dq_dequantize_request {
            struct_size: std::mem::size_of::<sys::dq_dequantize_request>(),
            src_type: self.src_type.0,
            dst_type: self.dst_type.0,
            src: self.src,
            src_bytes: self.src_bytes,
            n_elements: self.n_elements,
            dst: self.dst,
            dst_bytes: self.dst_bytes,
            src_where: self.src_where.as_raw(),
            dst_where: self.dst_where.as_raw(),
            stream: self.stream,
            backend: self.backend.map_or(ptr::null(), CStr::as_ptr),
        }
    }
}

/// Memory allocated with `dq_malloc` at a location; freed on drop.
pub struct DeviceBuffer {
    ctx: Context,
    where_: Location,
    ptr: *mut c_void,
    bytes: usize,
}

// SAFETY: the handle is an address plus the context (Send + Sync); dq_free may be called from
// any thread. Accesses to the memory go through unsafe calls whose rules the caller keeps.
unsafe impl Send for DeviceBuffer {}
// SAFETY: as for Send above; calls through a shared reference only read.
unsafe impl Sync for DeviceBuffer {}

impl DeviceBuffer {
    pub fn new(ctx: &Context, where_: Location, bytes: usize) -> Result<DeviceBuffer> {
        let mut p = ptr::null_mut();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        ctx.check(unsafe { sys::dq_malloc(ctx.as_raw(), where_.as_raw(), bytes, &mut p) })?;
        Ok(DeviceBuffer { ctx: ctx.clone(), where_, ptr: p, bytes })
    }

    pub fn as_ptr(&self) -> *mut c_void {
        self.ptr
    }
    pub fn len(&self) -> usize {
        self.bytes
    }
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }
    pub fn location(&self) -> &Location {
        &self.where_
    }

    /// Copies `src` (host) to the start of the buffer (synchronous).
    pub fn copy_from_host(&mut self, src: &[u8]) -> Result<()> {
        if src.len() > self.bytes {
            return Err(Error::new(Status::SIZE, format!("{} bytes into a buffer of {}", src.len(), self.bytes)));
        }
        // SAFETY: both ranges are in bounds and owned.
        self.ctx.check(unsafe {
            sys::dq_memcpy(self.ctx.as_raw(), self.ptr, self.where_.as_raw(), src.as_ptr().cast(),
                           Location::host().as_raw(), src.len())
        })
    }

    /// Copies the start of the buffer into `dst` (host, synchronous).
    pub fn copy_to_host(&self, dst: &mut [u8]) -> Result<()> {
        if dst.len() > self.bytes {
            return Err(Error::new(Status::SIZE, format!("{} bytes from a buffer of {}", dst.len(), self.bytes)));
        }
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.ctx.check(unsafe {
            sys::dq_memcpy(self.ctx.as_raw(), dst.as_mut_ptr().cast(), Location::host().as_raw(), self.ptr,
                           self.where_.as_raw(), dst.len())
        })
    }

    /// Copies all of `src` into this buffer, both at the same location (e.g. device to device).
    pub fn copy_from(&mut self, src: &DeviceBuffer) -> Result<()> {
        let n = src.bytes.min(self.bytes);
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.ctx.check(unsafe {
            sys::dq_memcpy(self.ctx.as_raw(), self.ptr, self.where_.as_raw(), src.ptr, src.where_.as_raw(), n)
        })
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        // SAFETY: allocated by dq_malloc at this location with this context; freed once.
        unsafe { sys::dq_free(self.ctx.as_raw(), self.where_.as_raw(), self.ptr) };
    }
}

impl std::fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceBuffer({} bytes at {}:{})", self.bytes, self.where_.backend(), self.where_.device_index())
    }
}
