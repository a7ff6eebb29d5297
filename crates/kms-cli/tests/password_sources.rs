//! The password from AWS Secrets Manager (moto, with signature checks on),
//! end to end through the real binary: `export --aws` and `daemon --runOnce
//! --aws`; and what a wrong key or a missing setting says.

mod common;

use common::{stderr, Home};
use kms_core::WalletEntry;
use kms_fake_tatum::FakeTatum;
use serde_json::{json, Value};

const REGION: &str = "eu-central-1";

/// Auth on, a user with an allow-all key, and the secret holding the
/// store's password under `walletPassword`.
const BOOTSTRAP: &str = r#"
import json, sys, urllib.request
import boto3
arg = json.load(sys.stdin)
endpoint = arg["endpoint"]
urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"3", method="POST",
                                           headers={"Content-Type": "text/plain"}))
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="AKIDBOOTSTRAP", aws_secret_access_key="bootstrap")
iam.create_user(UserName="kms")
key = iam.create_access_key(UserName="kms")["AccessKey"]
iam.put_user_policy(UserName="kms", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
sm = boto3.client("secretsmanager", region_name=arg["region"], endpoint_url=endpoint,
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
sm.create_secret(Name="prod/kms", SecretString=json.dumps({"walletPassword": arg["password"]}))
print(json.dumps({"keyId": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
"#;

#[test]
fn export_and_daemon_get_the_password_from_aws_secrets_manager() {
    let Some(python) = kms_test_support::python() else {
        eprintln!(
            "\n*** SKIPPED: the AWS end-to-end test needs moto from the project's Python ***\n"
        );
        return;
    };
    let moto = kms_test_support::moto::start_moto(&python);
    let keys: Value = kms_test_support::run_python(
        &python,
        BOOTSTRAP,
        &json!({"endpoint": moto.endpoint, "region": REGION, "password": common::PASSWORD}),
    );
    let home = Home::new();
    let wallet = WalletEntry::new()
        .with(
            "privateKey",
            "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603",
        )
        .with("chain", "ETH")
        .with("testnet", true);
    home.put_wallets(vec![("wallet-aws".into(), wallet)]);

    let aws = |secret_key: &str| {
        let mut cmd = home.cmd(common::PASSWORD);
        cmd.env_remove("TATUM_KMS_PASSWORD")
            .env("TATUM_KMS_AWS_REGION", REGION)
            .env(
                "TATUM_KMS_AWS_ACCESS_KEY_ID",
                keys["keyId"].as_str().unwrap(),
            )
            .env("TATUM_KMS_AWS_SECRET_ACCESS_KEY", secret_key)
            .env("TATUM_KMS_AWS_SECRET_NAME", "prod/kms")
            .env("TATUM_KMS_AWS_SECRET_KEY", "walletPassword")
            .env("TATUM_KMS_AWS_ENDPOINT_URL", &moto.endpoint);
        cmd
    };
    let secret = keys["secret"].as_str().unwrap();

    let out = aws(secret).args(["export", "--aws"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["wallet-aws"]["chain"], "ETH");

    let fake = FakeTatum::start("aws-test-key");
    fake.add_pending(json!({
        "id": "tx-aws", "chain": "ETH", "hashes": ["wallet-aws"],
        "serializedTransaction": json!({"to": "0x18562fdd91d29206f5e7ee4b1b1fbe14c47ad6ee", "value": "1",
            "gasPrice": "1000000000", "gas": 21000, "nonce": 1, "chainId": 11155111}).to_string(),
    }));
    let out = aws(secret)
        .env("TATUM_API_KEY", "aws-test-key")
        .env("TATUM_API_URL", &fake.url)
        .args(["daemon", "--runOnce", "--testnet", "--aws"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fake.broadcasts().len(), 1);

    // A wrong secret access key: AWS's own refusal, named; nothing leaks.
    let wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEYXX";
    let out = aws(wrong).args(["export", "--aws"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("AWS Secrets Manager") && err.contains("403"),
        "{err}"
    );
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    for secret_text in [wrong, secret, common::PASSWORD] {
        assert!(!err.contains(secret_text), "{err}");
    }
    assert!(out.stdout.is_empty());

    // A missing setting is a usage error naming it.
    let out = aws(secret)
        .env_remove("TATUM_KMS_AWS_SECRET_NAME")
        .args(["export", "--aws"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("TATUM_KMS_AWS_SECRET_NAME"),
        "{}",
        stderr(&out)
    );
}
