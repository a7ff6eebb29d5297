//! AWS Secrets Manager against moto, the AWS emulator, with its signature
//! checks switched on: a user, an access key and an allow-all policy are made
//! with the few unauthenticated calls moto grants after `reset-auth`, then
//! every call is verified as AWS would.

use kms_test_support::moto::start_moto;

use kms_secret_providers::{AwsConfig, AwsProvider, PasswordSource, Problem, SecretProvider};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

/// Which problem a failure case must be.
type Kind = fn(&Problem) -> bool;

const PASSWORD: &str = "moto-wallet-pass Zq9!";
const REGION: &str = "eu-west-1";

/// Turns moto's auth on, makes a user with a key and an allow-all policy
/// (the three calls it lets through unauthenticated), then, signed with that
/// key, the secrets under test and an assumed role's temporary credentials.
const BOOTSTRAP: &str = r#"
import json, sys, urllib.request
import boto3

arg = json.load(sys.stdin)
endpoint = arg["endpoint"]
urllib.request.urlopen(urllib.request.Request(
    endpoint + "/moto-api/reset-auth", data=b"3", method="POST",
    headers={"Content-Type": "text/plain"}))

allow_all = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="AKIDBOOTSTRAP", aws_secret_access_key="bootstrap")
iam.create_user(UserName="kms")
key = iam.create_access_key(UserName="kms")["AccessKey"]
iam.put_user_policy(UserName="kms", PolicyName="all", PolicyDocument=allow_all)

signed = dict(endpoint_url=endpoint, aws_access_key_id=key["AccessKeyId"],
              aws_secret_access_key=key["SecretAccessKey"])
sm = boto3.client("secretsmanager", region_name=arg["region"], **signed)
for name, text in arg["strings"].items():
    sm.create_secret(Name=name, SecretString=text)
sm.create_secret(Name="kms/binary", SecretBinary=b"\x00\x01binary")

iam = boto3.client("iam", region_name="us-east-1", **signed)
trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="kms", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="kms", PolicyName="all", PolicyDocument=allow_all)
sts = boto3.client("sts", region_name="us-east-1", **signed)
temporary = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="kms")["Credentials"]

print(json.dumps({
    "keyId": key["AccessKeyId"], "secret": key["SecretAccessKey"],
    "tempKeyId": temporary["AccessKeyId"], "tempSecret": temporary["SecretAccessKey"],
    "tempToken": temporary["SessionToken"],
}))
"#;

fn config(vars: &[(&str, &str)]) -> AwsConfig {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    AwsConfig::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .unwrap()
}

