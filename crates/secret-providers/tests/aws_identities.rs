//! The AWS credential chain: web identity through moto's STS (and a fake
//! that checks the request), the shared config and credentials files, the
//! container endpoint and IMDSv2 against loopback fakes, and which setting
//! wins. Every case passes its whole environment through the lookup, with
//! `HOME` a temporary directory, and either turns the instance metadata off
//! or points it at a loopback fake: nothing leaves 127.0.0.1.

mod common;

use std::path::Path;
use std::sync::Mutex;

use common::{Fake, Reply, Seen};
use kms_secret_providers::{
    AwsConfig, AwsCredentialSource, AwsProvider, ContainerAuthorization, PasswordSource, Problem,
    ProviderError, SecretProvider,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

const PASSWORD: &str = "chain-wallet-pass 7&";
const REGION: &str = "eu-west-1";
const TEMP_KEY_ID: &str = "ASIAFAKETEMPKEY00001";
const TEMP_SECRET: &str = "tmpSecretKey/9r2+fakeFAKEfakeFAKEfake00";
const TEMP_TOKEN: &str = "IQoJb3JpZ2luX2VjEFAKE+session/token==";
const WEB_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.sig";

type Vars = Vec<(&'static str, String)>;

fn load(vars: &Vars) -> Result<AwsConfig, ProviderError> {
    AwsConfig::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
}

async fn password(vars: &Vars) -> Result<String, ProviderError> {
    let provider = AwsProvider::new(load(vars)?)?;
    provider
        .password()
        .await
        .map(|p| p.expose_secret().to_string())
}

/// The settings every case starts from: the secret, a home without files,
/// the instance metadata off.
fn base(home: &Path) -> Vars {
    vec![
        ("HOME", home.display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("TATUM_KMS_AWS_SECRET_NAME", "prod/kms".into()),
        ("TATUM_KMS_AWS_SECRET_KEY", "password".into()),
    ]
}

fn set(vars: &mut Vars, name: &'static str, value: impl Into<String>) {
    vars.retain(|(k, _)| *k != name);
    vars.push((name, value.into()));
}

fn setting_error<T: std::fmt::Debug>(result: Result<T, ProviderError>) -> Problem {
    let err = result.unwrap_err();
    assert_eq!(err.provider, PasswordSource::Aws);
    assert_eq!(err.asked, "settings");
    err.problem
}

/// A Secrets Manager that answers only requests signed with `key_id` and
/// carrying `token` as `X-Amz-Security-Token` (or none when `None`).
async fn secrets_manager(key_id: &'static str, token: Option<&'static str>) -> Fake {
    Fake::start(move |seen| {
        let credential = format!("Credential={key_id}/");
        let signed = seen
            .header("authorization")
            .is_some_and(|a| a.contains(&credential));
        let token_ok = seen.header("x-amz-security-token") == token;
        let token_signed = seen
            .header("authorization")
            .is_some_and(|a| a.contains("x-amz-security-token") == token.is_some());
        if signed && token_ok && token_signed {
            Reply::json(
                200,
                json!({"Name": "prod/kms", "SecretString": json!({"password": PASSWORD}).to_string()}),
            )
        } else {
            Reply::json(
                403,
                json!({"__type": "UnrecognizedClientException", "message": "The security token included in the request is invalid."}),
            )
        }
    })
    .await
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// moto, with auth on for every request after the first four: the three
/// that make the role and the secret, and the unsigned
/// `AssumeRoleWithWebIdentity` (which moto's auth cannot take). The
/// `GetSecretValue` after it is checked as AWS would: signature, temporary
/// key and session token.
const BOOTSTRAP: &str = r#"
import json, sys, urllib.request
import boto3
arg = json.load(sys.stdin)
endpoint = arg["endpoint"]
urllib.request.urlopen(urllib.request.Request(
    endpoint + "/moto-api/reset-auth", data=b"4", method="POST",
    headers={"Content-Type": "text/plain"}))
anonymous = dict(endpoint_url=endpoint, aws_access_key_id="AKIDBOOTSTRAP",
                 aws_secret_access_key="bootstrap")
iam = boto3.client("iam", region_name="us-east-1", **anonymous)
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.example"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]})
role = iam.create_role(RoleName="kms-web", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="kms-web", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
sm = boto3.client("secretsmanager", region_name=arg["region"], **anonymous)
sm.create_secret(Name="prod/kms", SecretString=json.dumps({"password": arg["password"]}))
print(json.dumps({"roleArn": role["Arn"]}))
"#;

#[tokio::test]
async fn web_identity_through_moto_sts_then_secrets_manager() {
    let Some(python) = kms_test_support::python() else {
        eprintln!(
            "\n*** SKIPPED: the web identity test needs moto from the project's Python ***\n"
        );
        return;
    };
    let moto = kms_test_support::moto::start_moto(&python);
    let made: Value = kms_test_support::run_python(
        &python,
        BOOTSTRAP,
        &json!({"endpoint": moto.endpoint, "region": REGION, "password": PASSWORD}),
    );
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("eks/token");
    write(&token_file, &format!("{WEB_TOKEN}\n"));

    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    set(
        &mut vars,
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        token_file.display().to_string(),
    );
    set(&mut vars, "AWS_ROLE_ARN", made["roleArn"].as_str().unwrap());
    set(&mut vars, "AWS_ROLE_SESSION_NAME", "kms-test");
    // The per-service STS endpoint, and the generic one for Secrets Manager.
    set(&mut vars, "AWS_ENDPOINT_URL_STS", &moto.endpoint);
    set(&mut vars, "AWS_ENDPOINT_URL", &moto.endpoint);

    let config = load(&vars).unwrap();
    assert!(
        matches!(&config.credentials, AwsCredentialSource::WebIdentity(w)
            if w.session_name == "kms-test" && w.sts_endpoint.as_str() == format!("{}/", moto.endpoint)),
        "{:?}",
        config.credentials
    );
    assert_eq!(config.endpoint.as_str(), format!("{}/", moto.endpoint));
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);

    // Now that moto checks every request, an unsigned STS call is refused:
    // the failure names the role and the STS endpoint, not the token.
    let err = password(&vars).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.problem, Problem::Http(_)), "{text}");
    assert!(
        text.starts_with(&format!(
            "AWS Secrets Manager: web identity credentials for role `{}`",
            made["roleArn"].as_str().unwrap()
        )),
        "{text}"
    );
    assert!(!text.contains(WEB_TOKEN) && !format!("{err:?}").contains(WEB_TOKEN));
    drop(moto);
}

fn sts_answer(expiration: &str) -> Reply {
    Reply::text(
        200,
        &format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:kms:kms</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>{TEMP_KEY_ID}</AccessKeyId>
      <SecretAccessKey>{TEMP_SECRET}</SecretAccessKey>
      <SessionToken>{TEMP_TOKEN}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#
        ),
    )
    .header("content-type", "text/xml")
}

#[tokio::test]
async fn web_identity_from_a_profile_sends_the_documented_request() {
    let sts = Fake::start(|_| sts_answer("2999-01-01T00:00:00Z")).await;
    let sm = secrets_manager(TEMP_KEY_ID, Some(TEMP_TOKEN)).await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    write(&token_file, WEB_TOKEN);
    write(
        &home.path().join(".aws/config"),
        &format!(
            "[default]\nregion = us-east-2\n\n[profile eks]\nregion = {REGION}\n\
             role_arn = arn:aws:iam::123456789012:role/kms\n\
             web_identity_token_file = {}\nrole_session_name = from-profile\n",
            token_file.display()
        ),
    );
    let mut vars = base(home.path());
    set(&mut vars, "AWS_PROFILE", "eks");
    set(&mut vars, "AWS_ENDPOINT_URL_STS", &sts.url);
    set(&mut vars, "AWS_ENDPOINT_URL_SECRETS_MANAGER", &sm.url);
    let config = load(&vars).unwrap();
    assert_eq!(config.region, REGION, "the profile's region");
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);

    let seen = &sts.seen()[0];
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/"));
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.header("authorization"), None, "the call is unsigned");
    let form = Seen::form(&seen.body);
    let expected: [(&str, &str); 5] = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", "arn:aws:iam::123456789012:role/kms"),
        ("RoleSessionName", "from-profile"),
        ("WebIdentityToken", WEB_TOKEN),
    ];
    for (name, value) in expected {
        assert_eq!(form.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert_eq!(form.len(), expected.len());

    // STS's refusal, in its XML shape, is named; the token is not quoted
    // even when echoed.
    let refusal = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
         <Message>Token {WEB_TOKEN} is not valid</Message></Error></ErrorResponse>"
    );
    let sts = Fake::start(move |_| Reply::text(400, &refusal)).await;
    set(&mut vars, "AWS_ENDPOINT_URL_STS", &sts.url);
    let err = password(&vars).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err.problem, Problem::Http(f) if f.status == 400 && f.code.as_deref() == Some("InvalidIdentityToken")),
        "{text}"
    );
    assert!(text.contains("token file"), "{text}");
    assert!(!text.contains(WEB_TOKEN), "{text}");

    // Expired credentials are refused before they are used.
    let sts = Fake::start(|_| sts_answer("2001-01-01T00:00:00Z")).await;
    set(&mut vars, "AWS_ENDPOINT_URL_STS", &sts.url);
    let err = password(&vars).await.unwrap_err();
    assert!(
        matches!(&err.problem, Problem::Malformed(m) if m.contains("expired at 2001-01-01T00:00:00Z")),
        "{err}"
    );
    assert!(!err.to_string().contains(TEMP_SECRET));

    // A token file that is gone is named, with its path.
    std::fs::remove_file(&token_file).unwrap();
    let err = password(&vars).await.unwrap_err();
    assert!(
        matches!(&err.problem, Problem::File { path, .. } if *path == token_file),
        "{err}"
    );
}

