//! Azure Key Vault against in-process fakes of Entra ID, IMDS and the vault
//! that check the exact requests and answer with every documented shape.

mod common;

use std::sync::Mutex;

use common::{lookup, Fake, Kind, Reply, Seen};
use kms_secret_providers::{
    provider_from_lookup, vault_url, AzureConfig, AzureCredential, PasswordSource, Problem,
    SecretProvider,
};
use secrecy::ExposeSecret;
use serde_json::json;

const PASSWORD: &str = "kv-wallet-pass 42!";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "00000000-aaaa-bbbb-cccc-123456789012";
const CLIENT_SECRET: &str = "Qx8~client-secret-value";
const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-access-token";
const SECRET_NAME: &str = "tatum-kms-password";
const VERSION: &str = "4387e9f3d6e14c459867679a90fd0f79";

fn token_answer() -> Reply {
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN}),
    )
}

fn bundle(value: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "value": value,
            "id": format!("https://myvault.vault.azure.net/secrets/{SECRET_NAME}/{VERSION}"),
            "attributes": {"enabled": true, "created": 1493938410, "updated": 1493938410, "recoveryLevel": "Recoverable+Purgeable"},
        }),
    )
}

/// One fake plays Entra ID, IMDS and the vault: the path tells them apart.
/// `vault` answers the vault's requests.
async fn fake(vault: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
    Fake::start(move |seen| {
        if seen.path.contains("/oauth2/") {
            token_answer()
        } else {
            vault(seen)
        }
    })
    .await
}

fn client_secret_vars(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TATUM_KMS_AZURE_VAULTURL", url.into()),
        ("TATUM_KMS_AZURE_SECRETNAME", SECRET_NAME.into()),
        ("TATUM_KMS_AZURE_SECRETVERSION", VERSION.into()),
        ("TATUM_KMS_AZURE_AUTHORITY_URL", url.into()),
        ("TATUM_KMS_AZURE_IMDS_URL", url.into()),
        ("AZURE_TENANT_ID", TENANT.into()),
        ("AZURE_CLIENT_ID", CLIENT.into()),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET.into()),
    ]
}

