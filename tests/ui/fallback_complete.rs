use rnn::prelude::*;
use rnn::{ModelSpec, Weight};

model! {
    pub struct Tagger = Input(_, 8) => Lstm(16) => Dense(3, softmax);
}

// Every item and method of a model, used as a program would use them: the misspelt layer
// above is the only error.
fn run() -> Result<(), Error> {
    let spec: ModelSpec = Tagger::SPEC;
    println!("{} {}", spec.name, Tagger::PARAMS);
    let mut model = Tagger::new(0);
    let x = vec![vec![vec![0.5f32; 8]; 5]; 4];
    let y = vec![vec![1.0f32, 0.0, 0.0]; 4];

    let out = model.predict(&x)?;
    println!("{:?}", out.main().shape);
    let out = model.predict_batched(&x, 2)?;
    println!("{}", out.len());
    let typed = Sequence::<8>::from_nested(&x)?;
    let out = model.forward(&typed, Mode::InferenceGrad)?;
    let ones = vec![1.0f32; out.main().data.len()];
    let dx = model.backward(&[&ones])?;
    let _ = dx;
    let gradients: Vec<Weight> = model.gradients();
    println!("{}", gradients.len());
    model.zero_grad();
    let weights = model.get_weights();
    model.set_weights(&weights)?;
    println!("{}", model.summary());
    println!("{}", model.summary_width(100));
    println!("{} {}", model.count_params(), model.spec().name);
    let layers = model.layers();
    let _ = layers;
    let layers = model.layers_mut();
    let _ = layers;

    model.compile(Loss::categorical_crossentropy(), Adam::new(0.01), &[Metric::Accuracy]);
    let history = model.fit(&x, &y, Fit::new().epochs(2).validation_split(0.5).verbose(0))?;
    println!("{:?}", history.last().map(|logs| logs.loss()));
    let history = model.fit(&x, &y, Fit::new().validation_data(&x, &y))?;
    println!("{}", history.epochs());
    let logs = model.evaluate(&x, &y, 2)?;
    println!("{}", logs.loss());
    let logs = model.train_on_batch(&x, &y)?;
    println!("{}", logs.loss());

    let mut state: StepState = model.step_state(4)?;
    println!("{}", state.batch());
    let out = model.step(&mut state, &[0.5f32; 4 * 8])?;
    println!("{}", out.len());
    let states = state.states();
    let values: Vec<&[f32]> = states.iter().map(|a| a.data.as_slice()).collect();
    state.set_states(&values)?;
    let fork = state.clone();
    state.reset();
    println!("{}", fork.batch());

    model.save_weights("tagger.safetensors")?;
    model.load_weights("tagger.safetensors")?;

    let mut inner = Tagger::new(1).into_inner();
    println!("{}", inner.predict(&x)?.main().data.len());
    Ok(())
}

fn main() {
    run().unwrap();
}
