//! dq-sys found libdq-core (DEP_DQ_LIBDIR): this crate's tests and examples carry an rpath to
//! that folder so they run without LD_LIBRARY_PATH.
fn main() {
    if let Ok(dir) = std::env::var("DEP_DQ_LIBDIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
