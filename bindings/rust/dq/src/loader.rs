use crate::error::{check_plain, Error, Result, Status};
use crate::{c_name, cstr, cstr_name, sys, Context, Location, Model, Type};
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::ptr::{self, NonNull};

/// What each loaded tensor becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    F32,
    F16,
    BF16,
    /// The file's bytes as they are (quantized or not).
    Keep,
}

impl OutputType {
    fn raw(self) -> i32 {
        match self {
            OutputType::F32 => sys::DQ_TYPE_F32,
            OutputType::F16 => sys::DQ_TYPE_F16,
            OutputType::BF16 => sys::DQ_TYPE_BF16,
            OutputType::Keep => sys::DQ_LOAD_KEEP,
        }
    }
}

/// Options of a load (`dq_load_options`); defaults are the library's (host, f16).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: Location,
    pub output: OutputType,
    /// Tensors to load by name; None: every tensor, in file order.
    pub names: Option<Vec<String>>,
    /// Pinned staging budget in bytes; 0: the library's default.
    pub staging_budget: u64,
    /// Host copy threads; 0: automatic.
    pub copy_threads: i32,
    /// Tensors under this many file bytes go through the CPU plugin; -1: library default.
    pub gpu_min_bytes: i64,
    /// One load over several devices (docs/MULTI_GPU.md): when not empty, these are the
    /// destinations and `device` is ignored; a location may appear twice (two pipelines).
    pub devices: Vec<Location>,
    /// Which device gets what ([`Context::plan_tensor_parallel`], [`Context::plan_layers`],
    /// or hand-made); None: `names` / every tensor. Not together with `names`.
    pub parts: Option<Vec<LoadPart>>,
}

/// One piece of a placement (`dq_load_part`): rows `[row_begin, row_end)` (rows over
/// `ne[1..3]`) and columns `[col_begin, col_end)` (elements of `ne[0]`) of tensor `name`, to
/// `devices[device]` (device 0 of a one-device load). An end < 0 means "to the last".
/// Columns cut at whole blocks of the tensor's type; the part is stored row-major,
/// shape {columns, rows}.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoadPart {
    pub name: String,
    pub device: i32,
    pub row_begin: i64,
    pub row_end: i64,
    pub col_begin: i64,
    pub col_end: i64,
}

impl LoadPart {
    /// The whole tensor to device index `device`.
    pub fn whole(name: impl Into<String>, device: i32) -> LoadPart {
        LoadPart { name: name.into(), device, row_begin: 0, row_end: -1, col_begin: 0, col_end: -1 }
    }
    /// Only rows `[begin, end)` (end < 0: to the last).
    pub fn rows(mut self, begin: i64, end: i64) -> LoadPart {
        self.row_begin = begin;
        self.row_end = end;
        self
    }
    /// Only columns `[begin, end)` (end < 0: to the last), at whole blocks.
    pub fn columns(mut self, begin: i64, end: i64) -> LoadPart {
        self.col_begin = begin;
        self.col_end = end;
        self
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { device: Location::host(), output: OutputType::F16, names: None, staging_budget: 0,
                      copy_threads: 0, gpu_min_bytes: -1, devices: Vec::new(), parts: None }
    }
}

impl LoadOptions {
    pub fn device(mut self, device: Location) -> Self {
        self.device = device;
        self
    }
    pub fn output(mut self, output: OutputType) -> Self {
        self.output = output;
        self
    }
    pub fn names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.names = Some(names.into_iter().map(Into::into).collect());
        self
    }
    /// Destinations of a load over several devices (parts name them by index).
    pub fn devices(mut self, devices: impl IntoIterator<Item = Location>) -> Self {
        self.devices = devices.into_iter().collect();
        self
    }
    /// The placement: every part is loaded, tensors without a part are not (an empty one is
    /// refused).
    pub fn parts(mut self, parts: impl IntoIterator<Item = LoadPart>) -> Self {
        self.parts = Some(parts.into_iter().collect());
        self
    }
}

