//! A store URL's options: the query string with the options given beside
//! it ([`Options`]), and the parsers of their values.

use std::borrow::Cow;
#[cfg(feature = "redis")]
use std::time::Duration;

use crate::error::{Error, Result};

/// `%XX` escapes decoded (`+` kept: this is a path, not a form).
pub(super) fn percent_decode<'a>(text: &'a str, option: &'static str) -> Result<Cow<'a, str>> {
    if !text.contains('%') {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => return Err(Error::config(option, "a % not followed by two hex digits")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| Error::config(option, "percent-escapes that are not UTF-8"))
}

pub(super) fn parse_bool(text: &str) -> std::result::Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got {text:?}")),
    }
}

pub(super) fn parse_count(text: &str) -> std::result::Result<usize, String> {
    text.parse::<usize>()
        .map_err(|_| format!("expected a whole number, got {text:?}"))
}

#[cfg(feature = "redis")]
pub(super) fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => {
            Duration::try_from_secs_f64(s).map_err(|_| format!("{text:?} seconds is too long"))
        }
        _ => Err(format!(
            "expected a number of seconds more than zero, got {text:?}"
        )),
    }
}

/// The options of one URL: its query, then the ones given beside it.
pub(super) struct Options<'a> {
    pairs: Vec<(String, String)>,
    shown: &'a str,
}

impl<'a> Options<'a> {
    pub(super) fn new(query: Option<&str>, extra: &[(&str, &str)], shown: &'a str) -> Result<Self> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(Error::config(
                    "url",
                    format!("option {name:?} given twice in {shown}"),
                ));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        for (name, value) in extra {
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = (*value).to_owned(),
                None => pairs.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        Ok(Options { pairs, shown })
    }

    /// Takes option `name` out, parsed by `parse`; a bad value is an error naming it.
    pub(super) fn parse<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        match self.take(name) {
            Some(text) => parse(&text)
                .map(Some)
                .map_err(|why| Error::config(name, why)),
            None => Ok(None),
        }
    }

    pub(super) fn take(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(i).1)
    }

    /// An error naming the first option nobody took.
    pub(super) fn finish(&self, known: &[&str]) -> Result<()> {
        match self.pairs.first() {
            Some((name, _)) => Err(Error::config(
                "url",
                format!(
                    "unknown option {name:?} for {} (known: {})",
                    self.shown,
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}
