//! Finds libdq-core: pkg-config (`dq.pc`; PKG_CONFIG_PATH for a prefix outside the system's
//! paths) first, then the folder named by DQ_LIB_DIR. Tells dependent crates where it is
//! (`DEP_DQ_LIBDIR`), so their tests and examples can carry an rpath to it.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DQ_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let libdir = match pkg_config::Config::new().atleast_version("0.1").probe("dq") {
        Ok(lib) => lib.link_paths.first().cloned(),
        Err(pkg_err) => match env::var_os("DQ_LIB_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if !dir.join("libdq-core.so").exists() {
                    panic!("dq-sys: DQ_LIB_DIR={} holds no libdq-core.so", dir.display());
                }
                println!("cargo:rustc-link-search=native={}", dir.display());
                println!("cargo:rustc-link-lib=dylib=dq-core");
                Some(dir)
            }
            None => panic!(
                "dq-sys: libdq-core not found. pkg-config said: {pkg_err}\n\
                 Install dq (cmake --install build --prefix P) and set PKG_CONFIG_PATH=P/lib/pkgconfig, \
                 or set DQ_LIB_DIR to the folder holding libdq-core.so (e.g. build/lib)."
            ),
        },
    };
    // pkg-config's paths may read ".../lib/pkgconfig/../../lib" (a relocatable dq.pc).
    if let Some(dir) = libdir.map(|d| d.canonicalize().unwrap_or(d)) {
        println!("cargo:libdir={}", dir.display());
        // This crate's own tests run against the library just found.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
