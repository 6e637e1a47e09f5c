//! How a session is laid out in Redis (documented on `RedisStore`): field
//! names, the text form of times, the TTL, the Lua scripts, and decoding.

use std::collections::BTreeMap;

use crate::record::{Data, Record, FORMAT_VERSION};
use crate::value::Value;

/// The longest TTL set (about 317 years): past it Redis would refuse the
/// expiry time, and the record's own `m:expires` still governs.
const MAX_TTL_MS: f64 = 1e13;

/// The commit as one atomic step. KEYS[1] = the hash. ARGV: 1 now,
/// 2 expires_at, 3 created (for a new record), 4 create ("1"/"0"), 5 clear
/// ("1"/"0"), 6 TTL in ms, 7 format version, 8 number of removed fields,
/// then the removed fields, then (field, value) pairs to set.
/// Returns {"stored", accessed before this commit}, {"notfound"},
/// {"version", m:v} (a hash of another format version) or {"corrupt"}.
pub(super) const COMMIT_LUA: &str = r"
local key = KEYS[1]
local now = tonumber(ARGV[1])
local accessed = nil
local created = ARGV[3]
if redis.call('EXISTS', key) == 1 then
  local meta = redis.call('HMGET', key, 'm:v', 'm:expires', 'm:accessed', 'm:created')
  local expires = tonumber(meta[2])
  if meta[1] and meta[1] ~= ARGV[7] then return {'version', meta[1]} end
  if meta[1] ~= ARGV[7] or expires == nil or not meta[3] or not meta[4] then
    return {'corrupt'}
  end
  if now >= expires then
    redis.call('DEL', key)
  else
    accessed = meta[3]
    created = meta[4]
  end
end
if accessed == nil then
  if ARGV[4] ~= '1' then return {'notfound'} end
  accessed = ARGV[3]
end
if ARGV[5] == '1' then redis.call('DEL', key) end
local i = 9
for _ = 1, tonumber(ARGV[8]) do
  redis.call('HDEL', key, ARGV[i])
  i = i + 1
end
while i < #ARGV do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('HSET', key, 'm:v', ARGV[7], 'm:created', created,
           'm:accessed', ARGV[1], 'm:expires', ARGV[2])
redis.call('PEXPIRE', key, ARGV[6])
return {'stored', accessed}
";

/// Removes the hashes among KEYS whose `m:expires` has passed at ARGV[1];
/// returns how many it removed.
pub(super) const CLEAN_LUA: &str = r"
local now = tonumber(ARGV[1])
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'hash' then
    local expires = tonumber(redis.call('HGET', key, 'm:expires'))
    if expires ~= nil and now >= expires then
      n = n + redis.call('DEL', key)
    end
  end
end
return n
";

/// The `m:expires` of each hash among KEYS, in order: `false` (nil) for a
/// key gone since the SCAN that found it, `""` for a hash without the
/// field; a key of another Redis type fails the call with `WRONGTYPE`.
pub(super) const LIST_LUA: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    out[i] = redis.call('HGET', key, 'm:expires') or ''
  else
    out[i] = false
  end
end
return out
";

/// The hash field of session key `key`.
pub(super) fn data_field(key: &str) -> Vec<u8> {
    let mut field = Vec::with_capacity(key.len() + 2);
    field.extend_from_slice(b"d:");
    field.extend_from_slice(key.as_bytes());
    field
}

/// A time as Redis keeps it: Rust's shortest text that reads back exactly
/// (and that Lua's `tonumber` reads as the same double).
pub(super) fn time_text(t: f64) -> String {
    format!("{t}")
}

/// The TTL in milliseconds for a record expiring at `expires_at` seen from
/// `now`: at least 1 (an expired record goes at once), at most `MAX_TTL_MS`.
pub(super) fn ttl_ms(expires_at: f64, now: f64) -> i64 {
    let ms = ((expires_at - now) * 1000.0).ceil();
    if ms.is_nan() {
        1
    } else {
        ms.clamp(1.0, MAX_TTL_MS) as i64
    }
}

