use crate::error::{check_plain, Error, Result, Status};
use crate::{c_name, cstr_name, sys, Context, Type};
use std::ffi::CString;
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::{self, NonNull};

/// An open GGUF file (memory-mapped; a split model's first part opens every part).
/// `Send + Sync`: after opening, the C library only reads it.
pub struct Model {
    ctx: Context,
    ptr: NonNull<sys::dq_model>,
}

// SAFETY: dq_model_* and dq_value_* only read an open model; closing happens once, in Drop.
unsafe impl Send for Model {}
// SAFETY: as for Send above; calls through a shared reference only read.
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: a handle the library created, freed once, here (its context is still alive).
        unsafe { sys::dq_model_close(self.ptr.as_ptr()) }
    }
}

/// One tensor's description and its bytes in the mapping (zero-copy, valid while the Model
/// lives). A read through `data` raises SIGBUS if another process truncates the file
/// meanwhile; [`Model::read_tensor`] reads with pread() instead and reports an error.
#[derive(Debug, Clone)]
pub struct TensorInfo<'m> {
    pub index: i64,
    pub name: &'m str,
    pub ty: Type,
    /// `ne[0..n_dims]`, `ne[0]` fastest.
    pub shape: Vec<i64>,
    pub n_elements: i64,
    pub n_bytes: u64,
    pub split: u32,
    pub file_offset: u64,
    pub data: &'m [u8],
}

impl Model {
    pub fn open(ctx: &Context, path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("{}: path holds a NUL", path.display())))?;
        let mut raw = ptr::null_mut();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        ctx.check(unsafe { sys::dq_model_open(ctx.as_raw(), c.as_ptr(), &mut raw) })?;
        let ptr = NonNull::new(raw).ok_or_else(|| Error::new(Status::INTERNAL, "dq_model_open gave NULL"))?;
        Ok(Model { ctx: ctx.clone(), ptr })
    }

    pub fn as_raw(&self) -> *const sys::dq_model {
        self.ptr.as_ptr()
    }
    pub fn context(&self) -> &Context {
        &self.ctx
    }
    pub fn gguf_version(&self) -> u32 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_model_gguf_version(self.as_raw()) }
    }
    pub fn alignment(&self) -> u32 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_model_alignment(self.as_raw()) }
    }
    pub fn split_count(&self) -> u32 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_model_split_count(self.as_raw()) }
    }

    // ------------------------------------------------------------ metadata
    pub fn kv_count(&self) -> i64 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_model_kv_count(self.as_raw()) }
    }

    /// Every metadata key and value, in file order. A key that is not UTF-8 (the format
    /// requires it, the library does not check) comes as ""; [`metadata_raw`](Self::metadata_raw)
    /// gives its bytes.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, Value<'_>)> + '_ {
        self.metadata_raw().map(|(key, val)| (std::str::from_utf8(key).unwrap_or(""), val))
    }

    /// Every metadata key, as the bytes stored in the file, and its value, in file order.
    pub fn metadata_raw(&self) -> impl Iterator<Item = (&[u8], Value<'_>)> + '_ {
        (0..self.kv_count()).filter_map(move |i| {
            // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
            let key = unsafe { sys::dq_model_kv_key(self.as_raw(), i) };
            // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
            let val = unsafe { sys::dq_model_kv_value(self.as_raw(), i) };
            // SAFETY: a NUL-terminated string owned by the model, alive as long as `&self`.
            (!key.is_null() && !val.is_null())
                .then(|| (unsafe { std::ffi::CStr::from_ptr(key) }.to_bytes(), Value::new(val)))
        })
    }

    /// The value of `key`, or None.
    pub fn get(&self, key: &str) -> Option<Value<'_>> {
        let c = CString::new(key).ok()?;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let i = unsafe { sys::dq_model_kv_find(self.as_raw(), c.as_ptr()) };
        if i < 0 {
            return None;
        }
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let v = unsafe { sys::dq_model_kv_value(self.as_raw(), i) };
        (!v.is_null()).then(|| Value::new(v))
    }

    // ------------------------------------------------------------- tensors
    pub fn tensor_count(&self) -> i64 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_model_tensor_count(self.as_raw()) }
    }

    /// Tensor `index` (0..[`tensor_count`](Self::tensor_count)). A name that is not UTF-8
    /// (the format requires it, the library does not check) is an error, status BAD_FILE,
    /// that shows it; [`tensors`](Self::tensors) stops at it.
    pub fn tensor_at(&self, index: i64) -> Result<TensorInfo<'_>> {
        // SAFETY: all-zero is a valid value of this C struct (numbers 0, pointers NULL).
        let mut t: sys::dq_tensor_info = unsafe { std::mem::zeroed() };
        t.struct_size = std::mem::size_of::<sys::dq_tensor_info>();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_model_tensor_info(self.as_raw(), index, &mut t) },
                    &format!("tensor index {index}"))?;
        let n_dims = (t.n_dims as usize).min(4);
        // SAFETY: name and data point into the model's mapping, alive as long as &self;
        // data holds n_bytes bytes.
        let data = if t.n_bytes == 0 || t.data.is_null() {
            &[][..]
        } else {
            // SAFETY: pointer and length of memory the library owns, alive as long as the owner this borrow is tied to.
            unsafe { std::slice::from_raw_parts(t.data.cast::<u8>(), t.n_bytes as usize) }
        };
        Ok(TensorInfo {
            index,
            // SAFETY: a NUL-terminated string (or NULL) in the model, alive as long as `&self`.
            name: unsafe { cstr_name(t.name, || format!("tensor {index}")) }?,
            ty: Type(t.type_),
            shape: t.ne[..n_dims].to_vec(),
            n_elements: t.n_elements,
            n_bytes: t.n_bytes,
            split: t.split,
            file_offset: t.file_offset,
            data,
        })
    }

    /// Every tensor, in file order.
    pub fn tensors(&self) -> Result<Vec<TensorInfo<'_>>> {
        (0..self.tensor_count()).map(|i| self.tensor_at(i)).collect()
    }

    /// The tensor of that name: Err with status NOT_FOUND naming it when absent.
    pub fn tensor(&self, name: &str) -> Result<TensorInfo<'_>> {
        let c = c_name(name)?;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let i = unsafe { sys::dq_model_tensor_find(self.as_raw(), c.as_ptr()) };
        if i < 0 {
            return Err(Error::new(Status::NOT_FOUND, format!("tensor '{name}' not found in the model")));
        }
        self.tensor_at(i)
    }

    /// Copies tensor bytes [offset, offset + dst.len()) with pread() (never a signal when the
    /// file changes underneath; an error naming the file instead).
    pub fn read_tensor(&self, index: i64, offset: u64, dst: &mut [u8]) -> Result<()> {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.ctx.check(unsafe {
            sys::dq_model_read_tensor(self.ctx.as_raw(), self.as_raw(), index, offset, dst.as_mut_ptr().cast(),
                                      dst.len() as u64)
        })
    }
}

