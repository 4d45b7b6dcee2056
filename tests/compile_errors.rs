//! Every compile error of `model!` (and of hand-composed runtime types), with the exact
//! message the user sees, committed as `tests/ui/*.stderr`.

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
