use std::fmt;
use std::str::FromStr;

/// A blockchain the KMS can hold keys for, named as the Tatum API names it.
#[allow(missing_docs)] // the variants are the Tatum API's chain codes
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    BTC,
    LTC,
    DOGE,
    BCH,
    ETH,
    MATIC,
    BSC,
    CELO,
    KLAY,
    ONE,
    XDC,
    KCS,
    VET,
    TRON,
    FLOW,
    EGLD,
    SOL,
    XRP,
    XLM,
    ALGO,
    ADA,
}

/// The error for a chain name we do not serve. Its `Display` is the
/// original's exact message, which scripts match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported blockchain.")]
pub struct UnsupportedChain {
    /// What the user typed.
    pub name: String,
    /// Why, when there is more to say than "unknown" (e.g. BNB Beacon Chain was shut down).
    pub note: Option<&'static str>,
}

impl UnsupportedChain {
    /// The original's message, and the note when there is one.
    pub fn explained(&self) -> String {
        match self.note {
            Some(note) => format!("{self} ({note})"),
            None => self.to_string(),
        }
    }
}

impl Chain {
    /// Every chain, in the order the original daemon polls them.
    pub const ALL: [Chain; 21] = [
        Chain::BCH,
        Chain::VET,
        Chain::XRP,
        Chain::XLM,
        Chain::ETH,
        Chain::BTC,
        Chain::MATIC,
        Chain::KLAY,
        Chain::LTC,
        Chain::DOGE,
        Chain::CELO,
        Chain::BSC,
        Chain::SOL,
        Chain::TRON,
        Chain::FLOW,
        Chain::XDC,
        Chain::EGLD,
        Chain::ONE,
        Chain::ADA,
        Chain::ALGO,
        Chain::KCS,
    ];

    /// The Tatum API's code of the chain (`BTC`, `ETH`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::BTC => "BTC",
            Chain::LTC => "LTC",
            Chain::DOGE => "DOGE",
            Chain::BCH => "BCH",
            Chain::ETH => "ETH",
            Chain::MATIC => "MATIC",
            Chain::BSC => "BSC",
            Chain::CELO => "CELO",
            Chain::KLAY => "KLAY",
            Chain::ONE => "ONE",
            Chain::XDC => "XDC",
            Chain::KCS => "KCS",
            Chain::VET => "VET",
            Chain::TRON => "TRON",
            Chain::FLOW => "FLOW",
            Chain::EGLD => "EGLD",
            Chain::SOL => "SOL",
            Chain::XRP => "XRP",
            Chain::XLM => "XLM",
            Chain::ALGO => "ALGO",
            Chain::ADA => "ADA",
        }
    }

    /// The path segment of `POST /v3/{path}/broadcast` (TATUM-API.md).
    pub fn broadcast_path(self) -> &'static str {
        match self {
            Chain::BTC => "bitcoin",
            Chain::LTC => "litecoin",
            Chain::DOGE => "dogecoin",
            Chain::BCH => "bcash",
            Chain::XRP => "xrp",
            Chain::XLM => "xlm",
            Chain::TRON => "tron",
            Chain::SOL => "solana",
            Chain::ALGO => "algorand",
            Chain::FLOW => "flow",
            Chain::ADA => "ada",
            Chain::ETH => "ethereum",
            Chain::MATIC => "polygon",
            Chain::BSC => "bsc",
            Chain::KLAY => "klaytn",
            Chain::XDC => "xdc",
            Chain::ONE => "one",
            Chain::CELO => "celo",
            Chain::VET => "vet",
            Chain::EGLD => "egld",
            Chain::KCS => "kcs",
        }
    }

    /// UTXO chains: a transaction spends outputs of several keys, so it is
    /// signed with every collected key.
    pub fn is_utxo(self) -> bool {
        matches!(self, Chain::BTC | Chain::LTC | Chain::DOGE | Chain::BCH)
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Chain {
    type Err = UnsupportedChain;

    /// Accepts the Tatum names case-insensitively (the original only took
    /// upper case; accepting `btc` costs nothing and surprises no one).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        if let Some(chain) = Chain::ALL.iter().find(|c| c.as_str() == upper) {
            return Ok(*chain);
        }
        let note = match upper.as_str() {
            "BNB" => Some("BNB Beacon Chain was shut down in 2024; it no longer exists"),
            _ => None,
        };
        Err(UnsupportedChain {
            name: s.to_string(),
            note,
        })
    }
}

impl serde::Serialize for Chain {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Chain {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bnb_is_explained() {
        for c in Chain::ALL {
            assert_eq!(c.as_str().parse::<Chain>().unwrap(), c);
        }
        assert_eq!("eth".parse::<Chain>().unwrap(), Chain::ETH);
        let err = "BNB".parse::<Chain>().unwrap_err();
        assert_eq!(err.to_string(), "Unsupported blockchain.");
        assert!(err.note.unwrap().contains("shut down"));
        assert!("FOO".parse::<Chain>().unwrap_err().note.is_none());
    }
}
