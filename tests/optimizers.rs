//! Step-for-step parity of the optimizers with Keras 3: every optimizer fixture of
//! `tests/fixtures/keras` and `tests/fixtures/extra` (`optimizer_*.json`, format in
//! `tests/fixtures/keras/README.md`, `kind: "optimizer"`), and the optimizer state counts of
//! `tests/fixtures/extra/optimizer_state_sizes.json`.
//!
//! Each case builds its optimizer from the fixture's `config` (every key is read: a setting
//! this crate cannot reproduce fails the case), applies the recorded gradients for three
//! steps, and after every step compares:
//!
//! - the weights, with the fixtures' f32 output tolerance `|got - want| <= 1e-6 + 1e-5 |want|`;
//! - the displacement from the initial weights, `w_t - w_0`, with `1e-5` relative plus what
//!   storing the weights in f32 costs: half an ulp of `|w|` per step
//!   (`t * 2^-24 * max(|w_0|, |w_t|)`). Updates are about the learning rate (1e-3), far
//!   smaller than the weights (about 1), so this check resolves each update to about 1e-4 of
//!   its size where the weight check alone resolves it to about 1%;
//! - every slot (`momentum`, `velocity`, `velocity_hat`, `average_gradient`, `accumulator`),
//!   by Keras' slot name and in Keras' order, with `|got - want| <= 1e-6 max|want| + 1e-5
//!   |want|`: the same relative tolerance, with the absolute floor taken relative to the
//!   largest entry of the slot, because slots range from 1e-15 (the squared `1e-6` gradient)
//!   to 1.
//!
//! Cases whose `zero_gradients` list a variable run twice: with an explicit all-zero
//! gradient, and with a parameter whose gradient buffer was never allocated, which
//! optimizers must treat as zero.

mod common;

use std::collections::BTreeSet;

use common::{Report, Tensor, fixtures_root, load_json, tensors_f64, widen};
use rnn::{Adagrad, Adam, Optimizer, Param, RmsProp, Sgd};
use serde_json::{Map, Value};

/// Every optimizer case, by fixture set. `fixture_sets_are_fully_covered` checks that this
/// list is exactly what the fixture directories hold.
const KERAS_CASES: &[&str] = &[
    "optimizer_adagrad",
    "optimizer_adam",
    "optimizer_adam_lr0.01",
    "optimizer_rmsprop",
    "optimizer_sgd",
    "optimizer_sgd_lr0.1_momentum",
    "optimizer_sgd_momentum",
];

const EXTRA_CASES: &[&str] = &[
    "optimizer_adagrad_clipnorm_zero_grad",
    "optimizer_adagrad_global_clipnorm",
    "optimizer_adam_amsgrad",
    "optimizer_adam_global_clipnorm",
    "optimizer_adam_zero_grad",
    "optimizer_rmsprop_centered",
    "optimizer_rmsprop_centered_momentum_clipvalue",
    "optimizer_rmsprop_momentum",
    "optimizer_sgd_clipvalue",
    "optimizer_sgd_momentum_clipnorm",
    "optimizer_sgd_nesterov_lr0.05",
];

const STATE_SIZES: &str = "optimizer_state_sizes";

/// Weight tolerance: the fixtures README's f32 output tolerance.
const W_ATOL: f64 = 1e-6;
const W_RTOL: f64 = 1e-5;
/// Relative tolerance of displacements and slots.
const RTOL: f64 = 1e-5;
/// Absolute floor of a slot, relative to the slot's largest entry.
const SLOT_ATOL_REL: f64 = 1e-6;

// ------------------------------------------------------------------------------ fixtures

/// The `step`-th entry (1-based) of a per-step list, checking its `step` field.
fn at_step<'a>(list: &'a Value, step: usize, key: &str) -> &'a Value {
    let entry = &list.as_array().expect("per-step list")[step - 1];
    assert_eq!(entry["step"].as_u64(), Some(step as u64), "step order");
    &entry[key]
}

// --------------------------------------------------------------------------- optimizers

/// One of the four optimizers, for their inherent `slots()`.
enum Opt {
    Sgd(Sgd),
    Adam(Adam),
    RmsProp(RmsProp),
    Adagrad(Adagrad),
}