#[tokio::test]
async fn static_keys_from_the_shared_files() {
    let sm = secrets_manager("AKIAFROMPROFILE00001", Some("profile-session-token")).await;
    let home = tempfile::tempdir().unwrap();
    write(
        &home.path().join(".aws/credentials"),
        "# keys\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n\
         [dev]\naws_access_key_id=AKIAFROMPROFILE00001\n\
         aws_secret_access_key=profileSecret/Key+0123456789abcdefghijkl\n\
         aws_session_token = profile-session-token\n",
    );
    write(
        &home.path().join(".aws/config"),
        "[profile dev]\nregion = ap-south-1\noutput = json\n",
    );
    let mut vars = base(home.path());
    set(&mut vars, "AWS_PROFILE", "dev");
    set(&mut vars, "TATUM_KMS_AWS_ENDPOINT_URL", &sm.url);
    let config = load(&vars).unwrap();
    assert_eq!(config.region, "ap-south-1");
    let keys = config.credentials.static_credentials().unwrap();
    assert_eq!(keys.access_key_id, "AKIAFROMPROFILE00001");
    assert!(!format!("{config:?}").contains("profileSecret"));
    assert!(config.credentials.describe().contains("profile `dev` in "));
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);
    let authorization = sm.seen()[0].header("authorization").unwrap().to_string();
    assert!(
        authorization.contains("/ap-south-1/secretsmanager/"),
        "{authorization}"
    );

    // The default profile when AWS_PROFILE is unset; our region setting wins.
    let mut vars = base(home.path());
    set(&mut vars, "TATUM_KMS_AWS_REGION", "eu-north-1");
    let config = load(&vars).unwrap();
    assert_eq!(config.region, "eu-north-1");
    assert_eq!(
        config
            .credentials
            .static_credentials()
            .unwrap()
            .access_key_id,
        "AKIADEFAULT"
    );

    // The variables win over the files.
    set(&mut vars, "AWS_ACCESS_KEY_ID", "AKIAFROMENV");
    set(&mut vars, "AWS_SECRET_ACCESS_KEY", "env-secret");
    let config = load(&vars).unwrap();
    assert_eq!(
        config
            .credentials
            .static_credentials()
            .unwrap()
            .access_key_id,
        "AKIAFROMENV"
    );

    // Other files, `~/` taken from the lookup's HOME.
    write(
        &home.path().join("elsewhere/creds"),
        "[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = ops-secret\n",
    );
    write(
        &home.path().join("elsewhere/conf"),
        "[profile ops]\nregion = sa-east-1\n",
    );
    let mut vars = base(home.path());
    set(&mut vars, "AWS_PROFILE", "ops");
    set(
        &mut vars,
        "AWS_SHARED_CREDENTIALS_FILE",
        "~/elsewhere/creds",
    );
    set(&mut vars, "AWS_CONFIG_FILE", "~/elsewhere/conf");
    let config = load(&vars).unwrap();
    assert_eq!(config.region, "sa-east-1");
    assert_eq!(
        config
            .credentials
            .static_credentials()
            .unwrap()
            .access_key_id,
        "AKIAOPS"
    );
}

