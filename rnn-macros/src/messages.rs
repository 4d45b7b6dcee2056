//! The text of every error the checker reports, and the fixes it suggests. Each function
//! returns one message; where and when it is reported is the checker's business.

use quote::ToTokens;
use rnn_spec::{Activation, Cell, Initializer, LayerClass, MergeMode};

use crate::ast::{LayerCall, Value};
use crate::suggest::did_you_mean;

/// The required arguments, then `...` if there are optional ones: `LSTM(units, ...)`.
pub fn short_signature(class: LayerClass) -> String {
    let args = class.args();
    let mut names: Vec<&str> = args[..class.required()].iter().map(|a| a.name).collect();
    if args.len() > class.required() {
        names.push("...");
    }
    format!("{}({})", class.keras_name(), names.join(", "))
}

/// Every argument in positional order, then the keyword-only ones:
/// `Dense(units, activation, use_bias, name)`.
pub fn signature(class: LayerClass) -> String {
    let names: Vec<&str> = class
        .args()
        .iter()
        .chain(class.keyword_args())
        .map(|a| a.name)
        .collect();
    if names.is_empty() {
        class.keras_name().to_string()
    } else {
        format!("{}({})", class.keras_name(), names.join(", "))
    }
}

// Layers and their order.

pub fn unknown_layer(name: &str) -> String {
    let known = LayerClass::ALL.map(LayerClass::keras_name);
    format!(
        "unknown layer `{name}`{}\n  layers: {}",
        did_you_mean(name, known),
        known.join(", ")
    )
}

pub fn after_multi_output(
    class: LayerClass,
    before: &str,
    before_class: LayerClass,
    outputs: usize,
    fix: &str,
) -> String {
    format!(
        "`{}` cannot follow `{}` ({}): that layer returns {} outputs, and only the \
         last layer of a model may return several\n\
         help: {}",
        class.keras_name(),
        before,
        before_class.keras_name(),
        outputs,
        fix,
    )
}

/// How to make a multi-output layer single-output.
pub fn multi_output_fix(call: &LayerCall) -> String {
    let has = |key: &str, call: &LayerCall| {
        call.args.iter().any(|a| {
            a.key.as_ref().is_some_and(|k| k == key)
                && a.value.to_token_stream().to_string() != "false"
        })
    };
    let merging = format!(
        "choose a merging `merge_mode` ({})",
        either(
            MergeMode::ALL
                .iter()
                .filter(|m| m.outputs() == 1)
                .map(|m| m.keras_name())
        )
    );
    let mut fixes: Vec<&str> = Vec::new();
    if has("return_state", call)
        || call
            .args
            .iter()
            .any(|a| matches!(&a.value, Value::Layer(l) if has("return_state", l)))
    {
        fixes.push("remove `return_state = true`");
    }
    if call.args.iter().any(|a| {
        a.key.as_ref().is_some_and(|k| k == "merge_mode") && {
            let v = a.value.to_token_stream().to_string();
            let none = MergeMode::NoMerge.keras_name();
            v == none || v == "None" || v == format!("{none:?}")
        }
    }) {
        fixes.push(&merging);
    }
    if fixes.is_empty() {
        fixes.push("make it return a single output");
    }
    format!(
        "{} in `{}`, or end the model after it",
        fixes.join(" and "),
        call.source()
    )
}

pub const INPUT_TWICE: &str =
    "`Input` is given twice; a model has one input\nhelp: remove this one";

pub const INPUT_NOT_FIRST: &str = "`Input` must be the first layer: it declares the shape of the model's \
                                   input\nhelp: move it to the front";

pub const INPUT_ONLY: &str =
    "the model has no layers after `Input`\nhelp: add layers: `Input(..) => LSTM(32) => Dense(1)`";

pub const NO_LAYERS: &str = "a model needs at least one layer";

