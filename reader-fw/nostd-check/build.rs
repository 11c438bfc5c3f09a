fn main() {
    // No C runtime start-up (`_start` is ours). libc stays on the link line
    // only for memcpy/memset, which an MCU target's compiler-builtins gives.
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rustc-link-lib=c");
}
