//! Bad DUIX requests: each must get the DUIX error envelope (duix/error) with a fitting seed 003
//! code (1005, 1006, 40001, 2002, -1) and never a 5xx.

use super::{drive, envelope, generate, Category, Generated};
use crate::check::case::SuiteRun;
use crate::check::client::{DuixRequest, Reply, Token, CHECK_SIG, V1};
use crate::check::suites::duix::client;
use crate::check::target::Pair;
use crate::check::Ctx;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Value};

type Input = Generated<DuixRequest>;

pub async fn run(ctx: &Ctx, run: &mut SuiteRun) {
    let duix = client(ctx, run);
    let app = ctx.creds.duix_app.clone();
    let now = duix.clock.now_secs();
    let inputs = generate(ctx.seed, ctx.bad_inputs, |category| {
        strategy(category, &app, now)
    });
    let send = |g: Input| {
        let duix = duix.clone();
        async move {
            let reply = duix.send(&g.request).await;
            (g, reply)
        }
    };
    drive(ctx, run, inputs, send, judge).await;
}

fn judge(reply: &Reply, g: &Input) -> Result<(), String> {
    let code = envelope(reply, "duix/error")?;
    if g.fits(&code) {
        Ok(())
    } else {
        Err(format!("HTTP {}, code {code}", reply.status))
    }
}

pub fn strategy(category: Category, app: &Pair, now: i64) -> BoxedStrategy<Input> {
    let app = app.clone();
    match category {
        Category::Missing => missing(app),
        Category::WrongType => wrong_type(app, now),
        Category::OutOfRange => out_of_range(app, now),
        Category::Oversize => oversize(app),
        Category::BrokenJson => broken_json(app),
        Category::BadSignature => bad_signature(app, now),
    }
}

const MANAGEMENT: [&str; 4] = [
    "getconcurrentNumber",
    "getconcurrentList",
    "distroyCallSessionsByAppId",
    "sessionStop",
];

/// A management request of endpoint `i` (sessionStop takes `uuid`, the others `appId`).
fn management(i: usize, app: &str, token: Token) -> DuixRequest {
    let name = MANAGEMENT[i];
    let query = if name == "sessionStop" {
        vec![(
            "uuid".to_string(),
            "00000000-0000-0000-0000-00000000bad0".to_string(),
        )]
    } else {
        vec![("appId".to_string(), app.to_string())]
    };
    DuixRequest {
        path: format!("{V1}{name}"),
        query,
        token,
    }
}

fn check_sig(sig: Option<String>) -> DuixRequest {
    let query = sig
        .map(|s| vec![("sig".to_string(), s)])
        .unwrap_or_default();
    DuixRequest {
        path: CHECK_SIG.to_string(),
        query,
        token: Token::None,
    }
}