fn provider(vars: &[(&'static str, String)]) -> Box<dyn SecretProvider> {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    provider_from_lookup(PasswordSource::Azure, lookup(&pairs)).unwrap()
}

#[tokio::test]
async fn client_credentials_then_get_secret() {
    let fake = fake(|_| bundle(PASSWORD)).await;
    let password = provider(&client_secret_vars(&fake.url))
        .password()
        .await
        .unwrap();
    assert_eq!(password.expose_secret(), PASSWORD);

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let token = &seen[0];
    assert_eq!(token.method, "POST");
    assert_eq!(token.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(token.query, None);
    assert_eq!(
        token.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = Seen::form(&token.body);
    assert_eq!(form.len(), 4, "{form:?}");
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], CLIENT);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["scope"], "https://vault.azure.net/.default");

    let get = &seen[1];
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, format!("/secrets/{SECRET_NAME}/{VERSION}"));
    assert_eq!(get.query.as_deref(), Some("api-version=7.4"));
    assert_eq!(
        get.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn managed_identity_when_no_client_secret() {
    let fake = fake(|_| bundle(PASSWORD)).await;
    let vars: Vec<_> = client_secret_vars(&fake.url)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AZURE_"))
        .filter(|(k, _)| *k != "TATUM_KMS_AZURE_SECRETVERSION")
        .chain([("TATUM_KMS_AZURE_API_VERSION", "2025-07-01".to_string())])
        .collect();
    let password = provider(&vars).password().await.unwrap();
    assert_eq!(password.expose_secret(), PASSWORD);

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let imds = &seen[0];
    assert_eq!(imds.method, "GET");
    assert_eq!(imds.path, "/metadata/identity/oauth2/token");
    assert_eq!(imds.header("metadata"), Some("true"));
    let query = Seen::form(imds.query.as_deref().unwrap());
    assert_eq!(query.len(), 2, "{query:?}");
    assert_eq!(query["api-version"], "2018-02-01");
    assert_eq!(query["resource"], "https://vault.azure.net");

    // No version: the latest, as the SDKs ask for it.
    assert_eq!(seen[1].path, format!("/secrets/{SECRET_NAME}/"));
    assert_eq!(seen[1].query.as_deref(), Some("api-version=2025-07-01"));
    assert_eq!(
        seen[1].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_user_assigned_identity_is_picked_by_client_id() {
    let fake = fake(|_| bundle(PASSWORD)).await;
    let vars: Vec<_> = client_secret_vars(&fake.url)
        .into_iter()
        .filter(|(k, _)| *k != "AZURE_CLIENT_SECRET")
        .collect();
    provider(&vars).password().await.unwrap();
    let query = Seen::form(fake.seen()[0].query.as_deref().unwrap());
    assert_eq!(query["client_id"], CLIENT);
}

/// Each failure names Azure, the step and what came back, and quotes neither
/// the password, the client secret nor the token.
#[tokio::test]
async fn every_vault_failure_is_named_and_quotes_no_secret() {
    let kv_error = |status: u16, code: &str, message: &str| {
        Reply::json(status, json!({"error": {"code": code, "message": message}}))
    };
    let cases: Vec<(Reply, &str, Kind)> = vec![
        (
            kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
                .header(
                    "www-authenticate",
                    r#"Bearer authorization="https://login.microsoftonline.com/72f988bf", resource="https://vault.azure.net""#,
                ),
            r#"HTTP 401 Unauthorized: AKV10000: Request is missing a Bearer or PoP token. (WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/72f988bf", resource="https://vault.azure.net")"#,
            |p| matches!(p, Problem::Http(f) if f.status == 401 && f.challenge.is_some()),
        ),
        (
            kv_error(
                403,
                "Forbidden",
                "The user, group or application does not have secrets get permission on key vault 'myvault'.",
            ),
            "HTTP 403 Forbidden: The user, group or application does not have secrets get permission",
            |p| matches!(p, Problem::Http(f) if f.status == 403),
        ),
        (
            kv_error(
                404,
                "SecretNotFound",
                "A secret with (name/id) tatum-kms-password was not found in this key vault.",
            ),
            "not found (HTTP 404 SecretNotFound: A secret with (name/id) tatum-kms-password was not found",
            |p| matches!(p, Problem::NotFound(f) if f.code.as_deref() == Some("SecretNotFound")),
        ),
        (
            kv_error(429, "Throttled", "Request was not processed because too many requests were received.")
                .header("retry-after", "7"),
            "HTTP 429 Throttled: Request was not processed because too many requests were received. (Retry-After: 7)",
            |p| matches!(p, Problem::Http(f) if f.retry_after.as_deref() == Some("7")),
        ),
        (
            // A server echoing the token must not get it printed.
            kv_error(400, "BadParameter", &format!("token {TOKEN} rejected")),
            "HTTP 400 BadParameter: token [redacted] rejected",
            |p| matches!(p, Problem::Http(f) if f.status == 400),
        ),
        (
            Reply::json(200, json!({"id": "x", "attributes": {}})),
            "malformed answer: no `value` in the secret bundle",
            |p| matches!(p, Problem::Malformed(_)),
        ),
        (
            // The original's VGS-shaped reading; it holds the password.
            Reply::json(200, json!({"data": [{"value": PASSWORD}], "value": 5})),
            "malformed answer: not a Key Vault secret bundle",
            |p| matches!(p, Problem::Malformed(_)),
        ),
        (bundle(""), "empty value", |p| matches!(p, Problem::EmptyValue)),
    ];
    for (reply, expected, kind) in cases {
        let reply = Mutex::new(Some(reply));
        let fake = fake(move |_| reply.lock().unwrap().take().unwrap()).await;
        let err = provider(&client_secret_vars(&fake.url))
            .password()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.provider, PasswordSource::Azure);
        assert!(kind(&err.problem), "{text}");
        let asked = format!(
            "Azure Key Vault: secret `{SECRET_NAME}` (version `{VERSION}`) in {}/: ",
            fake.url
        );
        assert!(text.starts_with(&asked), "{text}\nexpected start: {asked}");
        assert!(text.contains(expected), "{text}\nexpected: {expected}");
        for secret in [PASSWORD, CLIENT_SECRET, TOKEN] {
            assert!(!text.contains(secret), "{text} quotes a secret");
            assert!(
                !format!("{err:?}").contains(secret),
                "{err:?} quotes a secret"
            );
        }
    }
}

#[tokio::test]
async fn token_failures_name_the_client_and_tenant() {
    let cases = [
        (
            Reply::json(
                401,
                json!({
                    "error": "invalid_client",
                    "error_description": format!("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the client secret value, not the client secret ID, for a secret added to app '{CLIENT}'. Secret {CLIENT_SECRET}"),
                    "error_codes": [7000215],
                }),
            ),
            "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided.",
        ),
        (
            Reply::json(
                400,
                json!({"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."}),
            ),
            "HTTP 400 invalid_request: AADSTS90002: Tenant not found.",
        ),
        (
            Reply::json(200, json!({"token_type": "Bearer"})),
            "malformed answer: no `access_token` in the token answer",
        ),
    ];
    for (reply, expected) in cases {
        let reply = Mutex::new(Some(reply));
        let fake = Fake::start(move |_| reply.lock().unwrap().take().unwrap()).await;
        let err = provider(&client_secret_vars(&fake.url))
            .password()
            .await
            .unwrap_err();
        let text = err.to_string();
        let asked = format!(
            "Azure Key Vault: token for client `{CLIENT}` of tenant `{TENANT}` from {}/: ",
            fake.url
        );
        assert!(text.starts_with(&asked), "{text}\nexpected start: {asked}");
        assert!(text.contains(expected), "{text}\nexpected: {expected}");
        assert!(
            !text.contains(CLIENT_SECRET),
            "{text} quotes the client secret"
        );
        assert_eq!(fake.seen().len(), 1, "no vault request without a token");
    }
}

#[tokio::test]
async fn managed_identity_failures_say_no_client_secret_was_set() {
    let fake = Fake::start(|_| {
        Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "Identity not found"}),
        )
    })
    .await;
    let vars = [
        ("TATUM_KMS_AZURE_VAULTURL", "myvault"),
        ("TATUM_KMS_AZURE_SECRETNAME", SECRET_NAME),
        ("TATUM_KMS_AZURE_IMDS_URL", fake.url.as_str()),
    ];
    let err = provider_from_lookup(PasswordSource::Azure, lookup(&vars))
        .unwrap()
        .password()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Azure Key Vault: managed-identity token from {}/ (no client secret set): \
             HTTP 400 invalid_request: Identity not found",
            fake.url
        )
    );
}

