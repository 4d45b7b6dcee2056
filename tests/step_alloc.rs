//! Stepping one row at a time allocates nothing, on any thread: the products of a model
//! large enough to be split between two threads (T3's character model), of a token model,
//! and of a general-path cell (GRU), at one and at two threads, through the step API and
//! through generation's one-hot steps.
//!
//! Its own test binary, because its allocator counts every thread's allocations while a
//! count runs, which other tests running beside it would disturb.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use rnn::generate::{OneHot, StepModel};
use rnn::prelude::*;

use counting_alloc::{Counting, allocations_on_every_thread};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

model! {
    struct Chars = Input(_, 56) => LSTM(256, return_sequences = true)
        => LSTM(256, return_sequences = true) => TimeDistributed(Dense(56, softmax));
}
model! { struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid); }
model! { struct Gru = Embedding(50, 16) => GRU(64) => Dense(50, softmax); }

/// One test, so that nothing else runs while it counts.
#[test]
fn single_row_steps_allocate_nothing_on_any_thread() {
    let chars = Chars::new(1);
    let quiz = Quiz::new(2);
    let gru = Gru::new(3);
    // The counter sees allocations, also on other threads.
    assert_eq!(
        allocations_on_every_thread(|| drop(std::hint::black_box(vec![1u8]))),
        1
    );
    let other = allocations_on_every_thread(|| {
        std::thread::spawn(|| drop(std::hint::black_box(vec![1u8])))
            .join()
            .unwrap()
    });
    assert!(other >= 2, "{other}");
    for threads in [1, 2] {
        rnn::set_num_threads(threads);
        let mut one_hot = [0.0f32; 56];
        let mut s_chars = chars.step_state(1).unwrap();
        let mut s_quiz = quiz.step_state(1).unwrap();
        let mut s_gru = gru.step_state(1).unwrap();
        let mut generator = OneHot::new(&chars);
        let mut s_gen = generator.start(1).unwrap();
        let mut run = |steps: u32| {
            for i in 0..steps {
                one_hot.fill(0.0);
                one_hot[(i * 7 % 56) as usize] = 1.0;
                chars.step(&mut s_chars, &one_hot).unwrap();
                quiz.step(&mut s_quiz, &[i * 31 % 5000]).unwrap();
                gru.step(&mut s_gru, &[i % 50]).unwrap();
                generator.feed(&mut s_gen, &[i % 56]).unwrap();
            }
        };
        // The first steps make what lives for the whole run (the panels, the pool).
        run(2);
        let n = allocations_on_every_thread(|| run(50));
        assert_eq!(n, 0, "{threads} thread(s): {n} allocations in 50 steps");
    }
    rnn::set_num_threads(0);
}
