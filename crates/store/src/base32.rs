//! Nix's own base-32 encoding of hashes and store path hash parts.
//!
//! It is not RFC 4648: the alphabet omits `e`, `o`, `u` and `t`, and the digits are taken
//! from the last 5-bit group of the byte string backwards, so the first character carries
//! the most significant bits of the last byte.

/// The 32 digits, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Number of base-32 characters needed for `byte_len` bytes.
pub fn encoded_len(byte_len: usize) -> usize {
    if byte_len == 0 {
        0
    } else {
        (byte_len * 8 - 1) / 5 + 1
    }
}

/// Encodes bytes the way Nix prints base-32 hashes.
pub fn encode(bytes: &[u8]) -> String {
    let len = encoded_len(bytes.len());
    let mut out = String::with_capacity(len);
    for n in (0..len).rev() {
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        let low = (bytes[i] as u16) >> j;
        let high = if i + 1 < bytes.len() {
            (bytes[i + 1] as u16) << (8 - j)
        } else {
            0
        };
        out.push(ALPHABET[((low | high) & 0x1f) as usize] as char);
    }
    out
}

/// The value of one base-32 digit, if it is one.
pub fn digit_value(c: u8) -> Option<u8> {
    ALPHABET.iter().position(|&d| d == c).map(|v| v as u8)
}

/// Decodes `text` into exactly `byte_len` bytes; `None` if a character is not a digit or
/// the text carries bits beyond `byte_len` (both are "invalid base-32" to Nix).
pub fn decode(text: &str, byte_len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; byte_len];
    for (n, c) in text.bytes().rev().enumerate() {
        let digit = digit_value(c)? as u16;
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        if i >= byte_len {
            if digit != 0 {
                return None;
            }
            continue;
        }
        out[i] |= (digit << j) as u8;
        let carry = digit >> (8 - j);
        if i + 1 < byte_len {
            out[i + 1] |= carry as u8;
        } else if carry != 0 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_nix() {
        assert_eq!(encoded_len(16), 26);
        assert_eq!(encoded_len(20), 32);
        assert_eq!(encoded_len(32), 52);
        assert_eq!(encoded_len(64), 103);
    }

    #[test]
    fn round_trips() {
        let bytes: Vec<u8> = (0u8..32)
            .map(|b| b.wrapping_mul(37).wrapping_add(11))
            .collect();
        let text = encode(&bytes);
        assert_eq!(text.len(), 52);
        assert_eq!(decode(&text, 32).unwrap(), bytes);
    }

    #[test]
    fn rejects_foreign_letters_and_overflow() {
        assert!(decode("e000000000000000000000000000000000000000000000000000", 32).is_none());
        // The top character of a 32-byte hash may only carry one bit.
        assert!(decode("2000000000000000000000000000000000000000000000000000", 32).is_none());
        assert!(decode("1000000000000000000000000000000000000000000000000000", 32).is_some());
    }
}