/// Rebuilds a record from its hash fields (see the module docs).
pub(super) fn decode_hash(
    fields: BTreeMap<Vec<u8>, Vec<u8>>,
) -> std::result::Result<Record, String> {
    let (mut version, mut created, mut accessed, mut expires) = (None, None, None, None);
    let mut data = Data::new();
    for (field, value) in fields {
        let time = || -> std::result::Result<f64, String> {
            std::str::from_utf8(&value)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("{} is not a number", String::from_utf8_lossy(&field)))
        };
        match field.as_slice() {
            b"m:v" => version = Some(value.clone()),
            b"m:created" => created = Some(time()?),
            b"m:accessed" => accessed = Some(time()?),
            b"m:expires" => expires = Some(time()?),
            _ => {
                let Some(key) = field.strip_prefix(b"d:") else {
                    return Err(format!("unknown field {}", String::from_utf8_lossy(&field)));
                };
                let key = String::from_utf8(key.to_vec())
                    .map_err(|_| "a session key is not UTF-8".to_string())?;
                let value = Value::from_msgpack(&value).map_err(|e| format!("key {key:?}: {e}"))?;
                data.insert(key, value);
            }
        }
    }
    if version.as_deref() != Some(FORMAT_VERSION.to_string().as_bytes()) {
        return Err(format!(
            "record format version {:?} (this build reads {FORMAT_VERSION})",
            version.map(|v| String::from_utf8_lossy(&v).into_owned())
        ));
    }
    let (Some(created), Some(accessed), Some(expires_at)) = (created, accessed, expires) else {
        return Err("a metadata field is missing".into());
    };
    if !(created.is_finite() && accessed.is_finite() && !expires_at.is_nan()) {
        return Err("record times are not numbers".into());
    }
    Ok(Record {
        version: FORMAT_VERSION,
        created,
        accessed,
        expires_at,
        data,
    })
}

/// `text` with Redis glob characters escaped, for `SCAN MATCH`.
pub(super) fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_exactly() {
        for t in [0.0, 100.5, 1_700_000_000.123_456_7, 1e12, 0.1 + 0.2] {
            assert_eq!(time_text(t).parse::<f64>().unwrap(), t);
        }
    }

    #[test]
    fn ttl_is_clamped() {
        assert_eq!(ttl_ms(200.0, 100.0), 100_000);
        assert_eq!(ttl_ms(100.0, 200.0), 1);
        assert_eq!(ttl_ms(f64::INFINITY, 0.0), MAX_TTL_MS as i64);
        assert_eq!(ttl_ms(100.0005, 100.0), 1);
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]\\:"), "a\\*b\\?\\[c\\]\\\\:");
    }

    #[test]
    fn decode_refuses_foreign_fields_and_bad_versions() {
        let mut fields = BTreeMap::new();
        fields.insert(b"m:v".to_vec(), FORMAT_VERSION.to_string().into_bytes());
        fields.insert(b"m:created".to_vec(), b"1".to_vec());
        fields.insert(b"m:accessed".to_vec(), b"2".to_vec());
        fields.insert(b"m:expires".to_vec(), b"3".to_vec());
        fields.insert(b"d:k".to_vec(), Value::Int(7).to_msgpack());
        let r = decode_hash(fields.clone()).unwrap();
        assert_eq!((r.created, r.accessed, r.expires_at), (1.0, 2.0, 3.0));
        assert_eq!(r.data.get("k"), Some(&Value::Int(7)));
        let mut other = fields.clone();
        other.insert(b"x".to_vec(), b"1".to_vec());
        assert!(decode_hash(other).is_err());
        for version in [b"1".as_slice(), b"3", b"x"] {
            let mut other = fields.clone();
            other.insert(b"m:v".to_vec(), version.to_vec());
            assert!(decode_hash(other).is_err());
        }
        let mut missing = fields;
        missing.remove(b"m:expires".as_slice());
        assert!(decode_hash(missing).is_err());
    }
}