#[tokio::test]
async fn against_moto() {
    let Some(python) = kms_test_support::python() else {
        eprintln!("\n*** SKIPPED: the AWS Secrets Manager test needs moto from the project's Python ***\n");
        return;
    };
    let moto = start_moto(&python);
    let keys: Value = kms_test_support::run_python(
        &python,
        BOOTSTRAP,
        &json!({
            "endpoint": moto.endpoint,
            "region": REGION,
            "strings": {
                "kms/password": json!({"password": PASSWORD, "other": "x"}).to_string(),
                "kms/plain": PASSWORD,
                "kms/number": r#"{"password": 12345}"#,
                "kms/empty": r#"{"password": ""}"#,
            },
        }),
    );
    let key_id = keys["keyId"].as_str().unwrap();
    let secret = keys["secret"].as_str().unwrap();
    let endpoint = format!("{}/", moto.endpoint);

    let ours = |key_id: &str, secret_key: &str, name: &str, key: &str| {
        config(&[
            ("TATUM_KMS_AWS_REGION", REGION),
            ("TATUM_KMS_AWS_ACCESS_KEY_ID", key_id),
            ("TATUM_KMS_AWS_SECRET_ACCESS_KEY", secret_key),
            ("TATUM_KMS_AWS_SECRET_NAME", name),
            ("TATUM_KMS_AWS_SECRET_KEY", key),
            ("TATUM_KMS_AWS_ENDPOINT_URL", &moto.endpoint),
        ])
    };
    let fetch =
        |config: AwsConfig| async move { AwsProvider::new(config).unwrap().password().await };

    // The right signature.
    let password = fetch(ours(key_id, secret, "kms/password", "password"))
        .await
        .unwrap();
    assert_eq!(password.expose_secret(), PASSWORD);

    // Temporary credentials through the standard variables, session token signed.
    let temporary = config(&[
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", keys["tempKeyId"].as_str().unwrap()),
        (
            "AWS_SECRET_ACCESS_KEY",
            keys["tempSecret"].as_str().unwrap(),
        ),
        ("AWS_SESSION_TOKEN", keys["tempToken"].as_str().unwrap()),
        ("TATUM_KMS_AWS_SECRET_NAME", "kms/password"),
        ("TATUM_KMS_AWS_SECRET_KEY", "password"),
        ("TATUM_KMS_AWS_ENDPOINT_URL", &moto.endpoint),
    ]);
    assert!(temporary
        .credentials
        .static_credentials()
        .unwrap()
        .session_token
        .is_some());
    assert_eq!(fetch(temporary).await.unwrap().expose_secret(), PASSWORD);

    let wrong_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYwrongKEY";
    let cases: Vec<(AwsConfig, &str, &str, Kind)> = vec![
        (
            ours(key_id, wrong_secret, "kms/password", "password"),
            "kms/password",
            "HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match",
            |p| matches!(p, Problem::Http(f) if f.status == 403),
        ),
        (
            ours("AKIAUNKNOWNKEY000000", secret, "kms/password", "password"),
            "kms/password",
            "HTTP 403 InvalidClientTokenId: The security token included in the request is invalid.",
            |p| matches!(p, Problem::Http(f) if f.status == 403),
        ),
        (
            ours(key_id, secret, "kms/missing", "password"),
            "kms/missing",
            "not found (HTTP 404 ResourceNotFoundException: Secrets Manager can't find the specified secret.)",
            |p| matches!(p, Problem::NotFound(_)),
        ),
        (
            ours(key_id, secret, "kms/password", "pass"),
            "kms/password",
            "missing key `pass` in the secret",
            |p| matches!(p, Problem::MissingKey(k) if k == "pass"),
        ),
        (
            ours(key_id, secret, "kms/plain", "password"),
            "kms/plain",
            "malformed answer: the SecretString is not a JSON object",
            |p| matches!(p, Problem::Malformed(_)),
        ),
        (
            ours(key_id, secret, "kms/number", "password"),
            "kms/number",
            "malformed answer: the value under key `password` is not a string",
            |p| matches!(p, Problem::Malformed(_)),
        ),
        (
            ours(key_id, secret, "kms/empty", "password"),
            "kms/empty",
            "empty value",
            |p| matches!(p, Problem::EmptyValue),
        ),
        (
            ours(key_id, secret, "kms/binary", "password"),
            "kms/binary",
            "malformed answer: the secret is binary (SecretBinary)",
            |p| matches!(p, Problem::Malformed(_)),
        ),
    ];
    for (config, name, expected, kind) in cases {
        let key = config.secret_key.clone();
        let err = fetch(config).await.unwrap_err();
        let text = err.to_string();
        assert_eq!(err.provider, PasswordSource::Aws);
        assert!(kind(&err.problem), "{text}");
        let asked = format!(
            "AWS Secrets Manager: key `{key}` of secret `{name}` in {REGION} at {endpoint}: "
        );
        assert!(text.starts_with(&asked), "{text}\nexpected start: {asked}");
        assert!(text.contains(expected), "{text}\nexpected: {expected}");
        for leak in [PASSWORD, secret, wrong_secret] {
            assert!(!text.contains(leak), "{text} quotes a secret");
            assert!(
                !format!("{err:?}").contains(leak),
                "{err:?} quotes a secret"
            );
        }
    }
    drop(moto);
}
