//! Tells the crate whether it is compiled without optimisation, so that training can warn:
//! unoptimised kernels train about 200 times slower. Cargo passes the package's own
//! `opt-level` (after profile overrides) to build scripts as `OPT_LEVEL`, which is what
//! decides the speed; `debug_assertions` does not (the workspace's own tests keep them on
//! with `opt-level = 3`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(rnn_unoptimized)");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=rnn_unoptimized");
    }
}