/// An HS256 JWT of arbitrary header and claims text (which may be broken), signed with `key`.
pub fn jwt(header: &str, claims: &str, key: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// Uses `token` either as checkSig's `sig` or as a management call's `token` header.
fn carry(target: usize, app: &str, token: String) -> DuixRequest {
    if target == MANAGEMENT.len() {
        check_sig(Some(token))
    } else {
        management(target, app, Token::Raw(token))
    }
}

fn missing(app: Pair) -> BoxedStrategy<Input> {
    (0..=MANAGEMENT.len(), 0u8..3)
        .prop_map(move |(i, how)| match (i == MANAGEMENT.len(), how) {
            (true, _) => Generated::new(
                Category::Missing,
                "checkSig without sig",
                check_sig(None),
                &["1005"],
            ),
            (false, 0) => Generated::new(
                Category::Missing,
                format!("{} without the token header", MANAGEMENT[i]),
                management(i, &app.id, Token::None),
                &["1005"],
            ),
            (false, 1) => Generated::new(
                Category::Missing,
                format!("{} with an empty token", MANAGEMENT[i]),
                management(i, &app.id, Token::Raw(String::new())),
                &["1005", "1006"],
            ),
            (false, _) => {
                let mut request = management(i, &app.id, Token::Good);
                request.query.clear();
                Generated::new(
                    Category::Missing,
                    format!("{} without its query parameter", MANAGEMENT[i]),
                    request,
                    &["-1"],
                )
            }
        })
        .boxed()
}

fn wrong_type(app: Pair, now: i64) -> BoxedStrategy<Input> {
    let claims = prop_oneof![
        "[a-z]{1,8}".prop_map(|s| json!({"exp": s, "iat": 0})),
        any::<bool>().prop_map(|b| json!({"exp": b, "iat": 0})),
        Just(json!({"exp": [1, 2], "iat": 0})),
        (1i64..1000).prop_map(|n| json!({"exp": {"at": n}, "iat": 0})),
    ];
    let shaped = (0..=MANAGEMENT.len(), claims).prop_map(move |(target, mut claims)| {
        claims["appId"] = Value::from(app.id.clone());
        let token = jwt(HEADER, &claims.to_string(), &app.secret);
        Generated::new(
            Category::WrongType,
            format!("a token whose claims are {claims}"),
            carry(target, &app.id, token),
            &["1006"],
        )
    });
    let not_jwt = (0..=MANAGEMENT.len(), "[A-Za-z0-9]{1,40}").prop_map(move |(target, raw)| {
        Generated::new(
            Category::WrongType,
            format!("a token {raw:?} that is not a JWT"),
            carry(target, "1234567890", raw),
            &["1006"],
        )
    });
    let _ = now;
    prop_oneof![shaped, not_jwt].boxed()
}

fn out_of_range(app: Pair, now: i64) -> BoxedStrategy<Input> {
    let expired = (0..=MANAGEMENT.len(), 1i64..10_000_000).prop_map({
        let app = app.clone();
        move |(target, ago)| {
            let token = protocol::duix::sign_token(&app.id, &app.secret, now - ago - 60, now - ago);
            Generated::new(
                Category::OutOfRange,
                format!("a token that expired {ago} s ago"),
                carry(target, &app.id, token),
                &["1006"],
            )
        }
    });
    let other_app = (0..3usize, "[a-z0-9]{1,20}").prop_map({
        let app = app.clone();
        move |(i, other)| {
            let mut request = management(i, &app.id, Token::Good);
            request.query = vec![("appId".to_string(), format!("x{other}"))];
            Generated::new(
                Category::OutOfRange,
                format!("{} for appId x{other}, not the token's", MANAGEMENT[i]),
                request,
                &["40001"],
            )
        }
    });
    let unknown_session = "[a-f0-9-]{1,36}".prop_map(move |uuid| {
        let request = DuixRequest {
            path: format!("{V1}sessionStop"),
            query: vec![("uuid".into(), format!("z{uuid}"))],
            token: Token::Good,
        };
        Generated::new(
            Category::OutOfRange,
            format!("sessionStop of unknown session z{uuid}"),
            request,
            &["2002"],
        )
    });
    prop_oneof![expired, other_app, unknown_session].boxed()
}

fn oversize(app: Pair) -> BoxedStrategy<Input> {
    let token = (0..=MANAGEMENT.len(), 5_000usize..30_000).prop_map({
        let app = app.clone();
        move |(target, n)| {
            Generated::new(
                Category::Oversize,
                format!("a {n}-byte token"),
                carry(target, &app.id, "t".repeat(n)),
                &["1006", "-1"],
            )
        }
    });
    let app_id = (0..3usize, 1_000usize..5_000).prop_map(move |(i, n)| {
        let mut request = management(i, &app.id, Token::Good);
        request.query = vec![("appId".to_string(), "a".repeat(n))];
        Generated::new(
            Category::Oversize,
            format!("{} with a {n}-byte appId", MANAGEMENT[i]),
            request,
            &["40001", "-1"],
        )
    });
    let uuid = (1_000usize..5_000).prop_map(|n| {
        let request = DuixRequest {
            path: format!("{V1}sessionStop"),
            query: vec![("uuid".into(), "u".repeat(n))],
            token: Token::Good,
        };
        Generated::new(
            Category::Oversize,
            format!("sessionStop with a {n}-byte uuid"),
            request,
            &["2002", "-1"],
        )
    });
    prop_oneof![token, app_id, uuid].boxed()
}

fn broken_json(app: Pair) -> BoxedStrategy<Input> {
    let valid = json!({"exp": 4_102_444_800u64, "iat": 1_700_000_000, "appId": app.id}).to_string();
    (
        0..=MANAGEMENT.len(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(move |(target, cut, in_header)| {
            let (header, claims) = if in_header {
                (
                    HEADER[..1 + cut.index(HEADER.len() - 1)].to_string(),
                    valid.clone(),
                )
            } else {
                (
                    HEADER.to_string(),
                    valid[..1 + cut.index(valid.len() - 1)].to_string(),
                )
            };
            let token = jwt(&header, &claims, &app.secret);
            let part = if in_header { "header" } else { "claims" };
            Generated::new(
                Category::BrokenJson,
                format!("a token whose {part} JSON is cut short"),
                carry(target, &app.id, token),
                &["1006"],
            )
        })
        .boxed()
}

fn bad_signature(app: Pair, now: i64) -> BoxedStrategy<Input> {
    let wrong_key = (0..=MANAGEMENT.len(), "[A-Za-z0-9]{4,32}").prop_map({
        let app = app.clone();
        move |(target, key)| {
            let token = protocol::duix::sign_token(&app.id, &format!("x{key}"), now, now + 600);
            Generated::new(
                Category::BadSignature,
                "a token signed with another key",
                carry(target, &app.id, token),
                &["40001", "1006"],
            )
        }
    });
    let flipped = (0..=MANAGEMENT.len(), any::<prop::sample::Index>()).prop_map({
        let app = app.clone();
        move |(target, at)| {
            let token = protocol::duix::sign_token(&app.id, &app.secret, now, now + 600);
            let (body, signature) = token.rsplit_once('.').unwrap_or((&token, ""));
            let mut bytes: Vec<u8> = signature.bytes().collect();
            let i = at
                .index(bytes.len().max(1))
                .min(bytes.len().saturating_sub(1));
            if let Some(b) = bytes.get_mut(i) {
                *b = if *b == b'A' { b'B' } else { b'A' };
            }
            let token = format!("{body}.{}", String::from_utf8_lossy(&bytes));
            Generated::new(
                Category::BadSignature,
                "a token with its signature altered",
                carry(target, &app.id, token),
                &["40001", "1006"],
            )
        }
    });
    let alg_none = (0..=MANAGEMENT.len()).prop_map(move |target| {
        let claims = json!({"exp": now + 600, "iat": now, "appId": app.id}).to_string();
        let token = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        );
        Generated::new(
            Category::BadSignature,
            "an unsigned token (alg none)",
            carry(target, &app.id, token),
            &["1006", "40001"],
        )
    });
    prop_oneof![wrong_key, flipped, alg_none].boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_generates_inputs() {
        let app = Pair::new("1234567890", "key");
        let inputs = generate(3, 600, |c| strategy(c, &app, 1_700_000_000));
        for category in Category::ALL {
            assert!(
                inputs.iter().filter(|g| g.category == category).count() >= 100,
                "{category:?}"
            );
        }
    }

    #[test]
    fn a_hand_made_jwt_verifies_like_protocols() {
        let token = jwt(
            HEADER,
            r#"{"exp":1700001800,"iat":1700000000,"appId":"1234567890"}"#,
            "test-app-key",
        );
        assert_eq!(
            token,
            protocol::duix::sign_token("1234567890", "test-app-key", 1_700_000_000, 1_700_001_800)
        );
    }
}