impl Opt {
    fn optimizer(&mut self) -> &mut dyn Optimizer {
        match self {
            Opt::Sgd(o) => o,
            Opt::Adam(o) => o,
            Opt::RmsProp(o) => o,
            Opt::Adagrad(o) => o,
        }
    }

    fn state_size(&self, param_count: usize, tensors: usize) -> usize {
        match self {
            Opt::Sgd(o) => o.state_size(param_count, tensors),
            Opt::Adam(o) => o.state_size(param_count, tensors),
            Opt::RmsProp(o) => o.state_size(param_count, tensors),
            Opt::Adagrad(o) => o.state_size(param_count, tensors),
        }
    }

    fn slots(&self) -> Vec<(&'static str, &[Vec<f32>])> {
        match self {
            Opt::Sgd(o) => o.slots(),
            Opt::Adam(o) => o.slots(),
            Opt::RmsProp(o) => o.slots(),
            Opt::Adagrad(o) => o.slots(),
        }
    }
}

/// Reads the keys of a Keras optimizer config; every key must be consumed, so a setting
/// that is not reproduced fails the case instead of being ignored.
struct Config<'a> {
    what: String,
    map: &'a Map<String, Value>,
    used: BTreeSet<&'a str>,
}

impl<'a> Config<'a> {
    fn new(what: String, map: &'a Map<String, Value>) -> Self {
        Config {
            what,
            map,
            used: BTreeSet::new(),
        }
    }

    fn get(&mut self, key: &'a str) -> Option<&'a Value> {
        self.used.insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn float(&mut self, key: &'a str) -> Option<f64> {
        self.get(key).map(|v| {
            v.as_f64()
                .unwrap_or_else(|| panic!("{}: `{key}` = {v} is not a number", self.what))
        })
    }

    fn flag(&mut self, key: &'a str) -> Option<bool> {
        self.get(key).map(|v| {
            v.as_bool()
                .unwrap_or_else(|| panic!("{}: `{key}` = {v} is not a bool", self.what))
        })
    }

    /// A key whose only supported value is Keras' default (null or false).
    fn unsupported_unless_off(&mut self, key: &'a str) {
        if let Some(v) = self.get(key) {
            assert!(
                v == &Value::Bool(false),
                "{}: `{key}` = {v} is not supported",
                self.what
            );
        }
    }

    fn finish(self) {
        let unread: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.used.contains(k.as_str()))
            .collect();
        assert!(
            unread.is_empty(),
            "{}: config keys not understood: {unread:?}",
            self.what
        );
    }
}

/// Builds an optimizer from a Keras class name and config (a full `get_config()`, or a
/// partial keyword dictionary where missing keys mean Keras' defaults).
fn build(what: &str, class: &str, map: &Map<String, Value>) -> Opt {
    let mut c = Config::new(format!("{what} ({class})"), map);
    if let Some(name) = c.get("name") {
        assert!(name.is_string(), "{what}: name {name}");
    }
    let lr = c.float("learning_rate");
    for key in [
        "weight_decay",
        "use_ema",
        "ema_overwrite_frequency",
        "loss_scale_factor",
        "gradient_accumulation_steps",
    ] {
        c.unsupported_unless_off(key);
    }
    // Only read by Keras when `use_ema` is on, which was checked above.
    let _ = c.float("ema_momentum");
    let clipnorm = c.float("clipnorm");
    let global_clipnorm = c.float("global_clipnorm");
    let clipvalue = c.float("clipvalue");

    macro_rules! common {
        ($opt:expr) => {{
            let mut o = $opt;
            if let Some(lr) = lr {
                o.set_learning_rate(lr as f32);
            }
            if let Some(v) = clipnorm {
                o = o.clipnorm(v as f32);
            }
            if let Some(v) = global_clipnorm {
                o = o.global_clipnorm(v as f32);
            }
            if let Some(v) = clipvalue {
                o = o.clipvalue(v as f32);
            }
            o
        }};
    }

    let opt = match class {
        "SGD" => {
            let mut o = Sgd::default();
            if let Some(m) = c.float("momentum") {
                o = o.momentum(m);
            }
            if let Some(n) = c.flag("nesterov") {
                o = o.nesterov(n);
            }
            Opt::Sgd(common!(o))
        }
        "Adam" => {
            let mut o = Adam::default();
            if let Some(b) = c.float("beta_1") {
                o = o.beta_1(b);
            }
            if let Some(b) = c.float("beta_2") {
                o = o.beta_2(b);
            }
            if let Some(e) = c.float("epsilon") {
                o = o.epsilon(e);
            }
            if let Some(a) = c.flag("amsgrad") {
                o = o.amsgrad(a);
            }
            Opt::Adam(common!(o))
        }
        "RMSprop" => {
            let mut o = RmsProp::default();
            if let Some(r) = c.float("rho") {
                o = o.rho(r);
            }
            if let Some(m) = c.float("momentum") {
                o = o.momentum(m);
            }
            if let Some(e) = c.float("epsilon") {
                o = o.epsilon(e);
            }
            if let Some(x) = c.flag("centered") {
                o = o.centered(x);
            }
            Opt::RmsProp(common!(o))
        }
        "Adagrad" => {
            let mut o = Adagrad::default();
            if let Some(v) = c.float("initial_accumulator_value") {
                o = o.initial_accumulator_value(v);
            }
            if let Some(e) = c.float("epsilon") {
                o = o.epsilon(e);
            }
            Opt::Adagrad(common!(o))
        }
        other => panic!("{what}: no optimizer for Keras class `{other}`"),
    };
    c.finish();
    opt
}

/// How a variable's all-zero gradient of a step is handed to the optimizer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ZeroGrad {
    /// A gradient buffer filled with zeros.
    Explicit,
    /// A parameter whose gradient buffer was never allocated.
    Unallocated,
}

