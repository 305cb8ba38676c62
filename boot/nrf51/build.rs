//! Links with link.ld (the bootloader's flash and RAM, its vector table).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-search={dir}");
    println!("cargo:rustc-link-arg-bins=-Tlink.ld");
    println!("cargo:rerun-if-changed=link.ld");
}
