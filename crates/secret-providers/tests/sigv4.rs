//! SigV4 against AWS's published examples (the IAM `ListUsers` walk-through
//! of the SigV4 documentation and cases of the SigV4 test suite), and
//! against botocore's own signer for the requests this crate sends.

use kms_secret_providers::sigv4::{
    authorization, canonical_request, signing_key, string_to_sign, Request, Scope, SigningTime,
};
use secrecy::SecretString;
use serde_json::json;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the instant of every published example.
const EXAMPLE_TIME: u64 = 1_440_938_160;

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

#[test]
fn the_documented_iam_list_users_example() {
    let time = SigningTime::from_unix(EXAMPLE_TIME);
    assert_eq!(time.amz_date(), "20150830T123600Z");
    let headers = [
        (
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("Host", "iam.amazonaws.com"),
        ("X-Amz-Date", time.amz_date()),
    ];
    let request = Request {
        method: "GET",
        path: "/",
        query: "Action=ListUsers&Version=2010-05-08",
        headers: &headers,
        body: b"",
    };
    let scope = Scope {
        region: "us-east-1",
        service: "iam",
        time: &time,
    };

    let (canonical, signed_headers) = canonical_request(&request);
    assert_eq!(
        canonical,
        "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
         content-type:application/x-www-form-urlencoded; charset=utf-8\n\
         host:iam.amazonaws.com\n\
         x-amz-date:20150830T123600Z\n\n\
         content-type;host;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(signed_headers, "content-type;host;x-amz-date");
    assert_eq!(
        string_to_sign(&scope, &canonical),
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
         f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    assert_eq!(
        hex::encode(&*signing_key(&secret(), &scope)),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
    assert_eq!(
        authorization(&request, KEY_ID, &secret(), &scope),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
}

#[test]
fn the_test_suite_vanilla_cases() {
    let time = SigningTime::from_unix(EXAMPLE_TIME);
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", time.amz_date()),
    ];
    let scope = Scope {
        region: "us-east-1",
        service: "service",
        time: &time,
    };
    for (name, method, query, signature) in [
        (
            "get-vanilla",
            "GET",
            "",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "post-vanilla",
            "POST",
            "",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
        (
            "get-vanilla-query-order-key-case",
            "GET",
            "Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
    ] {
        let request = Request {
            method,
            path: "/",
            query,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            authorization(&request, KEY_ID, &secret(), &scope),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature={signature}"
            ),
            "{name}"
        );
    }
}

#[test]
fn utc_dates_from_unix_time() {
    for (secs, expected) in [
        (0, "19700101T000000Z"),
        (EXAMPLE_TIME, "20150830T123600Z"),
        (951_782_400, "20000229T000000Z"),
        (1_709_251_199, "20240229T235959Z"),
        (4_107_542_400, "21000301T000000Z"),
    ] {
        let time = SigningTime::from_unix(secs);
        assert_eq!(time.amz_date(), expected);
        assert_eq!(time.date(), &expected[..8]);
    }
}

/// botocore's signer (the AWS CLI's and boto3's) on the exact requests this
/// crate sends to Secrets Manager, and on paths, queries and header values
/// that need canonicalising.
#[test]
fn agrees_with_botocore() {
    let Some(python) = kms_test_support::python() else {
        return;
    };
    let time = SigningTime::from_unix(1_767_225_600 + 12_345);
    let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIBE=";
    let body = r#"{"SecretId":"kms/wallet password"}"#;
    let cases = [
        (
            "POST",
            "http://127.0.0.1:4566/",
            "127.0.0.1:4566",
            vec![
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-date", time.amz_date()),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
                ("x-amz-security-token", token),
            ],
            body,
            "secretsmanager",
            "eu-central-1",
        ),
        (
            "GET",
            "https://example.amazonaws.com/a%20b/c~d/%E2%9C%93?b=2&a=%E2%9C%93&a=1&c=x%2Fy",
            "example.amazonaws.com",
            vec![
                ("x-amz-date", time.amz_date()),
                ("My-Header", "  spaced    out   value "),
                ("my-header", "second"),
            ],
            "",
            "service",
            "us-east-1",
        ),
    ];

    let input: Vec<_> = cases
        .iter()
        .map(|(method, url, host, headers, body, service, region)| {
            let mut all: Vec<(&str, &str)> = vec![("host", host)];
            all.extend(headers.iter().copied());
            json!({
                "method": method, "url": url, "headers": all, "body": body,
                "service": service, "region": region, "amz_date": time.amz_date(),
                "key": KEY_ID, "secret": SECRET,
            })
        })
        .collect();
    let answers = kms_test_support::run_python(&python, BOTOCORE_SIGN, &json!(input));

    for ((method, url, host, headers, body, service, region), answer) in
        cases.iter().zip(answers.as_array().unwrap())
    {
        let url = url::Url::parse(url).unwrap();
        let mut all: Vec<(&str, &str)> = vec![("host", host)];
        all.extend(headers.iter().copied());
        let request = Request {
            method,
            path: url.path(),
            query: url.query().unwrap_or_default(),
            headers: &all,
            body: body.as_bytes(),
        };
        let scope = Scope {
            region,
            service,
            time: &time,
        };
        let (canonical, _) = canonical_request(&request);
        assert_eq!(canonical, answer["canonical"].as_str().unwrap(), "{url}");
        let ours = authorization(&request, KEY_ID, &secret(), &scope);
        let signature = answer["signature"].as_str().unwrap();
        assert!(
            ours.ends_with(&format!("Signature={signature}")),
            "{url}: ours {ours}, botocore {signature}"
        );
    }
}

const BOTOCORE_SIGN: &str = r#"
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for case in json.load(sys.stdin):
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode())
    # These headers are an email.message.Message: assigning a name twice keeps both.
    for name, value in case["headers"]:
        request.headers[name] = value
    request.context["timestamp"] = case["amz_date"]
    auth = SigV4Auth(Credentials(case["key"], case["secret"]), case["service"], case["region"])
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    out.append({"canonical": canonical, "signature": auth.signature(string_to_sign, request)})
print(json.dumps(out))
"#;