#[test]
fn profiles_that_cannot_be_used_are_named() {
    let home = tempfile::tempdir().unwrap();
    write(
        &home.path().join(".aws/config"),
        "[profile sso]\nsso_session = corp\nregion = eu-west-1\n\
         [profile process]\ncredential_process = /bin/get-creds\nregion = eu-west-1\n\
         [profile chained]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\nregion = eu-west-1\n\
         [profile half]\naws_access_key_id = AKIAHALF\nregion = eu-west-1\n\
         [profile region-only]\nregion = eu-west-1\n",
    );
    for (profile, says) in [
        ("sso", "uses sso_session, which is not supported"),
        ("process", "uses credential_process, which is not supported"),
        ("chained", "uses role_arn without web_identity_token_file"),
        (
            "half",
            "has only one of aws_access_key_id and aws_secret_access_key",
        ),
        (
            "missing",
            "no profile `missing` in the shared config or credentials file",
        ),
    ] {
        let mut vars = base(home.path());
        set(&mut vars, "AWS_PROFILE", profile);
        let problem = setting_error(load(&vars));
        assert!(
            matches!(&problem, Problem::InvalidSetting { name: "AWS_PROFILE", reason } if reason.contains(says)),
            "{profile}: {problem}"
        );
    }

    // A profile without credentials gives its region and lets the chain go
    // on: here to nothing, as the metadata is off.
    let mut vars = base(home.path());
    set(&mut vars, "AWS_PROFILE", "region-only");
    let problem = setting_error(load(&vars));
    assert!(matches!(problem, Problem::NoCredentials(_)), "{problem}");

    // A malformed file names its line, not its text.
    write(
        &home.path().join(".aws/credentials"),
        "[default]\naws_secret_access_key SECRETVALUE\n",
    );
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    let problem = setting_error(load(&vars));
    assert!(
        matches!(&problem, Problem::File { reason, .. } if reason == "line 2: expected `key = value`"),
        "{problem}"
    );
    assert!(!problem.to_string().contains("SECRETVALUE"));
}

