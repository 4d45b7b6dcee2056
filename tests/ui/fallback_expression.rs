use rnn::prelude::*;

// A model expression with an error is a value with the whole model API: the misspelt
// activation is the only error.
fn main() -> Result<(), Error> {
    let mut net = model!(#[seed = 7] Input(4, 2) => GRU(3) => Dense(1, sigmod));
    let x = vec![vec![vec![0.5f32, -0.5]; 4]; 8];
    let y = vec![1.0f32; 8];
    println!("{}", net.predict(&x)?.main().data.len());
    net.compile(Loss::binary_crossentropy(), Sgd::new(0.1), &[]);
    let history = net.fit(&x, &y, Fit::new().batch_size(4).verbose(0))?;
    println!("{}", history.epochs());
    println!("{}", net.summary());
    let mut inner = net.into_inner();
    println!("{}", inner.evaluate(&x, &y, 4)?.loss());
    Ok(())
}
