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

/// The original stored `chain` as the currency the user typed, and its SDK
/// (`@tatumio/tatum` 1.37.68, `generateWallet`, `generateAddressFromXPub`,
/// `generatePrivateKeyFromMnemonic`) accepted token names, deriving their
/// wallets with a chain's routine. Each entry: the token name and the chain
/// whose derivation the SDK used for it (so keys and addresses come out as
/// the original's). Listed in docs/wallet-format.md.
const LEGACY_TOKENS: &[(&str, Chain)] = &[
    // ERC-20 on Ethereum (`ERC20_CURRENCIES`): the ETH path.
    ("USDT", Chain::ETH),
    ("USDC", Chain::ETH),
    ("WBTC", Chain::ETH),
    ("LEO", Chain::ETH),
    ("LINK", Chain::ETH),
    ("UNI", Chain::ETH),
    ("FREE", Chain::ETH),
    ("MKR", Chain::ETH),
    ("BAT", Chain::ETH),
    ("TUSD", Chain::ETH),
    ("BUSD", Chain::ETH),
    ("PAX", Chain::ETH),
    ("PAXG", Chain::ETH),
    ("PLTC", Chain::ETH),
    ("XCON", Chain::ETH),
    ("MMY", Chain::ETH),
    ("LATOKEN", Chain::ETH),
    ("COIIN", Chain::ETH),
    ("REVV", Chain::ETH),
    ("SAND", Chain::ETH),
    ("GMC", Chain::ETH),
    ("MATIC_ETH", Chain::ETH),
    ("POL_ETH", Chain::ETH),
    // Polygon tokens the SDK nevertheless derived on the ETH path
    // (`generateEthWallet`, `generateEthPrivateKey`): mapping them to MATIC
    // would derive other keys than the original's.
    ("GAMEE", Chain::ETH),
    ("INTENT", Chain::ETH),
    ("EURTENT", Chain::ETH),
    ("GOLDAX", Chain::ETH),
    // Arbitrum, Base and Optimism names: the ETH path. We do not serve those
    // chains; the keys and addresses are the same as on ETH.
    ("ETH_ARB", Chain::ETH),
    ("USDC_ARB", Chain::ETH),
    ("USDT_ARB", Chain::ETH),
    ("ETH_BASE", Chain::ETH),
    ("USDC_BASE", Chain::ETH),
    ("USDT_BASE", Chain::ETH),
    ("ETH_OP", Chain::ETH),
    ("USDC_OP", Chain::ETH),
    ("USDT_OP", Chain::ETH),
    // BEP-20 on BSC (`BEP20_CURRENCIES`): BSC, whose path is ETH's.
    ("USDT_BSC", Chain::BSC),
    ("USDC_BSC", Chain::BSC),
    ("BUSD_BSC", Chain::BSC),
    ("COIIN_BSC", Chain::BSC),
    ("GMC_BSC", Chain::BSC),
    ("B2U_BSC", Chain::BSC),
    ("BETH", Chain::BSC),
    ("BBTC", Chain::BSC),
    ("BADA", Chain::BSC),
    ("WBNB", Chain::BSC),
    ("BDOT", Chain::BSC),
    ("BXRP", Chain::BSC),
    ("BLTC", Chain::BSC),
    ("BBCH", Chain::BSC),
    ("HAG", Chain::BSC),
    ("CAKE", Chain::BSC),
    ("RMD", Chain::BSC),
    // Polygon tokens derived on the Polygon path.
    ("USDT_MATIC", Chain::MATIC),
    ("USDC_MATIC", Chain::MATIC),
    ("USDC_MATIC_NATIVE", Chain::MATIC),
    // TRC-20 on TRON.
    ("USDT_TRON", Chain::TRON),
    ("INRT_TRON", Chain::TRON),
    // Celo's stable coins.
    ("CUSD", Chain::CELO),
    ("CEUR", Chain::CELO),
    // Flow's USD coin.
    ("FUSD", Chain::FLOW),
];

impl Chain {
    /// The chain of a stored wallet's `chain` field: a chain's name, or a
    /// token name the original stored when the user typed one (`USDT`,
    /// `USDC_MATIC`, `USDT_TRON`, ...), as the chain whose keys the
    /// original derived for it. Any case, as [`Chain::from_str`].
    pub fn from_stored_name(name: &str) -> Result<Chain, UnsupportedChain> {
        name.parse().or_else(|unsupported: UnsupportedChain| {
            let upper = name.trim().to_ascii_uppercase();
            LEGACY_TOKENS
                .iter()
                .find(|(token, _)| *token == upper)
                .map(|(_, chain)| *chain)
                .ok_or(unsupported)
        })
    }

    /// The token names [`Chain::from_stored_name`] maps to a chain, with
    /// that chain.
    pub fn legacy_tokens() -> &'static [(&'static str, Chain)] {
        LEGACY_TOKENS
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

    #[test]
    fn stored_token_names_map_to_the_chain_that_derived_them() {
        for (token, chain) in [
            ("USDT", Chain::ETH),
            ("usdc_matic", Chain::MATIC),
            ("USDT_TRON", Chain::TRON),
            ("USDT_BSC", Chain::BSC),
            ("GAMEE", Chain::ETH),
            ("CUSD", Chain::CELO),
            ("FUSD", Chain::FLOW),
        ] {
            assert_eq!(Chain::from_stored_name(token), Ok(chain), "{token}");
            // Only stored wallets: a command line naming a token is refused.
            assert!(matches!(
                token.parse::<Chain>(),
                Err(UnsupportedChain { .. })
            ));
        }
        assert_eq!(Chain::from_stored_name("eth"), Ok(Chain::ETH));
        let bnb = Chain::from_stored_name("BNB").unwrap_err();
        assert!(bnb.note.is_some(), "BNB keeps its explanation");
        assert!(matches!(
            Chain::from_stored_name("NOPE"),
            Err(UnsupportedChain { note: None, .. })
        ));
        // No token shadows a chain, and none is listed twice.
        let mut names: Vec<&str> = Chain::legacy_tokens().iter().map(|(t, _)| *t).collect();
        assert!(names.iter().all(|t| t.parse::<Chain>().is_err()));
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
