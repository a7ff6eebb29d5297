//! What every remote password source refuses: plain http to anything but
//! loopback (and the metadata endpoints, which are http by design), and
//! answers larger than 1 MiB, which are cut off while being read.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{lookup, Fake, Reply};
use kms_secret_providers::{
    provider_from_lookup, AzureConfig, AzureProvider, PasswordSource, Problem, ProviderError,
    SecretProvider, VgsConfig, VgsProvider,
};
use serde_json::json;

const CAP: usize = 1 << 20;

type Settings = Vec<(&'static str, String)>;

fn settings_problem(result: Result<Box<dyn SecretProvider>, ProviderError>) -> Problem {
    let err = result.err().expect("refused");
    assert_eq!(err.asked, "settings");
    err.problem
}

#[test]
fn plain_http_is_refused_for_every_vault_but_to_loopback() {
    let vgs = |base: &str| {
        provider_from_lookup(
            PasswordSource::Vgs,
            lookup(&[
                ("TATUM_KMS_VGS_USERNAME", "u"),
                ("TATUM_KMS_VGS_PASSWORD", "p"),
                ("TATUM_KMS_VGS_ALIAS", "tok_x"),
                ("TATUM_KMS_VGS_BASE_URL", base),
            ]),
        )
    };
    let problem = settings_problem(vgs("http://api.sandbox.verygoodvault.com"));
    assert!(
        matches!(&problem, Problem::InvalidSetting { name: "TATUM_KMS_VGS_BASE_URL", reason }
            if reason.contains("in clear") && reason.contains("loopback")),
        "{problem}"
    );
    assert!(vgs("http://127.0.0.1:8080").is_ok());
    assert!(vgs("https://api.sandbox.verygoodvault.com").is_ok());

    let azure = |extra: &[(&str, &str)]| {
        let base = [
            ("TATUM_KMS_AZURE_VAULTURL", "https://my-kv.vault.azure.net"),
            ("TATUM_KMS_AZURE_SECRETNAME", "pw"),
        ];
        provider_from_lookup(PasswordSource::Azure, lookup(&[&base[..], extra].concat()))
    };
    for (name, url) in [
        ("TATUM_KMS_AZURE_VAULTURL", "http://my-kv.vault.azure.net"),
        (
            "TATUM_KMS_AZURE_AUTHORITY_URL",
            "http://login.microsoftonline.com",
        ),
        ("TATUM_KMS_AZURE_IMDS_URL", "http://10.0.0.4"),
    ] {
        let problem = settings_problem(azure(&[(name, url)]));
        assert!(
            matches!(&problem, Problem::InvalidSetting { name: n, .. } if *n == name),
            "{name}: {problem}"
        );
    }
    // The metadata endpoint itself is http by design.
    assert!(azure(&[("TATUM_KMS_AZURE_IMDS_URL", "http://169.254.169.254")]).is_ok());
    assert!(azure(&[("TATUM_KMS_AZURE_VAULTURL", "http://localhost:8443")]).is_ok());

    // Configs built by hand are checked by the providers too.
    let mut config = VgsConfig::from_lookup(lookup(&[
        ("TATUM_KMS_VGS_USERNAME", "u"),
        ("TATUM_KMS_VGS_PASSWORD", "p"),
        ("TATUM_KMS_VGS_ALIAS", "tok_x"),
    ]))
    .unwrap();
    config.base_url = "http://vault.example.com".parse().unwrap();
    assert!(matches!(
        VgsProvider::new(config).err().unwrap().problem,
        Problem::InvalidSetting {
            name: "TATUM_KMS_VGS_BASE_URL",
            ..
        }
    ));
    let mut config = AzureConfig::from_lookup(lookup(&[
        ("TATUM_KMS_AZURE_VAULTURL", "my-kv"),
        ("TATUM_KMS_AZURE_SECRETNAME", "pw"),
    ]))
    .unwrap();
    config.imds_url = "http://169.254.170.2".parse().unwrap();
    assert!(matches!(
        AzureProvider::new(config).err().unwrap().problem,
        Problem::InvalidSetting {
            name: "TATUM_KMS_AZURE_IMDS_URL",
            ..
        }
    ));
}

fn too_large(err: &ProviderError) -> bool {
    matches!(err.problem, Problem::TooLarge { limit, .. } if limit == CAP)
}

/// A body one byte over the cap, with its length declared.
fn oversized() -> Reply {
    Reply::text(200, &"x".repeat(CAP + 1))
}

#[tokio::test]
async fn every_source_caps_its_answers() {
    let big = Fake::start(|_| oversized()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJ.token.sig").unwrap();
    let token = token.display().to_string();
    let aws_base = vec![
        ("HOME", dir.path().display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_REGION", "eu-west-1".to_string()),
        ("TATUM_KMS_AWS_SECRET_NAME", "s".to_string()),
        ("TATUM_KMS_AWS_SECRET_KEY", "k".to_string()),
        ("TATUM_KMS_AWS_ENDPOINT_URL", big.url.clone()),
    ];
    let with = |base: &[(&'static str, String)], extra: &[(&'static str, String)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        all
    };
    let url = big.url.clone();
    let cases: Vec<(&str, PasswordSource, Settings, &str)> = vec![
        (
            "VGS",
            PasswordSource::Vgs,
            vec![
                ("TATUM_KMS_VGS_USERNAME", "u".into()),
                ("TATUM_KMS_VGS_PASSWORD", "p".into()),
                ("TATUM_KMS_VGS_ALIAS", "tok_x".into()),
                ("TATUM_KMS_VGS_BASE_URL", url.clone()),
            ],
            "VGS: alias `tok_x`",
        ),
        (
            "Azure token",
            PasswordSource::Azure,
            vec![
                ("TATUM_KMS_AZURE_VAULTURL", url.clone()),
                ("TATUM_KMS_AZURE_SECRETNAME", "pw".into()),
                ("TATUM_KMS_AZURE_IMDS_URL", url.clone()),
            ],
            "Azure Key Vault: managed-identity token",
        ),
        (
            "AWS Secrets Manager",
            PasswordSource::Aws,
            with(
                &aws_base,
                &[
                    ("AWS_ACCESS_KEY_ID", "AKIA".into()),
                    ("AWS_SECRET_ACCESS_KEY", "secret".into()),
                ],
            ),
            "AWS Secrets Manager: key `k` of secret `s`",
        ),
        (
            "STS",
            PasswordSource::Aws,
            with(
                &aws_base,
                &[
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", token.clone()),
                    ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r".into()),
                    ("AWS_ENDPOINT_URL_STS", url.clone()),
                ],
            ),
            "AWS Secrets Manager: web identity credentials",
        ),
        (
            "container",
            PasswordSource::Aws,
            with(
                &aws_base,
                &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{url}/creds"))],
            ),
            "AWS Secrets Manager: container credentials",
        ),
        (
            "IMDS",
            PasswordSource::Aws,
            with(
                &aws_base,
                &[
                    ("AWS_EC2_METADATA_DISABLED", "false".into()),
                    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", url.clone()),
                ],
            ),
            "AWS Secrets Manager: EC2 instance metadata credentials",
        ),
    ];
    for (what, source, vars, asked) in cases {
        // Later entries override earlier ones, as in a real environment.
        let lookup = move |name: &str| {
            vars.iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let err = provider_from_lookup(source, lookup)
            .unwrap()
            .password()
            .await
            .unwrap_err();
        assert!(too_large(&err), "{what}: {err}");
        let text = err.to_string();
        assert!(text.starts_with(asked), "{what}: {text}");
        assert!(
            text.contains("answer larger than 1024 KiB"),
            "{what}: {text}"
        );
    }

    // The Azure vault itself: a good token, then a huge secret bundle.
    let vault = Fake::start(|seen| {
        if seen.path.contains("/oauth2/") {
            Reply::json(200, json!({"access_token": "eyJ.t.s"}))
        } else {
            oversized()
        }
    })
    .await;
    let err = provider_from_lookup(
        PasswordSource::Azure,
        lookup(&[
            ("TATUM_KMS_AZURE_VAULTURL", &vault.url),
            ("TATUM_KMS_AZURE_SECRETNAME", "pw"),
            ("TATUM_KMS_AZURE_IMDS_URL", &vault.url),
        ]),
    )
    .unwrap()
    .password()
    .await
    .unwrap_err();
    assert!(too_large(&err), "{err}");
    assert!(
        err.to_string().starts_with("Azure Key Vault: secret `pw`"),
        "{err}"
    );
}

/// A server that sends a chunked answer without a length and does not end
/// it (short of 64 MiB). Reading stops at the cap and the client hangs up;
/// without a cap the client would buffer all of it and then fail on the
/// unfinished body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_stops_at_the_cap() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // A bound, so a client that neither reads nor hangs up fails the
        // test instead of hanging it.
        stream
            .set_write_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).unwrap();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n")
            .unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "y".repeat(64 * 1024));
        let mut sent = 0usize;
        // Until the client hangs up.
        while stream.write_all(chunk.as_bytes()).is_ok() {
            sent += 64 * 1024;
            if sent > 64 * CAP {
                break;
            }
        }
        sent
    });
    let started = std::time::Instant::now();
    let err = provider_from_lookup(
        PasswordSource::Vgs,
        lookup(&[
            ("TATUM_KMS_VGS_USERNAME", "u"),
            ("TATUM_KMS_VGS_PASSWORD", "p"),
            ("TATUM_KMS_VGS_ALIAS", "tok_x"),
            ("TATUM_KMS_VGS_BASE_URL", &url),
        ]),
    )
    .unwrap()
    .password()
    .await
    .unwrap_err();
    assert!(too_large(&err), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let sent = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    // The client hung up long before the server's own limit.
    assert!(sent < 64 * CAP, "sent {sent}");
}
