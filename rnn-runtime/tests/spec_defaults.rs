//! The runtime's defaults, names and parameter counts agree with `rnn-spec`, which the
//! `model!` macro reads: a model the macro checked gets the runtime behaviour it promised.

use rnn_runtime::{
    Activation, Ave, Bidirectional, Concat, Dense, Embedding, Gru, Last, Lstm, Merge, Mul, NoMerge,
    RnnConfig, Sequences, SimpleRnn, Sum, Weights, seeded_rng,
};
use rnn_spec::{ArgDefault, Cell, LayerClass, MergeMode, defaults};

const IN: usize = 8;
const H: usize = 16;

fn default_of(class: LayerClass, arg: &str) -> ArgDefault {
    match class.arg(arg) {
        Some(a) => a.default,
        None => panic!("{} has no argument `{arg}` in the spec", class.keras_name()),
    }
}

fn runtime_activation(a: rnn_spec::Activation) -> Activation {
    match Activation::from_keras_name(a.keras_name()) {
        Some(r) => r,
        None => panic!("the runtime has no activation `{}`", a.keras_name()),
    }
}

#[test]
fn rnn_config_defaults_are_the_specs() {
    let cfg = RnnConfig::default();
    for class in [LayerClass::SimpleRnn, LayerClass::Lstm, LayerClass::Gru] {
        let name = class.keras_name();
        let act = default_of(class, "activation").as_activation();
        assert_eq!(act.map(runtime_activation), Some(cfg.activation), "{name}");
        for (arg, value) in [
            ("return_state", cfg.return_state),
            ("go_backwards", cfg.go_backwards),
        ] {
            assert_eq!(
                default_of(class, arg).as_bool(),
                Some(value),
                "{name} {arg}"
            );
        }
    }
    for class in [LayerClass::Lstm, LayerClass::Gru] {
        let ract = default_of(class, "recurrent_activation").as_activation();
        assert_eq!(
            ract.map(runtime_activation),
            Some(cfg.recurrent_activation),
            "{}",
            class.keras_name()
        );
    }
    // SimpleRNN has no gates; the shared configuration keeps the gated cells' default.
    assert_eq!(
        runtime_activation(defaults::RECURRENT_ACTIVATION),
        cfg.recurrent_activation
    );
    assert_eq!(
        default_of(LayerClass::Lstm, "unit_forget_bias").as_bool(),
        Some(cfg.unit_forget_bias)
    );
    assert_eq!(defaults::UNIT_FORGET_BIAS, cfg.unit_forget_bias);
}

#[test]
fn activations_are_the_specs() {
    let spec: Vec<&str> = rnn_spec::Activation::ALL
        .iter()
        .map(|a| a.keras_name())
        .collect();
    let runtime: Vec<&str> = Activation::ALL.iter().map(|a| a.keras_name()).collect();
    assert_eq!(spec, runtime);
    // Keras' `activation=None`, which Dense defaults to.
    assert_eq!(
        Activation::default(),
        runtime_activation(defaults::DENSE_ACTIVATION)
    );
    for a in rnn_spec::Activation::ALL {
        let r = runtime_activation(a);
        // The macro writes `::rnn::Activation::<variant_name>`.
        assert_eq!(format!("{r:?}"), a.variant_name());
        assert_eq!(
            rnn_spec::Activation::from_keras_name(r.keras_name()),
            Some(a)
        );
    }
}

#[test]
fn merge_modes_are_the_specs() {
    fn same<M: Merge>(mode: MergeMode) {
        assert_eq!(M::NAME, mode.keras_name());
        assert_eq!(M::FACTOR, mode.factor(), "{}", mode.keras_name());
        // The macro writes `::rnn::<type_name>`.
        let type_name = std::any::type_name::<M>().rsplit("::").next();
        assert_eq!(type_name, Some(mode.type_name()));
    }
    same::<Concat>(MergeMode::Concat);
    same::<Sum>(MergeMode::Sum);
    same::<Mul>(MergeMode::Mul);
    same::<Ave>(MergeMode::Ave);
    same::<NoMerge>(MergeMode::NoMerge);
    assert_eq!(MergeMode::ALL.len(), 5, "every mode is compared above");
}

fn cell_params(cell: Cell, bias: bool, reset_after: bool) -> usize {
    rnn_spec::recurrent_params(cell, IN, H, bias, reset_after)
}

