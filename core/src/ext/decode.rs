//! Reading ext data: [`ExtValue::decode`] and the strict checks of each
//! layout (lengths, ranges, minimal encodings), through a cursor that
//! turns running short into an [`ExtError`].

use super::{
    Date, DateTime, Decimal, ExtError, ExtValue, Time, TimeDelta, AWARE, DAY_MICROS, EXT_BIGINT,
    EXT_DATE, EXT_DATETIME, EXT_DECIMAL, EXT_FROZENSET, EXT_SET, EXT_TIME, EXT_TIMEDELTA,
    EXT_TUPLE, EXT_UUID, FOLD, PICKLE_TAG_LEN,
};
use crate::value::{Value, EXT_PICKLE};

impl ExtValue {
    /// The value an ext of `code` holds: `Ok(None)` for a code spysession
    /// does not define (an opaque ext), an [`ExtError`] when the data does
    /// not have the layout of its code.
    pub fn decode(code: i8, data: &[u8]) -> Result<Option<ExtValue>, ExtError> {
        let bad = |reason: &str| ExtError {
            code,
            reason: reason.to_owned(),
        };
        let mut r = Bytes { data, bad: &bad };
        let value = match code {
            EXT_PICKLE => {
                let tag = r.array::<PICKLE_TAG_LEN>()?;
                ExtValue::Pickle {
                    tag,
                    pickle: r.rest().to_vec(),
                }
            }
            EXT_TUPLE => ExtValue::Tuple(elements(r.rest(), &bad)?),
            EXT_SET => ExtValue::Set(elements(r.rest(), &bad)?),
            EXT_FROZENSET => ExtValue::FrozenSet(elements(r.rest(), &bad)?),
            EXT_DATETIME => {
                let date = r.date()?;
                ExtValue::DateTime(DateTime {
                    date,
                    time: r.time()?,
                })
            }
            EXT_DATE => ExtValue::Date(r.date()?),
            EXT_TIME => ExtValue::Time(r.time()?),
            EXT_TIMEDELTA => {
                let days = i32::from_be_bytes(r.array()?);
                let seconds = u32::from_be_bytes(r.array()?);
                let microseconds = u32::from_be_bytes(r.array()?);
                if !(-999_999_999..=999_999_999).contains(&days) {
                    return Err(bad("days out of range"));
                }
                if seconds >= 86_400 || microseconds >= 1_000_000 {
                    return Err(bad("seconds or microseconds out of range"));
                }
                ExtValue::TimeDelta(TimeDelta {
                    days,
                    seconds,
                    microseconds,
                })
            }
            EXT_UUID => ExtValue::Uuid(r.array()?),
            EXT_DECIMAL => ExtValue::Decimal(r.decimal()?),
            EXT_BIGINT => {
                check_bigint(data).map_err(bad)?;
                ExtValue::BigInt(r.rest().to_vec())
            }
            _ => return Ok(None),
        };
        if !r.data.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(Some(value))
    }
}

/// The elements of a tuple or set: exactly one MessagePack array.
fn elements(data: &[u8], bad: &dyn Fn(&str) -> ExtError) -> Result<Vec<Value>, ExtError> {
    match Value::from_msgpack(data) {
        Ok(Value::List(items)) => Ok(items),
        Ok(_) => Err(bad("not an array")),
        Err(e) => Err(bad(&e.to_string())),
    }
}

/// Minimal two's complement, and outside what MessagePack ints hold.
fn check_bigint(data: &[u8]) -> Result<(), &'static str> {
    if data.len() < 9 {
        return Err("fits in 64 bits (store it as a MessagePack int)");
    }
    let (first, second) = (data[0], data[1]);
    let redundant = (first == 0x00 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0);
    if redundant {
        return Err("not minimal (a redundant leading byte)");
    }
    if data.len() == 9 && first == 0x00 {
        return Err("fits in 64 bits unsigned (store it as a MessagePack int)");
    }
    Ok(())
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        _ => 28,
    }
}

/// A cursor over ext data that turns running short into an [`ExtError`].
struct Bytes<'a, 'b> {
    data: &'a [u8],
    bad: &'b dyn Fn(&str) -> ExtError,
}

impl<'a> Bytes<'a, '_> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ExtError> {
        if self.data.len() < N {
            return Err((self.bad)("too short"));
        }
        let (head, rest) = self.data.split_at(N);
        self.data = rest;
        Ok(head.try_into().expect("N bytes"))
    }

    fn byte(&mut self) -> Result<u8, ExtError> {
        Ok(self.array::<1>()?[0])
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    fn date(&mut self) -> Result<Date, ExtError> {
        let year = u16::from_be_bytes(self.array()?);
        let (month, day) = (self.byte()?, self.byte()?);
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err((self.bad)("year or month out of range"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err((self.bad)("no such day in that month"));
        }
        Ok(Date { year, month, day })
    }

    fn time(&mut self) -> Result<Time, ExtError> {
        let [hour, minute, second] = self.array()?;
        let microsecond = u32::from_be_bytes(self.array()?);
        let flags = self.byte()?;
        if hour > 23 || minute > 59 || second > 59 || microsecond > 999_999 {
            return Err((self.bad)("time of day out of range"));
        }
        if flags & !(FOLD | AWARE) != 0 {
            return Err((self.bad)("unknown flag bits"));
        }
        let utc_offset = if flags & AWARE != 0 {
            let offset = i64::from_be_bytes(self.array()?);
            if offset <= -DAY_MICROS || offset >= DAY_MICROS {
                return Err((self.bad)("UTC offset of a day or more"));
            }
            Some(offset)
        } else {
            None
        };
        Ok(Time {
            hour,
            minute,
            second,
            microsecond,
            fold: flags & FOLD != 0,
            utc_offset,
        })
    }

    fn decimal(&mut self) -> Result<Decimal, ExtError> {
        let sign = self.byte()?;
        let kind = self.byte()?;
        let exponent = i64::from_be_bytes(self.array()?);
        let digits = self.rest();
        if sign > 1 {
            return Err((self.bad)("sign is neither 0 nor 1"));
        }
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err((self.bad)("a coefficient byte is not an ASCII digit"));
        }
        if digits.len() > 1 && digits[0] == b'0' {
            return Err((self.bad)("leading zero in the digits"));
        }
        // ASCII digits are UTF-8.
        let digits = String::from_utf8(digits.to_vec()).expect("ASCII digits");
        let negative = sign == 1;
        if kind != 0 && exponent != 0 {
            return Err((self.bad)("an exponent on an infinity or NaN"));
        }
        Ok(match kind {
            0 if digits.is_empty() => return Err((self.bad)("a finite number with no digits")),
            0 => Decimal::Finite {
                negative,
                exponent,
                digits,
            },
            1 if !digits.is_empty() => return Err((self.bad)("digits on an infinity")),
            1 => Decimal::Infinity { negative },
            2 | 3 if digits == "0" => return Err((self.bad)("a NaN payload of 0")),
            2 | 3 => Decimal::NaN {
                negative,
                signaling: kind == 3,
                payload: digits,
            },
            _ => return Err((self.bad)("unknown kind")),
        })
    }
}