#[tokio::test]
async fn container_endpoint_with_its_authorization_token() {
    const AUTH: &str = "container-auth-token-from-variable";
    const AUTH_FILE: &str = "container-auth-token-from-file";
    let accepted = std::sync::Arc::new(Mutex::new(AUTH));
    let accepts = accepted.clone();
    let container = Fake::start(move |seen| {
        if seen.method == "GET"
            && seen.path == "/v1/credentials"
            && seen.header("authorization") == Some(*accepts.lock().unwrap())
        {
            Reply::json(
                200,
                json!({"AccessKeyId": TEMP_KEY_ID, "SecretAccessKey": TEMP_SECRET, "Token": TEMP_TOKEN,
                       "AccountId": "123456789012", "Expiration": "2999-01-01T00:00:00Z"}),
            )
        } else {
            Reply::json(401, json!({"message": "unauthorized"}))
        }
    })
    .await;
    let sm = secrets_manager(TEMP_KEY_ID, Some(TEMP_TOKEN)).await;
    let home = tempfile::tempdir().unwrap();
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    set(&mut vars, "TATUM_KMS_AWS_ENDPOINT_URL", &sm.url);
    set(
        &mut vars,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/v1/credentials", container.url),
    );
    set(&mut vars, "AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH);
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);

    // The token file wins over the variable, and is read at each request.
    let token_file = home.path().join("pod-identity-token");
    write(&token_file, &format!("{AUTH_FILE}\n"));
    set(
        &mut vars,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        token_file.display().to_string(),
    );
    assert!(matches!(
        load(&vars).unwrap().credentials,
        AwsCredentialSource::Container(ref c)
            if matches!(c.authorization, Some(ContainerAuthorization::File(_)))
    ));
    let err = password(&vars).await.unwrap_err();
    assert!(
        matches!(&err.problem, Problem::Http(f) if f.status == 401),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "AWS Secrets Manager: container credentials from {}/v1/credentials: HTTP 401",
            container.url
        )),
        "{err}"
    );
    assert!(!err.to_string().contains(AUTH_FILE));
    *accepted.lock().unwrap() = AUTH_FILE;
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);
    assert_eq!(container.seen().len(), 3);
}

