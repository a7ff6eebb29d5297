//! VGS against an in-process fake that checks the exact request and answers
//! with every documented shape.

mod common;

use std::time::Duration;

use base64::Engine;
use common::{lookup, Fake, Kind, Reply};
use kms_secret_providers::{
    provider_from_lookup, PasswordSource, Problem, SecretProvider, VgsConfig, VgsProvider,
    DEFAULT_VGS_BASE_URL,
};
use secrecy::ExposeSecret;
use serde_json::json;

const PASSWORD: &str = "wallet-pass-Q7 x";
const USER: &str = "USkQ3vxyz";
const API_PASSWORD: &str = "vgs-api-secret-91";
const ALIAS: &str = "tok_sandbox_5UpnbMvaihRuRwz5QXwBFw";

fn vars(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TATUM_KMS_VGS_USERNAME", USER.into()),
        ("TATUM_KMS_VGS_PASSWORD", API_PASSWORD.into()),
        ("TATUM_KMS_VGS_ALIAS", ALIAS.into()),
        ("TATUM_KMS_VGS_BASE_URL", base.into()),
    ]
}

fn provider(base: &str) -> Box<dyn SecretProvider> {
    let vars = vars(base);
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    provider_from_lookup(PasswordSource::Vgs, lookup(&pairs)).unwrap()
}

fn reveal(value: &str) -> serde_json::Value {
    json!({"data": [{
        "value": value,
        "classifiers": [],
        "aliases": [{"alias": ALIAS, "format": "UUID"}],
        "created_at": "2019-05-15T12:30:45Z",
    }]})
}

#[tokio::test]
async fn reads_the_alias_with_basic_auth() {
    let fake = Fake::start(|_| Reply::json(200, reveal(PASSWORD))).await;
    let password = provider(&fake.url).password().await.unwrap();
    assert_eq!(password.expose_secret(), PASSWORD);

    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, format!("/aliases/{ALIAS}"));
    assert_eq!(seen[0].query, None);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{API_PASSWORD}"));
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it() {
    let fake = Fake::start(|_| Reply::json(200, reveal(PASSWORD))).await;
    provider(&format!("{}/proxy/", fake.url))
        .password()
        .await
        .unwrap();
    assert_eq!(fake.seen()[0].path, format!("/proxy/aliases/{ALIAS}"));
}

/// Each failure names VGS, the alias and what came back, and quotes neither
/// the wallet password nor the API credentials.
#[tokio::test]
async fn every_failure_is_named_and_quotes_no_secret() {
    let error = |status: u16, title: &str, detail: &str| {
        Reply::json(
            status,
            json!({"errors": [{"status": status, "title": title, "detail": detail}]}),
        )
    };
    let cases: Vec<(Reply, &str, Kind)> = vec![
        (
            error(401, "Unauthorized", "Invalid credentials"),
            "HTTP 401: Unauthorized: Invalid credentials",
            |p| matches!(p, Problem::Http(f) if f.status == 401),
        ),
        (
            error(403, "Forbidden", "Access to vault denied"),
            "HTTP 403: Forbidden: Access to vault denied",
            |p| matches!(p, Problem::Http(f) if f.status == 403),
        ),
        (
            error(404, "Not Found", "Alias not found"),
            "not found (HTTP 404: Not Found: Alias not found)",
            |p| matches!(p, Problem::NotFound(f) if f.status == 404),
        ),
        (
            // A server echoing the credentials must not get them printed.
            error(
                400,
                "Bad Request",
                &format!("user {USER} with {API_PASSWORD}"),
            ),
            "HTTP 400: Bad Request: user [redacted] with [redacted]",
            |p| matches!(p, Problem::Http(f) if f.status == 400),
        ),
        (
            Reply::text(502, "<html>upstream down</html>"),
            "HTTP 502",
            |p| matches!(p, Problem::Http(f) if f.status == 502 && f.message.is_none()),
        ),
        (
            Reply::json(
                429,
                json!({"errors": [{"status": 429, "title": "Too Many Requests"}]}),
            )
            .header("retry-after", "30"),
            "HTTP 429: Too Many Requests (Retry-After: 30)",
            |p| matches!(p, Problem::Http(f) if f.retry_after.as_deref() == Some("30")),
        ),
        (Reply::json(200, json!({"data": []})), "empty value", |p| {
            matches!(p, Problem::EmptyValue)
        }),
        (Reply::json(200, reveal("")), "empty value", |p| {
            matches!(p, Problem::EmptyValue)
        }),
        (
            Reply::json(200, json!({"data": [{"classifiers": []}]})),
            "malformed answer: no `value` in `data[0]`",
            |p| matches!(p, Problem::Malformed(_)),
        ),
        (
            // Not the shape, and it holds the password: it must not be quoted.
            Reply::json(200, json!({"data": {"value": PASSWORD}})),
            "malformed answer",
            |p| matches!(p, Problem::Malformed(_)),
        ),
        (
            // A redirect is not followed: it would carry the credentials away.
            Reply::text(302, "").header("location", "http://127.0.0.1:9/steal"),
            "HTTP 302",
            |p| matches!(p, Problem::Http(f) if f.status == 302),
        ),
    ];
    for (reply, expected, kind) in cases {
        let reply = std::sync::Mutex::new(Some(reply));
        let fake = Fake::start(move |_| reply.lock().unwrap().take().unwrap()).await;
        let err = provider(&fake.url).password().await.unwrap_err();
        let text = err.to_string();
        assert_eq!(err.provider, PasswordSource::Vgs);
        assert!(kind(&err.problem), "{text}");
        assert!(text.starts_with("VGS: "), "{text}");
        assert!(text.contains(ALIAS), "{text}");
        assert!(text.contains(expected), "{text}\nexpected: {expected}");
        for secret in [PASSWORD, USER, API_PASSWORD] {
            assert!(!text.contains(secret), "{text} quotes a secret");
            assert!(
                !format!("{err:?}").contains(secret),
                "{err:?} quotes a secret"
            );
        }
        assert_eq!(fake.seen().len(), 1, "one request, no redirect followed");
    }
}