/// The C struct plus the strings and arrays it points to, kept alive for the call.
struct RawOptions {
    raw: sys::dq_load_options,
    _names: Vec<CString>,
    _name_ptrs: Vec<*const c_char>,
    _devices: Vec<Location>,
    _raw_devices: Vec<sys::dq_location>,
    _part_names: Vec<CString>,
    _raw_parts: Vec<sys::dq_load_part>,
}

impl RawOptions {
    fn new(o: &LoadOptions) -> Result<RawOptions> {
        // SAFETY: all-zero is a valid value of this C struct (numbers 0, pointers NULL).
        let mut raw: sys::dq_load_options = unsafe { std::mem::zeroed() };
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_load_options_init_sized(&mut raw, std::mem::size_of::<sys::dq_load_options>()) },
                    "dq_load_options_init_sized")?;
        raw.device = o.device.as_raw();
        raw.output_type = o.output.raw();
        if o.staging_budget != 0 {
            raw.staging_budget = o.staging_budget;
        }
        raw.copy_threads = o.copy_threads;
        raw.gpu_min_bytes = o.gpu_min_bytes;
        let names: Vec<CString> = match &o.names {
            Some(v) => v.iter().map(|n| c_name(n)).collect::<Result<_>>()?,
            None => Vec::new(),
        };
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        if o.names.is_some() {
            raw.names = name_ptrs.as_ptr();
            raw.n_names = name_ptrs.len();
        }
        // The device list and parts point into vectors owned here (moving a Vec keeps its
        // heap buffer where it is, so the pointers stay valid in the returned struct).
        let devices = o.devices.clone();
        let raw_devices: Vec<sys::dq_location> = devices.iter().map(Location::as_raw).collect();
        if !raw_devices.is_empty() {
            raw.devices = raw_devices.as_ptr();
            raw.n_devices = raw_devices.len();
        }
        let parts = o.parts.as_deref().unwrap_or(&[]);
        let part_names: Vec<CString> = parts.iter().map(|p| c_name(&p.name)).collect::<Result<_>>()?;
        let raw_parts: Vec<sys::dq_load_part> = parts
            .iter()
            .zip(&part_names)
            .map(|(p, n)| sys::dq_load_part {
                struct_size: std::mem::size_of::<sys::dq_load_part>(),
                name: n.as_ptr(),
                device: p.device,
                reserved: 0,
                row_begin: p.row_begin,
                row_end: p.row_end,
                col_begin: p.col_begin,
                col_end: p.col_end,
            })
            .collect();
        if o.parts.is_some() {
            raw.parts = raw_parts.as_ptr();
            raw.n_parts = raw_parts.len();
        }
        Ok(RawOptions { raw, _names: names, _name_ptrs: name_ptrs, _devices: devices, _raw_devices: raw_devices,
                        _part_names: part_names, _raw_parts: raw_parts })
    }
}

impl Context {
    /// Loads tensors of `model` as `options` say. On failure nothing stays allocated and the
    /// error names the tensor and the problem.
    pub fn load(&self, model: &Model, options: &LoadOptions) -> Result<LoadedModel> {
        let o = RawOptions::new(options)?;
        let mut out = ptr::null_mut();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.check(unsafe { sys::dq_load(self.as_raw(), model.as_raw(), &o.raw, &mut out) })?;
        LoadedModel::wrap(self, out)
    }

