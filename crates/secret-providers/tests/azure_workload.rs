//! Azure workload identity (AKS): the federated service-account token from
//! `AZURE_FEDERATED_TOKEN_FILE` exchanged at Entra ID for a vault token,
//! against a fake token endpoint that checks the assertion request and a
//! fake Key Vault; and the order `DefaultAzureCredential` uses.

mod common;

use std::path::Path;

use common::{lookup, Fake, Reply, Seen};
use kms_secret_providers::{
    provider_from_lookup, AzureConfig, AzureCredential, PasswordSource, Problem,
};
use secrecy::ExposeSecret;
use serde_json::json;

const PASSWORD: &str = "workload-wallet-pass %1";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ASSERTION: &str =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSJ9.sig";
const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.vault-access-token.sig";

/// Entra ID that issues a token only for the exact workload-identity form
/// (with `assertion` as the client assertion), and a vault that answers
/// only that token.
async fn entra_and_vault(assertion: &'static str) -> Fake {
    Fake::start(move |seen| {
        if seen.path == format!("/{TENANT}/oauth2/v2.0/token") {
            let form = Seen::form(&seen.body);
            let expected = [
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
                ("scope", "https://vault.azure.net/.default"),
            ];
            let exact = seen.method == "POST"
                && seen.header("content-type") == Some("application/x-www-form-urlencoded")
                && form.len() == expected.len()
                && expected
                    .iter()
                    .all(|(k, v)| form.get(*k).map(String::as_str) == Some(*v));
            if exact {
                Reply::json(
                    200,
                    json!({"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN}),
                )
            } else {
                Reply::json(
                    401,
                    json!({"error": "invalid_client",
                           "error_description": format!("AADSTS700211: No matching federated identity record found for presented assertion {}.",
                               form.get("client_assertion").cloned().unwrap_or_default())}),
                )
            }
        } else if seen.path == "/secrets/tatum-kms-password/"
            && seen.header("authorization") == Some(&*format!("Bearer {ACCESS_TOKEN}"))
        {
            Reply::json(200, json!({"value": PASSWORD, "id": "x"}))
        } else {
            Reply::json(401, json!({"error": {"code": "Unauthorized", "message": "no"}}))
        }
    })
    .await
}

fn vars(fake: &Fake, token_file: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("TATUM_KMS_AZURE_VAULTURL", fake.url.clone()),
        ("TATUM_KMS_AZURE_SECRETNAME", "tatum-kms-password".into()),
        ("AZURE_AUTHORITY_HOST", fake.url.clone()),
        ("AZURE_TENANT_ID", TENANT.into()),
        ("AZURE_CLIENT_ID", CLIENT.into()),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            token_file.display().to_string(),
        ),
        // Never reached here; a loopback port nothing listens on.
        ("TATUM_KMS_AZURE_IMDS_URL", "http://127.0.0.1:9".into()),
    ]
}

