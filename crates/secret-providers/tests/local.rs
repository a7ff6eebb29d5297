//! `TATUM_KMS_PASSWORD` and the terminal prompt.

mod common;

use std::time::Duration;

use common::lookup;
use kms_secret_providers::{
    provider_from_lookup, EnvConfig, InteractiveConfig, InteractiveProvider, PasswordSource,
    Problem, SecretProvider,
};
use secrecy::ExposeSecret;

#[tokio::test]
async fn the_variable_as_given() {
    let vars = [("TATUM_KMS_PASSWORD", " spaced pass ")];
    assert_eq!(PasswordSource::local(lookup(&vars)), PasswordSource::Env);
    let provider = provider_from_lookup(PasswordSource::Env, lookup(&vars)).unwrap();
    assert_eq!(provider.source(), PasswordSource::Env);
    assert_eq!(
        provider.password().await.unwrap().expose_secret(),
        " spaced pass "
    );
}

#[test]
fn unset_or_empty_means_the_prompt() {
    assert_eq!(
        PasswordSource::local(lookup(&[])),
        PasswordSource::Interactive
    );
    assert_eq!(
        PasswordSource::local(lookup(&[("TATUM_KMS_PASSWORD", "")])),
        PasswordSource::Interactive
    );
    let err = EnvConfig::from_lookup(lookup(&[("TATUM_KMS_PASSWORD", "")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment: settings: TATUM_KMS_PASSWORD is not set"
    );
}

#[tokio::test]
async fn without_a_terminal_the_prompt_fails_at_once_naming_the_variable() {
    // Leave the controlling terminal, if the test was started from one, as
    // a daemon or a container without -t has none. Each nextest test is its
    // own process, so nothing else is affected.
    #[cfg(unix)]
    unsafe {
        libc::setsid();
    }
    let provider = InteractiveProvider::new(InteractiveConfig::default());
    let err = tokio::time::timeout(Duration::from_secs(5), provider.password())
        .await
        .expect("the prompt must not wait")
        .unwrap_err();
    assert!(matches!(
        err.problem,
        Problem::NoTerminal("TATUM_KMS_PASSWORD")
    ));
    assert_eq!(
        err.to_string(),
        "terminal prompt: password: no terminal to ask on; set TATUM_KMS_PASSWORD"
    );
}
