//! Bitcoin Cash CashAddr encoding (spec: bitcoincash.org "cashaddr.md").

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn polymod(values: &[u8]) -> u64 {
    const GEN: [u64; 5] = [
        0x98f2bc8e61,
        0x79b76d99e2,
        0xf33e5fb3c4,
        0xae2eabe2a8,
        0x1e4f43e470,
    ];
    let mut c: u64 = 1;
    for &d in values {
        let c0 = (c >> 35) as u8;
        c = ((c & 0x07_ffff_ffff) << 5) ^ u64::from(d);
        for (i, g) in GEN.iter().enumerate() {
            if c0 & (1 << i) != 0 {
                c ^= g;
            }
        }
    }
    c ^ 1
}

/// Regroups 8-bit bytes into 5-bit groups, padding the last one with zeros.
fn to_5bit(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (5 - bits)) & 31) as u8);
    }
    out
}

/// `prefix:q…` for a P2PKH hash (version byte 0: key hash, 160 bits).
pub(crate) fn encode_p2pkh(prefix: &str, hash: &[u8; 20]) -> String {
    encode(prefix, 0x00, hash)
}

/// `prefix:p…` for a P2SH hash (version byte 8: script hash, 160 bits).
pub(crate) fn encode_p2sh(prefix: &str, hash: &[u8; 20]) -> String {
    encode(prefix, 0x08, hash)
}

fn encode(prefix: &str, version: u8, hash: &[u8; 20]) -> String {
    let mut payload = vec![version];
    payload.extend_from_slice(hash);
    let data = to_5bit(&payload);
    let mut check_input: Vec<u8> = prefix.bytes().map(|b| b & 0x1f).collect();
    check_input.push(0);
    check_input.extend_from_slice(&data);
    check_input.extend_from_slice(&[0; 8]);
    let checksum = polymod(&check_input);
    let mut out = String::with_capacity(prefix.len() + 1 + data.len() + 8);
    out.push_str(prefix);
    out.push(':');
    out.extend(data.iter().map(|&d| CHARSET[d as usize] as char));
    out.extend((0..8).map(|i| CHARSET[((checksum >> (5 * (7 - i))) & 31) as usize] as char));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn spec_example() {
        // cashaddr.md: hash F5BF48B397DAE70BE82B3CCA4793F8EB2B6CDAC9.
        let hash: [u8; 20] = hex::decode("F5BF48B397DAE70BE82B3CCA4793F8EB2B6CDAC9")
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            super::encode_p2pkh("bitcoincash", &hash),
            "bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2"
        );
        // cashaddr.md: the same hash as a P2SH (type 1) on bchtest.
        assert_eq!(
            super::encode_p2sh("bchtest", &hash),
            "bchtest:pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t"
        );
    }
}