/// GGUF metadata value types (GGUF numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64,
    Other(i32),
}

impl ValueType {
    fn from_raw(v: i32) -> ValueType {
        use ValueType::*;
        match v {
            0 => U8, 1 => I8, 2 => U16, 3 => I16, 4 => U32, 5 => I32, 6 => F32, 7 => Bool,
            8 => String, 9 => Array, 10 => U64, 11 => I64, 12 => F64, o => Other(o),
        }
    }
}

/// A metadata value, borrowed from its model.
#[derive(Clone, Copy)]
pub struct Value<'m> {
    ptr: *const sys::dq_value,
    _model: PhantomData<&'m Model>,
}

// SAFETY: a read-only view into a Model, which is Sync.
unsafe impl Send for Value<'_> {}
// SAFETY: as for Send above; calls through a shared reference only read.
unsafe impl Sync for Value<'_> {}

impl<'m> Value<'m> {
    fn new(ptr: *const sys::dq_value) -> Value<'m> {
        Value { ptr, _model: PhantomData }
    }
    pub fn value_type(&self) -> ValueType {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        ValueType::from_raw(unsafe { sys::dq_value_get_type(self.ptr) })
    }
    /// Any integer or bool type whose value fits.
    pub fn as_i64(&self) -> Result<i64> {
        let mut v = 0;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_value_get_i64(self.ptr, &mut v) }, "metadata value as i64")?;
        Ok(v)
    }
    pub fn as_u64(&self) -> Result<u64> {
        let mut v = 0;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_value_get_u64(self.ptr, &mut v) }, "metadata value as u64")?;
        Ok(v)
    }
    pub fn as_f64(&self) -> Result<f64> {
        let mut v = 0.0;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_value_get_f64(self.ptr, &mut v) }, "metadata value as f64")?;
        Ok(v)
    }
    pub fn as_bool(&self) -> Result<bool> {
        let mut v = 0;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_value_get_bool(self.ptr, &mut v) }, "metadata value as bool")?;
        Ok(v != 0)
    }
    /// The string's bytes as stored (GGUF strings are meant to be UTF-8 but not checked).
    pub fn as_bytes(&self) -> Result<&'m [u8]> {
        let mut p = ptr::null();
        let mut len = 0u64;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_value_get_string(self.ptr, &mut p, &mut len) }, "metadata value as string")?;
        // SAFETY: pointer and length of memory the library owns, alive as long as the owner this borrow is tied to.
        Ok(if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len as usize) } })
    }
    pub fn as_str(&self) -> Result<&'m str> {
        std::str::from_utf8(self.as_bytes()?)
            .map_err(|_| Error::new(Status::TYPE_MISMATCH, "metadata string is not UTF-8"))
    }
    pub fn array_type(&self) -> ValueType {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        ValueType::from_raw(unsafe { sys::dq_value_array_type(self.ptr) })
    }
    pub fn array_len(&self) -> u64 {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_value_array_count(self.ptr) }
    }
    /// Element `index`: None when it is out of range, or when memory for its record cannot
    /// be had (number arrays make records on first access; `array_data` reads them in place).
    pub fn array_get(&self, index: u64) -> Option<Value<'m>> {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let v = unsafe { sys::dq_value_array_get(self.ptr, index) };
        (!v.is_null()).then(|| Value::new(v))
    }
    /// Raw little-endian element bytes of an array of fixed-size numbers.
    pub fn array_data(&self) -> Result<&'m [u8]> {
        let mut p = ptr::null();
        let mut len = 0u64;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_value_array_data(self.ptr, &mut p, &mut len) }, "metadata array data")?;
        // SAFETY: pointer and length of memory the library owns, alive as long as the owner this borrow is tied to.
        Ok(if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len as usize) } })
    }
}

impl std::fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value_type() {
            ValueType::String => write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes().unwrap_or(&[]))),
            ValueType::Array => write!(f, "[{:?}; {}]", self.array_type(), self.array_len()),
            ValueType::F32 | ValueType::F64 => write!(f, "{}", self.as_f64().unwrap_or(f64::NAN)),
            ValueType::Bool => write!(f, "{}", self.as_bool().unwrap_or(false)),
            ValueType::U64 => write!(f, "{}", self.as_u64().unwrap_or(0)),
            _ => match self.as_i64() {
                Ok(v) => write!(f, "{v}"),
                Err(_) => write!(f, "{:?}", self.value_type()),
            },
        }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Model({} tensors, {} keys)", self.tensor_count(), self.kv_count())
    }
}
