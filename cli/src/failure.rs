//! The one error type of the command: a message for the operator, with the
//! cause kept so it is printed too.

use std::error::Error;
use std::fmt;

/// Why a command failed (exit code 1).
#[derive(Debug)]
pub struct Failure {
    message: String,
    cause: Option<Box<dyn Error + Send + Sync>>,
}

impl Failure {
    /// A failure explained by `message` alone.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            cause: None,
        }
    }

    /// A failure explained by `message`, caused by `cause`.
    pub fn caused(message: impl Into<String>, cause: impl Error + Send + Sync + 'static) -> Self {
        Failure {
            message: message.into(),
            cause: Some(Box::new(cause)),
        }
    }

    /// True when writing the output failed because its reader went away.
    pub fn is_broken_pipe(&self) -> bool {
        self.cause
            .as_deref()
            .and_then(|e| e.downcast_ref::<std::io::Error>())
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.message.clone();
        let mut cause: Option<&(dyn Error + 'static)> = match &self.cause {
            Some(e) => Some(e.as_ref()),
            None => None,
        };
        while let Some(e) = cause {
            // Wrapping errors often repeat their source's message (an I/O
            // error around a Redis error around an OS error): say it once.
            let said = e.to_string();
            if !text.contains(&said) {
                text.push_str(": ");
                text.push_str(&said);
            }
            cause = e.source();
        }
        f.write_str(&text)
    }
}

impl From<std::io::Error> for Failure {
    /// An error writing the command's output.
    fn from(e: std::io::Error) -> Self {
        Failure::caused("cannot write the output", e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::caused("cannot write the JSON output", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_repeated_by_its_wrapper_is_said_once() {
        let os = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let wrapped = std::io::Error::other(os);
        let failure = Failure::caused("cannot reach Redis", wrapped);
        let text = failure.to_string();
        assert_eq!(text.matches("refused").count(), 1, "{text}");
        assert!(text.starts_with("cannot reach Redis: "), "{text}");
    }
}