    /// Hints that `model` is about to be loaded with `options` (`dq_load_prepare`): the host
    /// staging that load will pin (up to 32 MiB of huge pages) starts being faulted in on
    /// a background thread, so that work overlaps what the caller does before
    /// [`load`](Self::load), e.g. starting the device's context. A load returns the same
    /// tensors with or without it.
    ///
    /// Of `options`, only the destination (`device`, `devices`) and `staging_budget` count.
    /// The next load in this process that needs no more staging adopts what was prepared,
    /// waiting for it if it is not ready yet; a load that needs more frees it and pins its own.
    /// Returns `Ok` and does nothing for the host, loads over several devices, devices that
    /// cannot register host memory, or with `DQ_LOAD_PREPARE=0` in the environment; a
    /// destination the load would refuse (no such backend or device) is the load's error.
    ///
    /// ```no_run
    /// let ctx = dq::Context::new()?;
    /// let model = dq::Model::open(&ctx, "model.gguf")?;
    /// let opts = dq::LoadOptions::default().device(dq::Location::parse("cuda:0")?);
    /// ctx.prepare_load(&model, &opts)?; // staging faults in while the program goes on
    /// // ... start the engine's device context, read its config ...
    /// let loaded = ctx.load(&model, &opts)?;
    /// # Ok::<(), dq::Error>(())
    /// ```
    ///
    /// # Errors
    /// Only for options [`load`](Self::load) refuses as well, with the library's message:
    /// [`Status::SIZE`] for a `staging_budget` under 1 MiB, [`Status::INVALID_ARGUMENT`] for
    /// a negative `copy_threads` or a tensor name holding a NUL.
    pub fn prepare_load(&self, model: &Model, options: &LoadOptions) -> Result<()> {
        let o = RawOptions::new(options)?;
        // SAFETY: live context and model handles; `o.raw` and what it points to live until the
        // call returns, and the library keeps none of it (its thread gets only a byte count).
        self.check(unsafe { sys::dq_load_prepare(self.as_raw(), model.as_raw(), &o.raw) })
    }

    /// Opens `path`, loads, closes.
    pub fn load_file(&self, path: impl AsRef<Path>, options: &LoadOptions) -> Result<LoadedModel> {
        let path = path.as_ref();
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("{}: path holds a NUL", path.display())))?;
        let o = RawOptions::new(options)?;
        let mut out = ptr::null_mut();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.check(unsafe { sys::dq_load_file(self.as_raw(), c.as_ptr(), &o.raw, &mut out) })?;
        LoadedModel::wrap(self, out)
    }

    /// Tensor parallelism over `n_devices` (`dq_plan_tensor_parallel`, llama-style names):
    /// attn_q/k/v, ffn_gate/up, output, token_embd split in rows; attn_output, ffn_down in
    /// columns at whole blocks; their biases follow; the rest replicated. `rank` None: the
    /// parts of every device (0..n, one process); `Some(r)`: only rank r's, all on device 0
    /// (one process per rank). A split not cut evenly at whole blocks is `Status::SIZE`
    /// naming the tensor and its block size.
    pub fn plan_tensor_parallel(&self, model: &Model, n_devices: i32, rank: Option<i32>) -> Result<Vec<LoadPart>> {
        let mut plan = ptr::null_mut();
        // SAFETY: live context and model, out-pointer to a local.
        let status = unsafe {
            sys::dq_plan_tensor_parallel(self.as_raw(), model.as_raw(), n_devices, rank.unwrap_or(-1), &mut plan)
        };
        self.plan_parts(status, plan)
    }

    /// Whole tensors by layers (`dq_plan_layers`): blk.N.* in `n_devices` even runs,
    /// layer-less tensors (token_embd, ...) on device 0, output and output_norm on the last.
    pub fn plan_layers(&self, model: &Model, n_devices: i32) -> Result<Vec<LoadPart>> {
        let mut plan = ptr::null_mut();
        // SAFETY: live context and model, out-pointer to a local.
        let status = unsafe { sys::dq_plan_layers(self.as_raw(), model.as_raw(), n_devices, &mut plan) };
        self.plan_parts(status, plan)
    }

    /// Copies a C plan's parts and frees the plan.
    fn plan_parts(&self, status: sys::dq_status, plan: *mut sys::dq_load_plan) -> Result<Vec<LoadPart>> {
        struct Owned(*mut sys::dq_load_plan);
        impl Drop for Owned {
            fn drop(&mut self) {
                // SAFETY: made by a dq_plan_* call (or NULL, accepted); freed once, here.
                unsafe { sys::dq_load_plan_free(self.0) }
            }
        }
        let plan = Owned(plan);
        self.check(status)?;
        let mut n = 0usize;
        // SAFETY: a plan the call just returned; n is an out-pointer to a local.
        let first = unsafe { sys::dq_load_plan_parts(plan.0, &mut n) };
        if first.is_null() || n == 0 {
            return Ok(Vec::new());
        }
        // SAFETY: the plan owns n parts at `first` (and the names they point at) until freed
        // when `plan` drops, after everything is copied.
        let parts = unsafe { std::slice::from_raw_parts(first, n) };
        Ok(parts
            .iter()
            .map(|p| LoadPart {
                // SAFETY: a NUL-terminated name owned by the plan, copied here.
                name: unsafe { cstr(p.name) }.to_owned(),
                device: p.device,
                row_begin: p.row_begin,
                row_end: p.row_end,
                col_begin: p.col_begin,
                col_end: p.col_end,
            })
            .collect())
    }
}

