//! How sessions are laid out in Redis (documented on `RedisStore`): the
//! bucketed keys, field names, the text form of times, the TTL, the Lua
//! scripts, and decoding.

use std::collections::BTreeMap;

use crate::record::{Data, Record, FORMAT_VERSION};
use crate::value::Value;

/// The longest TTL set (about 317 years): past it Redis would refuse the
/// expiry time, and the record's own `m:expires` still governs.
const MAX_TTL_MS: f64 = 1e13;

/// The number of buckets: sessions are spread over 256 hash-tagged buckets
/// (`{00}` to `{ff}`), so a cluster routes each bucket to one slot and every
/// script touches one slot only.
pub(super) const BUCKETS: usize = 256;

/// The value of the layout marker key `<prefix>layout`: this layout's version.
pub(super) const LAYOUT_VERSION: &str = "2";

/// The two hex digits of a bucket.
pub(super) fn bucket_tag(bucket: usize) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[(bucket >> 4) & 15], HEX[bucket & 15]]
}

/// The Redis key of the session whose store key is `hex`:
/// `<prefix>{<first two hex digits>}<hex>`.
pub(super) fn hash_key(prefix: &str, hex: &[u8; 32]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 4 + hex.len());
    key.extend_from_slice(prefix.as_bytes());
    key.push(b'{');
    key.extend_from_slice(&hex[..2]);
    key.push(b'}');
    key.extend_from_slice(hex);
    key
}

/// The key prefix of every session hash in `bucket`: `<prefix>{bb}`.
pub(super) fn bucket_prefix(prefix: &str, bucket: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 4);
    key.extend_from_slice(prefix.as_bytes());
    key.push(b'{');
    key.extend_from_slice(&bucket_tag(bucket));
    key.push(b'}');
    key
}

/// The expiry index of `bucket`: the sorted set `<prefix>{bb}:exp`
/// (member: store key hex, score: expiry).
pub(super) fn set_key(prefix: &str, bucket: usize) -> Vec<u8> {
    let mut key = bucket_prefix(prefix, bucket);
    key.extend_from_slice(b":exp");
    key
}

/// The bucket of store key `hex`: its first byte.
pub(super) fn bucket_of(hex: &[u8; 32]) -> usize {
    let digit = |c: u8| match c {
        b'0'..=b'9' => (c - b'0') as usize,
        _ => (c - b'a' + 10) as usize,
    };
    digit(hex[0]) * 16 + digit(hex[1])
}

/// The layout marker key of a prefix: `<prefix>layout`, holding
/// [`LAYOUT_VERSION`].
pub(super) fn marker_key(prefix: &str) -> String {
    format!("{prefix}layout")
}

/// The commit as one atomic step. KEYS[1] = the hash, KEYS[2] = its
/// bucket's expiry set. ARGV: 1 now, 2 expires_at, 3 created (for a new
/// record), 4 create ("1"/"0"), 5 clear ("1"/"0"), 6 TTL in ms, 7 format
/// version, 8 the store key (set member), 9 number of removed fields, then
/// the removed fields, then (field, value) pairs to set.
/// Returns {"stored", accessed before this commit}, {"notfound"},
/// {"version", m:v} (a hash of another format version) or {"corrupt"}.
///
/// Each `redis.call` costs the server about a microsecond on top of the
/// command itself, more than most of these commands take, so the common
/// commit (an existing session, a few keys changed) makes three: one
/// `HMGET` of the metadata, one `HSET` of the changed keys with the new
/// times, one `PEXPIRE`. `EXISTS` runs only when the metadata is missing,
/// `m:v` and `m:created` are written only into a new hash, and the expiry
/// set's score, a lower bound of `m:expires` (see [`CLEAN_LUA`]), is
/// rewritten only when the hash is new, its expiry moved earlier, or the
/// expiry moved into another 1/64 of the TTL: so the score lags the real
/// expiry by less than 1/64 of the TTL and a clean meets a live session
/// only in that last stretch of its life.
pub(super) const COMMIT_LUA: &str = r"
local key = KEYS[1]
local now = tonumber(ARGV[1])
local expires_at = tonumber(ARGV[2])
local accessed = nil
local created = ARGV[3]
local old_expires = nil
local meta = redis.call('HMGET', key, 'm:v', 'm:expires', 'm:accessed', 'm:created')
if meta[1] or redis.call('EXISTS', key) == 1 then
  local expires = tonumber(meta[2])
  if meta[1] and meta[1] ~= ARGV[7] then return {'version', meta[1]} end
  if meta[1] ~= ARGV[7] or expires == nil or not meta[3] or not meta[4] then
    return {'corrupt'}
  end
  if now >= expires then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[2], ARGV[8])
  else
    accessed = meta[3]
    created = meta[4]
    old_expires = expires
  end