/// `received`: the shape fed to it, if known.
pub fn embedding_not_first(
    received: Option<String>,
    call: &LayerCall,
    after_input: bool,
) -> String {
    format!(
        "`Embedding` must be the first layer: it takes token ids, but here it \
         would receive {}\nhelp: start the model with `{}`{}",
        match received {
            None => "the previous layer's output".to_string(),
            Some(shape) => format!("the output `{shape}` of the layer before"),
        },
        clean(call).source(),
        if after_input {
            " and remove `Input`: token-id models get their shape from `Embedding`"
        } else {
            ""
        }
    )
}

pub fn first_without_input(class: LayerClass, call: &LayerCall) -> String {
    let call = valid_only(class, call);
    // Dense reads vectors; the other layers that take Keras 2's form read sequences.
    let shape = if class == LayerClass::Dense {
        "(8,)"
    } else {
        "(None, 8)"
    };
    let keras2 = if class.arg("input_shape").is_some() {
        format!(
            ", or as Keras 2 does, `{}`",
            call.source_with("input_shape", shape)
        )
    } else {
        String::new()
    };
    let input = if class == LayerClass::Dense {
        format!("`Input(8) => {}` for vectors of 8 features", call.source())
    } else {
        format!(
            "`Input(_, 8) => {}` for sequences of 8 features (`_`: any number of time steps)",
            call.source()
        )
    };
    format!(
        "`{}` is the first layer, so the size of its input is unknown\n\
         help: declare the input first, e.g. {input}{keras2}, or start \
         with `Embedding(vocabulary, dim)` for token ids",
        class.keras_name(),
    )
}

/// The call without the keyword arguments its class does not take, so that a suggested fix
/// never repeats an invalid argument.
pub fn valid_only(class: LayerClass, call: &LayerCall) -> LayerCall {
    let mut call = call.clone();
    call.args.retain(|a| {
        a.key
            .as_ref()
            .is_none_or(|k| class.arg(&k.to_string()).is_some())
    });
    for arg in &mut call.args {
        if let Value::Layer(inner) = &mut arg.value {
            **inner = clean(inner);
        }
    }
    call
}

/// [`valid_only`] for a call of whatever class it names (as written, if none).
pub fn clean(call: &LayerCall) -> LayerCall {
    match LayerClass::from_keras_name(&call.name.to_string()) {
        Some(class) => valid_only(class, call),
        None => call.clone(),
    }
}

// Keras 2's input-shape arguments on the first layer.

/// An input-shape argument on a layer after the first. `fixed_first`: the model's first
/// layer with the argument moved there, if the first layer can take it.
pub fn first_layer_arg_misplaced(
    class: LayerClass,
    written: &[String],
    first: &str,
    fixed_first: Option<String>,
) -> String {
    let what = written
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let help = match fixed_first {
        Some(fixed) => format!(
            "move it to the first layer: `{fixed}`, and remove it from this `{}`",
            class.keras_name()
        ),
        None => format!("remove it: the model's input is already declared by `{first}`"),
    };
    format!(
        "{what} declares the model's input, so only the first layer takes it; this `{}` is not \
         the first layer\nhelp: {help}",
        class.keras_name()
    )
}

pub fn first_layer_arg_wrapped(wrapper: LayerClass, fixed: &str) -> String {
    format!(
        "the input shape of a wrapped layer is given to its wrapper\nhelp: write `{fixed}`, \
         as the first layer of the model (`{}` passes it on)",
        wrapper.keras_name()
    )
}

pub fn input_shape_given_twice(class: LayerClass, written: &[String]) -> String {
    format!(
        "`{}` is given its input shape more than once ({})\nhelp: keep one: \
         `input_shape = (timesteps, features)`, `batch_input_shape = (batch, timesteps, \
         features)`, or `input_dim = features` with `input_length = timesteps`",
        class.keras_name(),
        written.join(", ")
    )
}