#[test]
fn container_endpoints_that_may_be_plain_http() {
    let home = tempfile::tempdir().unwrap();
    let source = |name: &'static str, value: &str| {
        let mut vars = base(home.path());
        set(&mut vars, "AWS_REGION", REGION);
        set(&mut vars, name, value);
        load(&vars).map(|c| c.credentials)
    };
    let relative = source(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/0f1e2d3c",
    )
    .unwrap();
    assert!(
        matches!(&relative, AwsCredentialSource::Container(c)
            if c.url.as_str() == "http://169.254.170.2/v2/credentials/0f1e2d3c" && c.authorization.is_none()),
        "{relative:?}"
    );
    for allowed in [
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "http://169.254.170.2/creds",
        "http://127.0.0.1:8080/creds",
        "http://localhost/creds",
        "https://credentials.example.com/creds",
    ] {
        assert!(
            source("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed).is_ok(),
            "{allowed}"
        );
    }
    for refused in [
        "http://10.0.0.5/creds",
        "http://169.254.169.254/creds",
        "http://example.com/",
    ] {
        let problem = setting_error(source("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused));
        assert!(
            matches!(&problem, Problem::InvalidSetting { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", reason } if reason.contains("in clear")),
            "{refused}: {problem}"
        );
    }
    // A relative URI is a path on the ECS host, whatever it holds.
    let tricky = source("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "@evil.example/x").unwrap();
    assert!(
        matches!(&tricky, AwsCredentialSource::Container(c)
            if c.url.as_str() == "http://169.254.170.2/@evil.example/x"),
        "{tricky:?}"
    );
}

/// An IMDSv2 fake: a session token only by `PUT` with a TTL, and the role
/// listing and credentials only with that token.
async fn imds(role_listing: &'static str) -> Fake {
    const SESSION: &str = "AQAEAFAKE-imds-session-token==";
    Fake::start(move |seen| {
        let with_token = seen.header("x-aws-ec2-metadata-token") == Some(SESSION);
        match (seen.method.as_str(), seen.path.as_str()) {
            ("PUT", "/latest/api/token")
                if seen.header("x-aws-ec2-metadata-token-ttl-seconds") == Some("21600") =>
            {
                Reply::text(200, SESSION)
            }
            ("GET", "/latest/meta-data/iam/security-credentials/") if with_token => {
                if role_listing.is_empty() {
                    Reply::text(404, "")
                } else {
                    Reply::text(200, role_listing)
                }
            }
            ("GET", "/latest/meta-data/iam/security-credentials/kms-role") if with_token => {
                Reply::json(
                    200,
                    json!({"Code": "Success", "LastUpdated": "2024-01-01T00:00:00Z", "Type": "AWS-HMAC",
                           "AccessKeyId": TEMP_KEY_ID, "SecretAccessKey": TEMP_SECRET, "Token": TEMP_TOKEN,
                           "Expiration": "2999-01-01T00:00:00Z"}),
                )
            }
            _ => Reply::text(401, ""),
        }
    })
    .await
}

#[tokio::test]
async fn instance_metadata_v2_token_then_role_then_credentials() {
    let metadata = imds("kms-role\n").await;
    let sm = secrets_manager(TEMP_KEY_ID, Some(TEMP_TOKEN)).await;
    let home = tempfile::tempdir().unwrap();
    let mut vars = base(home.path());
    vars.retain(|(k, _)| *k != "AWS_EC2_METADATA_DISABLED");
    set(&mut vars, "AWS_REGION", REGION);
    set(&mut vars, "TATUM_KMS_AWS_ENDPOINT_URL", &sm.url);
    set(
        &mut vars,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        &metadata.url,
    );
    assert_eq!(password(&vars).await.unwrap(), PASSWORD);
    let seen: Vec<(String, String)> = metadata
        .seen()
        .iter()
        .map(|s| (s.method.clone(), s.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/iam/security-credentials/"),
            ("GET", "/latest/meta-data/iam/security-credentials/kms-role"),
        ]
        .map(|(m, p)| (m.to_string(), p.to_string()))
    );

    // An instance without a role says so.
    let metadata = imds("").await;
    set(
        &mut vars,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        &metadata.url,
    );
    let err = password(&vars).await.unwrap_err();
    assert!(matches!(err.problem, Problem::NoCredentials(_)), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "AWS Secrets Manager: EC2 instance metadata credentials from {}/: no credentials",
            metadata.url
        )),
        "{err}"
    );
}

#[test]
fn instance_metadata_settings() {
    let home = tempfile::tempdir().unwrap();
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    let problem = setting_error(load(&vars));
    assert!(
        matches!(&problem, Problem::NoCredentials(m) if m.contains("AWS_EC2_METADATA_DISABLED")),
        "{problem}"
    );
    // `true` in any case turns it off; anything else does not.
    set(&mut vars, "AWS_EC2_METADATA_DISABLED", "TRUE");
    assert!(matches!(
        setting_error(load(&vars)),
        Problem::NoCredentials(_)
    ));
    set(&mut vars, "AWS_EC2_METADATA_DISABLED", "false");
    let endpoint = |vars: &Vars| match load(vars).unwrap().credentials {
        AwsCredentialSource::InstanceMetadata { endpoint } => endpoint.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(endpoint(&vars), "http://169.254.169.254/");
    set(&mut vars, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
    assert_eq!(endpoint(&vars), "http://[fd00:ec2::254]/");
    set(
        &mut vars,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "http://10.1.2.3/",
    );
    let problem = setting_error(load(&vars));
    assert!(
        matches!(
            &problem,
            Problem::InvalidSetting {
                name: "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                ..
            }
        ),
        "{problem}"
    );
}

#[test]
fn endpoints_and_which_setting_wins() {
    let home = tempfile::tempdir().unwrap();
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", "cn-north-1");
    set(&mut vars, "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
    set(&mut vars, "AWS_ROLE_ARN", "arn:aws-cn:iam::1:role/kms");
    let endpoints = |vars: &Vars| {
        let config = load(vars).unwrap();
        let sts = match &config.credentials {
            AwsCredentialSource::WebIdentity(w) => w.sts_endpoint.to_string(),
            other => panic!("{other:?}"),
        };
        (config.endpoint.to_string(), sts)
    };
    assert_eq!(
        endpoints(&vars),
        (
            "https://secretsmanager.cn-north-1.amazonaws.com.cn/".into(),
            "https://sts.cn-north-1.amazonaws.com.cn/".into()
        )
    );
    set(&mut vars, "AWS_ENDPOINT_URL", "https://vpce.example.com");
    assert_eq!(
        endpoints(&vars),
        (
            "https://vpce.example.com/".into(),
            "https://vpce.example.com/".into()
        )
    );
    set(&mut vars, "AWS_ENDPOINT_URL_STS", "https://sts.example.com");
    set(
        &mut vars,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "https://sm.example.com",
    );
    assert_eq!(
        endpoints(&vars),
        (
            "https://sm.example.com/".into(),
            "https://sts.example.com/".into()
        )
    );
    set(
        &mut vars,
        "TATUM_KMS_AWS_ENDPOINT_URL",
        "http://localhost:4566",
    );
    assert_eq!(endpoints(&vars).0, "http://localhost:4566/");
    // The SDKs' switch to ignore the endpoint variables; ours still counts.
    set(&mut vars, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    assert_eq!(
        endpoints(&vars),
        (
            "http://localhost:4566/".into(),
            "https://sts.cn-north-1.amazonaws.com.cn/".into()
        )
    );

    // A token file without a role to assume.
    vars.retain(|(k, _)| *k != "AWS_ROLE_ARN");
    assert!(matches!(
        setting_error(load(&vars)),
        Problem::InvalidSetting {
            name: "AWS_ROLE_ARN",
            ..
        }
    ));
}

#[test]
fn plain_http_is_refused_but_to_loopback() {
    let home = tempfile::tempdir().unwrap();
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    set(&mut vars, "AWS_ACCESS_KEY_ID", "AKIA");
    set(&mut vars, "AWS_SECRET_ACCESS_KEY", "secret");
    for (name, url) in [
        (
            "TATUM_KMS_AWS_ENDPOINT_URL",
            "http://secretsmanager.example.com",
        ),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://10.0.0.1:4566"),
        ("AWS_ENDPOINT_URL", "http://169.254.169.254/"),
    ] {
        let mut vars = vars.clone();
        set(&mut vars, name, url);
        let problem = setting_error(load(&vars));
        assert!(
            matches!(&problem, Problem::InvalidSetting { name: n, reason } if *n == name && reason.contains("plain http")),
            "{name}: {problem}"
        );
    }
    for loopback in [
        "http://127.0.0.1:4566",
        "http://127.8.9.10/",
        "http://[::1]:4566",
        "http://LOCALHOST:4566",
    ] {
        let mut vars = vars.clone();
        set(&mut vars, "AWS_ENDPOINT_URL", loopback);
        assert!(load(&vars).is_ok(), "{loopback}");
    }
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    set(&mut vars, "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
    set(&mut vars, "AWS_ROLE_ARN", "arn:aws:iam::1:role/kms");
    set(&mut vars, "AWS_ENDPOINT_URL_STS", "http://sts.example.com");
    assert!(matches!(
        setting_error(load(&vars)),
        Problem::InvalidSetting {
            name: "AWS_ENDPOINT_URL_STS",
            ..
        }
    ));

    // A config built by hand is checked too.
    let mut vars = base(home.path());
    set(&mut vars, "AWS_REGION", REGION);
    set(&mut vars, "AWS_ACCESS_KEY_ID", "AKIA");
    set(&mut vars, "AWS_SECRET_ACCESS_KEY", "secret");
    let mut by_hand = load(&vars).unwrap();
    by_hand.endpoint = "http://secretsmanager.example.com/".parse().unwrap();
    let err = AwsProvider::new(by_hand).err().unwrap();
    assert!(matches!(
        err.problem,
        Problem::InvalidSetting {
            name: "TATUM_KMS_AWS_ENDPOINT_URL",
            ..
        }
    ));
}
