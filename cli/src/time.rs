//! Unix seconds as ISO 8601 UTC text, without a calendar dependency.

/// `t` (Unix seconds) as `YYYY-MM-DDTHH:MM:SSZ`; a time outside years
/// 0..=9999 (or not a number) is written as the plain number instead.
pub fn iso(t: f64) -> String {
    if !(-62_167_219_200.0..253_402_300_800.0).contains(&t) {
        return format!("{t}");
    }
    let secs = t.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = spysession_core::http::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::iso;

    #[test]
    fn known_instants() {
        assert_eq!(iso(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(iso(1_700_000_000.9), "2023-11-14T22:13:20Z");
        assert_eq!(iso(-1.0), "1969-12-31T23:59:59Z");
        assert_eq!(iso(253_402_300_799.0), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn out_of_range_is_the_number() {
        assert_eq!(iso(f64::INFINITY), "inf");
        assert_eq!(iso(1e300), format!("{}", 1e300));
        assert_eq!(iso(f64::NAN), "NaN");
    }
}
