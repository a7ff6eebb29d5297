//! The Cadence transactions the original's requests stand for, written for
//! Cadence 1.0.
//!
//! The original's SDK (`@tatumio/tatum` 1.37.68, `flowTransaction/index.ts`)
//! wrote them before Flow's Crescendo upgrade (September 2024), which
//! replaced `AuthAccount` with entitlement-authorized `&Account` references,
//! `account.borrow`/`link`/`getCapability` with `account.storage.borrow` and
//! `account.capabilities`, `addPublicKey(bytes)` with `keys.add(...)`, and
//! restricted types `&T{I}` with intersection types `&{I}`: its scripts no
//! longer pass the checker. These are the same transactions (same arguments
//! in the same order where the operation is unchanged) in Cadence 1.0,
//! following Flow's own templates (`onflow/flow-core-contracts`:
//! `transactions/flowToken/transfer_tokens.cdc`,
//! `transactions/accounts/create_new_account.cdc`, `add_key.cdc`). See
//! docs/chains.md, FLOW, for each difference.

use kms_core::Network;

/// Contract addresses of the original's `FLOW_MAINNET_ADDRESSES` /
/// `FLOW_TESTNET_ADDRESSES`, plus `NonFungibleToken` (whose `Withdraw`
/// entitlement Cadence 1.0 needs to take an NFT out of a collection).
struct Contracts {
    fungible_token: &'static str,
    flow_token: &'static str,
    fusd: &'static str,
    non_fungible_token: &'static str,
    tatum_multi_nft: &'static str,
}

fn contracts(network: Network) -> Contracts {
    match network {
        Network::Mainnet => Contracts {
            fungible_token: "0xf233dcee88fe0abe",
            flow_token: "0x1654653399040a61",
            fusd: "0x3c5959b568896393",
            non_fungible_token: "0x1d7e57aa55817448",
            tatum_multi_nft: "0x354e6721564ccd2c",
        },
        Network::Testnet => Contracts {
            fungible_token: "0x9a0766d93b6608b7",
            flow_token: "0x7e60df042a9c0868",
            fusd: "0xe223d8a629e49c68",
            non_fungible_token: "0x631e88ae7f1d7c20",
            tatum_multi_nft: "0x87fe4ebd0cddde06",
        },
    }
}

/// A fungible token the original's TRANSFER sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    /// FLOW, the `FlowToken` contract.
    Flow,
    /// FUSD.
    Fusd,
}

impl Token {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            Token::Flow => "FLOW",
            Token::Fusd => "FUSD",
        }
    }
}

/// `transaction(amount: UFix64, recipient: Address)`: withdraws `amount`
/// from the signer's vault and deposits it into the recipient's receiver.
pub(super) fn transfer(network: Network, token: Token) -> String {
    let c = contracts(network);
    let (contract, address, storage) = match token {
        Token::Flow => ("FlowToken", c.flow_token, "flowToken"),
        Token::Fusd => ("FUSD", c.fusd, "fusd"),
    };
    format!(
        r#"import FungibleToken from {fungible_token}
import {contract} from {address}

transaction(amount: UFix64, recipient: Address) {{
    let sentVault: @{{FungibleToken.Vault}}

    prepare(signer: auth(BorrowValue) &Account) {{
        let vaultRef = signer.storage.borrow<auth(FungibleToken.Withdraw) &{contract}.Vault>(from: /storage/{storage}Vault)
            ?? panic("failed to borrow reference to sender vault")
        self.sentVault <- vaultRef.withdraw(amount: amount)
    }}

    execute {{
        let receiverRef = getAccount(recipient)
            .capabilities.borrow<&{{FungibleToken.Receiver}}>(/public/{storage}Receiver)
            ?? panic("failed to borrow reference to recipient vault")
        receiverRef.deposit(from: <-self.sentVault)
    }}
}}
"#,
        fungible_token = c.fungible_token,
    )
}

/// `transaction(publicKey: String)`: a new account, paid for by the
/// signer, holding `publicKey` (64 bytes of hex, secp256k1, SHA3-256) with
/// full weight.
pub(super) fn create_account() -> String {
    r#"transaction(publicKey: String) {
    prepare(signer: auth(BorrowValue, Storage) &Account) {
        let account = Account(payer: signer)
        account.keys.add(
            publicKey: PublicKey(
                publicKey: publicKey.decodeHex(),
                signatureAlgorithm: SignatureAlgorithm.ECDSA_secp256k1
            ),
            hashAlgorithm: HashAlgorithm.SHA3_256,
            weight: 1000.0
        )
    }
}
"#
    .to_string()
}

/// `transaction(publicKey: String, weight: UFix64)`: adds `publicKey`
/// (secp256k1, SHA3-256) to the signer's account with `weight`.
pub(super) fn add_key() -> String {
    r#"transaction(publicKey: String, weight: UFix64) {
    prepare(signer: auth(AddKey) &Account) {
        signer.keys.add(
            publicKey: PublicKey(
                publicKey: publicKey.decodeHex(),
                signatureAlgorithm: SignatureAlgorithm.ECDSA_secp256k1
            ),
            hashAlgorithm: HashAlgorithm.SHA3_256,
            weight: weight
        )
    }
}
"#
    .to_string()
}

