//! Manager options (SPEC §3), validated once when a manager is made.

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::http::is_token;

/// Where the session id travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A cookie (`Cookie` request header, `Set-Cookie` response header).
    Cookie,
    /// The query string of GET requests (see [`crate::Session::url`]).
    Get,
    /// A form field of POST requests (see [`crate::Session::form_field`]).
    Post,
}

impl FromStr for Transport {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cookie" => Ok(Transport::Cookie),
            "get" => Ok(Transport::Get),
            "post" => Ok(Transport::Post),
            other => Err(Error::config(
                "transport",
                format!("{other:?} is not one of \"cookie\", \"get\", \"post\""),
            )),
        }
    }
}

/// The cookie's SameSite attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax` (the default).
    Lax,
    /// `SameSite=None` (requires `secure`).
    None,
}

impl SameSite {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl FromStr for SameSite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "Strict" | "strict" => Ok(SameSite::Strict),
            "Lax" | "lax" => Ok(SameSite::Lax),
            "None" | "none" => Ok(SameSite::None),
            other => Err(Error::config(
                "samesite",
                format!("{other:?} is not one of \"Strict\", \"Lax\", \"None\""),
            )),
        }
    }
}

/// A site's session options. Every field has the default of SPEC §3.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Seconds of inactivity before a session expires (Spyce `session_expire`). Default 86400.
    pub expire: f64,
    /// Cookie Path; the session exists only under it (Spyce `session_path`). Default `/`.
    pub path: String,
    /// Cookie name. Default `spysession`.
    pub cookie_name: String,
    /// Query / form field name. Default `spysession`.
    pub param_name: String,
    /// Cookie Domain. Default none.
    pub domain: Option<String>,
    /// Cookie Secure. Default false.
    pub secure: bool,
    /// Cookie HttpOnly. Default true.
    pub httponly: bool,
    /// Cookie SameSite. Default Lax.
    pub samesite: Option<SameSite>,
    /// Where to look for the id, in order. Default cookie only.
    pub transports: Vec<Transport>,
    /// Refuse ids the store does not know (a new one is issued). Default true.
    pub strict: bool,
    /// Absolute cap on a session's age, seconds. Default none.
    pub max_lifetime: Option<f64>,
    /// Least time between two expiry rewrites of an unchanged session.
    /// Default `expire / 100`; 0 touches on every request.
    pub touch_interval: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            expire: 86_400.0,
            path: "/".into(),
            cookie_name: "spysession".into(),
            param_name: "spysession".into(),
            domain: None,
            secure: false,
            httponly: true,
            samesite: Some(SameSite::Lax),
            transports: vec![Transport::Cookie],
            strict: true,
            max_lifetime: None,
            touch_interval: None,
        }
    }
}

impl Options {
    /// Refuses any value that is out of range or could split a header; the
    /// error names the option.
    pub fn validate(&self) -> Result<()> {
        check_seconds("expire", self.expire)?;
        check_path("path", &self.path)?;
        if !is_token(&self.cookie_name) {
            return Err(Error::config(
                "cookie_name",
                "must be a non-empty HTTP token",
            ));
        }
        if !is_token(&self.param_name) {
            return Err(Error::config(
                "param_name",
                "must be a non-empty HTTP token",
            ));
        }
        if let Some(domain) = &self.domain {
            let ok = !domain.is_empty()
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !ok {
                return Err(Error::config(
                    "domain",
                    "must be a host name (letters, digits, '.', '-')",
                ));
            }
        }
        self.check_cookie_prefix(&self.path)?;
        if self.samesite == Some(SameSite::None) && !self.secure {
            return Err(Error::config(
                "samesite",
                "\"None\" requires secure=True (browsers refuse it otherwise)",
            ));
        }
        if self.transports.is_empty() {
            return Err(Error::config(
                "transport",
                "at least one transport is needed",
            ));
        }
        if let Some(t) = self.max_lifetime {
            check_seconds("max_lifetime", t)?;
        }
        if let Some(t) = self.touch_interval {
            check_seconds("touch_interval", t)?;
        }
        Ok(())
    }

    /// The rules of the cookie-name prefixes (RFC 6265bis §4.1.3): a
    /// `__Secure-` cookie needs `secure`; a `__Host-` cookie needs `secure`,
    /// no `domain` and the path `/` (`path` is the site's or a page's
    /// session path). A browser drops a prefixed cookie that breaks them, so
    /// every session would silently be new. Prefixes are matched ignoring
    /// ASCII case, as current browsers do.
    fn check_cookie_prefix(&self, path: &str) -> Result<()> {
        let name = self.cookie_name.as_bytes();
        let starts = |prefix: &str| {
            name.len() >= prefix.len()
                && name[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        };
        let host = starts("__Host-");
        if !(host || starts("__Secure-")) {
            return Ok(());
        }
        let kind = if host { "__Host-" } else { "__Secure-" };
        let why = if !self.secure {
            format!("a {kind} cookie needs secure=True")
        } else if host && self.domain.is_some() {
            "a __Host- cookie may not have a domain".to_owned()
        } else if host && path != "/" {
            format!("a __Host- cookie needs the path \"/\", not {path:?}")
        } else {
            return Ok(());
        };
        Err(Error::config(
            "cookie_name",
            format!("{why} (browsers refuse it otherwise)"),
        ))
    }

    /// Checks a page's session path (it overrides `path` for one request):
    /// a well-formed cookie path, and `/` for a `__Host-` cookie.
    pub(crate) fn check_session_path(&self, path: &str) -> Result<()> {
        check_path("session_path", path)?;
        self.check_cookie_prefix(path)
            .map_err(|_| Error::config("session_path", "a __Host- cookie needs the path \"/\""))
    }

    /// The touch interval in effect.
    pub fn effective_touch_interval(&self, expire: f64) -> f64 {
        self.touch_interval.unwrap_or(expire / 100.0)
    }
}

/// Refuses negative, infinite and NaN durations.
pub(crate) fn check_seconds(option: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            option,
            format!("must be a finite number of seconds >= 0, not {value}"),
        ))
    }
}