/// A reusable loader (staging ring, streams, copy threads of one destination, set up once).
/// `Send`, not `Sync`: one load at a time through it (`&mut self`). Destroyed on drop.
pub struct Loader {
    ctx: Context,
    ptr: NonNull<sys::dq_loader>,
}

// SAFETY: a loader may move between threads; it is never used from two at once (&mut self).
unsafe impl Send for Loader {}

impl Loader {
    /// Takes device, staging_budget and copy_threads from `options`.
    pub fn new(ctx: &Context, options: &LoadOptions) -> Result<Loader> {
        let o = RawOptions::new(options)?;
        let mut out = ptr::null_mut();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        ctx.check(unsafe { sys::dq_loader_create(ctx.as_raw(), &o.raw, &mut out) })?;
        let ptr = NonNull::new(out).ok_or_else(|| Error::new(Status::INTERNAL, "dq_loader_create gave NULL"))?;
        Ok(Loader { ctx: ctx.clone(), ptr })
    }

    /// Loads through this loader (its device and staging; those fields of `options` are ignored).
    pub fn load(&mut self, model: &Model, options: &LoadOptions) -> Result<LoadedModel> {
        let o = RawOptions::new(options)?;
        let mut out = ptr::null_mut();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        self.ctx.check(unsafe { sys::dq_loader_load(self.ptr.as_ptr(), model.as_raw(), &o.raw, &mut out) })?;
        LoadedModel::wrap(&self.ctx, out)
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        // SAFETY: a handle the library created, freed once, here (its context is still alive).
        unsafe { sys::dq_loader_destroy(self.ptr.as_ptr()) }
    }
}

/// Tensors a load produced, at the load's device; every buffer the loader allocated is freed
/// on drop. `Send + Sync` (read-only getters).
pub struct LoadedModel {
    ctx: Context,
    ptr: NonNull<sys::dq_loaded_model>,
}

// SAFETY: dq_loaded_* getters only read; dq_loaded_free runs once, in Drop, with the context
// kept alive by `ctx`.
unsafe impl Send for LoadedModel {}
// SAFETY: as for Send above; calls through a shared reference only read.
unsafe impl Sync for LoadedModel {}

impl Drop for LoadedModel {
    fn drop(&mut self) {
        // SAFETY: a handle the library created, freed once, here (its context is still alive).
        unsafe { sys::dq_loaded_free(self.ptr.as_ptr()) }
    }
}

/// One loaded tensor: shape, types and where its data lives.
///
/// The public fields are a copy of what the library reported, for reading; changing them
/// changes nothing else. [`host_bytes`](Self::host_bytes), [`copy_to_host`](Self::copy_to_host)
/// and [`is_host`](Self::is_host) use the library's own address, size and location, kept
/// privately, so safe code cannot point them at memory the load does not own.
#[derive(Debug, Clone)]
pub struct LoadedTensor<'l> {
    pub name: &'l str,
    /// Address at `location` (device memory for a device load): see [`host_bytes`](Self::host_bytes).
    pub data: *mut c_void,
    pub location_backend: &'l str,
    pub location_device: i32,
    /// Type of data: F32/F16/BF16, or the file's type when kept.
    pub ty: Type,
    pub src_type: Type,
    pub shape: Vec<i64>,
    pub n_elements: i64,
    pub n_bytes: u64,
    pub row_begin: i64,
    pub row_end: i64,
    /// Columns loaded (all of `ne[0]` unless a part cut them).
    pub col_begin: i64,
    pub col_end: i64,
    /// Index of its device in [`LoadOptions::devices`] (0 for one device).
    pub device_index: i32,
    /// Who produced it: "cuda", "cpu", "copy".
    pub backend: &'l str,
    ctx: &'l Context,
    /// What the library reported (the public fields above may have been changed since).
    raw: RawPlace<'l>,
}

