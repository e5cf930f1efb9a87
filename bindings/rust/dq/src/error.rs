use crate::sys;
use std::fmt;

/// The status of a failed call (`dq_status`); the numbers are pinned by the C API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    pub const INVALID_ARGUMENT: Status = Status(sys::DQ_ERR_INVALID_ARGUMENT);
    pub const UNKNOWN_TYPE: Status = Status(sys::DQ_ERR_UNKNOWN_TYPE);
    pub const UNSUPPORTED: Status = Status(sys::DQ_ERR_UNSUPPORTED);
    pub const SIZE: Status = Status(sys::DQ_ERR_SIZE);
    pub const NO_BACKEND: Status = Status(sys::DQ_ERR_NO_BACKEND);
    pub const NO_DEVICE: Status = Status(sys::DQ_ERR_NO_DEVICE);
    pub const OUT_OF_MEMORY: Status = Status(sys::DQ_ERR_OUT_OF_MEMORY);
    pub const IO: Status = Status(sys::DQ_ERR_IO);
    pub const BAD_FILE: Status = Status(sys::DQ_ERR_BAD_FILE);
    pub const NOT_FOUND: Status = Status(sys::DQ_ERR_NOT_FOUND);
    pub const ABI: Status = Status(sys::DQ_ERR_ABI);
    pub const BACKEND: Status = Status(sys::DQ_ERR_BACKEND);
    pub const TYPE_MISMATCH: Status = Status(sys::DQ_ERR_TYPE_MISMATCH);
    pub const INTERNAL: Status = Status(sys::DQ_ERR_INTERNAL);

    /// The library's short description ("invalid argument", ...).
    pub fn description(self) -> &'static str {
        // SAFETY: dq_status_string returns a static string, never NULL.
        unsafe { crate::cstr_static(sys::dq_status_string(self.0)) }
    }
}

/// A failed call: its status and the library's message naming what was wrong (the file,
/// tensor or argument). Calls that have no context (model getters, metadata values) give the
/// status's description as message, or one written here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error { status, message: message.into() }
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status.description())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Status of a call without a context: Ok, or an Error with `what` and the status text.
pub(crate) fn check_plain(status: sys::dq_status, what: &str) -> Result<()> {
    if status == sys::DQ_OK {
        Ok(())
    } else {
        let s = Status(status);
        Err(Error::new(s, format!("{what}: {}", s.description())))
    }
}
