//! The password from the cloud identities a pod or task has, end to end
//! through the real binary: `export --aws` with an EKS-style web identity
//! (token file + role, STS through moto, then Secrets Manager in moto with
//! its signature checks on), and `export --azure` with an AKS-style
//! workload identity against loopback fakes of Entra ID and Key Vault that
//! check the exact requests. The binary runs with a cleared environment and
//! a temporary HOME; the instance metadata is off, so nothing leaves
//! 127.0.0.1.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{stderr, Home};
use kms_core::WalletEntry;
use serde_json::{json, Value};

const REGION: &str = "eu-central-1";
const WEB_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a21zIn0.sig";

fn home_with_a_wallet() -> Home {
    let home = Home::new();
    let wallet = WalletEntry::new()
        .with(
            "privateKey",
            "0x46fc247a29a083b4ded54d0f5d6d0a56aabdae3d66e3069aa8471bf701401603",
        )
        .with("chain", "ETH")
        .with("testnet", true);
    home.put_wallets(vec![("wallet-cloud".into(), wallet)]);
    home
}

/// Auth on after four requests: the three that make the role and the
/// secret, and the unsigned `AssumeRoleWithWebIdentity` (moto's auth cannot
/// take an unsigned call). The `GetSecretValue` after it is verified: the
/// temporary key's signature and its session token.
const BOOTSTRAP: &str = r#"
import json, sys, urllib.request
import boto3
arg = json.load(sys.stdin)
endpoint = arg["endpoint"]
urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"4", method="POST",
                                           headers={"Content-Type": "text/plain"}))
anonymous = dict(endpoint_url=endpoint, aws_access_key_id="AKIDBOOTSTRAP", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", region_name="us-east-1", **anonymous)
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.example"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]})
role = iam.create_role(RoleName="kms-pod", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="kms-pod", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
sm = boto3.client("secretsmanager", region_name=arg["region"], **anonymous)
sm.create_secret(Name="prod/kms", SecretString=json.dumps({"walletPassword": arg["password"]}))
print(json.dumps({"roleArn": role["Arn"]}))
"#;

#[test]
fn export_with_an_aws_web_identity() {
    let Some(python) = kms_test_support::python() else {
        eprintln!(
            "\n*** SKIPPED: the AWS web identity test needs moto from the project's Python ***\n"
        );
        return;
    };
    let moto = kms_test_support::moto::start_moto(&python);
    let made: Value = kms_test_support::run_python(
        &python,
        BOOTSTRAP,
        &json!({"endpoint": moto.endpoint, "region": REGION, "password": common::PASSWORD}),
    );
    let home = home_with_a_wallet();
    let token_file = home.root.join("eks.amazonaws.com/serviceaccount/token");
    std::fs::create_dir_all(token_file.parent().unwrap()).unwrap();
    std::fs::write(&token_file, WEB_TOKEN).unwrap();

    let mut cmd = home.cmd(common::PASSWORD);
    cmd.env_remove("TATUM_KMS_PASSWORD")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", REGION)
        .env("AWS_ROLE_ARN", made["roleArn"].as_str().unwrap())
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("TATUM_KMS_AWS_SECRET_NAME", "prod/kms")
        .env("TATUM_KMS_AWS_SECRET_KEY", "walletPassword");
    let out = cmd.args(["export", "--aws"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["wallet-cloud"]["chain"], "ETH");
    drop(moto);
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSJ9.sig";
const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.vault-token.sig";

/// `application/x-www-form-urlencoded` to pairs.
fn form(body: &str) -> HashMap<String, String> {
    fn decode(text: &str) -> String {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Entra ID and Key Vault in one loopback server: a token only for the
/// exact workload-identity request, the secret only for that token.
fn answer(seen: &Mutex<Vec<String>>, uri: &Uri, headers: &HeaderMap, body: &str) -> Response {
    seen.lock().unwrap().push(uri.path().to_string());
    if uri.path() == format!("/{TENANT}/oauth2/v2.0/token") {
        let form = form(body);
        let expected = [
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:grant-type:jwt-bearer",
            ),
            ("client_assertion", ASSERTION),
            ("scope", "https://vault.azure.net/.default"),
        ];
        if form.len() == expected.len()
            && expected
                .iter()
                .all(|(k, v)| form.get(*k).map(String::as_str) == Some(*v))
        {
            return axum::Json(json!({"token_type": "Bearer", "access_token": ACCESS_TOKEN}))
                .into_response();
        }
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client", "error_description": "AADSTS700211: no federated identity"})),
        )
            .into_response();
    }
    let bearer = format!("Bearer {ACCESS_TOKEN}");
    if uri.path() == "/secrets/tatum-kms-password/"
        && headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(bearer.as_str())
    {
        return axum::Json(json!({"value": common::PASSWORD, "id": "x"})).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": {"code": "Unauthorized", "message": "no token"}})),
    )
        .into_response()
}

#[test]
fn export_with_an_azure_workload_identity() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = runtime.block_on(async {
        let app = axum::Router::new()
            .fallback(
                |State(seen): State<Arc<Mutex<Vec<String>>>>,
                 uri: Uri,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    answer(&seen, &uri, &headers, &String::from_utf8_lossy(&body))
                },
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    });

    let home = home_with_a_wallet();
    let token_file = home.root.join("azure/tokens/azure-identity-token");
    std::fs::create_dir_all(token_file.parent().unwrap()).unwrap();
    std::fs::write(&token_file, ASSERTION).unwrap();
    let azure = || {
        let mut cmd = home.cmd(common::PASSWORD);
        cmd.env_remove("TATUM_KMS_PASSWORD")
            .env("TATUM_KMS_AZURE_VAULTURL", &url)
            .env("TATUM_KMS_AZURE_SECRETNAME", "tatum-kms-password")
            // What the AKS workload identity webhook injects.
            .env("AZURE_AUTHORITY_HOST", &url)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", CLIENT)
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
            // Never reached: a loopback port nothing listens on.
            .env("TATUM_KMS_AZURE_IMDS_URL", "http://127.0.0.1:9");
        cmd
    };
    let out = azure().args(["export", "--azure"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["wallet-cloud"]["chain"], "ETH");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            format!("/{TENANT}/oauth2/v2.0/token"),
            "/secrets/tatum-kms-password/".to_string()
        ]
    );

    // A token Entra does not know: its refusal, named, exit 1.
    std::fs::write(&token_file, "eyJ.unknown.sig").unwrap();
    let out = azure().args(["export", "--azure"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("workload-identity token for client") && err.contains("invalid_client"),
        "{err}"
    );
    assert!(!err.contains("eyJ.unknown.sig"), "{err}");
    assert!(out.stdout.is_empty());
}