#[tokio::test]
async fn a_slow_vault_times_out() {
    let fake =
        Fake::start(|_| Reply::json(200, reveal(PASSWORD)).after(Duration::from_secs(5))).await;
    let vars = vars(&fake.url);
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut config = VgsConfig::from_lookup(lookup(&pairs)).unwrap();
    config.timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = VgsProvider::new(config)
        .unwrap()
        .password()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        err.to_string().contains("no answer: timed out after 0.3 s"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_vault_is_a_transport_error() {
    // Port 9 (discard) on localhost: nothing listens there in a test box.
    let err = provider("http://127.0.0.1:9").password().await.unwrap_err();
    assert!(matches!(err.problem, Problem::Transport(_)), "{err}");
    assert!(err.to_string().contains("could not connect"), "{err}");
}

#[test]
fn settings_come_from_the_lookup() {
    let config = VgsConfig::from_lookup(lookup(&[
        ("TATUM_KMS_VGS_USERNAME", USER),
        ("TATUM_KMS_VGS_PASSWORD", API_PASSWORD),
        ("TATUM_KMS_VGS_ALIAS", " tok_1 "),
    ]))
    .unwrap();
    assert_eq!(config.base_url.as_str(), format!("{DEFAULT_VGS_BASE_URL}/"));
    assert_eq!(config.alias, "tok_1");
    assert_eq!(config.timeout, Duration::from_secs(10));

    for (missing, present) in [
        (
            "TATUM_KMS_VGS_USERNAME",
            ["TATUM_KMS_VGS_PASSWORD", "TATUM_KMS_VGS_ALIAS"],
        ),
        (
            "TATUM_KMS_VGS_PASSWORD",
            ["TATUM_KMS_VGS_USERNAME", "TATUM_KMS_VGS_ALIAS"],
        ),
        (
            "TATUM_KMS_VGS_ALIAS",
            ["TATUM_KMS_VGS_USERNAME", "TATUM_KMS_VGS_PASSWORD"],
        ),
    ] {
        let err = VgsConfig::from_lookup(lookup(&[
            (present[0], "x"),
            (present[1], "y"),
            (missing, ""),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("VGS: settings: {missing} is not set")
        );
    }

    let err = VgsConfig::from_lookup(lookup(&[
        ("TATUM_KMS_VGS_USERNAME", USER),
        ("TATUM_KMS_VGS_PASSWORD", API_PASSWORD),
        ("TATUM_KMS_VGS_ALIAS", ALIAS),
        ("TATUM_KMS_VGS_BASE_URL", "ftp://vault"),
    ]))
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("VGS: settings: TATUM_KMS_VGS_BASE_URL is invalid"),
        "{err}"
    );
}