/// Runs one fixture case and compares weights and slots after every step.
fn run_case(set: &str, name: &str) {
    let case = load_json(set, name);
    assert_eq!(case["kind"], "optimizer", "{name}: kind");
    assert_eq!(case["case"], name, "{name}: case name");
    let config = &case["config"];
    let class = config["class_name"].as_str().expect("class_name");
    let map = config["config"].as_object().expect("config.config");
    let initial = tensors_f64(&case["initial_weights"]);
    let steps = case["weights_after_step"].as_array().expect("steps").len();
    assert!(steps >= 1, "{name}: no steps");
    assert_eq!(
        case["gradients"].as_array().expect("gradients").len(),
        steps,
        "{name}: one gradient set per step"
    );

    // (step, variable index) of the all-zero gradients the fixture declares.
    let mut zero_steps: Vec<(usize, usize)> = Vec::new();
    if let Some(list) = case.get("zero_gradients").and_then(Value::as_array) {
        for z in list {
            let step = z["step"].as_u64().expect("zero step") as usize;
            let var = z["variable"].as_str().expect("zero variable");
            let k = initial
                .iter()
                .position(|t| t.name == var)
                .unwrap_or_else(|| panic!("{name}: unknown variable {var}"));
            zero_steps.push((step, k));
        }
    }

    let mut modes = vec![ZeroGrad::Explicit];
    if !zero_steps.is_empty() {
        modes.push(ZeroGrad::Unallocated);
    }
    for mode in modes {
        let label = if mode == ZeroGrad::Explicit {
            name.to_string()
        } else {
            format!("{name} (unallocated zero gradients)")
        };
        run_steps(&label, &case, class, map, &initial, &zero_steps, mode);
    }
}

