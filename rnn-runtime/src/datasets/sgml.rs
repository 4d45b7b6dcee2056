//! A small tokenizer for the SGML of Reuters-21578: start tags with quoted attributes, end
//! tags, declarations, text, and character references.
//!
//! It is not a general SGML parser (no DTD, no omitted tags, no marked sections); the
//! collection needs none of that, and whatever it does not recognise is an error with a line
//! number rather than a guess. General-purpose XML crates reject the files (they are not
//! well-formed XML: no root element, `&#2;`-style control characters).

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Not yet converted to checked forms (issue 12): offsets into strings and \
              buffers this module built itself"
)]

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
    src: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Tokens {
            src,
            pos: 0,
            line: 1,
        }
    }

    /// The line the next token starts on.
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    fn advance(&mut self, to: usize) -> &'a str {
        let s = &self.src[self.pos..to];
        self.line += s.bytes().filter(|&b| b == b'\n').count();
        self.pos = to;
        s
    }
}

fn is_tag_start(rest: &[u8]) -> bool {
    rest.len() >= 2
        && rest[0] == b'<'
        && (rest[1].is_ascii_alphabetic() || rest[1] == b'/' || rest[1] == b'!')
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.src.as_bytes();
        if self.pos >= bytes.len() {
            return None;
        }
        let line = self.line;
        if !is_tag_start(&bytes[self.pos..]) {
            let mut end = self.pos + 1;
            while end < bytes.len() && !is_tag_start(&bytes[end..]) {
                end += 1;
            }
            let text = self.advance(end);
            return Some(Ok(Token::Text { text, line }));
        }
        let Some(close) = self.src[self.pos..].find('>').map(|i| self.pos + i) else {
            self.pos = bytes.len();
            return Some(Err(
                "a tag is not closed with `>` before the end of the file (is the file truncated?)"
                    .to_string(),
            ));
        };
        let tag = self.advance(close + 1);
        let inner = &tag[1..tag.len() - 1];
        Some(Ok(if inner.starts_with('!') {
            Token::Declaration
        } else if let Some(name) = inner.strip_prefix('/') {
            Token::Close {
                name: name.trim(),
                line,
            }
        } else {
            let split = inner
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(inner.len());
            Token::Open {
                name: &inner[..split],
                attrs: &inner[split..],
                line,
            }
        }))
    }
}

/// `NAME="value"` pairs of a start tag.
pub(crate) fn attributes(attrs: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = attrs.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("attribute `{rest}` has no value"))?;
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let value_and_rest = after
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of attribute {name} is not quoted"))?;
        let end = value_and_rest
            .find('"')
            .ok_or_else(|| format!("the value of attribute {name} is not closed"))?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("bad attribute name `{name}`"));
        }
        out.push((name, &value_and_rest[..end]));
        rest = value_and_rest[end + 1..].trim_start();
    }
    Ok(out)
}

/// Appends `text` to `out` with character references resolved. Control characters (the
/// collection's `&#2;`, `&#3;`, `&#5;` ... transmission codes) are dropped, except tab and
/// newline; unknown references are kept as written.
pub(crate) fn decode(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let reference = rest
            .find(';')
            .filter(|&semi| semi <= 8)
            .map(|semi| (&rest[1..semi], semi + 1));
        let resolved = reference.and_then(|(name, len)| {
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
            Some((c, len))
        });
        match resolved {
            Some((c, len)) => {
                if !c.is_control() || c == '\n' || c == '\t' {
                    out.push(c);
                }
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
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
}
