use std::fmt;

/// Which network of a chain a wallet or transaction belongs to. Stored
/// wallets say it with the original's boolean `testnet` field; the daemon
/// and `signpending` with the `--testnet` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// The production network (the default, as in the original).
    #[default]
    Mainnet,
    /// The chain's public test network.
    Testnet,
}

impl Network {
    /// `Testnet` when `testnet` is true: the original's flag and field.
    pub fn from_testnet(testnet: bool) -> Network {
        if testnet {
            Network::Testnet
        } else {
            Network::Mainnet
        }
    }

    /// The original's boolean.
    pub fn is_testnet(self) -> bool {
        self == Network::Testnet
    }

    /// `mainnet` or `testnet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Network {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