fn run_steps(
    label: &str,
    case: &Value,
    class: &str,
    map: &Map<String, Value>,
    initial: &[Tensor],
    zero_steps: &[(usize, usize)],
    mode: ZeroGrad,
) {
    let mut opt = build(label, class, map);
    let mut params: Vec<Param> = initial
        .iter()
        .map(|t| {
            Param::new(
                t.name.clone(),
                t.shape.clone(),
                t.values.iter().map(|&v| v as f32).collect(),
            )
        })
        .collect();
    // The f32 starting point, for displacements.
    let start: Vec<Vec<f64>> = params.iter().map(|p| widen(p.values())).collect();
    let steps = case["weights_after_step"].as_array().unwrap().len();
    let mut report = Report::default();

    for step in 1..=steps {
        // Gradients of this step.
        let grads = tensors_f64(at_step(&case["gradients"], step, "grads"));
        assert_eq!(grads.len(), params.len(), "{label}: gradient count");
        for (k, (p, g)) in params.iter_mut().zip(&grads).enumerate() {
            assert_eq!(g.name, p.name(), "{label}: gradient order");
            assert_eq!(g.shape, p.shape(), "{label}: gradient shape");
            let zero = zero_steps.contains(&(step, k));
            if zero {
                assert!(
                    g.values.iter().all(|&v| v == 0.0),
                    "{label}: step {step}: {} is declared zero",
                    g.name
                );
            }
            if zero && mode == ZeroGrad::Unallocated {
                *p = Param::new(
                    p.name().to_string(),
                    p.shape().to_vec(),
                    p.values().to_vec(),
                );
                assert!(p.grad().is_empty());
            } else {
                for (d, &s) in p.grad_mut().iter_mut().zip(&g.values) {
                    *d = s as f32;
                }
            }
        }
        let mut refs: Vec<&mut Param> = params.iter_mut().collect();
        opt.optimizer().step(&mut refs);

        // Weights.
        let want = tensors_f64(at_step(&case["weights_after_step"], step, "weights"));
        assert_eq!(want.len(), params.len(), "{label}: weight count");
        for (k, (p, w)) in params.iter().zip(&want).enumerate() {
            assert_eq!(w.name, p.name(), "{label}: weight order");
            let got = widen(p.values());
            let what = format!("step {step}: {}", w.name);
            report.close(&what, &got, &w.values, &vec![W_ATOL; got.len()], W_RTOL);

            let w0 = &initial[k].values;
            let got_disp: Vec<f64> = got.iter().zip(&start[k]).map(|(a, b)| a - b).collect();
            let want_disp: Vec<f64> = w.values.iter().zip(w0).map(|(a, b)| a - b).collect();
            let atol: Vec<f64> = w
                .values
                .iter()
                .zip(w0)
                .map(|(a, b)| step as f64 * f64::from(f32::EPSILON) / 2.0 * a.abs().max(b.abs()))
                .collect();
            report.close(
                &format!("{what} - initial"),
                &got_disp,
                &want_disp,
                &atol,
                RTOL,
            );
        }

        // Slots: names "<optimizer>/<variable>_<slot>", per variable in Keras' slot order.
        let want = tensors_f64(at_step(&case["slots_after_step"], step, "slots"));
        let slots = opt.slots();
        let mut kinds: Vec<&str> = Vec::new();
        for t in &want {
            let (_, rest) = t.name.split_once('/').expect("slot name");
            let (k, p) = params
                .iter()
                .enumerate()
                .find(|(_, p)| rest.starts_with(&format!("{}_", p.name())))
                .unwrap_or_else(|| panic!("{label}: slot {} of no variable", t.name));
            let kind = &rest[p.name().len() + 1..];
            if k == 0 {
                kinds.push(kind);
            }
            assert_eq!(t.shape, p.shape(), "{label}: shape of {}", t.name);
            let Some((_, buffers)) = slots.iter().find(|(n, _)| *n == kind) else {
                report.fail(format!("step {step}: no slot `{kind}` ({})", t.name));
                continue;
            };
            if buffers.len() != params.len() {
                report.fail(format!(
                    "step {step}: slot `{kind}` has {} buffers for {} parameters",
                    buffers.len(),
                    params.len()
                ));
                continue;
            }
            let scale = t.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let got = widen(&buffers[k]);
            report.close(
                &format!("step {step}: slot {}", t.name),
                &got,
                &t.values,
                &vec![SLOT_ATOL_REL * scale; got.len()],
                RTOL,
            );
        }
        let ours: Vec<&str> = slots.iter().map(|(n, _)| *n).collect();
        if ours != kinds {
            report.fail(format!(
                "step {step}: slots {ours:?}, Keras has {kinds:?} (in this order)"
            ));
        }
    }
    report.assert_ok(label);
}

// ------------------------------------------------------------------------------- tests

macro_rules! cases {
    ($set:literal; $($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                super::run_case($set, $name);
            }
        )*
        /// The cases above, for the coverage check.
        pub const TESTED: &[&str] = &[$($name),*];
    };
}

mod keras {
    cases! { "keras";
        adagrad => "optimizer_adagrad",
        adam => "optimizer_adam",
        adam_lr0_01 => "optimizer_adam_lr0.01",
        rmsprop => "optimizer_rmsprop",
        sgd => "optimizer_sgd",
        sgd_lr0_1_momentum => "optimizer_sgd_lr0.1_momentum",
        sgd_momentum => "optimizer_sgd_momentum",
    }
}

