//! AWS settings, the request on the wire, and the error shapes real AWS
//! sends that moto does not (400 with a `prefix#` type, `x-amzn-ErrorType`).

mod common;

use common::{lookup, Fake, Kind, Reply};
use kms_secret_providers::{
    provider_from_lookup, AwsConfig, PasswordSource, Problem, SecretProvider,
};
use secrecy::ExposeSecret;
use serde_json::json;

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn vars(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TATUM_KMS_AWS_REGION", "ap-south-1".into()),
        ("TATUM_KMS_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
        ("TATUM_KMS_AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ("TATUM_KMS_AWS_SECRET_NAME", "prod/kms".into()),
        ("TATUM_KMS_AWS_SECRET_KEY", "pwd".into()),
        ("TATUM_KMS_AWS_ENDPOINT_URL", endpoint.into()),
    ]
}

fn provider(vars: &[(&'static str, String)]) -> Box<dyn SecretProvider> {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    provider_from_lookup(PasswordSource::Aws, lookup(&pairs)).unwrap()
}

#[tokio::test]
async fn the_request_on_the_wire() {
    let fake = Fake::start(|_| {
        Reply::json(
            200,
            json!({"ARN": "arn:aws:secretsmanager:ap-south-1:1:secret:prod/kms-AbCdEf", "Name": "prod/kms",
                   "VersionId": "v1", "SecretString": "{\"pwd\":\"p4ss\"}", "VersionStages": ["AWSCURRENT"],
                   "CreatedDate": 1.523477145713E9}),
        )
    })
    .await;
    let password = provider(&vars(&fake.url)).password().await.unwrap();
    assert_eq!(password.expose_secret(), "p4ss");

    let seen = &fake.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/");
    assert_eq!(seen.body, r#"{"SecretId":"prod/kms"}"#);
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(
        seen.header("x-amz-target"),
        Some("secretsmanager.GetSecretValue")
    );
    assert_eq!(seen.header("x-amz-security-token"), None);
    let date = seen.header("x-amz-date").unwrap();
    assert_eq!(date.len(), 16, "{date}");
    let authorization = seen.header("authorization").unwrap();
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/ap-south-1/secretsmanager/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
        &date[..8]
    );
    assert!(authorization.starts_with(&prefix), "{authorization}");
    assert_eq!(authorization.len(), prefix.len() + 64);
}

#[tokio::test]
async fn error_shapes_of_real_aws() {
    let cases: Vec<(Reply, &str, Kind)> = vec![
        (
            Reply::json(
                400,
                json!({"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException",
                       "message": "Secrets Manager can't find the specified secret."}),
            ),
            "not found (HTTP 400 ResourceNotFoundException: Secrets Manager can't find the specified secret.)",
            |p| matches!(p, Problem::NotFound(f) if f.status == 400),
        ),
        (
            Reply::json(
                400,
                json!({"__type": "AccessDeniedException",
                       "Message": "User: arn:aws:iam::1:user/kms is not authorized to perform: secretsmanager:GetSecretValue"}),
            ),
            "HTTP 400 AccessDeniedException: User: arn:aws:iam::1:user/kms is not authorized",
            |p| matches!(p, Problem::Http(_)),
        ),
        (
            Reply::json(403, json!({"message": "Signature expired: 20150830T123600Z is now earlier than ..."}))
                .header("x-amzn-errortype", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"),
            "HTTP 403 InvalidSignatureException: Signature expired",
            |p| matches!(p, Problem::Http(f) if f.status == 403),
        ),
        (
            Reply::text(
                403,
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                 <Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
            ),
            "HTTP 403 InvalidClientTokenId: The security token included in the request is invalid.",
            |p| matches!(p, Problem::Http(f) if f.status == 403),
        ),
        (
            Reply::json(400, json!({"__type": "ThrottlingException", "message": "Rate exceeded"}))
                .header("retry-after", "2"),
            "HTTP 400 ThrottlingException: Rate exceeded (Retry-After: 2)",
            |p| matches!(p, Problem::Http(_)),
        ),
        (
            Reply::json(200, json!({"Name": "prod/kms"})),
            "malformed answer: no SecretString in the answer",
            |p| matches!(p, Problem::Malformed(_)),
        ),
    ];
    for (reply, expected, kind) in cases {
        let reply = std::sync::Mutex::new(Some(reply));
        let fake = Fake::start(move |_| reply.lock().unwrap().take().unwrap()).await;
        let err = provider(&vars(&fake.url)).password().await.unwrap_err();
        let text = err.to_string();
        assert!(kind(&err.problem), "{text}");
        assert!(
            text.starts_with(&format!(
                "AWS Secrets Manager: key `pwd` of secret `prod/kms` in ap-south-1 at {}/: ",
                fake.url
            )),
            "{text}"
        );
        assert!(text.contains(expected), "{text}\nexpected: {expected}");
        assert!(!text.contains(SECRET_KEY));
    }
}

#[test]
fn settings_and_their_fallbacks() {
    let base = [
        ("TATUM_KMS_AWS_SECRET_NAME", "prod/kms"),
        ("TATUM_KMS_AWS_SECRET_KEY", "pwd"),
    ];
    let with =
        |extra: &[(&str, &str)]| AwsConfig::from_lookup(lookup(&[&base[..], extra].concat()));

    // Ours win; the region falls back in order; the default endpoint follows it.
    let config = with(&[
        ("AWS_DEFAULT_REGION", "us-west-2"),
        ("AWS_REGION", "eu-north-1"),
        ("TATUM_KMS_AWS_ACCESS_KEY_ID", "AKIAOURS"),
        ("TATUM_KMS_AWS_SECRET_ACCESS_KEY", "ours"),
        ("AWS_ACCESS_KEY_ID", "AKIATHEIRS"),
        ("AWS_SECRET_ACCESS_KEY", "theirs"),
        ("AWS_SESSION_TOKEN", "their-token"),
    ])
    .unwrap();
    assert_eq!(config.region, "eu-north-1");
    assert_eq!(
        config.endpoint.as_str(),
        "https://secretsmanager.eu-north-1.amazonaws.com/"
    );
    let credentials = config.credentials.static_credentials().unwrap();
    assert_eq!(credentials.access_key_id, "AKIAOURS");
    assert_eq!(credentials.secret_access_key.expose_secret(), "ours");
    // The standard session token belongs to the standard key, not to ours.
    assert!(credentials.session_token.is_none());
    assert!(!format!("{config:?}").contains("ours\""));

    let config = with(&[
        ("AWS_DEFAULT_REGION", "cn-north-1"),
        ("AWS_ACCESS_KEY_ID", "ASIATHEIRS"),
        ("AWS_SECRET_ACCESS_KEY", "theirs"),
        ("AWS_SESSION_TOKEN", "their-token"),
    ])
    .unwrap();
    assert_eq!(
        config.endpoint.as_str(),
        "https://secretsmanager.cn-north-1.amazonaws.com.cn/"
    );
    let credentials = config.credentials.static_credentials().unwrap();
    assert_eq!(credentials.access_key_id, "ASIATHEIRS");
    assert_eq!(
        credentials.session_token.as_ref().unwrap().expose_secret(),
        "their-token"
    );

    let error = |extra: &[(&str, &str)]| with(extra).unwrap_err().to_string();
    assert_eq!(
        error(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        "AWS Secrets Manager: settings: none of TATUM_KMS_AWS_REGION, AWS_REGION, AWS_DEFAULT_REGION, \
         a profile's `region` is set"
    );
    // No HOME in the lookup, so no shared files; the metadata is off.
    assert!(error(&[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_EC2_METADATA_DISABLED", "true")
    ])
    .starts_with(
        "AWS Secrets Manager: settings: no credentials: none of TATUM_KMS_AWS_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID"
    ));
    assert_eq!(
        error(&[
            ("AWS_REGION", "eu-west-1"),
            ("TATUM_KMS_AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "theirs"),
        ]),
        "AWS Secrets Manager: settings: TATUM_KMS_AWS_SECRET_ACCESS_KEY is not set"
    );
    assert!(error(&[
        ("AWS_REGION", "evil.com/x?"),
        ("AWS_ACCESS_KEY_ID", "AKIA"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ])
    .starts_with("AWS Secrets Manager: settings: AWS_REGION is invalid"));

    let err = AwsConfig::from_lookup(lookup(&[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIA"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("TATUM_KMS_AWS_SECRET_NAME", "prod/kms"),
    ]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AWS Secrets Manager: settings: TATUM_KMS_AWS_SECRET_KEY is not set"
    );
}
