//! The data sets of `rnn::datasets`: what each loader returns, with counts.
//!
//! The sarcasm headlines and *Alice* ship with the crate and always load. IMDB, Reuters-21578
//! and the Irish lyrics are read from the cache directory (`RNN_DATA`, else e.g.
//! `~/.cache/rnn`); IMDB is downloaded there on first use (84 MB), the other two must be put
//! there by hand, and the example says so when they are missing. With the project's shared
//! data folder: `RNN_DATA=../shared/data cargo run --release --example datasets`.

use rnn::datasets::{Cache, Imdb, Reuters, Sarcasm, alice, irish_lyrics, reuters};

fn main() -> Result<(), rnn::Error> {
    let headlines = Sarcasm::load(None)?;
    let sarcastic = headlines.labels.iter().filter(|&&l| l == 1).count();
    println!(
        "sarcasm: {} headlines, {sarcastic} sarcastic; e.g. {:?}",
        headlines.len(),
        headlines.texts[0]
    );
    let (train, test) = headlines.split(Sarcasm::TRAINING_SIZE);
    println!("  course split: {} train, {} test", train.len(), test.len());

    let book = alice::load(None)?;
    let text = alice::strip_gutenberg(&book);
    let mut chars: Vec<char> = text.chars().collect();
    let len = chars.len();
    chars.sort_unstable();
    chars.dedup();
    println!(
        "alice: {len} characters, {} distinct, {} lines",
        chars.len(),
        text.lines().count()
    );

    let cache = Cache::from_env()?;
    println!("cache directory: {}", cache.dir().display());
    let have = |dir: &str, file: &str| cache.dir().join(dir).join(file).exists();

    if cache.find(&rnn::datasets::imdb::REMOTE).is_some()
        || std::env::var_os("RNN_DOWNLOAD").is_some()
    {
        let mut imdb = Imdb::load(None)?;
        imdb.train.replace_br_tags();
        let positive = imdb.train.labels.iter().filter(|&&l| l == 1).count();
        println!(
            "imdb: {} train ({positive} positive), {} test; e.g. {:.70}...",
            imdb.train.len(),
            imdb.test.len(),
            imdb.train.texts[0]
        );
    } else {
        println!(
            "imdb: not in the cache; set RNN_DOWNLOAD=1 to download it (84 MB) to {}",
            cache.path_of(&rnn::datasets::imdb::REMOTE).display()
        );
    }

    if have("reuters21578", &reuters::file_name(0)) || have("reuters21578", reuters::REMOTE.file) {
        let r = Reuters::load(None)?;
        println!(
            "reuters: {} train, {} test, {} topics, most frequent {:?}",
            r.train.len(),
            r.test.len(),
            r.topics.len(),
            &r.topics[..3]
        );
    } else {
        println!(
            "reuters: put the .sgm files or {} in {}",
            reuters::REMOTE.file,
            cache.dir().join("reuters21578").display()
        );
    }

    if cache.find(&irish_lyrics::REMOTE).is_some() {
        let lines = irish_lyrics::load(None)?;
        println!("irish lyrics: {} lines; first {:?}", lines.len(), lines[0]);
    } else {
        println!(
            "irish lyrics: put irish-lyrics-eof.txt at {}",
            cache.path_of(&irish_lyrics::REMOTE).display()
        );
    }
    Ok(())
}
