//! A one-time warning when a model trains in an unoptimised build of this crate.
//!
//! A crate's own `[profile.dev.package..]` settings do not apply to the crates that depend on
//! it, so a user's `cargo run` without `--release` compiles the kernels at `opt-level = 0`.

use std::sync::Once;

/// The warning, with the fix.
pub(crate) const WARNING: &str = "\
warning: rnn-runtime was compiled without optimisation, so training runs about 200 times
slower than it should. Build with `--release`, or add to your Cargo.toml:

    [profile.dev.package.\"*\"]
    opt-level = 3

to optimise the dependencies (only) in debug builds too.
";

/// Prints [`WARNING`] to stderr once per process, in an unoptimised build only.
pub(crate) fn warn_once() {
    static ONCE: Once = Once::new();
    if cfg!(rnn_unoptimized) {
        ONCE.call_once(|| eprint!("{WARNING}"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_warning_gives_the_profile_lines() {
        assert!(super::WARNING.contains("[profile.dev.package.\"*\"]\n    opt-level = 3"));
    }
}
