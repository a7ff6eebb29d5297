//! Solana legacy messages, as web3.js 1.56 (the copy inside the original's
//! SDK) handled them: parsed from the wire layout, turned back into
//! instructions, and compiled again — accounts de-duplicated, signers
//! first, then writable first, then by base58 in ICU (`localeCompare`)
//! order, the fee payer moved to the front — with a fresh blockhash. For a
//! message web3.js built itself this only replaces the blockhash.

use std::cmp::Ordering;

use kms_core::Chain;

use crate::SignerError;

fn bad(reason: impl Into<String>) -> SignerError {
    SignerError::tx(Chain::SOL, reason)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    key: [u8; 32],
    signer: bool,
    writable: bool,
}

struct Instruction {
    program: [u8; 32],
    accounts: Vec<Meta>,
    data: Vec<u8>,
}

/// A parsed legacy message: its fee payer and instructions.
pub(crate) struct Message {
    fee_payer: [u8; 32],
    instructions: Vec<Instruction>,
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], SignerError> {
        if self.0.len() < n {
            return Err(bad("txData ends early: not a Solana message"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn byte(&mut self) -> Result<u8, SignerError> {
        Ok(self.take(1)?[0])
    }
    /// Solana's compact-u16 (1–3 bytes, 7 bits each).
    fn compact(&mut self) -> Result<usize, SignerError> {
        let mut value = 0usize;
        for shift in [0, 7, 14] {
            let b = self.byte()?;
            value |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad("a length in txData is too long"))
    }
}

fn write_compact(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut b = (n & 0x7f) as u8;
        n >>= 7;
        if n != 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

/// An instruction as `intent` reads it: program, account keys in order, data.
pub(crate) struct InstructionView<'a> {
    pub(crate) program: &'a [u8; 32],
    pub(crate) accounts: Vec<&'a [u8; 32]>,
    pub(crate) data: &'a [u8],
}

impl Message {
    pub(crate) fn fee_payer(&self) -> &[u8; 32] {
        &self.fee_payer
    }

    /// The instructions, in the order `compile` writes them.
    pub(crate) fn instructions(&self) -> impl Iterator<Item = InstructionView<'_>> {
        self.instructions.iter().map(|ix| InstructionView {
            program: &ix.program,
            accounts: ix.accounts.iter().map(|m| &m.key).collect(),
            data: &ix.data,
        })
    }

    pub(crate) fn parse(bytes: &[u8]) -> Result<Message, SignerError> {
        let mut r = Reader(bytes);
        let required = r.byte()? as usize;
        if required & 0x80 != 0 {
            return Err(bad(
                "versioned (v0) messages are not supported; send a legacy message",
            ));
        }
        let readonly_signed = r.byte()? as usize;
        let readonly_unsigned = r.byte()? as usize;
        let n = r.compact()?;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            keys.push(<[u8; 32]>::try_from(r.take(32)?).unwrap());
        }
        // At least the fee payer signs, and it is writable.
        if required == 0
            || required > n
            || readonly_signed >= required
            || readonly_unsigned > n - required
        {
            return Err(bad("the message header does not fit its accounts"));
        }
        let meta = |i: usize| Meta {
            key: keys[i],
            signer: i < required,
            writable: if i < required {
                i < required - readonly_signed
            } else {
                i < n - readonly_unsigned
            },
        };
        r.take(32)?; // the placeholder blockhash
        let count = r.compact()?;
        let mut instructions = Vec::with_capacity(count);
        for _ in 0..count {
            let program = r.byte()? as usize;
            let accounts_len = r.compact()?;
            let indexes = r.take(accounts_len)?.to_vec();
            let data_len = r.compact()?;
            let data = r.take(data_len)?.to_vec();
            if program >= n || indexes.iter().any(|&i| i as usize >= n) {
                return Err(bad(
                    "an instruction names an account the message does not list",
                ));
            }
            instructions.push(Instruction {
                program: keys[program],
                accounts: indexes.iter().map(|&i| meta(i as usize)).collect(),
                data,
            });
        }
        if !r.0.is_empty() {
            return Err(bad("txData has bytes after the message"));
        }
        Ok(Message {
            fee_payer: keys[0],
            instructions,
        })
    }

    /// web3.js' `compileMessage` with `blockhash` and these signers; returns
    /// the serialized message and the public keys that must sign, in order.
    pub(crate) fn compile(
        &self,
        blockhash: &[u8; 32],
        signers: &[[u8; 32]],
    ) -> Result<(Vec<u8>, Vec<[u8; 32]>), SignerError> {
        let mut metas: Vec<Meta> = Vec::new();
        let mut programs: Vec<[u8; 32]> = Vec::new();
        for ix in &self.instructions {
            metas.extend(ix.accounts.iter().copied());
            if !programs.contains(&ix.program) {
                programs.push(ix.program);
            }
        }
        metas.extend(programs.iter().map(|&key| Meta {
            key,
            signer: false,
            writable: false,
        }));
        // Stable, as JavaScript's sort is.
        metas.sort_by(|x, y| {
            y.signer
                .cmp(&x.signer)
                .then(y.writable.cmp(&x.writable))
                .then_with(|| locale_compare(&base58(&x.key), &base58(&y.key)))
        });
        let mut unique: Vec<Meta> = Vec::new();
        for m in metas {
            match unique.iter_mut().find(|u| u.key == m.key) {
                Some(u) => u.writable |= m.writable,
                None => unique.push(m),
            }
        }
        let payer = Meta {
            key: self.fee_payer,
            signer: true,
            writable: true,
        };
        if let Some(i) = unique.iter().position(|u| u.key == self.fee_payer) {
            unique.remove(i);
        }
        unique.insert(0, payer);
        for s in signers {
            match unique.iter_mut().find(|u| &u.key == s) {
                Some(u) => u.signer = true,
                None => return Err(bad(format!("unknown signer: {}", base58(s)))),
            }
        }
        let (signed, unsigned): (Vec<Meta>, Vec<Meta>) = unique.into_iter().partition(|m| m.signer);
        let header = [
            signed.len() as u8,
            signed.iter().filter(|m| !m.writable).count() as u8,
            unsigned.iter().filter(|m| !m.writable).count() as u8,
        ];
        let keys: Vec<[u8; 32]> = signed.iter().chain(&unsigned).map(|m| m.key).collect();
        if keys.len() > 256 {
            return Err(bad("too many accounts"));
        }
        let index = |k: &[u8; 32]| keys.iter().position(|x| x == k).unwrap() as u8;

        let mut out = header.to_vec();
        write_compact(&mut out, keys.len());
        for k in &keys {
            out.extend_from_slice(k);
        }
        out.extend_from_slice(blockhash);
        write_compact(&mut out, self.instructions.len());
        for ix in &self.instructions {
            out.push(index(&ix.program));
            write_compact(&mut out, ix.accounts.len());
            out.extend(ix.accounts.iter().map(|m| index(&m.key)));
            write_compact(&mut out, ix.data.len());
            out.extend_from_slice(&ix.data);
        }
        Ok((out, signed.iter().map(|m| m.key).collect()))
    }
}

pub(crate) fn base58(key: &[u8]) -> String {
    bs58::encode(key).into_string()
}

/// `String.prototype.localeCompare` (ICU root collation) on base58 text:
/// digits before letters, letters alphabetical ignoring case; only when
/// that ties, the first difference in case decides, lowercase first.
fn locale_compare(a: &str, b: &str) -> Ordering {
    let primary = |c: char| (c.is_ascii_alphabetic(), c.to_ascii_lowercase());
    a.chars()
        .map(primary)
        .cmp(b.chars().map(primary))
        .then_with(|| {
            a.chars()
                .zip(b.chars())
                .find(|(x, y)| x != y)
                .map_or(Ordering::Equal, |(x, _)| {
                    if x.is_ascii_lowercase() {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                })
        })
}

pub(crate) fn wire(signatures: &[[u8; 64]], message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 64 * signatures.len() + message.len());
    write_compact(&mut out, signatures.len());
    for s in signatures {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icu_order_of_base58() {
        // The spec's example: 6bf3… sorts before 6WiU… (b < W ignoring case).
        assert_eq!(locale_compare("6bf3", "6WiU"), Ordering::Less);
        assert_eq!(locale_compare("9z", "A1"), Ordering::Less);
        assert_eq!(locale_compare("ab", "Ab"), Ordering::Less);
        assert_eq!(locale_compare("Ab", "ab"), Ordering::Greater);
        assert_eq!(locale_compare("abc", "abc"), Ordering::Equal);
    }

    #[test]
    fn compact_lengths() {
        for n in [0usize, 1, 127, 128, 16383, 16384, 65535] {
            let mut out = Vec::new();
            write_compact(&mut out, n);
            assert_eq!(Reader(&out).compact().unwrap(), n);
        }
    }
}
