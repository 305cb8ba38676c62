//! The committed C header must be exactly what cbindgen generates from `src/ffi`.
//! Run with `QSOTA_BLESS=1` to rewrite it after changing the C ABI.

use std::path::Path;

#[test]
fn committed_header_matches_the_rust_exports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut generated);
    let path = root.join("include/qsota.h");
    if std::env::var_os("QSOTA_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write header");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/qsota.h is stale: run `QSOTA_BLESS=1 cargo test --test header`"
    );
}
