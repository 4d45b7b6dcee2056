//! A small tokenizer for the SGML of Reuters-21578: start tags with quoted attributes, end
//! tags, declarations, text, and character references.
//!
//! It is not a general SGML parser (no DTD, no omitted tags, no marked sections); the
//! collection needs none of that, and whatever it does not recognise is an error with a line
//! number rather than a guess. General-purpose XML crates reject the files (they are not
//! well-formed XML: no root element, `&#2;`-style control characters).

/// One piece of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `<NAME attributes>`; the attributes are parsed on demand by [`attributes`].
    Open {
        name: &'a str,
        attrs: &'a str,
        line: usize,
    },
    /// `</NAME>`.
    Close { name: &'a str, line: usize },
    /// `<!...>`.
    Declaration,
    /// Character data, still with its references (`&lt;`, `&#3;`); see [`decode`].
    Text { text: &'a str, line: usize },
}

/// Splits `src` into tokens. A `<` not followed by a letter, `/` or `!` is text.
pub(crate) struct Tokens<'a> {
    /// What is left to read.
    rest: &'a str,
    line: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Tokens { rest: src, line: 1 }
    }

    /// The line the next token starts on.
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// Moves past `read`, a piece taken from the front of the input, counting its lines.
    fn advance(&mut self, read: &str, rest: &'a str) {
        let lines = read.bytes().filter(|&b| b == b'\n').count();
        // Line numbers count lines of a string in memory.
        self.line = self.line.saturating_add(lines);
        self.rest = rest;
    }
}

fn is_tag_start(rest: &[u8]) -> bool {
    matches!(rest, [b'<', c, ..] if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!')
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let src = self.rest;
        if src.is_empty() {
            return None;
        }
        let line = self.line;
        if !is_tag_start(src.as_bytes()) {
            // Text runs to the next tag (a `<`, so a character boundary) or the end.
            let end = src
                .match_indices('<')
                .map(|(i, _)| i)
                .find(|&i| src.as_bytes().get(i..).is_some_and(is_tag_start))
                .unwrap_or(src.len());
            let (text, rest) = src.split_at_checked(end).unwrap_or((src, ""));
            self.advance(text, rest);
            return Some(Ok(Token::Text { text, line }));
        }
        let Some((tag, rest)) = src.split_once('>') else {
            self.rest = "";
            return Some(Err(
                "a tag is not closed with `>` before the end of the file (is the file truncated?)"
                    .to_string(),
            ));
        };
        self.advance(tag, rest);
        let inner = tag.strip_prefix('<').unwrap_or(tag);
        Some(Ok(if inner.starts_with('!') {
            Token::Declaration
        } else if let Some(name) = inner.strip_prefix('/') {
            Token::Close {
                name: name.trim(),
                line,
            }
        } else {
            let (name, attrs) = inner
                .find(|c: char| c.is_ascii_whitespace())
                .and_then(|split| inner.split_at_checked(split))
                .unwrap_or((inner, ""));
            Token::Open { name, attrs, line }
        }))
    }
}

/// `NAME="value"` pairs of a start tag.
pub(crate) fn attributes(attrs: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = attrs.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("attribute `{rest}` has no value"))?;
        let name = name.trim();
        let value_and_rest = after
            .trim_start()
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of attribute {name} is not quoted"))?;
        let (value, after) = value_and_rest
            .split_once('"')
            .ok_or_else(|| format!("the value of attribute {name} is not closed"))?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("bad attribute name `{name}`"));
        }
        out.push((name, value));
        rest = after.trim_start();
    }
    Ok(out)
}

/// Appends `text` to `out` with character references resolved. Control characters (the
/// collection's `&#2;`, `&#3;`, `&#5;` ... transmission codes) are dropped, except tab and
/// newline; unknown references are kept as written.
pub(crate) fn decode(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some((before, after_amp)) = rest.split_once('&') {
        out.push_str(before);
        // A reference is at most 8 bytes with its `&` and `;`.
        let resolved = after_amp
            .find(';')
            .filter(|&semi| semi < 8)
            .and_then(|semi| after_amp.split_at_checked(semi))
            .and_then(|(name, tail)| {
                let c = match name {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => name
                        .strip_prefix('#')
                        .and_then(|n| n.parse::<u32>().ok())
                        .and_then(char::from_u32),
                }?;
                Some((c, tail.strip_prefix(';')?))
            });
        match resolved {
            Some((c, tail)) => {
                if !c.is_control() || c == '\n' || c == '\t' {
                    out.push(c);
                }
                rest = tail;
            }
            None => {
                out.push('&');
                rest = after_amp;
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_lines() {
        let src = "<!DOCTYPE x>\n<A B=\"1\">t &lt; u\n<C></C></A>a < b";
        let tokens: Vec<_> = Tokens::new(src).collect::<Result<_, _>>().unwrap();
        assert_eq!(tokens[0], Token::Declaration);
        assert_eq!(
            tokens[2],
            Token::Open {
                name: "A",
                attrs: " B=\"1\"",
                line: 2
            }
        );
        assert_eq!(
            tokens[4],
            Token::Open {
                name: "C",
                attrs: "",
                line: 3
            }
        );
        assert_eq!(
            tokens.last(),
            Some(&Token::Text {
                text: "a < b",
                line: 3
            })
        );
        let mut tokens = Tokens::new("x\n<A");
        assert!(tokens.next().unwrap().is_ok());
        assert!(
            tokens
                .next()
                .unwrap()
                .unwrap_err()
                .contains("not closed with `>`")
        );
        assert_eq!(tokens.line(), 2);
    }

    #[test]
    fn attributes_are_quoted_pairs() {
        assert_eq!(
            attributes(" TOPICS=\"YES\" NEWID=\"1\"  ").unwrap(),
            vec![("TOPICS", "YES"), ("NEWID", "1")]
        );
        assert!(attributes(" NEWID=1").unwrap_err().contains("not quoted"));
        assert!(attributes(" NEWID=\"1").unwrap_err().contains("not closed"));
        assert!(attributes(" NEWID").unwrap_err().contains("no value"));
    }

    #[test]
    fn references() {
        let mut s = String::new();
        decode("&#2;A &lt;B&gt; &amp; C&#3;\n&#5;&#127;&nbsp; & x", &mut s);
        assert_eq!(s, "A <B> & C\n&nbsp; & x");
    }

    #[test]
    fn text_ends_at_a_tag_after_multibyte_characters() {
        let tokens: Vec<_> = Tokens::new("é<b>ü &#x;&#99999999;& <").collect();
        assert_eq!(tokens.len(), 3, "{tokens:?}");
        assert_eq!(
            tokens[0],
            Ok(Token::Text {
                text: "é", line: 1
            })
        );
        let Ok(Token::Text { text, .. }) = tokens[2] else {
            panic!("{tokens:?}");
        };
        let mut s = String::new();
        decode(text, &mut s);
        assert_eq!(s, "ü &#x;&#99999999;& <");
        // Cut-off input: every prefix is text, tokens or an error, never a panic.
        let src = "<R A=\"é\">&lt;ü</R>";
        for end in (0..=src.len()).filter(|&i| src.is_char_boundary(i)) {
            for token in Tokens::new(&src[..end]) {
                if let Ok(Token::Open { attrs, .. }) = token {
                    let _ = attributes(attrs);
                }
            }
        }
    }
}
