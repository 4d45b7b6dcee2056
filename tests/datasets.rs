//! Data-set loaders: small files made here for every format and error path, a download
//! server on 127.0.0.1 for the cache, and the real files of `../shared/data` when they exist.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rnn::datasets::{
    Cache, DatasetError, Imdb, ImdbOptions, Remote, Reuters, ReutersOptions, Sarcasm, alice,
    cache::sha256_file, irish_lyrics, reuters,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-test-datasets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shared copy of a data set, or `None` with a note when `../shared/data` is absent.
fn shared(dir: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(dir);
    if path.exists() {
        Some(path)
    } else {
        println!(
            "skipped: {} does not exist (the real data sets live beside the repository)",
            path.display()
        );
        None
    }
}

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, *data).unwrap();
    }
    gzip(&tar.into_inner().unwrap())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Files left in `dir` (names), sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Text that does not compress much, so that cutting a gzip stream in half lands inside it.
fn noise(seed: u32, len: usize) -> String {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

/// A small archive with the aclImdb layout: two reviews per folder (ids 2 and 10, to check the
/// numeric order), plus members the loader must skip.
fn tiny_imdb(review_len: usize) -> Vec<u8> {
    let texts: Vec<(String, String)> = [
        ("aclImdb/train/pos/10_8.txt", 1),
        ("aclImdb/train/pos/2_10.txt", 2),
        ("aclImdb/train/neg/2_1.txt", 3),
        ("aclImdb/train/neg/10_4.txt", 4),
        ("aclImdb/test/pos/2_7.txt", 5),
        ("aclImdb/test/pos/10_9.txt", 6),
        ("aclImdb/test/neg/10_2.txt", 7),
        ("aclImdb/test/neg/2_3.txt", 8),
        ("aclImdb/train/unsup/0_0.txt", 9),
    ]
    .iter()
    .map(|&(p, seed)| {
        let text = if review_len == 0 {
            format!("review {p}<br /><br />end")
        } else {
            noise(seed, review_len)
        };
        (p.to_string(), text)
    })
    .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("aclImdb/README", b"Large Movie Review Dataset v1.0"),
        (
            "aclImdb/train/urls_pos.txt",
            b"http://www.imdb.com/title/tt0453418/usercomments",
        ),
    ];
    entries.extend(texts.iter().map(|(p, t)| (p.as_str(), t.as_bytes())));
    tar_gz(&entries)
}

fn any_count() -> ImdbOptions {
    ImdbOptions { per_folder: None }
}

// ---------------------------------------------------------------------------------------------
// IMDB on crafted archives

