//! Links with cortex-m-rt's link.x and memory.x (the application's place in the layout);
//! the version it reports comes from QSOTA_APP_VERSION (scripts/boot.sh builds each).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-search={dir}");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-env-changed=QSOTA_APP_VERSION");
}