pub fn bad_input_shape(class: LayerClass, name: &str, found: &str) -> String {
    let (form, example) = if name == "batch_input_shape" {
        (
            "(batch, timesteps, features)` or `(batch, features)",
            "batch_input_shape = (32, None, 8)",
        )
    } else {
        (
            "(timesteps, features)` or `(features,)",
            "input_shape = (None, 8)",
        )
    };
    format!(
        "`{name}` of `{}` must be a tuple `{form}`, found `{found}`\nhelp: e.g. `{example}` \
         (`None`: any number of time steps)",
        class.keras_name()
    )
}

pub fn bad_shape_entry(class: LayerClass, name: &str, what: &str, found: &str) -> String {
    // Time steps and batch sizes are checked at run time; features are sizes of the types.
    let (allowed, example) = match (what, name) {
        ("the number of features", "batch_input_shape") => (
            "a positive integer or a constant",
            "batch_input_shape = (32, None, FEATURES)",
        ),
        ("the number of features", _) => (
            "a positive integer or a constant",
            "input_shape = (None, FEATURES)",
        ),
        (_, "batch_input_shape") => (
            "a positive integer literal or `None`",
            "batch_input_shape = (32, None, 8)",
        ),
        _ => (
            "a positive integer literal or `None`",
            "input_shape = (None, 8)",
        ),
    };
    format!(
        "{what} in `{name}` of `{}` must be {allowed}, found `{found}`\nhelp: e.g. `{example}`",
        class.keras_name()
    )
}

pub fn input_length_without_dim(class: LayerClass) -> String {
    format!(
        "`input_length` of `{}` gives the time steps, but the number of features is missing\n\
         help: add `input_dim = features`, or write `input_shape = (timesteps, features)`",
        class.keras_name()
    )
}

// Feeding a layer that needs sequences.

pub fn needs_sequence(class: LayerClass, before: &str, shape: &str, help: &str) -> String {
    format!(
        "`{}` needs a sequence `(batch, time, features)`, but {before} outputs `{shape}`\nhelp: {help}",
        class.keras_name(),
    )
}

pub fn named(name: &str, class: LayerClass) -> String {
    format!("`{name}` ({})", class.keras_name())
}

pub fn return_sequences_before(fixed: &str) -> String {
    format!("return the whole sequence from the layer before: `{fixed}`")
}

pub fn time_axis_ends_at(name: &str, fixed: &str) -> String {
    format!("the time axis ends at `{name}`: return the whole sequence there, `{fixed}`")
}

pub fn time_axis_ends_before(name: &str, there: LayerClass, class: LayerClass) -> String {
    format!(
        "the time axis ends at `{}` ({}): place `{}` before it",
        name,
        there.keras_name(),
        class.keras_name()
    )
}

pub const INPUT_WITHOUT_TIME: &str = "the model's input has no time axis: declare it as \
                                      `Input(timesteps, ..)`, or `Input(_, ..)` for any number of steps";

pub fn give_input_time(features: crate::ir::Size) -> String {
    format!(
        "give the input a time axis: `Input(timesteps, {features})`, or \
         `Input(_, {features})` for any number of steps"
    )
}

/// `Bidirectional(LSTM(..))` with `return_sequences = true` added to the wrapped layer.
pub fn bidirectional_with_sequences(call: &LayerCall) -> String {
    let mut fixed = call.clone();
    for arg in &mut fixed.args {
        if let Value::Layer(inner) = &mut arg.value {
            let text = inner.source_with("return_sequences", "true");
            if let Ok(parsed) = syn::parse_str::<LayerCall>(&text) {
                **inner = parsed;
            }
            break;
        }
    }
    fixed.source()
}

// Names.

pub fn duplicate_name(name: &str, first: LayerClass, this: LayerClass) -> String {
    format!(
        "two layers are named `{}` (the {} before and this {}); layer names \
         must be unique in a model\nhelp: name one of them: `name = \"...\"`",
        name,
        first.keras_name(),
        this.keras_name()
    )
}

