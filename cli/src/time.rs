//! Unix seconds as ISO 8601 UTC text, without a calendar dependency.

/// `t` (Unix seconds) as `YYYY-MM-DDTHH:MM:SSZ`; a time outside years
/// 0..=9999 (or not a number) is written as the plain number instead.
pub fn iso(t: f64) -> String {
    if !(-62_167_219_200.0..253_402_300_800.0).contains(&t) {
        return format!("{t}");
    }
    let secs = t.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