end
if accessed == nil then
  if ARGV[4] ~= '1' then return {'notfound'} end
  accessed = ARGV[3]
end
if ARGV[5] == '1' then
  redis.call('DEL', key)
  old_expires = nil
end
-- unpack() is bounded by Lua's C stack: fields go in chunks.
local chunk = 1000
local removed_end = 9 + tonumber(ARGV[9])
local i = 10
while i <= removed_end do
  local last = math.min(i + chunk - 1, removed_end)
  redis.call('HDEL', key, unpack(ARGV, i, last))
  i = last + 1
end
local fields = {'m:accessed', ARGV[1], 'm:expires', ARGV[2]}
if old_expires == nil then
  fields[5], fields[6], fields[7], fields[8] = 'm:v', ARGV[7], 'm:created', created
end
while i < #ARGV do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  i = i + 2
  if #fields >= 2 * chunk then
    redis.call('HSET', key, unpack(fields))
    fields = {}
  end
end
if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
redis.call('PEXPIRE', key, ARGV[6])
local grid = tonumber(ARGV[6]) / 64000
if old_expires == nil or expires_at < old_expires
   or math.floor(expires_at / grid) ~= math.floor(old_expires / grid) then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[8])
end
return {'stored', accessed}
";

/// A save as one atomic step: the hash replaced whole. KEYS[1] = the hash,
/// KEYS[2] = its bucket's expiry set. ARGV: 1 the store key, 2 expires_at,
/// 3 TTL in ms, then (field, value) pairs.
pub(super) const SAVE_LUA: &str = r"
redis.call('DEL', KEYS[1])
local i = 4
while i < #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
";

/// A delete as one atomic step. KEYS[1] = the hash, KEYS[2] = its bucket's
/// expiry set, ARGV[1] = the store key. Returns 1 when there was a hash.
pub(super) const DELETE_LUA: &str = r"
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
";

/// One clean step in one bucket. KEYS[1] = the bucket's expiry set, then
/// the hashes of the members its scores say are due; ARGV[1] = now, then
/// the members (store keys) in the order of KEYS[2..]. A hash that is
/// really expired (`m:expires` <= now) is deleted; a hash that is gone, or
/// is not one of ours (another type, no readable `m:expires`), leaves the
/// set (its own TTL, if any, still removes it); a live one (re-written
/// since: scores are lower bounds of `m:expires`, see [`COMMIT_LUA`]) gets
/// its real expiry as its score. Returns how many hashes it deleted.
pub(super) const CLEAN_LUA: &str = r"
local now = tonumber(ARGV[1])
local n = 0
for i = 2, #KEYS do
  local key, member = KEYS[i], ARGV[i]
  local expires = nil
  if redis.call('TYPE', key).ok == 'hash' then
    expires = tonumber(redis.call('HGET', key, 'm:expires'))
  end
  if expires == nil then
    redis.call('ZREM', KEYS[1], member)
  elseif now >= expires then
    n = n + redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], member)
  else
    redis.call('ZADD', KEYS[1], expires, member)
  end
end
return n
";

/// The real expiries of a bucket's members (the set's scores are lower
/// bounds, see [`COMMIT_LUA`]). KEYS = hashes of one bucket; returns each
/// one's `m:expires`, or false where the hash has none (it is gone).
pub(super) const EXPIRIES_LUA: &str = r"
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGET', KEYS[i], 'm:expires') or false
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
    fn keys_are_bucketed_by_the_first_byte() {
        let hex = *b"a7000000000000000000000000000000";
        assert_eq!(bucket_of(&hex), 0xa7);
        assert_eq!(
            hash_key("p:", &hex),
            b"p:{a7}a7000000000000000000000000000000"
        );
        assert_eq!(set_key("p:", 0xa7), b"p:{a7}:exp");
        assert_eq!(set_key("", 0), b"{00}:exp");
        assert_eq!(bucket_tag(255), *b"ff");
        for b in 0..BUCKETS {
            let mut hex = [b'0'; 32];
            hex[..2].copy_from_slice(&bucket_tag(b));
            assert_eq!(bucket_of(&hex), b);
        }
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