pub fn bad_name(class: LayerClass, found: &str) -> String {
    format!(
        "`name` of `{}` must be a non-empty string without `/`, found `{}`\nhelp: e.g. `name = \"encoder\"`",
        class.keras_name(),
        found
    )
}

// Binding arguments.

pub fn positional_after_keyword(keyword: &str) -> String {
    format!(
        "positional argument after the keyword argument `{keyword}`\nhelp: write positional arguments first"
    )
}

pub fn extra_positional(class: LayerClass) -> String {
    let params: Vec<&str> = class.args().iter().map(|a| a.name).collect();
    if params.is_empty() {
        format!(
            "`{}` takes no arguments\nhelp: write `{}`",
            class.keras_name(),
            class.keras_name()
        )
    } else {
        format!(
            "`{}` takes at most {} positional argument{} ({}); this one is extra",
            class.keras_name(),
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            params.join(", ")
        )
    }
}

pub fn unknown_keyword(class: LayerClass, key: &str) -> String {
    let names = class
        .args()
        .iter()
        .chain(class.keyword_args())
        .map(|a| a.name);
    format!(
        "`{}` has no argument `{key}`{}\n  arguments: {}",
        class.keras_name(),
        did_you_mean(key, names),
        signature(class)
    )
}

pub fn given_twice(class: LayerClass, key: &str, both_ways: bool) -> String {
    let how = if both_ways {
        " (positionally and by name)"
    } else {
        ""
    };
    format!(
        "`{key}` is given twice to `{}`{how}\nhelp: remove one",
        class.keras_name()
    )
}

pub fn missing(class: LayerClass, name: &str, example: &str) -> String {
    format!(
        "`{}` needs `{name}`\nhelp: write `{}`, e.g. `{example}`",
        class.keras_name(),
        short_signature(class)
    )
}

// Argument values.

pub fn size_is_a_layer(class: LayerClass, name: &str, found: &str) -> String {
    format!(
        "`{name}` of `{}` must be a positive integer, found the layer `{found}`",
        class.keras_name()
    )
}

pub fn size_zero(class: LayerClass, name: &str) -> String {
    format!(
        "`{name}` of `{}` must be at least 1, found 0",
        class.keras_name()
    )
}

pub fn size_too_large(class: LayerClass, name: &str, n: u128) -> String {
    format!("`{name}` of `{}` is too large: {n}", class.keras_name())
}

pub fn not_a_size(class: LayerClass, name: &str, found: &str) -> String {
    format!(
        "`{name}` of `{}` must be a positive integer, found `{}`\nhelp: write an integer, or \
         a constant: `const UNITS: usize = 64;` then `{name} = UNITS`",
        class.keras_name(),
        found
    )
}

/// `_` for a size that the layers after it depend on.
pub fn size_at_run_time(class: LayerClass, name: &str) -> String {
    let help = if name == "units" {
        format!(
            "for a vocabulary, state an upper bound as a constant, `const MAX_WORDS: usize = \
             10_000;` then `{name} = MAX_WORDS`, and build the tokenizer with \
             `num_words(MAX_WORDS)` so that it never produces a larger id"
        )
    } else {
        format!("write the number, or a constant: `const SIZE: usize = 64;` then `{name} = SIZE`")
    };
    format!(
        "`{name}` of `{}` cannot be `_`: the compiler sizes the layers after it from it, so it \
         must be known when compiling; only `Embedding(_, ..)`'s `input_dim` (the first \
         layer's vocabulary) may be chosen at run time\nhelp: {help}",
        class.keras_name()
    )
}

/// `Embedding(_, ..)` in `model!(..)`, whose value is built with `new(seed)`.
pub fn vocab_in_expression() -> String {
    "a model expression is built at once with a seed, so its `Embedding` cannot take `_`: \
     name the model, `model! { struct Net = Embedding(_, 16) => ...; }`, and build it with \
     `Net::with_vocab(vocab, seed)`"
        .to_string()
}

