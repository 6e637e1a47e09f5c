//! How values, sizes and JSON documents are written out.
//!
//! In JSON a session value becomes its natural JSON form (nil is `null`,
//! lists are arrays, maps are objects), except the kinds JSON lacks:
//!
//! | value | JSON |
//! |---|---|
//! | bytes | `{"$bytes": "<hex>"}` |
//! | ext (a Python pickle is code 1) | `{"$ext": <code>, "$hex": "<hex>"}` |
//! | float NaN, inf, -inf | the strings `"NaN"`, `"inf"`, `"-inf"` |

use std::io::Write;

use serde_json::{json, Map, Number};
use spysession_core::{Value, EXT_PICKLE};

use crate::failure::Failure;

/// `value` as one line of text, for people: strings quoted and escaped,
/// bytes as `b"..."`, an ext value by its code and size.
pub fn text(value: &Value) -> String {
    match value {
        Value::Nil => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => format!("{s:?}"),
        Value::Bytes(b) => format!("b\"{}\"", b.escape_ascii()),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k:?}: {}", text(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Ext(code, bytes) if *code == EXT_PICKLE => {
            format!("<python pickle, {} bytes>", bytes.len())
        }
        Value::Ext(code, bytes) => format!("<ext {code}, {} bytes>", bytes.len()),
    }
}

/// `value` as JSON (see the module docs for bytes, ext and odd floats).
pub fn json(value: &Value) -> serde_json::Value {
    match value {
        Value::Nil => serde_json::Value::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::UInt(u) => json!(u),
        Value::Float(f) => float(*f),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!({ "$bytes": hex(b) }),
        Value::List(items) => items.iter().map(json).collect(),
        Value::Map(map) => {
            let object: Map<String, serde_json::Value> =
                map.iter().map(|(k, v)| (k.clone(), json(v))).collect();
            serde_json::Value::Object(object)
        }
        Value::Ext(code, bytes) => json!({ "$ext": code, "$hex": hex(bytes) }),
    }
}

/// A float as a JSON number, or as `"NaN"`, `"inf"`, `"-inf"`.
pub fn float(f: f64) -> serde_json::Value {
    match Number::from_f64(f) {
        Some(n) => serde_json::Value::Number(n),
        None => json!(format!("{f}")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes for people: `512 B`, `1.5 KiB`, `1.0 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Writes `document` as pretty JSON followed by a newline.
pub fn write_json(out: &mut dyn Write, document: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(document)
        .map_err(|e| Failure::caused("cannot write the JSON output", e))?;
    writeln!(out, "{text}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_every_kind() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(
            "k".to_string(),
            Value::List(vec![Value::Nil, Value::Bool(true)]),
        );
        assert_eq!(text(&Value::Map(map)), r#"{"k": [nil, true]}"#);
        assert_eq!(text(&Value::Str("a\"b\n".into())), r#""a\"b\n""#);
        assert_eq!(text(&Value::Bytes(vec![0, b'a', 0xff])), r#"b"\x00a\xff""#);
        assert_eq!(text(&Value::Float(1.0)), "1.0");
        assert_eq!(text(&Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(text(&Value::Ext(1, vec![1, 2])), "<python pickle, 2 bytes>");
        assert_eq!(text(&Value::Ext(7, vec![])), "<ext 7, 0 bytes>");
    }

    #[test]
    fn json_of_kinds_json_lacks() {
        assert_eq!(
            json(&Value::Bytes(vec![0, 0xab])),
            json!({"$bytes": "00ab"})
        );
        assert_eq!(
            json(&Value::Ext(1, vec![0x80])),
            json!({"$ext": 1, "$hex": "80"})
        );
        assert_eq!(json(&Value::Float(f64::NAN)), json!("NaN"));
        assert_eq!(json(&Value::Float(f64::NEG_INFINITY)), json!("-inf"));
        assert_eq!(json(&Value::Float(0.5)), json!(0.5));
    }

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(1 << 30), "1.0 GiB");
    }
}
