//! The HTTP pieces a session needs: reading ids out of a Cookie header, a
//! query string or a form body; RFC 6265 path-match; writing Set-Cookie.
//!
//! Input from the network is taken as bytes and never trusted: nothing here
//! panics on any input, and ids are validated before they go anywhere.

use std::cell::RefCell;

/// Values of every cookie called `name` in a Cookie header, in order.
///
/// Pairs are split on `;`, surrounding whitespace is trimmed and one pair of
/// double quotes around a value is removed. Values are not percent-decoded
/// (RFC 6265 gives cookie values no encoding). Pairs without `=` are skipped,
/// and so is every pair when `name` holds `=` or `;`, or starts or ends with
/// whitespace (no trimmed cookie name can).
pub fn cookie_values<'a>(header: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    let possible =
        !name.bytes().any(|b| b == b'=' || b == b';') && name.as_bytes() == trim(name.as_bytes());
    let mut rest = possible.then_some(header);
    std::iter::from_fn(move || loop {
        let text = rest?;
        let (pair, next) = match memchr::memchr(b';', text) {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        };
        rest = next;
        if let Some(value) = cookie_value(pair, name.as_bytes()) {
            return Some(value);
        }
    })
}

/// The value of one `name=value` pair, if its name is `name`. (The name is
/// matched as a prefix, so other cookies are passed over without scanning
/// for their `=`.)
fn cookie_value<'a>(pair: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let after_name = trim_start(pair).strip_prefix(name)?;
    let value = trim(trim_start(after_name).strip_prefix(b"=")?);
    Some(match value {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    })
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Values of every field called `name` in an urlencoded query string or
/// form body (`+` is a space, `%XX` is decoded), in order.
pub fn form_values(body: &[u8], name: &str) -> Vec<String> {
    form_urlencoded::parse(body)
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// RFC 6265 §5.1.4 path-match: does `request_path` fall under `cookie_path`?
pub fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    // The query, if a caller passed a whole request target, is not part of the path.
    let request_path = request_path.split(['?', '#']).next().unwrap_or("");
    let request_path = if request_path.is_empty() {
        "/"
    } else {
        request_path
    };
    if request_path == cookie_path {
        return true;
    }
    request_path.starts_with(cookie_path)
        && (cookie_path.ends_with('/')
            || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/'))
}

/// The IMF-fixdate form of a Unix time (`Thu, 01 Jan 1970 00:00:00 GMT`),
/// as Set-Cookie's Expires wants it.
pub fn http_date(unix_seconds: f64) -> String {
    let mut out = String::with_capacity(29);
    push_http_date(&mut out, unix_seconds);
    out
}

thread_local! {
    /// The last date written by this thread: a server sends the same
    /// Expires second to every request of that second.
    static LAST_HTTP_DATE: RefCell<(i64, String)> = const { RefCell::new((-1, String::new())) };
}

/// Appends the IMF-fixdate of `unix_seconds` to `out` (no formatting
/// machinery, and cached per second: this runs on every commit that sends
/// a cookie).
fn push_http_date(out: &mut String, unix_seconds: f64) {
    let secs = if unix_seconds.is_finite() {
        unix_seconds.floor().max(0.0) as i64
    } else {
        0
    };
    let secs = secs.min(253_402_300_799); // 9999-12-31T23:59:59
    LAST_HTTP_DATE.with_borrow_mut(|(cached_secs, date)| {
        if *cached_secs != secs || date.is_empty() {
            date.clear();
            format_http_date(date, secs);
            *cached_secs = secs;
        }
        out.push_str(date);
    });
}

/// Writes the IMF-fixdate of `secs` (0 to 253402300799) to `out`.
fn format_http_date(out: &mut String, secs: i64) {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    out.push_str(WEEKDAYS[days.rem_euclid(7) as usize]);
    out.push_str(", ");
    push_digits(out, day as u64, 2);
    out.push(' ');
    out.push_str(MONTHS[(month - 1) as usize]);
    out.push(' ');
    push_digits(out, year as u64, 4);
    out.push(' ');
    push_digits(out, (rem / 3600) as u64, 2);
    out.push(':');
    push_digits(out, (rem / 60 % 60) as u64, 2);
    out.push(':');
    push_digits(out, (rem % 60) as u64, 2);
    out.push_str(" GMT");
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while n > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// Howard Hinnant's days-to-civil algorithm: days since 1970-01-01 to
/// (year, month 1-12, day 1-31) in the proleptic Gregorian calendar.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The attributes of the session cookie; values were validated when the
/// manager was made, so none can split a header.
#[derive(Clone, Debug)]
pub struct CookieAttributes<'a> {
    /// Cookie name.
    pub name: &'a str,
    /// Path attribute.
    pub path: &'a str,
    /// Domain attribute.
    pub domain: Option<&'a str>,
    /// Secure flag.
    pub secure: bool,
    /// HttpOnly flag.
    pub httponly: bool,
    /// SameSite attribute value (`Strict`, `Lax`, `None`).
    pub samesite: Option<&'a str>,
}

/// A Set-Cookie value: `value` lives `max_age` seconds, until `expires`.
pub fn set_cookie(attrs: &CookieAttributes<'_>, value: &str, max_age: i64, expires: f64) -> String {
    set_cookie_with(attrs, |out| out.push_str(value), Some((max_age, expires)))
}

/// [`set_cookie`] with the value written by `value` (an id writes itself
/// without a string of its own); `lifetime` `None` writes neither Max-Age
/// nor Expires: a browser-session cookie, gone when the browser closes.
pub(crate) fn set_cookie_with(
    attrs: &CookieAttributes<'_>,
    value: impl FnOnce(&mut String),
    lifetime: Option<(i64, f64)>,
) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(attrs.name);
    out.push('=');
    value(&mut out);
    out.push_str("; Path=");
    out.push_str(attrs.path);
    if let Some(domain) = attrs.domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if let Some((max_age, expires)) = lifetime {
        out.push_str("; Max-Age=");
        push_digits(&mut out, max_age.max(0) as u64, 1);
        out.push_str("; Expires=");
        push_http_date(&mut out, expires);
    }
    if attrs.secure {
        out.push_str("; Secure");
    }
    if attrs.httponly {
        out.push_str("; HttpOnly");
    }
    if let Some(samesite) = attrs.samesite {
        out.push_str("; SameSite=");
        out.push_str(samesite);
    }
    out
}