/// `#[params = N]` on a model whose vocabulary is chosen at run time.
pub fn params_with_run_time_vocab() -> String {
    "`#[params = N]` cannot be checked: the model's count depends on the vocabulary chosen by \
     `with_vocab` (`Embedding(_, ..)` adds `vocab * output_dim`)\nhelp: remove it, or give \
     the vocabulary as a constant, `Embedding(VOCAB, ..)`"
        .to_string()
}

/// A constant where the number of time steps must be written out.
pub fn literal_required(class: LayerClass, name: &str, found: &str) -> String {
    format!(
        "`{name}` of `{}` must be an integer literal, found `{found}`: the number of time \
         steps is checked at run time, not by the compiler, so only feature sizes and units \
         may be constants\nhelp: write the number, or `_` (`None`) for any number of steps",
        class.keras_name()
    )
}

pub fn not_a_bool(class: LayerClass, name: &str, found: &str) -> String {
    format!(
        "`{name}` of `{}` must be `true` or `false`, found `{}`",
        class.keras_name(),
        found
    )
}

pub fn unknown_activation(found: &str, name: &str) -> String {
    let names = Activation::ALL.map(Activation::keras_name);
    format!(
        "unknown activation `{found}` for `{name}`{}\n  activations: {}",
        did_you_mean(found, names),
        names.join(", ")
    )
}

/// An initializer as called, with its arguments: `RandomUniform(minval, maxval)`, `Zeros`.
fn initializer_signature(init: Initializer) -> String {
    let args: Vec<&str> = init.args().iter().map(|a| a.name).collect();
    if args.is_empty() {
        init.keras_name().to_string()
    } else {
        format!("{}({})", init.keras_name(), args.join(", "))
    }
}

pub fn unknown_initializer(class: LayerClass, name: &str, found: &str) -> String {
    let signatures: Vec<String> = Initializer::ALL.map(initializer_signature).to_vec();
    let strings: Vec<String> = Initializer::ALL
        .map(|i| format!("\"{}\"", i.string_name()))
        .to_vec();
    format!(
        "unknown initializer `{found}` for `{name}` of `{}`{}\n  initializers: {}\n  \
         or by Keras' names: {}",
        class.keras_name(),
        did_you_mean(found, Initializer::names()),
        signatures.join(", "),
        strings.join(", ")
    )
}

pub fn number_as_initializer(class: LayerClass, name: &str, found: &str) -> String {
    format!(
        "`{name}` of `{}` must be an initializer, found the number `{found}`\n\
         help: to start every weight at {found}, write `{name} = Constant({found})`",
        class.keras_name()
    )
}

pub fn initializer_needs_matrix(init: Initializer, class: LayerClass, name: &str) -> String {
    format!(
        "`{}` initializes matrices only, and `{name}` of `{}` is a vector (Keras raises here \
         too)\nhelp: use an initializer for any shape, e.g. `{name} = Zeros` or \
         `{name} = Constant(0.1)`",
        init.keras_name(),
        class.keras_name()
    )
}

pub fn initializer_extra_positional(init: Initializer) -> String {
    let n = init.args().len();
    format!(
        "`{}` takes {n} argument{}: `{}`",
        init.keras_name(),
        if n == 1 { "" } else { "s" },
        initializer_signature(init)
    )
}

pub fn initializer_unknown_keyword(init: Initializer, key: &str) -> String {
    if key == "seed" && init.is_random() {
        return format!(
            "`{}` takes no `seed` here: every weight of a model is drawn from the seed given \
             to `new(seed)`, layer after layer\nhelp: remove `seed`",
            init.keras_name()
        );
    }
    let names = init.args().iter().map(|a| a.name);
    let known = if init.args().is_empty() {
        "it takes no arguments".to_string()
    } else {
        format!("arguments: {}", initializer_signature(init))
    };
    format!(
        "`{}` has no argument `{key}`{}\n  {known}",
        init.keras_name(),
        did_you_mean(key, names),
    )
}