#[test]
fn recurrent_parameter_counts_are_the_specs() {
    let p = cell_params;
    for (got, want) in [
        (
            <SimpleRnn<IN, H, Last, true> as Weights>::PARAMS,
            p(Cell::Simple, true, false),
        ),
        (
            <SimpleRnn<IN, H, Last, false> as Weights>::PARAMS,
            p(Cell::Simple, false, false),
        ),
        (
            <SimpleRnn<IN, H, Sequences, true> as Weights>::PARAMS,
            p(Cell::Simple, true, false),
        ),
        (
            <Lstm<IN, H, Last, true> as Weights>::PARAMS,
            p(Cell::Lstm, true, false),
        ),
        (
            <Lstm<IN, H, Last, false> as Weights>::PARAMS,
            p(Cell::Lstm, false, false),
        ),
        (
            <Lstm<IN, H, Sequences, true> as Weights>::PARAMS,
            p(Cell::Lstm, true, false),
        ),
        (
            <Gru<IN, H, Last, true, true> as Weights>::PARAMS,
            p(Cell::Gru, true, true),
        ),
        (
            <Gru<IN, H, Last, false, true> as Weights>::PARAMS,
            p(Cell::Gru, true, false),
        ),
        (
            <Gru<IN, H, Last, true, false> as Weights>::PARAMS,
            p(Cell::Gru, false, true),
        ),
        (
            <Gru<IN, H, Last, false, false> as Weights>::PARAMS,
            p(Cell::Gru, false, false),
        ),
        (
            <Gru<IN, H, Sequences, true, true> as Weights>::PARAMS,
            p(Cell::Gru, true, true),
        ),
    ] {
        assert_eq!(got, want);
    }
}

#[test]
fn default_type_parameters_are_the_specs_defaults() {
    let (bias, reset_after) = (defaults::USE_BIAS, defaults::RESET_AFTER);
    assert_eq!(
        <SimpleRnn<IN, H> as Weights>::PARAMS,
        cell_params(Cell::Simple, bias, false)
    );
    assert_eq!(
        <Lstm<IN, H> as Weights>::PARAMS,
        cell_params(Cell::Lstm, bias, false)
    );
    assert_eq!(
        <Gru<IN, H> as Weights>::PARAMS,
        cell_params(Cell::Gru, bias, reset_after)
    );
    assert_eq!(
        <Dense<IN, H> as Weights>::PARAMS,
        rnn_spec::dense_params(IN, H, bias)
    );
}

#[test]
fn other_parameter_counts_are_the_specs() {
    assert_eq!(
        <Dense<IN, H, true> as Weights>::PARAMS,
        rnn_spec::dense_params(IN, H, true)
    );
    assert_eq!(
        <Dense<IN, H, false> as Weights>::PARAMS,
        rnn_spec::dense_params(IN, H, false)
    );
    assert_eq!(
        <Embedding<100, H> as Weights>::PARAMS,
        rnn_spec::embedding_params(100, H)
    );
    type BiLstm = Bidirectional<Lstm<IN, H, Last, false>, { 2 * H }, Concat>;
    assert_eq!(
        <BiLstm as Weights>::PARAMS,
        rnn_spec::bidirectional_params(Cell::Lstm, IN, H, false, false)
    );
    type BiGru = Bidirectional<Gru<IN, H, Sequences, true, true>, H, Sum>;
    assert_eq!(
        <BiGru as Weights>::PARAMS,
        rnn_spec::bidirectional_params(Cell::Gru, IN, H, true, true)
    );
}

fn shapes(params: Vec<&rnn_runtime::Param>) -> Vec<(String, Vec<usize>)> {
    params
        .into_iter()
        .map(|p| (p.name().to_string(), p.shape().to_vec()))
        .collect()
}

#[test]
fn weight_names_and_shapes_follow_the_cells() {
    let mut rng = seeded_rng(0);
    let cfg = RnnConfig::default();
    let simple = SimpleRnn::<IN, H>::new("sequential/simple_rnn", cfg, &mut rng);
    let lstm = Lstm::<IN, H>::new("sequential/lstm", cfg, &mut rng);
    let gru = Gru::<IN, H>::new("sequential/gru", cfg, &mut rng);
    let layers = [
        (Cell::Simple, shapes(simple.params())),
        (Cell::Lstm, shapes(lstm.params())),
        (Cell::Gru, shapes(gru.params())),
    ];
    for (cell, params) in layers {
        let scope = format!(
            "{}/{}/{}",
            rnn_spec::MODEL_NAME,
            cell.layer().default_name(),
            cell.cell_name()
        );
        let g = cell.gates() * H;
        let bias = if cell.bias_rows(defaults::RESET_AFTER) == 2 {
            vec![2, g]
        } else {
            vec![g]
        };
        assert_eq!(
            params,
            [
                (format!("{scope}/kernel"), vec![IN, g]),
                (format!("{scope}/recurrent_kernel"), vec![H, g]),
                (format!("{scope}/bias"), bias),
            ],
            "{cell:?}"
        );
    }
}
