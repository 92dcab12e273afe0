//! `$skiptoken` values: base64url of the emulator's own cursor, bound to the query it belongs
//! to and sealed with a keyed SHA-256 tag, so an edited, truncated or foreign token is refused
//! (400) instead of silently paging from the wrong place.
//!
//! The key is fixed, not secret: tokens must be byte-identical across runs for determinism
//! tests, and the point is catching corruption, not resisting attackers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use super::ApiVersion;
use super::catalog::{Cursor, Order, STREAMS};
use super::generator::{hash, hash_str};

const FORMAT: u8 = 1;
const KEY: &[u8] = b"partnersec-emulator/signins/skiptoken/v1";
const TAG_LEN: usize = 12;
const BODY_LEN: usize = 2 + STREAMS * 8 + 8;

/// What a token is tied to: the tenant, API version, filter text and order.
pub fn fingerprint(
    tenant_id: &str,
    version: ApiVersion,
    filter: Option<&str>,
    order: Order,
) -> u64 {
    hash(&[
        hash_str(&tenant_id.to_ascii_lowercase()),
        hash_str(version.segment()),
        filter.map_or(0, |f| hash_str(f) | 1),
        matches!(order, Order::Asc) as u64,
    ])
}

fn tag(body: &[u8]) -> [u8; TAG_LEN] {
    let digest = Sha256::new()
        .chain_update(KEY)
        .chain_update(body)
        .finalize();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&digest[..TAG_LEN]);
    out
}

pub fn encode(cursor: &Cursor, order: Order, fingerprint: u64) -> String {
    let mut bytes = Vec::with_capacity(BODY_LEN + TAG_LEN);
    bytes.push(FORMAT);
    bytes.push(matches!(order, Order::Asc) as u8);
    for p in cursor.pos {
        bytes.extend_from_slice(&p.to_be_bytes());
    }
    bytes.extend_from_slice(&fingerprint.to_be_bytes());
    let t = tag(&bytes);
    bytes.extend_from_slice(&t);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor in `token`, if it is intact and belongs to this query.
pub fn decode(token: &str, order: Order, fingerprint: u64) -> Option<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if bytes.len() != BODY_LEN + TAG_LEN {
        return None;
    }
    let (body, t) = bytes.split_at(BODY_LEN);
    if tag(body) != t {
        return None;
    }
    if body[0] != FORMAT || body[1] != matches!(order, Order::Asc) as u8 {
        return None;
    }
    let mut pos = [0u64; STREAMS];
    for (s, p) in pos.iter_mut().enumerate() {
        let start = 2 + s * 8;
        *p = u64::from_be_bytes(body[start..start + 8].try_into().ok()?);
    }
    let fp = u64::from_be_bytes(body[2 + STREAMS * 8..].try_into().ok()?);
    (fp == fingerprint).then_some(Cursor { pos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let fp = fingerprint("t", ApiVersion::Beta, Some("userId eq 'x'"), Order::Desc);
        let c = Cursor {
            pos: [1, 2, 3, u64::MAX],
        };
        let token = encode(&c, Order::Desc, fp);
        assert_eq!(decode(&token, Order::Desc, fp), Some(c));
        // Another query, order or a flipped character is refused.
        let other = fingerprint("t", ApiVersion::Beta, Some("userId eq 'y'"), Order::Desc);
        assert_eq!(decode(&token, Order::Desc, other), None);
        assert_eq!(decode(&token, Order::Asc, fp), None);
        let mut chars: Vec<char> = token.chars().collect();
        chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_eq!(decode(&tampered, Order::Desc, fp), None);
        assert_eq!(decode("", Order::Desc, fp), None);
        assert_eq!(decode("!!!", Order::Desc, fp), None);
        assert_eq!(decode(&token[..token.len() - 2], Order::Desc, fp), None);
    }
}