pub fn initializer_given_twice(init: Initializer, key: &str) -> String {
    format!(
        "`{key}` is given twice to `{}`\nhelp: remove one",
        init.keras_name()
    )
}

pub fn initializer_not_a_number(init: Initializer, key: &str, found: &str) -> String {
    format!(
        "`{key}` of `{}` must be a number, found `{found}`\nhelp: e.g. `{}`",
        init.keras_name(),
        initializer_example(init)
    )
}

/// A call with Keras' defaults written out: `RandomUniform(-0.05, 0.05)`.
fn initializer_example(init: Initializer) -> String {
    let args: Vec<String> = init
        .args()
        .iter()
        .map(|a| format!("{:?}", a.default))
        .collect();
    format!("{}({})", init.keras_name(), args.join(", "))
}

pub fn unknown_merge_mode(found: &str) -> String {
    let names = MergeMode::ALL.map(MergeMode::keras_name);
    format!(
        "unknown merge mode `{found}`{}\n  merge modes: {}",
        did_you_mean(found, names),
        names.join(", ")
    )
}

/// What a dropout rate of `class` is, what it means, and an example of it.
fn rate_meaning(class: LayerClass, name: &str) -> (String, String, String) {
    let layer = class.keras_name();
    match name {
        "rate" => (
            format!("`{layer}` rate"),
            "it is the fraction of values dropped".to_string(),
            "Dropout(0.2)".to_string(),
        ),
        _ => {
            let what = if name == "dropout" {
                "input features"
            } else {
                "the previous state's units"
            };
            (
                format!("`{layer}` argument `{name}`"),
                format!("it is the fraction of {what} dropped in training"),
                format!("{layer}(64, {name} = 0.2)"),
            )
        }
    }
}

pub fn rate_out_of_range(class: LayerClass, name: &str, rate: f64) -> String {
    let (what, meaning, example) = rate_meaning(class, name);
    format!("{what} must be in [0, 1), found {rate:?}: {meaning}\nhelp: e.g. `{example}`")
}

pub fn rate_not_a_number(class: LayerClass, name: &str, found: &str) -> String {
    let (what, _, example) = rate_meaning(class, name);
    format!("{what} must be a number in [0, 1), found `{found}`\nhelp: e.g. `{example}`")
}

pub fn wraps_a_layer(class: LayerClass, found: &str, example: &str) -> String {
    format!(
        "`{}` wraps a layer, found `{}`\nhelp: write it with its arguments, e.g. `{example}`",
        class.keras_name(),
        found
    )
}

// Wrappers.

pub fn bidirectional_not_recurrent(found: LayerClass) -> String {
    let recurrent = either(Cell::ALL.map(|c| c.layer().keras_name()));
    format!(
        "`Bidirectional` wraps a recurrent layer ({recurrent}), found `{}`\nhelp: e.g. `Bidirectional(LSTM(64))`",
        found.keras_name()
    )
}

pub fn bidirectional_go_backwards(inner: &LayerCall) -> String {
    format!(
        "`Bidirectional` reads the sequence in both directions itself, so the layer it \
         wraps must read forwards\nhelp: remove `go_backwards = true`: `Bidirectional({})`",
        clean(inner).without("go_backwards").source()
    )
}

pub fn time_distributed_not_dense(found: LayerClass) -> String {
    format!(
        "`TimeDistributed` supports `Dense` only, found `{}`\nhelp: {}",
        found.keras_name(),
        if found.is_recurrent() {
            "recurrent layers already run over time steps: use them directly"
        } else {
            "use `TimeDistributed(Dense(units, activation))`"
        }
    )
}

// `#[params = N]` and `#[max_params = N]`.