mod extra {
    cases! { "extra";
        adagrad_clipnorm_zero_grad => "optimizer_adagrad_clipnorm_zero_grad",
        adagrad_global_clipnorm => "optimizer_adagrad_global_clipnorm",
        adam_amsgrad => "optimizer_adam_amsgrad",
        adam_global_clipnorm => "optimizer_adam_global_clipnorm",
        adam_zero_grad => "optimizer_adam_zero_grad",
        rmsprop_centered => "optimizer_rmsprop_centered",
        rmsprop_centered_momentum_clipvalue => "optimizer_rmsprop_centered_momentum_clipvalue",
        rmsprop_momentum => "optimizer_rmsprop_momentum",
        sgd_clipvalue => "optimizer_sgd_clipvalue",
        sgd_momentum_clipnorm => "optimizer_sgd_momentum_clipnorm",
        sgd_nesterov_lr0_05 => "optimizer_sgd_nesterov_lr0.05",
    }
}

/// `optimizer.variables` of Keras after `build`: `state_size` is its scalar count, and the
/// number of slot kinds gives the number of variables (two of Keras' own plus one per slot
/// kind and weight array).
#[test]
fn optimizer_state_sizes() {
    let fixture = load_json("extra", STATE_SIZES);
    assert_eq!(fixture["case"], STATE_SIZES);
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut report = Report::default();
    for c in cases {
        let class = c["optimizer"].as_str().expect("optimizer");
        let kwargs = c["kwargs"].as_object().expect("kwargs");
        let what = format!("{} {class} {}", c["model"], c["kwargs"]);
        let opt = build(&what, class, kwargs);
        let params = c["trainable_params"].as_u64().unwrap() as usize;
        let tensors = c["weight_tensors"].as_u64().unwrap() as usize;
        let want_params = c["optimizer_params"].as_u64().unwrap() as usize;
        let want_variables = c["optimizer_variables"].as_u64().unwrap() as usize;
        let got = opt.state_size(params, tensors);
        if got != want_params {
            report.fail(format!("{what}: state_size {got}, Keras {want_params}"));
        }
        let variables = 2 + opt.slots().len() * tensors;
        if variables != want_variables {
            report.fail(format!(
                "{what}: {variables} optimizer variables, Keras {want_variables}"
            ));
        }
        // The slot names Keras gives those variables, in the order of our slots.
        let names: Vec<&str> = c["optimizer_variable_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        for (slot, _) in opt.slots() {
            let suffix = format!("_{slot}");
            let n = names
                .iter()
                .filter(|n| {
                    n.ends_with(&suffix)
                        // `velocity` must not count `velocity_hat`.
                        && !(slot == "velocity" && n.ends_with("_velocity_hat"))
                })
                .count();
            if n != tensors {
                report.fail(format!("{what}: Keras has {n} `{slot}` variables"));
            }
        }
    }
    report.assert_ok(STATE_SIZES);
}

/// Every `optimizer_*.json` of both fixture directories is one of the cases above, and every
/// listed case is tested.
#[test]
fn fixture_sets_are_fully_covered() {
    for (set, listed, tested) in [
        ("keras", KERAS_CASES, keras::TESTED),
        ("extra", EXTRA_CASES, extra::TESTED),
    ] {
        let dir = fixtures_root().join(set);
        let mut on_disk: BTreeSet<String> = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = file
                .strip_suffix(".json")
                .filter(|s| s.starts_with("optimizer_"))
            {
                on_disk.insert(stem.to_string());
            }
        }
        if set == "extra" {
            assert!(on_disk.remove(STATE_SIZES), "{STATE_SIZES}.json is missing");
        }
        let listed: BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
        let tested: BTreeSet<String> = tested.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            on_disk, listed,
            "{set}: optimizer fixtures vs this file's list"
        );
        assert_eq!(tested, listed, "{set}: tests vs this file's list");
        // The shared set's index lists its optimizer cases (the extra set's index lists only
        // layer cases).
        if set == "keras" {
            let index = load_json(set, "index");
            let cases: BTreeSet<String> = index["cases"]
                .as_array()
                .expect("index cases")
                .iter()
                .filter_map(|c| c.as_str())
                .filter(|c| c.starts_with("optimizer_"))
                .map(str::to_string)
                .collect();
            assert_eq!(cases, listed, "{set}/index.json");
        }
    }
}
