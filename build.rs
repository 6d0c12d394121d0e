//! Lays out the gateway binary's code: the functions a gateway runs (from
//! start-up through serving the public benchmark's query, listed in
//! `src/bin/hot-symbols.txt` by `bench/hot-symbols.sh`) are placed
//! together at the front of `.text` by the linker (LLD's
//! `--symbol-ordering-file`, Rust's default linker on x86-64 Linux). The
//! kernel maps program code around each page a process touches, so code
//! spread over a large binary stays resident many times over; gathered,
//! it is mapped once (bench/RESULTS.md, "code layout"). Only the layout
//! changes, no code: a symbol the list names that the build does not have
//! (another profile, changed code) is skipped, and the plain engine of the
//! benchmark (`hive-router-plain`) is left as its own crate builds it.

fn main() {
    let list = "src/bin/hot-symbols.txt";
    println!("cargo:rerun-if-changed={list}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MESHWORK_NO_CODE_LAYOUT");
    // Rust's default linker on x86-64 Linux is LLD; a build that picks
    // another (whose options differ) or sets MESHWORK_NO_CODE_LAYOUT links
    // the code as it comes.
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = flags.split('\x1f').any(|flag| {
        flag.starts_with("linker=")
            || flag.contains("linker-features=-lld")
            || (flag.contains("fuse-ld=") && !flag.contains("fuse-ld=lld"))
    });
    let linux_lld = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux")
        && std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "x86_64")
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !other_linker
        && std::env::var_os("MESHWORK_NO_CODE_LAYOUT").is_none();
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let path = std::path::Path::new(&dir).join(list);
    if !linux_lld || !path.is_file() {
        return;
    }
    // An optimised build also keeps its relocations in the binary
    // (sections the program never loads: on disk only), so that
    // `bench/bolt.sh` can lay the code out again, block by block, from a
    // measured profile (LLVM BOLT needs them to move functions).
    let optimised = std::env::var("OPT_LEVEL").is_ok_and(|level| level != "0");
    for bin in ["meshwork-gateway", "meshwork"] {
        println!(
            "cargo:rustc-link-arg-bin={bin}=-Wl,--symbol-ordering-file={}",
            path.display()
        );
        println!("cargo:rustc-link-arg-bin={bin}=-Wl,--no-warn-symbol-ordering");
        if optimised {
            println!("cargo:rustc-link-arg-bin={bin}=-Wl,--emit-relocs");
        }
    }
}