fn pairs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn password(
    vars: &[(&'static str, String)],
) -> Result<String, kms_secret_providers::ProviderError> {
    provider_from_lookup(PasswordSource::Azure, lookup(&pairs(vars)))?
        .password()
        .await
        .map(|p| p.expose_secret().to_string())
}

#[tokio::test]
async fn the_federated_token_is_exchanged_then_the_secret_read() {
    let fake = entra_and_vault(ASSERTION).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, format!("{ASSERTION}\n")).unwrap();
    let vars = vars(&fake, &token_file);

    let config = AzureConfig::from_lookup(lookup(&pairs(&vars))).unwrap();
    assert!(matches!(
        &config.credential,
        AzureCredential::WorkloadIdentity { tenant_id, client_id, token_file: f }
            if tenant_id == TENANT && client_id == CLIENT && *f == token_file
    ));
    assert_eq!(config.authority_url.as_str(), format!("{}/", fake.url));
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);
    assert_eq!(fake.seen().len(), 2);

    // The file is read at each request: AKS rotates the projected token.
    std::fs::write(&token_file, "eyJ.rotated-but-unknown.sig").unwrap();
    let err = password(&vars).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err.problem, Problem::Http(f) if f.status == 401 && f.code.as_deref() == Some("invalid_client")),
        "{text}"
    );
    assert!(
        text.starts_with(&format!(
            "Azure Key Vault: workload-identity token for client `{CLIENT}` of tenant `{TENANT}` \
             (federated token file `{}`) from {}/: HTTP 401 invalid_client",
            token_file.display(),
            fake.url
        )),
        "{text}"
    );
    // Entra echoed the assertion; it is blanked.
    assert!(!text.contains("rotated-but-unknown"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");

    // A missing or empty file is named with its path.
    std::fs::write(&token_file, "  \n").unwrap();
    let err = password(&vars).await.unwrap_err();
    assert!(
        matches!(&err.problem, Problem::File { path, reason, .. } if *path == token_file && reason == "empty"),
        "{err}"
    );
    std::fs::remove_file(&token_file).unwrap();
    let err = password(&vars).await.unwrap_err();
    assert!(
        matches!(&err.problem, Problem::File { path, .. } if *path == token_file),
        "{err}"
    );
}

#[test]
fn the_credential_order_of_default_azure_credential() {
    let base = [
        ("TATUM_KMS_AZURE_VAULTURL", "my-kv"),
        ("TATUM_KMS_AZURE_SECRETNAME", "pw"),
    ];
    let with =
        |extra: &[(&str, &str)]| AzureConfig::from_lookup(lookup(&[&base[..], extra].concat()));

    // A client secret comes first, even with a federated token file.
    let config = with(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_CLIENT_SECRET", "s3cret-value"),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            "/var/run/secrets/azure/tokens/azure-identity-token",
        ),
    ])
    .unwrap();
    assert!(matches!(
        config.credential,
        AzureCredential::ClientSecret { .. }
    ));

    // Then the workload identity, before the managed identity.
    let config = with(&[
        ("AZURE_TENANT_ID", TENANT),
        ("TATUM_KMS_AZURE_CLIENT_ID", CLIENT),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            "/var/run/secrets/azure/tokens/azure-identity-token",
        ),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
    ])
    .unwrap();
    assert!(matches!(
        config.credential,
        AzureCredential::WorkloadIdentity { .. }
    ));
    assert_eq!(
        config.authority_url.as_str(),
        "https://login.microsoftonline.us/"
    );

    // Ours wins over AZURE_AUTHORITY_HOST.
    let config = with(&[
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        (
            "TATUM_KMS_AZURE_AUTHORITY_URL",
            "https://login.chinacloudapi.cn",
        ),
    ])
    .unwrap();
    assert_eq!(
        config.authority_url.as_str(),
        "https://login.chinacloudapi.cn/"
    );
    assert!(matches!(
        config.credential,
        AzureCredential::ManagedIdentity { client_id: None }
    ));

    // A workload identity needs its tenant and client.
    for (missing, extra) in [
        ("AZURE_TENANT_ID", [("AZURE_CLIENT_ID", CLIENT)]),
        ("AZURE_CLIENT_ID", [("AZURE_TENANT_ID", TENANT)]),
    ] {
        let err = with(&[extra[0], ("AZURE_FEDERATED_TOKEN_FILE", "/t")]).unwrap_err();
        assert!(
            matches!(&err.problem, Problem::MissingSetting(names) if names.contains(&missing)),
            "{err}"
        );
    }

    // The authority must not be plain http to another host.
    let err = with(&[("AZURE_AUTHORITY_HOST", "http://login.example.com")]).unwrap_err();
    assert!(
        matches!(
            &err.problem,
            Problem::InvalidSetting {
                name: "AZURE_AUTHORITY_HOST",
                ..
            }
        ),
        "{err}"
    );
}