/// True for an RFC 7230 token (cookie and field names).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_in_order_with_quotes_and_junk() {
        let header = b"a=1; spysession=\"x\" ;junk; spysession = y;=z;spysessionx=w";
        let found: Vec<_> = cookie_values(header, "spysession").collect();
        assert_eq!(found, vec![&b"x"[..], &b"y"[..]]);
        assert_eq!(cookie_values(b"", "a").count(), 0);
        assert_eq!(cookie_values(b"\xff\xfe=\x00", "a").count(), 0);
    }

    /// The definition `cookie_values` must agree with: split on `;`, the
    /// name is what precedes the first `=`, both sides trimmed.
    fn reference_cookie_values<'a>(header: &'a [u8], name: &'a str) -> Vec<&'a [u8]> {
        header
            .split(|&b| b == b';')
            .filter_map(|pair| {
                let eq = pair.iter().position(|&b| b == b'=')?;
                let (key, value) = (trim(&pair[..eq]), trim(&pair[eq + 1..]));
                (key == name.as_bytes()).then_some(match value {
                    [b'"', inner @ .., b'"'] => inner,
                    other => other,
                })
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn cookie_values_agree_with_the_definition(
            header in proptest::collection::vec(
                proptest::sample::select(b"ab =;\" \t\r\n\x0cx\xff".to_vec()), 0..40),
            name in "[ab=; ]{0,3}",
        ) {
            let found: Vec<&[u8]> = cookie_values(&header, &name).collect();
            if name.contains('=') || name.contains(';') {
                proptest::prop_assert!(found.is_empty());
            } else {
                proptest::prop_assert_eq!(found, reference_cookie_values(&header, &name));
            }
        }
    }

    #[test]
    fn form_values_decode_percent_and_plus() {
        assert_eq!(form_values(b"a=1&b=x+y%21&b=2", "b"), vec!["x y!", "2"]);
        assert!(form_values(b"%zz&&=", "a").is_empty());
    }

    #[test]
    fn path_match_follows_rfc6265() {
        assert!(path_matches("/myapp", "/myapp"));
        assert!(path_matches("/myapp/page", "/myapp"));
        assert!(path_matches("/myapp/page", "/myapp/"));
        assert!(!path_matches("/myapplication", "/myapp"));
        assert!(!path_matches("/other", "/myapp"));
        assert!(path_matches("/anything", "/"));
        assert!(path_matches("", "/"));
        assert!(path_matches("/myapp?x=1", "/myapp"));
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0.0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000.5), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(951_782_400.0), "Tue, 29 Feb 2000 00:00:00 GMT");
        // The per-second cache: same second again, then the next one.
        assert_eq!(http_date(951_782_400.9), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(951_782_401.0), "Tue, 29 Feb 2000 00:00:01 GMT");
        assert_eq!(http_date(f64::NAN), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1e300), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn set_cookie_carries_every_attribute() {
        let attrs = CookieAttributes {
            name: "sid",
            path: "/app",
            domain: Some("example.com"),
            secure: true,
            httponly: true,
            samesite: Some("Strict"),
        };
        assert_eq!(
            set_cookie(&attrs, "v", 60, 60.0),
            "sid=v; Path=/app; Domain=example.com; Max-Age=60; Expires=Thu, 01 Jan 1970 00:01:00 GMT; Secure; HttpOnly; SameSite=Strict"
        );
    }
}