#[test]
fn imdb_reads_a_small_archive_in_split_label_id_order() {
    let bytes = tiny_imdb(0);
    let imdb = Imdb::from_reader(bytes.as_slice(), "tiny.tar.gz", &any_count()).unwrap();
    assert_eq!(imdb.train.ids, [2, 10, 2, 10]);
    assert_eq!(imdb.train.labels, [0, 0, 1, 1]);
    assert_eq!(imdb.train.ratings, [1, 4, 10, 8]);
    assert_eq!(imdb.test.ratings, [3, 2, 7, 9]);
    assert_eq!(
        imdb.train.texts[0],
        "review aclImdb/train/neg/2_1.txt<br /><br />end"
    );
    let mut test = imdb.test.clone();
    test.replace_br_tags();
    assert_eq!(test.texts[3], "review aclImdb/test/pos/10_9.txt  end");

    // The same archive from a file, with the published count check on.
    let dir = scratch("imdb-small");
    let path = dir.join("tiny.tar.gz");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(Imdb::load_with(Some(&path), &any_count()).unwrap(), imdb);
    let err = Imdb::load(Some(&path)).unwrap_err();
    assert_eq!(
        err,
        DatasetError::Count {
            file: path.display().to_string(),
            what: "reviews in train/neg".into(),
            expected: 12_500,
            actual: 2,
        }
    );
    assert!(
        err.to_string()
            .ends_with("expected 12500 reviews in train/neg, found 2")
    );
    assert_eq!(
        Imdb::load_with(
            Some(&path),
            &ImdbOptions {
                per_folder: Some(3)
            }
        )
        .unwrap_err()
        .to_string(),
        format!(
            "{}: expected 3 reviews in train/neg, found 2",
            path.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn imdb_truncated_archive_names_the_file_and_the_entry() {
    let bytes = tiny_imdb(20_000);
    for cut in [bytes.len() / 2, bytes.len() - 4] {
        let err = Imdb::from_reader(&bytes[..cut], "cut.tar.gz", &any_count()).unwrap_err();
        let DatasetError::Format {
            file,
            location,
            message,
        } = &err
        else {
            panic!("expected a format error, got {err:?}");
        };
        assert_eq!(file, "cut.tar.gz");
        assert!(location.contains("entry aclImdb/"), "{err}");
        assert!(message.contains("truncated or corrupt"), "{err}");
    }
    // A cut inside the gzip trailer: every review is complete, only the checksum is missing.
    let err = Imdb::from_reader(&bytes[..bytes.len() - 4], "cut.tar.gz", &any_count());
    assert!(err.is_err());
}

#[test]
fn imdb_corrupt_archive_is_an_error_not_a_partial_load() {
    let mut bytes = tiny_imdb(20_000);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let err = Imdb::from_reader(bytes.as_slice(), "bad.tar.gz", &any_count()).unwrap_err();
    assert!(
        matches!(&err, DatasetError::Format { file, .. } if file == "bad.tar.gz"),
        "{err:?}"
    );
    // Not a gzip file at all.
    let err = Imdb::from_reader(&b"<html>404</html>"[..], "page.tar.gz", &any_count()).unwrap_err();
    assert!(err.to_string().starts_with("page.tar.gz: "), "{err}");
}

#[test]
fn imdb_bad_member_names_and_contents() {
    let bytes = tar_gz(&[("aclImdb/train/pos/abc.txt", b"x")]);
    let err = Imdb::from_reader(bytes.as_slice(), "a.tar.gz", &any_count()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.tar.gz: entry aclImdb/train/pos/abc.txt: expected a file name `<id>_<rating>.txt`, got `abc.txt`"
    );
    let bytes = tar_gz(&[("aclImdb/test/neg/3_8.txt", b"x")]);
    let err = Imdb::from_reader(bytes.as_slice(), "a.tar.gz", &any_count()).unwrap_err();
    assert!(
        err.to_string().contains("rating 8 in a neg folder"),
        "{err}"
    );
    let bytes = tar_gz(&[("aclImdb/test/neg/3_1.txt", b"caf\xe9")]);
    let err = Imdb::from_reader(bytes.as_slice(), "a.tar.gz", &any_count()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.tar.gz: entry aclImdb/test/neg/3_1.txt: invalid UTF-8 at byte 3"
    );
    let bytes = tar_gz(&[
        ("aclImdb/test/neg/3_1.txt", b"x"),
        ("./aclImdb/test/neg/3_2.txt", b"y"),
    ]);
    let err = Imdb::from_reader(bytes.as_slice(), "a.tar.gz", &any_count()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.tar.gz: test/neg: review id 3 occurs twice"
    );
}

#[test]
fn imdb_missing_file_is_an_io_error_naming_it() {
    let err = Imdb::load(Some(Path::new("/nonexistent/aclImdb.tar.gz"))).unwrap_err();
    assert!(matches!(&err, DatasetError::Io { path, .. } if path == "/nonexistent/aclImdb.tar.gz"));
}

// ---------------------------------------------------------------------------------------------
// Sarcasm on crafted files

#[test]
fn sarcasm_csv_errors_name_the_file_and_line() {
    let dir = scratch("sarcasm");
    let path = dir.join("tiny.csv");
    std::fs::write(
        &path,
        "is_sarcastic,text\n0,\"a, quoted headline\"\n1,one,two\n",
    )
    .unwrap();
    let err = Sarcasm::load(Some(&path)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: line 3: expected 2 fields, found 3", path.display())
    );

    std::fs::write(&path, "is_sarcastic,text\n0,fine\n\"1\",ok\n2,bad label\n").unwrap();
    let err = Sarcasm::load(Some(&path)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: line 4: is_sarcastic must be 0 or 1, got `2`",
            path.display()
        )
    );

    std::fs::write(&path, "headline,is_sarcastic\nx,1\n").unwrap();
    let err = Sarcasm::load(Some(&path)).unwrap_err();
    assert!(
        err.to_string()
            .contains("line 1: expected the header `is_sarcastic,text`")
    );

    let gz = dir.join("tiny.csv.gz");
    std::fs::write(&gz, gzip(b"is_sarcastic,text\n1,\"multi\nline\"\n0,b\n")).unwrap();
    let data = Sarcasm::load(Some(&gz)).unwrap();
    assert_eq!(data.texts, ["multi\nline", "b"]);
    assert_eq!(data.labels, [1, 0]);
    let (train, test) = data.clone().split(5);
    assert_eq!((train.len(), test.len()), (2, 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sarcasm_bundled_copy_has_the_published_counts() {
    let data = Sarcasm::bundled().unwrap();
    assert_eq!(data.len(), Sarcasm::ROWS);
    let sarcastic = data.labels.iter().filter(|&&l| l == 1).count();
    assert_eq!((data.len() - sarcastic, sarcastic), (14_985, 11_724));
    assert_eq!(
        data.texts[0],
        "former versace store clerk sues over secret 'black code' for minority shoppers"
    );
    assert_eq!(
        data.texts[1],
        "the 'roseanne' revival catches up to our thorny political mood, for better and worse"
    );
    assert_eq!(
        data.texts.last().unwrap(),
        "gourmet gifts for the foodie 2014"
    );
    let longest = data
        .texts
        .iter()
        .map(|t| t.split_whitespace().count())
        .max();
    assert_eq!(longest, Some(39));
    let (train, test) = data.split(Sarcasm::TRAINING_SIZE);
    assert_eq!((train.len(), test.len()), (20_000, 6_709));
    assert_eq!(
        test.texts.last().unwrap(),
        "gourmet gifts for the foodie 2014"
    );
}

// ---------------------------------------------------------------------------------------------
// Reuters on crafted files

const DOCTYPE: &str = "<!DOCTYPE lewis SYSTEM \"lewis.dtd\">\n";

fn newswire(id: u32, topics_attr: &str, split: &str, topics: &[&str], title: &str) -> String {
    let d: String = topics.iter().map(|t| format!("<D>{t}</D>")).collect();
    format!(
        "<REUTERS TOPICS=\"{topics_attr}\" LEWISSPLIT=\"{split}\" CGISPLIT=\"TRAINING-SET\" \
         OLDID=\"{}\" NEWID=\"{id}\">\n<DATE>26-FEB-1987 15:01:01.79</DATE>\n\
         <TOPICS>{d}</TOPICS>\n<PLACES><D>usa</D></PLACES>\n<PEOPLE></PEOPLE>\n<ORGS></ORGS>\n\
         <EXCHANGES></EXCHANGES>\n<COMPANIES></COMPANIES>\n<UNKNOWN> \n&#5;&#5;&#5;C T\n</UNKNOWN>\n\
         <TEXT>&#2;\n<TITLE>{title}</TITLE>\n<DATELINE>    NEW YORK, Feb 26 - </DATELINE><BODY>Body \
         of {id} &lt;ABC&gt; &amp; co.\n Reuter\n&#3;</BODY></TEXT>\n</REUTERS>\n",
        id + 5000
    )
}

/// The 22 files of a tiny collection: the documents in `reut2-000.sgm` (and one in
/// `reut2-021.sgm`), the other files with the declaration only.
fn tiny_reuters(dir: &Path, first: &str) {
    for i in 0..reuters::FILES {
        let body = match i {
            0 => first.to_string(),
            21 => newswire(100, "YES", "TEST", &["acq"], "LAST ONE"),
            _ => String::new(),
        };
        std::fs::write(dir.join(reuters::file_name(i)), format!("{DOCTYPE}{body}")).unwrap();
    }
}

fn tiny_reuters_docs() -> String {
    [
        newswire(1, "YES", "TRAIN", &["earn"], "FIRST"),
        newswire(2, "YES", "TRAIN", &["acq", "earn"], "SECOND"),
        newswire(3, "YES", "TRAIN", &["earn"], "THIRD"),
        newswire(4, "YES", "TRAIN", &[], "NO TOPICS"),
        newswire(5, "NO", "TRAIN", &["earn"], "NOT MODAPTE"),
        newswire(6, "YES", "NOT-USED", &["earn"], "NOT USED"),
        newswire(7, "YES", "TEST", &["gold"], "RARE TOPIC"),
        newswire(8, "YES", "TEST", &["earn", "acq"], "TEST EARN"),
    ]
    .concat()
}

#[test]
fn reuters_mod_apte_selection_on_a_small_collection() {
    let dir = scratch("reuters-small");
    tiny_reuters(&dir, &tiny_reuters_docs());
    let docs = reuters::read_documents(Some(&dir)).unwrap();
    assert_eq!(docs.len(), 9);
    assert_eq!(docs[1].topics, ["acq", "earn"]);
    assert_eq!(docs[0].text(), "FIRST\nBody of 1 <ABC> & co.\n Reuter");

    let r = Reuters::load_with(Some(&dir), &ReutersOptions { num_topics: 2 }).unwrap();
    // earn is first in 2 training documents, acq in 1; gold (test only) is never counted.
    assert_eq!(r.topics, ["earn", "acq"]);
    assert_eq!(r.train.ids, [1, 2, 3]);
    assert_eq!(r.train.labels, [0, 1, 0]);
    assert_eq!(r.test.ids, [8, 100]);
    assert_eq!(r.test.labels, [0, 1]);
    assert_eq!(
        r.test.texts[1],
        "LAST ONE\nBody of 100 <ABC> & co.\n Reuter"
    );
    let one = Reuters::load_with(Some(&dir), &ReutersOptions { num_topics: 1 }).unwrap();
    assert_eq!(
        (one.train.ids.as_slice(), one.test.ids.as_slice()),
        (&[1, 3][..], &[8][..])
    );

    // The same collection as a .tar.gz archive.
    let files: Vec<(String, Vec<u8>)> = (0..reuters::FILES)
        .map(|i| {
            let name = reuters::file_name(i);
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("README.txt", b"Reuters-21578")];
    entries.extend(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let archive = dir.join("reuters21578.tar.gz");
    std::fs::write(&archive, tar_gz(&entries)).unwrap();
    let from_archive = Reuters::load_with(Some(&archive), &ReutersOptions { num_topics: 2 });
    assert_eq!(from_archive.unwrap(), r);

    // An archive without the last file.
    let archive = dir.join("partial.tar.gz");
    std::fs::write(&archive, tar_gz(&entries[..entries.len() - 1])).unwrap();
    let err = Reuters::load(Some(&archive)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: reut2-021.sgm: this file is missing from the archive",
            archive.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reuters_malformed_documents_name_file_and_newid() {
    let dir = scratch("reuters-bad");
    let file = dir.join("reut2-000.sgm").display().to_string();

    // Truncated: the last document is not closed, or the file ends inside a tag. Each
    // crafted newswire takes 17 lines after the declaration, so NEWID 8 starts on line 121.
    let docs = tiny_reuters_docs();
    tiny_reuters(&dir, docs.trim_end().strip_suffix("</REUTERS>").unwrap());
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{file}: NEWID 8, line 121: the document is not closed with </REUTERS> before the end \
             of the file (is the file truncated?)"
        )
    );
    tiny_reuters(&dir, docs.trim_end().strip_suffix("REUTERS>").unwrap());
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{file}: NEWID 8, line 137: a tag is not closed with `>` before the end of the file \
             (is the file truncated?)"
        )
    );

    // Misnested tags.
    let bad = newswire(9, "YES", "TRAIN", &["earn"], "T").replace("</TITLE>", "</BODY>");
    tiny_reuters(&dir, &bad);
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: NEWID 9, line 14: expected </TITLE>, found </BODY>")
    );

    // A NEWID that is not a number, and one missing.
    tiny_reuters(
        &dir,
        &newswire(9, "YES", "TRAIN", &[], "T").replace("NEWID=\"9\"", "NEWID=\"9a\""),
    );
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: line 2: NEWID `9a` is not a number")
    );
    tiny_reuters(
        &dir,
        &newswire(9, "YES", "TRAIN", &[], "T").replace(" NEWID=\"9\"", ""),
    );
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: line 2: <REUTERS> has no NEWID attribute")
    );

    // An unknown tag, and text outside any document.
    tiny_reuters(
        &dir,
        &newswire(9, "YES", "TRAIN", &[], "T").replace("<DATE>", "<DATUM>"),
    );
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: NEWID 9, line 3: unknown tag <DATUM>")
    );
    tiny_reuters(&dir, "stray words\n");
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: line 2: text outside a <REUTERS> document")
    );

    // The same NEWID in two files.
    tiny_reuters(&dir, &newswire(100, "YES", "TRAIN", &["acq"], "T"));
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert!(
        err.to_string()
            .contains("reut2-021.sgm: NEWID 100: this NEWID occurs twice"),
        "{err}"
    );

    // One file instead of the collection.
    let err = Reuters::load(Some(&dir.join("reut2-000.sgm"))).unwrap_err();
    assert!(
        err.to_string()
            .contains("pass the directory that holds them"),
        "{err}"
    );

    // A missing file.
    tiny_reuters(&dir, "");
    std::fs::remove_file(dir.join("reut2-005.sgm")).unwrap();
    let err = Reuters::load(Some(&dir)).unwrap_err();
    assert!(
        matches!(&err, DatasetError::Io { path, .. } if path.ends_with("reut2-005.sgm")),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Plain-text corpora

#[test]
fn alice_bundled_copy_and_gutenberg_boilerplate() {
    let text = alice::load(None).unwrap();
    assert_eq!(text.len(), 151_095);
    assert_eq!(text.chars().count(), 144_600);
    assert_eq!(text.matches('\n').count(), 3_379);
    assert!(text.starts_with("[Illustration]\n"));
    assert!(text.trim_end().ends_with("THE END"));
    assert_eq!(alice::strip_gutenberg(&text), text);

    let dir = scratch("alice");
    let path = dir.join("pg11.txt");
    let wrapped = format!(
        "\u{feff}The Project Gutenberg eBook of Alice's Adventures in Wonderland\r\n\r\n\
         *** START OF THE PROJECT GUTENBERG EBOOK ALICE'S ADVENTURES IN WONDERLAND ***\r\n\r\n\
         {}\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK ALICE'S ADVENTURES IN WONDERLAND ***\r\n\
         Updated editions will replace the previous one\r\n",
        text.trim_end().replace('\n', "\r\n")
    );
    std::fs::write(&path, &wrapped).unwrap();
    let read = alice::load(Some(&path)).unwrap();
    assert_eq!(
        alice::strip_gutenberg(&read).replace("\r\n", "\n"),
        text.trim_end()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn irish_lyrics_lines_as_the_course_splits_them() {
    let dir = scratch("irish");
    let path = dir.join("lyrics.txt");
    std::fs::write(&path, "Come all ye Maidens\r\nYoung and Fair\n\nCóta Mór").unwrap();
    let lines = irish_lyrics::load(Some(&path)).unwrap();
    assert_eq!(
        lines,
        ["come all ye maidens\r", "young and fair", "", "cóta mór"]
    );
    std::fs::write(&path, b"ok\n\xff\n").unwrap();
    let err = irish_lyrics::load(Some(&path)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: line 2: invalid UTF-8 at byte 3", path.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Cache and downloads, against a server on 127.0.0.1

/// A one-thread HTTP/1.1 server on 127.0.0.1 answering each request with the raw bytes
/// `respond` gives for its path, then closing the connection. Returns the base URL and the
/// number of requests served so far.
fn serve(respond: fn(&str) -> Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let served = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            served.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(&respond(&path));
            let _ = stream.flush();
        }
    });
    (base, count)
}

fn archive_body() -> Vec<u8> {
    tiny_imdb(0)
}

fn response(status: &str, length: usize, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn respond(path: &str) -> Vec<u8> {
    let body = archive_body();
    match path {
        "/aclImdb.tar.gz" => response("200 OK", body.len(), &body),
        // Announces more than it sends, then closes.
        "/cut.tar.gz" => response("200 OK", body.len() + 10_000, &body[..body.len() / 2]),
        _ => response("404 Not Found", 9, b"not found"),
    }
}

fn sha256_of(bytes: &[u8]) -> String {
    let dir = scratch("sha");
    let path = dir.join("f");
    std::fs::write(&path, bytes).unwrap();
    let digest = sha256_file(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    digest
}

#[test]
fn downloads_are_verified_cached_and_not_repeated() {
    let (base, requests) = serve(respond);
    let dir = scratch("download-ok");
    let cache = Cache::new(&dir);
    let url = format!("{base}/aclImdb.tar.gz");
    let digest = sha256_of(&archive_body());
    let remote = Remote {
        dir: "imdb",
        file: "aclImdb.tar.gz",
        url: &url,
        sha256: Some(&digest),
        also: &[],
    };
    assert_eq!(cache.find(&remote), None);
    let path = cache.fetch(&remote).unwrap();
    assert_eq!(path, dir.join("imdb/aclImdb.tar.gz"));
    assert_eq!(std::fs::read(&path).unwrap(), archive_body());
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert_eq!(files_in(&dir.join("imdb")), ["aclImdb.tar.gz"]);

    // Cached now: no second request.
    assert_eq!(cache.fetch(&remote).unwrap(), path);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    let imdb = Imdb::load_with(Some(&path), &any_count()).unwrap();
    assert_eq!(imdb.train.len(), 4);

    // A user-supplied digest, in upper case, for an entry without one.
    let unverified = Remote {
        sha256: None,
        file: "again.tar.gz",
        ..remote
    };
    let err = cache.fetch(&unverified).unwrap_err();
    assert!(matches!(err, DatasetError::NoChecksum { .. }), "{err:?}");
    assert!(
        err.to_string().contains("again.tar.gz does not exist"),
        "{err}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    let path = cache
        .fetch_verified(&unverified, &digest.to_uppercase())
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), archive_body());
    assert_eq!(requests.load(Ordering::SeqCst), 2);
    let err = cache
        .fetch_verified(
            &Remote {
                file: "x",
                ..unverified
            },
            "abc",
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("`abc` is not a SHA-256 digest"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_download_with_the_wrong_digest_leaves_nothing() {
    let (base, _) = serve(respond);
    let dir = scratch("download-sha");
    let url = format!("{base}/aclImdb.tar.gz");
    let wrong = "0".repeat(64);
    let remote = Remote {
        dir: "imdb",
        file: "aclImdb.tar.gz",
        url: &url,
        sha256: Some(&wrong),
        also: &[],
    };
    let err = Cache::new(&dir).fetch(&remote).unwrap_err();
    let dest = dir.join("imdb/aclImdb.tar.gz").display().to_string();
    assert_eq!(
        err,
        DatasetError::Checksum {
            url: url.clone(),
            dest: dest.clone(),
            expected: wrong.clone(),
            actual: sha256_of(&archive_body()),
        }
    );
    let message = err.to_string();
    assert!(message.contains(&url) && message.contains(&dest) && message.contains(&wrong));
    assert!(files_in(&dir.join("imdb")).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cut_off_download_leaves_nothing() {
    let (base, _) = serve(respond);
    let dir = scratch("download-cut");
    let url = format!("{base}/cut.tar.gz");
    let digest = sha256_of(&archive_body());
    let remote = Remote {
        dir: "imdb",
        file: "cut.tar.gz",
        url: &url,
        sha256: Some(&digest),
        also: &[],
    };
    let err = Cache::new(&dir).fetch(&remote).unwrap_err();
    let DatasetError::Download { message, .. } = &err else {
        panic!("expected a download error, got {err:?}");
    };
    let total = archive_body().len() + 10_000;
    assert!(
        message.starts_with("the transfer broke off after "),
        "{err}"
    );
    assert!(message.contains(&format!(" of {total}")), "{err}");
    assert!(err.to_string().contains("put it at"), "{err}");
    assert!(files_in(&dir.join("imdb")).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_url_is_a_clear_error() {
    let (base, _) = serve(respond);
    let dir = scratch("download-404");
    let url = format!("{base}/nothing-here.tar.gz");
    let digest = "0".repeat(64);
    let remote = Remote {
        dir: "imdb",
        file: "x.tar.gz",
        url: &url,
        sha256: Some(&digest),
        also: &[],
    };
    let err = Cache::new(&dir).fetch(&remote).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "downloading {url} failed: the server answered HTTP 404 Not Found; nothing was \
             written to the cache. To install the file by hand, download it and put it at {}",
            dir.join("imdb/x.tar.gz").display()
        )
    );
    assert!(files_in(&dir.join("imdb")).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn copies_placed_by_hand_are_found_under_their_other_names() {
    let dir = scratch("cache-also");
    std::fs::create_dir_all(dir.join("imdb")).unwrap();
    std::fs::write(dir.join("imdb/aclImdb_v1_labelled.tar.gz"), tiny_imdb(0)).unwrap();
    let cache = Cache::new(&dir);
    let found = cache.fetch(&rnn::datasets::imdb::REMOTE).unwrap();
    assert_eq!(found, dir.join("imdb/aclImdb_v1_labelled.tar.gz"));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The real files, when ../shared/data exists

#[test]
fn real_imdb() {
    let Some(dir) = shared("imdb") else { return };
    let imdb = Imdb::load(Some(&dir.join("aclImdb_v1_labelled.tar.gz"))).unwrap();
    for (split, pos_ratings, neg_ratings, pos_bytes, neg_bytes) in [
        (
            &imdb.train,
            [2_496, 3_009, 2_263, 4_732],
            [5_100, 2_284, 2_420, 2_696],
            16_842_831,
            16_289_992,
        ),
        (
            &imdb.test,
            [2_307, 2_850, 2_344, 4_999],
            [5_022, 2_302, 2_541, 2_635],
            16_283_357,
            16_067_328,
        ),
    ] {
        assert_eq!(split.len(), 25_000);
        let mut ratings: BTreeMap<(u32, u8), usize> = BTreeMap::new();
        let mut bytes = [0usize; 2];
        for i in 0..split.len() {
            *ratings
                .entry((split.labels[i], split.ratings[i]))
                .or_default() += 1;
            bytes[split.labels[i] as usize] += split.texts[i].len();
        }
        let neg: Vec<usize> = (1..=4).map(|r| ratings[&(0, r)]).collect();
        let pos: Vec<usize> = (7..=10).map(|r| ratings[&(1, r)]).collect();
        assert_eq!(
            (neg.as_slice(), pos.as_slice()),
            (&neg_ratings[..], &pos_ratings[..])
        );
        assert_eq!(bytes, [neg_bytes, pos_bytes]);
        assert_eq!(&split.labels[..2], [0, 0]);
        assert_eq!(split.ids[..3], [0, 1, 2]);
        assert_eq!(split.ids[12_499..12_501], [12_499, 0]);
        assert_eq!(split.labels[12_499..12_501], [0, 1]);
    }
    assert!(
        imdb.train.texts[0].starts_with("Story of a man who has unnatural feelings for a pig.")
    );
    assert_eq!(imdb.train.ratings[0], 3);
    assert!(imdb.train.texts[24_999].starts_with("I always feel strange and guilty saying it"));
    assert_eq!(imdb.train.ratings[24_999], 7);
    assert!(imdb.test.texts[0].starts_with("Once again Mr. Costner has dragged out a movie"));
    let with_br = imdb
        .train
        .texts
        .iter()
        .filter(|t| t.contains("<br />"))
        .count();
    assert!(
        with_br > 10_000,
        "{with_br} training reviews contain <br />"
    );
}

#[test]
fn real_sarcasm_matches_the_bundled_copy() {
    let Some(dir) = shared("sarcasm") else { return };
    let path = dir.join("Sarcasm_Headlines_Dataset.csv");
    assert_eq!(
        sha256_file(&path).unwrap(),
        "7f17ec26032b3e24a4427ccec6315c95fad854e6bc31e92fdf74a979ef30a373"
    );
    assert_eq!(
        Sarcasm::load(Some(&path)).unwrap(),
        Sarcasm::bundled().unwrap()
    );
}

#[test]
fn real_reuters() {
    let Some(dir) = shared("reuters21578") else {
        return;
    };
    let docs = reuters::read_documents(Some(&dir)).unwrap();
    assert_eq!(docs.len(), 21_578);
    let mut ids: Vec<u32> = docs.iter().map(|d| d.new_id).collect();
    ids.sort_unstable();
    assert!(ids.iter().copied().eq(1..=21_578));
    let with_topics: Vec<_> = docs.iter().filter(|d| !d.topics.is_empty()).collect();
    assert_eq!(with_topics.len(), 11_367);
    assert_eq!(
        with_topics.iter().filter(|d| d.topics.len() == 1).count(),
        9_494
    );
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &with_topics {
        *first.entry(d.topics[0].as_str()).or_default() += 1;
    }
    for (topic, n) in [
        ("earn", 3_972),
        ("acq", 2_423),
        ("money-fx", 682),
        ("crude", 543),
        ("grain", 537),
    ] {
        assert_eq!(first[topic], n, "{topic}");
    }
    let split = |train: bool| docs.iter().filter(move |d| d.mod_apte() == Some(train));
    assert_eq!((split(true).count(), split(false).count()), (9_603, 3_299));
    let topical = |train: bool| split(train).filter(|d| !d.topics.is_empty()).count();
    assert_eq!((topical(true), topical(false)), (7_775, 3_019));

    let r = Reuters::from_documents(&docs, &ReutersOptions::default());
    assert_eq!(r.topics.len(), 46);
    assert_eq!(
        &r.topics[..5],
        ["earn", "acq", "money-fx", "grain", "crude"]
    );
    assert_eq!((r.train.len(), r.test.len()), (7_701, 2_968));
    assert_eq!(r.train.ids[0], 1);
    assert_eq!(r.topics[r.train.labels[0] as usize], "cocoa");
    assert!(
        r.train.texts[0].starts_with("BAHIA COCOA REVIEW\nShowers continued throughout the week")
    );
    assert!(
        r.train
            .texts
            .iter()
            .chain(&r.test.texts)
            .all(|t| !t.is_empty())
    );
    assert!(
        r.train
            .texts
            .iter()
            .all(|t| !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
    );
    // Every kept topic occurs in training; label counts follow the topic order.
    let mut counts = vec![0usize; 46];
    for &l in &r.train.labels {
        counts[l as usize] += 1;
    }
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    // earn: the first topic of 2,866 ModApte training documents.
    assert_eq!(counts[0], 2_866);
    assert_eq!(Reuters::load(Some(&dir)).unwrap(), r);
}

#[test]
fn real_alice_matches_the_bundled_copy() {
    let Some(dir) = shared("alice") else { return };
    let path = dir.join("11-0.txt");
    assert_eq!(
        sha256_file(&path).unwrap(),
        "f17aa0bf7466424a8b357b688678666bad7a0148963ef349016a3098faa6bd1e"
    );
    assert_eq!(alice::load(Some(&path)).unwrap(), alice::bundled().unwrap());
}

#[test]
fn real_irish_lyrics() {
    let Some(dir) = shared("irish_lyrics") else {
        return;
    };
    let path = dir.join("irish-lyrics-eof.txt");
    let text = irish_lyrics::load_text(Some(&path)).unwrap();
    assert_eq!((text.len(), text.chars().count()), (68_969, 68_952));
    let lines = irish_lyrics::load(Some(&path)).unwrap();
    assert_eq!(lines.len(), 1_692);
    assert_eq!(lines[0], "come all ye maidens young and fair");
    assert_eq!(lines[1_691], "where wild mountain thyme");
    let words: std::collections::HashSet<&str> =
        lines.iter().flat_map(|l| l.split_whitespace()).collect();
    assert_eq!(words.len(), 3_258);
    assert_eq!(text.matches('\u{fffd}').count(), 2);
}