/// `transaction(recipient: Address, url: String, type: String)`: the
/// signer's TatumMultiNFT minter mints one token to `recipient`.
pub(super) fn mint_nft(network: Network) -> String {
    format!(
        r#"import TatumMultiNFT from {nft}

transaction(recipient: Address, url: String, type: String) {{
    let minter: &TatumMultiNFT.NFTMinter

    prepare(signer: auth(BorrowValue) &Account) {{
        self.minter = signer.storage.borrow<&TatumMultiNFT.NFTMinter>(from: TatumMultiNFT.MinterStoragePath)
            ?? panic("Could not borrow a reference to the NFT minter")
    }}

    execute {{
        let receiver = getAccount(recipient)
            .capabilities.borrow<&TatumMultiNFT.Collection>(TatumMultiNFT.CollectionPublicPath)
            ?? panic("Could not get receiver reference to the NFT Collection")
        self.minter.mintNFT(recipient: receiver, type: type, url: url, address: recipient)
    }}
}}
"#,
        nft = contracts(network).tatum_multi_nft
    )
}

/// `transaction(recipient: [Address], url: [String], type: String)`: one
/// token per `url[i]`, to `recipient[i]`.
pub(super) fn mint_multiple_nft(network: Network) -> String {
    format!(
        r#"import TatumMultiNFT from {nft}

transaction(recipient: [Address], url: [String], type: String) {{
    let minter: &TatumMultiNFT.NFTMinter

    prepare(signer: auth(BorrowValue) &Account) {{
        self.minter = signer.storage.borrow<&TatumMultiNFT.NFTMinter>(from: TatumMultiNFT.MinterStoragePath)
            ?? panic("Could not borrow a reference to the NFT minter")
    }}

    execute {{
        var a = 0
        while a < url.length {{
            let receiver = getAccount(recipient[a])
                .capabilities.borrow<&TatumMultiNFT.Collection>(TatumMultiNFT.CollectionPublicPath)
                ?? panic("Could not get receiver reference to the NFT Collection")
            self.minter.mintNFT(recipient: receiver, type: type, url: url[a], address: recipient[a])
            a = a + 1
        }}
    }}
}}
"#,
        nft = contracts(network).tatum_multi_nft
    )
}

/// `transaction(withdrawID: UInt64, type: String)`: destroys the signer's
/// token `withdrawID` after checking it is of `type`.
pub(super) fn burn_nft(network: Network) -> String {
    let c = contracts(network);
    format!(
        r#"import NonFungibleToken from {nft_standard}
import TatumMultiNFT from {nft}

transaction(withdrawID: UInt64, type: String) {{
    let senderCollection: auth(NonFungibleToken.Withdraw) &TatumMultiNFT.Collection

    prepare(signer: auth(BorrowValue) &Account) {{
        self.senderCollection = signer.storage.borrow<auth(NonFungibleToken.Withdraw) &TatumMultiNFT.Collection>(from: TatumMultiNFT.CollectionStoragePath)
            ?? panic("Could not borrow a reference to the owner's collection")
        self.senderCollection.borrowTatumNFT(id: withdrawID, type: type)
    }}

    execute {{
        let nft <- self.senderCollection.withdraw(withdrawID: withdrawID)
        destroy nft
    }}
}}
"#,
        nft_standard = c.non_fungible_token,
        nft = c.tatum_multi_nft
    )
}

/// `transaction(recipient: Address, withdrawID: UInt64)`: moves the
/// signer's token `withdrawID` to `recipient`'s collection.
pub(super) fn transfer_nft(network: Network) -> String {
    let c = contracts(network);
    format!(
        r#"import NonFungibleToken from {nft_standard}
import TatumMultiNFT from {nft}

transaction(recipient: Address, withdrawID: UInt64) {{
    let senderCollection: auth(NonFungibleToken.Withdraw) &TatumMultiNFT.Collection

    prepare(signer: auth(BorrowValue) &Account) {{
        self.senderCollection = signer.storage.borrow<auth(NonFungibleToken.Withdraw) &TatumMultiNFT.Collection>(from: TatumMultiNFT.CollectionStoragePath)
            ?? panic("Could not borrow a reference to the owner's collection")
    }}

    execute {{
        let depositRef = getAccount(recipient)
            .capabilities.borrow<&TatumMultiNFT.Collection>(TatumMultiNFT.CollectionPublicPath)
            ?? panic("Could not borrow a reference to the recipient's collection")
        let nft <- self.senderCollection.withdraw(withdrawID: withdrawID)
        depositRef.deposit(token: <-nft)
    }}
}}
"#,
        nft_standard = c.non_fungible_token,
        nft = c.tatum_multi_nft
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// None of the constructs Cadence 1.0 removed may appear in a template.
    #[test]
    fn no_template_uses_pre_1_0_cadence() {
        for network in [Network::Mainnet, Network::Testnet] {
            for script in [
                transfer(network, Token::Flow),
                transfer(network, Token::Fusd),
                create_account(),
                add_key(),
                mint_nft(network),
                mint_multiple_nft(network),
                burn_nft(network),
                transfer_nft(network),
            ] {
                for removed in [
                    "AuthAccount",
                    "pub ",
                    "getCapability",
                    ".link<",
                    "addPublicKey",
                    "signer.borrow",
                    "Vault{",
                ] {
                    assert!(!script.contains(removed), "{removed} in {script}");
                }
            }
        }
        // The imports follow the network.
        assert!(transfer(Network::Mainnet, Token::Flow).contains("0x1654653399040a61"));
        assert!(transfer(Network::Testnet, Token::Flow).contains("0x7e60df042a9c0868"));
        assert!(transfer(Network::Testnet, Token::Fusd).contains("/storage/fusdVault"));
    }
}