/// A cookie path: starts with `/`, printable ASCII, no `;`.
pub(crate) fn check_path(option: &'static str, path: &str) -> Result<()> {
    if !path.starts_with('/') {
        return Err(Error::config(option, "must start with '/'"));
    }
    if let Some(bad) = path
        .chars()
        .find(|&c| c == ';' || !(' '..='~').contains(&c))
    {
        return Err(Error::config(option, format!("may not contain {bad:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(options: Options) -> &'static str {
        match options.validate() {
            Err(Error::Config { option, .. }) => option,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        Options::default().validate().unwrap();
    }

    #[test]
    fn bad_values_name_their_option() {
        let d = Options::default;
        assert_eq!(
            refused(Options {
                expire: -1.0,
                ..d()
            }),
            "expire"
        );
        assert_eq!(
            refused(Options {
                expire: f64::NAN,
                ..d()
            }),
            "expire"
        );
        assert_eq!(
            refused(Options {
                path: "/a;b".into(),
                ..d()
            }),
            "path"
        );
        assert_eq!(
            refused(Options {
                path: "/a\r\nSet-Cookie: x".into(),
                ..d()
            }),
            "path"
        );
        assert_eq!(
            refused(Options {
                path: "a".into(),
                ..d()
            }),
            "path"
        );
        assert_eq!(
            refused(Options {
                domain: Some("x.com; a".into()),
                ..d()
            }),
            "domain"
        );
        assert_eq!(
            refused(Options {
                cookie_name: "a b".into(),
                ..d()
            }),
            "cookie_name"
        );
        assert_eq!(
            refused(Options {
                param_name: "".into(),
                ..d()
            }),
            "param_name"
        );
        assert_eq!(
            refused(Options {
                samesite: Some(SameSite::None),
                ..d()
            }),
            "samesite"
        );
        assert_eq!(
            refused(Options {
                transports: vec![],
                ..d()
            }),
            "transport"
        );
        assert_eq!(
            refused(Options {
                touch_interval: Some(-1.0),
                ..d()
            }),
            "touch_interval"
        );
        assert_eq!(
            refused(Options {
                max_lifetime: Some(-5.0),
                ..d()
            }),
            "max_lifetime"
        );
        assert!("bogus".parse::<Transport>().is_err());
        assert!("Sometimes".parse::<SameSite>().is_err());
    }

    #[test]
    fn cookie_prefixes_need_their_attributes() {
        let named = |name: &str| Options {
            cookie_name: name.into(),
            secure: true,
            ..Options::default()
        };
        // Allowed: each prefix with what it needs.
        named("__Host-id").validate().unwrap();
        named("__Secure-id").validate().unwrap();
        Options {
            domain: Some("example.com".into()),
            path: "/app".into(),
            ..named("__Secure-id")
        }
        .validate()
        .unwrap();
        // Refused, naming cookie_name, with the missing attribute in the message.
        let cases = [
            (
                Options {
                    secure: false,
                    ..named("__Host-id")
                },
                "secure",
            ),
            (
                Options {
                    secure: false,
                    ..named("__Secure-id")
                },
                "secure",
            ),
            (
                Options {
                    secure: false,
                    ..named("__secure-id")
                },
                "secure",
            ),
            (
                Options {
                    domain: Some("example.com".into()),
                    ..named("__Host-id")
                },
                "domain",
            ),
            (
                Options {
                    path: "/app".into(),
                    ..named("__HOST-id")
                },
                "path",
            ),
        ];
        for (options, missing) in cases {
            match options.validate() {
                Err(Error::Config { option, message }) => {
                    assert_eq!(option, "cookie_name");
                    assert!(message.contains(missing), "{message}");
                }
                other => panic!("{:?} not refused: {other:?}", options.cookie_name),
            }
        }
        // A name that only contains a prefix is not prefixed.
        Options {
            cookie_name: "x__Host-".into(),
            ..Options::default()
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn a_page_path_cannot_break_a_host_cookie() {
        let host = Options {
            cookie_name: "__Host-id".into(),
            secure: true,
            ..Options::default()
        };
        host.check_session_path("/").unwrap();
        assert!(matches!(
            host.check_session_path("/app"),
            Err(Error::Config {
                option: "session_path",
                ..
            })
        ));
        Options::default().check_session_path("/app").unwrap();
    }
}