/// A loaded tensor's address, size and location as the library gave them.
#[derive(Debug, Clone, Copy)]
struct RawPlace<'l> {
    data: *mut c_void,
    n_bytes: u64,
    backend: &'l str,
    device: i32,
}

impl<'l> LoadedTensor<'l> {
    /// Whether the data is in host memory (the library's location, not `location_backend`).
    pub fn is_host(&self) -> bool {
        matches!(self.raw.backend, "" | "host" | "cpu")
    }

    /// The bytes, when they are in host memory.
    pub fn host_bytes(&self) -> Option<&'l [u8]> {
        let len = usize::try_from(self.raw.n_bytes).ok()?;
        (self.is_host() && !self.raw.data.is_null())
            // SAFETY: the library's own pointer and byte count of host memory (not the public
            // fields, which safe code may change), owned by the LoadedModel that `'l` borrows.
            .then(|| unsafe { std::slice::from_raw_parts(self.raw.data.cast::<u8>(), len) })
    }

    /// Copies the first `dst.len()` bytes to host memory (from any location).
    pub fn copy_to_host(&self, dst: &mut [u8]) -> Result<()> {
        if dst.len() as u64 > self.raw.n_bytes {
            return Err(Error::new(Status::SIZE,
                                  format!("{}: {} bytes asked, {} held", self.name, dst.len(), self.raw.n_bytes)));
        }
        let src = Location::device(self.raw.backend, self.raw.device)?;
        // SAFETY: the library's own pointer and location of at least dst.len() bytes (checked
        // above against its byte count), owned by the LoadedModel that `'l` borrows; dst is an
        // exclusive host slice of dst.len() bytes.
        self.ctx.check(unsafe {
            sys::dq_memcpy(self.ctx.as_raw(), dst.as_mut_ptr().cast(), Location::host().as_raw(), self.raw.data,
                           src.as_raw(), dst.len())
        })
    }
}

/// Figures of one load (`dq_load_stats`, the commonly used fields).
#[derive(Debug, Clone)]
pub struct LoadStats {
    pub file_bytes: u64,
    pub output_bytes: u64,
    pub tensors: i64,
    pub tensors_device: i64,
    pub tensors_cpu: i64,
    pub tensors_copied: i64,
    pub seconds_total: f64,
    pub seconds_pipeline: f64,
    pub device_backend: String,
}

impl LoadedModel {
    fn wrap(ctx: &Context, p: *mut sys::dq_loaded_model) -> Result<LoadedModel> {
        let ptr = NonNull::new(p).ok_or_else(|| Error::new(Status::INTERNAL, "load gave NULL"))?;
        Ok(LoadedModel { ctx: ctx.clone(), ptr })
    }