#[test]
fn vault_urls_from_names_hosts_and_urls() {
    for (given, expected) in [
        ("myvault", "https://myvault.vault.azure.net/"),
        (
            "myvault.vault.azure.net",
            "https://myvault.vault.azure.net/",
        ),
        (
            "https://myvault.vault.azure.net/",
            "https://myvault.vault.azure.net/",
        ),
        (
            "https://myvault.vault.azure.net",
            "https://myvault.vault.azure.net/",
        ),
        ("kv.vault.azure.cn", "https://kv.vault.azure.cn/"),
        ("http://127.0.0.1:8443", "http://127.0.0.1:8443/"),
    ] {
        assert_eq!(vault_url(given).unwrap().as_str(), expected, "{given}");
    }
    // The reason is what the settings error shows after the variable's name.
    assert_eq!(
        vault_url("ftp://x").unwrap_err(),
        "`ftp://x` is not an http(s) URL"
    );
    assert_eq!(
        vault_url("https://user:pw@myvault.vault.azure.net").unwrap_err(),
        "credentials do not belong in the URL"
    );
}

#[test]
fn settings_fall_back_to_the_standard_azure_names() {
    let base = [
        ("TATUM_KMS_AZURE_VAULTURL", "kv.vault.azure.cn"),
        ("TATUM_KMS_AZURE_SECRETNAME", SECRET_NAME),
    ];
    // Ours win over the standard names.
    let config = AzureConfig::from_lookup(lookup(
        &[
            &base[..],
            &[
                ("TATUM_KMS_AZURE_TENANT_ID", "ours-tenant"),
                ("AZURE_TENANT_ID", "their-tenant"),
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
            ],
        ]
        .concat(),
    ))
    .unwrap();
    match &config.credential {
        AzureCredential::ClientSecret {
            tenant_id,
            client_id,
            client_secret,
        } => {
            assert_eq!(tenant_id, "ours-tenant");
            assert_eq!(client_id, CLIENT);
            assert_eq!(client_secret.expose_secret(), CLIENT_SECRET);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(config.resource, "https://vault.azure.cn");
    assert_eq!(config.secret_version, "");
    assert_eq!(config.api_version, "7.4");
    assert_eq!(
        config.authority_url.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(config.imds_url.as_str(), "http://169.254.169.254/");
    assert!(!format!("{config:?}").contains(CLIENT_SECRET));

    let config = AzureConfig::from_lookup(lookup(&base)).unwrap();
    assert!(matches!(
        config.credential,
        AzureCredential::ManagedIdentity { client_id: None }
    ));

    let err = AzureConfig::from_lookup(lookup(
        &[
            &base[..],
            &[("TATUM_KMS_AZURE_CLIENT_SECRET", CLIENT_SECRET)],
        ]
        .concat(),
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Azure Key Vault: settings: none of TATUM_KMS_AZURE_TENANT_ID, AZURE_TENANT_ID is set"
    );

    let err = AzureConfig::from_lookup(lookup(&base[1..])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Azure Key Vault: settings: TATUM_KMS_AZURE_VAULTURL is not set"
    );
}
