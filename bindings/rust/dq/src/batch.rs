//! Many tensors in one `dq_dequantize_batch` call: every request is validated before any
//! runs, and a backend with a batch entry serves its group in one or a few launches.
use crate::device::{DeviceBuffer, Location, RawDequantize};
use crate::error::Result;
use crate::{sys, Context, Output, Type};
use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::c_void;
use std::ptr;

/// One request of [`Context::dequantize_batch`]: it borrows its source shared and its
/// destination exclusively for `'a`, so two requests can never write the same memory nor
/// write what another reads (the batch's aliasing rule holds by construction).
#[derive(Debug)]
pub struct BatchRequest<'a> {
    raw: RawDequantize<'a>,
    _borrows: PhantomData<(&'a [u8], &'a mut [u8])>,
}

impl<'a> BatchRequest<'a> {
    /// Host bytes `src` of `src_type` into `dst` (`dst.len()` elements of f32, or f16/bf16
    /// with the `half` feature).
    pub fn host<T: Output>(src_type: Type, src: &'a [u8], dst: &'a mut [T]) -> Self {
        let (n, bytes) = (dst.len(), std::mem::size_of_val(dst));
        Self::host_raw(src_type, T::TYPE, src, dst.as_mut_ptr().cast(), n, bytes)
    }

    /// Host bytes into IEEE half-precision bit patterns.
    pub fn host_f16_bits(src_type: Type, src: &'a [u8], dst: &'a mut [u16]) -> Self {
        let (n, bytes) = (dst.len(), std::mem::size_of_val(dst));
        Self::host_raw(src_type, Type::F16, src, dst.as_mut_ptr().cast(), n, bytes)
    }

    /// Host bytes into bfloat16 bit patterns.
    pub fn host_bf16_bits(src_type: Type, src: &'a [u8], dst: &'a mut [u16]) -> Self {
        let (n, bytes) = (dst.len(), std::mem::size_of_val(dst));
        Self::host_raw(src_type, Type::BF16, src, dst.as_mut_ptr().cast(), n, bytes)
    }

    /// `n_elements` of `src_type` at the start of `src` into `dst` as `dst_type` (F32, F16 or
    /// BF16), both buffers from [`DeviceBuffer::new`] (device or host memory). The batch waits
    /// for the device work before it returns, so the buffers are free to use afterwards.
    pub fn buffers(src_type: Type, src: &'a DeviceBuffer, dst_type: Type, dst: &'a mut DeviceBuffer,
                   n_elements: i64) -> Self {
        BatchRequest {
            raw: RawDequantize {
                src_type,
                dst_type,
                src: src.as_ptr(),
                src_bytes: src.len(),
                n_elements,
                dst: dst.as_ptr(),
                dst_bytes: dst.len(),
                src_where: src.location().clone(),
                dst_where: dst.location().clone(),
                stream: ptr::null_mut(),
                backend: None,
            },
            _borrows: PhantomData,
        }
    }

    /// Forces a backend ("cpu", "cuda") for this request; default: the registry's choice.
    pub fn backend(mut self, backend: &'a CStr) -> Self {
        self.raw.backend = Some(backend);
        self
    }

    fn host_raw(src_type: Type, dst_type: Type, src: &'a [u8], dst: *mut c_void, n: usize, dst_bytes: usize)
                -> Self {
        BatchRequest { raw: RawDequantize::host(src_type, dst_type, src, dst, n, dst_bytes), _borrows: PhantomData }
    }
}

impl Context {
    /// Dequantizes every request in one `dq_dequantize_batch` call. If one request is bad,
    /// nothing runs and the error names it ("dq_dequantize_batch: request 3: ..."). Device
    /// work is waited for before this returns. An empty slice does nothing.
    pub fn dequantize_batch(&self, requests: &mut [BatchRequest<'_>]) -> Result<()> {
        let raw: Vec<sys::dq_dequantize_request> = requests.iter().map(|r| r.raw.as_raw()).collect();
        // SAFETY: every request was built from live borrows (host slices or DeviceBuffers)
        // of the sizes it states, held while `requests` is borrowed; destinations are
        // exclusive borrows, so none overlaps another request's source or destination.
        let result = unsafe { self.call_batch(&raw) };
        // Device work may still run when the call returns: wait before the borrows end, even
        // after a failure (other backends' groups may have started).
        let mut waited: Vec<&Location> = Vec::new();
        for w in requests.iter().flat_map(|r| [&r.raw.src_where, &r.raw.dst_where]) {
            if !w.is_host() && !waited.contains(&w) {
                waited.push(w);
                // SAFETY: a null stream is the backend's own, always valid.
                let synced = unsafe { self.synchronize(w, ptr::null_mut()) };
                if result.is_ok() {
                    synced?;
                }
            }
        }
        result
    }

    /// Dequantizes raw requests (device pointers, caller streams) in one `dq_dequantize_batch`
    /// call, without waiting for device work.
    ///
    /// # Safety
    /// As [`dequantize_raw`](Self::dequantize_raw) for every request, and host buffers of
    /// different requests must not overlap (two may read the same source; no destination may
    /// overlap another request's source or destination).
    pub unsafe fn dequantize_batch_raw(&self, requests: &[RawDequantize<'_>]) -> Result<()> {
        let raw: Vec<sys::dq_dequantize_request> = requests.iter().map(RawDequantize::as_raw).collect();
        self.call_batch(&raw)
    }

    /// # Safety
    /// The requests' pointers follow dq_dequantize_batch's rules.
    unsafe fn call_batch(&self, raw: &[sys::dq_dequantize_request]) -> Result<()> {
        // n == 0 takes a NULL array; a Vec's dangling pointer would do too, NULL says so.
        let ptr = if raw.is_empty() { ptr::null() } else { raw.as_ptr() };
        self.check(sys::dq_dequantize_batch(self.as_raw(), ptr, raw.len()))
    }
}