/// `what` (a layer, or the model) has `n` parameters, more than `limit`; `raised` when the
/// limit is the model's own `#[max_params]`.
pub fn too_many_params(what: &str, n: u128, limit: u128, raised: bool) -> String {
    let whose = if raised {
        "this model's `#[max_params]`"
    } else {
        "the default limit"
    };
    let short = if n >= 1_000_000 {
        format!(" ({:.1e})", n as f64)
    } else {
        String::new()
    };
    format!(
        "{what} has {} parameters{short}, {} at f32: more than {whose} of {} ({}), so the \
         weights would not fit in memory\nhelp: make it smaller; if the machine has the \
         memory, raise the limit on the model with `#[max_params = {}]`",
        thousands(n),
        decimal_bytes(n.saturating_mul(4)),
        thousands(limit),
        decimal_bytes(limit.saturating_mul(4)),
        underscored(n),
    )
}

/// `#[max_params = ..]` that is no positive integer.
pub fn max_params_not_an_integer() -> String {
    format!(
        "`#[max_params = ..]` takes a positive integer, the largest parameter count allowed \
         (by default {}), e.g. `#[max_params = 100_000_000_000]`",
        underscored(crate::check::MAX_PARAMS)
    )
}

/// A byte size in decimal units, as disks and memory are sold: `16 TB`, `275 GB`.
fn decimal_bytes(n: u128) -> String {
    let mut size = n as f64;
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"] {
        if size < 1000.0 {
            return format!("{} {unit}", trim(size));
        }
        size /= 1000.0;
    }
    format!("{} EB", trim(size))
}

/// At most three significant digits, without trailing zeros: `16`, `2.75`, `275`.
fn trim(x: f64) -> String {
    let s = if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `total`: the count, unless it depends on constants.
pub fn params_not_an_integer(total: Option<u128>) -> String {
    format!(
        "`#[params = ..]` takes an integer, e.g. `#[params = {}]`",
        underscored(total.unwrap_or(529_441))
    )
}

/// `rows`: each layer's name, class and count.
pub fn params_mismatch(total: u128, declared: u128, rows: &[(&str, LayerClass, u128)]) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|(name, class, n)| format!("    {} ({}): {}", name, class.keras_name(), thousands(*n)))
        .collect();
    format!(
        "this model has {} parameters, not {}\n  parameters per layer:\n{}\nhelp: write `#[params = {}]`",
        thousands(total),
        thousands(declared),
        rows.join("\n"),
        underscored(total)
    )
}

/// `a, b or c`.
fn either<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.into_iter().collect();
    match words.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn thousands(n: impl Into<u128>) -> String {
    group(n, ',')
}

fn underscored(n: impl Into<u128>) -> String {
    group(n, '_')
}

fn group(n: impl Into<u128>, sep: char) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        assert_eq!(short_signature(LayerClass::Lstm), "LSTM(units, ...)");
        assert_eq!(
            short_signature(LayerClass::Input),
            "Input(timesteps, features)"
        );
        assert_eq!(
            signature(LayerClass::Dense),
            "Dense(units, activation, use_bias, kernel_initializer, bias_initializer, name, \
             input_shape, batch_input_shape, input_dim)"
        );
        assert_eq!(
            signature(LayerClass::GlobalAveragePooling1D),
            "GlobalAveragePooling1D(name)"
        );
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(either(["a", "b", "c"]), "a, b or c");
        assert_eq!(either(["a"]), "a");
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(thousands(529_441u32), "529,441");
        assert_eq!(underscored(1_000u32), "1_000");
        assert_eq!(thousands(999u32), "999");
    }

    #[test]
    fn fixes_rewrite_the_call() {
        let call: LayerCall = syn::parse_str("Bidirectional(GRU(4), merge_mode = none)").unwrap();
        assert_eq!(
            bidirectional_with_sequences(&call),
            "Bidirectional(GRU(4, return_sequences = true), merge_mode = none)"
        );
        assert!(multi_output_fix(&call).starts_with("choose a merging `merge_mode`"));
    }
}