    pub fn len(&self) -> usize {
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        unsafe { sys::dq_loaded_count(self.ptr.as_ptr()) }.max(0) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loaded tensor `index`; a name that is not UTF-8 is an error as in [`Model::tensor_at`].
    pub fn tensor_at(&self, index: i64) -> Result<LoadedTensor<'_>> {
        // SAFETY: all-zero is a valid value of this C struct (numbers 0, pointers NULL).
        let mut t: sys::dq_loaded_tensor = unsafe { std::mem::zeroed() };
        t.struct_size = std::mem::size_of::<sys::dq_loaded_tensor>();
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        check_plain(unsafe { sys::dq_loaded_get_tensor(self.ptr.as_ptr(), index, &mut t) },
                    &format!("loaded tensor index {index}"))?;
        let n_dims = (t.n_dims as usize).min(4);
        // SAFETY: a NUL-terminated string (or NULL) owned by the loaded model, alive as long as `&self`.
        let location_backend = unsafe { cstr(t.where_.backend) };
        Ok(LoadedTensor {
            // SAFETY: a NUL-terminated string (or NULL) owned by the loaded model, alive as long as `&self`.
            name: unsafe { cstr_name(t.name, || format!("loaded tensor {index}")) }?,
            data: t.data,
            location_backend,
            location_device: t.where_.device,
            ty: Type(t.type_),
            src_type: Type(t.src_type),
            shape: t.ne[..n_dims].to_vec(),
            n_elements: t.n_elements,
            n_bytes: t.n_bytes,
            row_begin: t.row_begin,
            row_end: t.row_end,
            col_begin: t.col_begin,
            col_end: t.col_end,
            device_index: t.device_index,
            // SAFETY: a NUL-terminated string (or NULL) owned by the library, alive as long as its owner.
            backend: unsafe { cstr(t.backend) },
            ctx: &self.ctx,
            raw: RawPlace { data: t.data, n_bytes: t.n_bytes, backend: location_backend, device: t.where_.device },
        })
    }

    pub fn tensors(&self) -> Result<Vec<LoadedTensor<'_>>> {
        (0..self.len() as i64).map(|i| self.tensor_at(i)).collect()
    }

    pub fn tensor(&self, name: &str) -> Result<LoadedTensor<'_>> {
        let c = c_name(name)?;
        // SAFETY: live handles (self or ctx); pointers to locals or to buffers of the sizes passed.
        let i = unsafe { sys::dq_loaded_find(self.ptr.as_ptr(), c.as_ptr()) };
        if i < 0 {
            return Err(Error::new(Status::NOT_FOUND, format!("tensor '{name}' was not loaded")));
        }
        self.tensor_at(i)
    }

    /// The whole load's figures (sums over the devices of a multi-device load).
    pub fn stats(&self) -> Result<LoadStats> {
        let mut s = empty_stats();
        // SAFETY: live loaded model; out-pointer to a local with struct_size set.
        check_plain(unsafe { sys::dq_loaded_get_stats(self.ptr.as_ptr(), &mut s) }, "load stats")?;
        Ok(LoadStats::from_raw(&s))
    }

    /// Devices of the load: the length of [`LoadOptions::devices`], 1 for a one-device load.
    pub fn device_count(&self) -> usize {
        // SAFETY: live loaded model; only reads.
        unsafe { sys::dq_loaded_device_count(self.ptr.as_ptr()) }.max(0) as usize
    }

    /// Figures of device `index`'s own pipeline.
    pub fn device_stats(&self, index: usize) -> Result<LoadStats> {
        let i = i32::try_from(index).map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("device index {index}")))?;
        let mut s = empty_stats();
        // SAFETY: live loaded model; out-pointer to a local with struct_size set.
        check_plain(unsafe { sys::dq_loaded_get_device_stats(self.ptr.as_ptr(), i, &mut s) },
                    &format!("load stats of device {index}"))?;
        Ok(LoadStats::from_raw(&s))
    }
}

fn empty_stats() -> sys::dq_load_stats {
    // SAFETY: all-zero is a valid dq_load_stats (numbers 0, pointers NULL).
    let mut s: sys::dq_load_stats = unsafe { std::mem::zeroed() };
    s.struct_size = std::mem::size_of::<sys::dq_load_stats>();
    s
}

impl LoadStats {
    fn from_raw(s: &sys::dq_load_stats) -> LoadStats {
        LoadStats {
            file_bytes: s.file_bytes,
            output_bytes: s.output_bytes,
            tensors: s.tensors,
            tensors_device: s.tensors_device,
            tensors_cpu: s.tensors_cpu,
            tensors_copied: s.tensors_copied,
            seconds_total: s.seconds_total,
            seconds_pipeline: s.seconds_pipeline,
            // SAFETY: a static string of the library (or NULL), copied.
            device_backend: unsafe { cstr(s.device_backend) }.to_owned(),
        }
    }
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoadedModel({} tensors)", self.len())
    }
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Loader({:p})", self.ptr.as_ptr())
    }
}
