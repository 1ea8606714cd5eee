//! id_token verification against a provider's JWKS (RS256/384/512, PS256/384/512, ES256/384 with ring), and
//! the ES256 client secret Sign in with Apple wants.

use base64::Engine as _;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::Value;

/// One key of a JWKS; fields the verification does not use are ignored.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Jwk {
    #[serde(default)]
    pub(crate) kid: Option<String>,
    pub(crate) kty: String,
    #[serde(default)]
    pub(crate) alg: Option<String>,
    #[serde(default, rename = "use")]
    pub(crate) use_: Option<String>,
    #[serde(default)]
    pub(crate) n: Option<String>,
    #[serde(default)]
    pub(crate) e: Option<String>,
    #[serde(default)]
    pub(crate) crv: Option<String>,
    #[serde(default)]
    pub(crate) x: Option<String>,
    #[serde(default)]
    pub(crate) y: Option<String>,
}

/// A JWKS document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JwkSet {
    pub(crate) keys: Vec<Jwk>,
}

/// Why an id_token was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    /// Not three base64url parts with JSON header and payload.
    #[error("the id_token is not a well-formed JWT")]
    Malformed,
    /// `none`, HMAC or an algorithm ring does not verify.
    #[error("the id_token is signed with `{0}`, which is not accepted")]
    Algorithm(String),
    /// No key of the provider's JWKS has the token's `kid` (and algorithm).
    #[error("no key of the provider's JWKS matches the id_token (kid {0:?})")]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("the id_token's signature does not verify against the provider's keys")]
    Signature,
    /// `iss` is not the provider's issuer.
    #[error("the id_token's issuer {found:?} is not the provider's issuer {expected:?}")]
    Issuer {
        /// The issuer discovery announced.
        expected: String,
        /// The token's `iss`.
        found: Option<String>,
    },
    /// `aud` does not name the client.
    #[error("the id_token is not meant for this client (aud does not contain the client id)")]
    Audience,
    /// `exp` has passed (or is missing).
    #[error("the id_token has expired")]
    Expired,
    /// `nbf`/`iat` lie in the future.
    #[error("the id_token is not valid yet")]
    NotYetValid,
    /// A provider-specific claim check failed (such as Google Workspaces' `hd`).
    #[error("{0}")]
    Claim(String),
}

/// Clock skew tolerated between this server and the provider, in seconds.
const LEEWAY_S: i64 = 60;

/// A decoded JWT whose signature is not checked yet.
pub(crate) struct Unverified {
    pub(crate) alg: String,
    pub(crate) kid: Option<String>,
    pub(crate) payload: serde_json::Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

fn b64(part: &str) -> Result<Vec<u8>, IdTokenError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| IdTokenError::Malformed)
}

/// Splits and decodes a compact JWS.
pub(crate) fn decode(token: &str) -> Result<Unverified, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed);
    };
    let header: serde_json::Map<String, Value> =
        serde_json::from_slice(&b64(header)?).map_err(|_| IdTokenError::Malformed)?;
    let claims: serde_json::Map<String, Value> =
        serde_json::from_slice(&b64(payload)?).map_err(|_| IdTokenError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).ok_or(IdTokenError::Malformed)?.to_owned();
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    let signing_input = token[..token.rfind('.').unwrap_or(0)].to_owned();
    Ok(Unverified { alg, kid, payload: claims, signing_input, signature: b64(signature)? })
}

/// The key type and ring algorithm of a JWS `alg`.
fn algorithm(alg: &str) -> Option<(&'static str, &'static dyn signature::VerificationAlgorithm)> {
    Some(match alg {
        "RS256" => ("RSA", &signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => ("RSA", &signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => ("RSA", &signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => ("RSA", &signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => ("RSA", &signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => ("RSA", &signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => ("EC", &signature::ECDSA_P256_SHA256_FIXED),
        "ES384" => ("EC", &signature::ECDSA_P384_SHA384_FIXED),
        _ => return None,
    })
}

/// Whether `key` may verify a token with `alg` and `kid`.
pub(crate) fn key_matches(key: &Jwk, alg: &str, kid: Option<&str>) -> bool {
    let Some((kty, _)) = algorithm(alg) else { return false };
    key.kty == kty
        && key.alg.as_deref().is_none_or(|a| a == alg)
        && key.use_.as_deref().is_none_or(|u| u == "sig")
        && kid.is_none_or(|kid| key.kid.as_deref() == Some(kid))
        && match alg {
            "ES256" => key.crv.as_deref() == Some("P-256"),
            "ES384" => key.crv.as_deref() == Some("P-384"),
            _ => true,
        }
}

impl Unverified {
    /// Checks the signature with the first key of `keys` that matches the token's `alg` and `kid`.
    pub(crate) fn verify_signature(&self, keys: &[Jwk]) -> Result<(), IdTokenError> {
        let (_, algorithm) = algorithm(&self.alg).ok_or_else(|| IdTokenError::Algorithm(self.alg.clone()))?;
        let key = keys
            .iter()
            .find(|key| key_matches(key, &self.alg, self.kid.as_deref()))
            .ok_or_else(|| IdTokenError::UnknownKey(self.kid.clone()))?;
        let field = |value: &Option<String>| value.as_deref().ok_or(IdTokenError::Signature).and_then(b64);
        let public_key = if key.kty == "RSA" {
            rsa_public_key_der(&field(&key.n)?, &field(&key.e)?)
        } else {
            let mut point = vec![0x04];
            point.extend(field(&key.x)?);
            point.extend(field(&key.y)?);
            point
        };
        let verified =
            UnparsedPublicKey::new(algorithm, public_key).verify(self.signing_input.as_bytes(), &self.signature);
        verified.map_err(|_| IdTokenError::Signature)
    }

    /// Checks `iss` (when the issuer is known), `aud`/`azp` against the client id, `exp`, `nbf` and `iat`.
    pub(crate) fn check_claims(&self, issuer: Option<&str>, client_id: &str, now_s: i64) -> Result<(), IdTokenError> {
        let claims = &self.payload;
        if let Some(expected) = issuer {
            let found = claims.get("iss").and_then(Value::as_str);
            if !issuer_matches(expected, found, claims) {
                return Err(IdTokenError::Issuer { expected: expected.to_owned(), found: found.map(str::to_owned) });
            }
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == client_id,
            Some(Value::Array(auds)) => {
                auds.iter().any(|aud| aud.as_str() == Some(client_id))
                    // With several audiences, the authorized party must be this client when present.
                    && claims.get("azp").and_then(Value::as_str).is_none_or(|azp| azp == client_id)
            }
            _ => false,
        };
        if !audience_ok {
            return Err(IdTokenError::Audience);
        }
        let number = |name: &str| claims.get(name).and_then(Value::as_f64).map(|v| v as i64);
        match number("exp") {
            Some(exp) if exp.saturating_add(LEEWAY_S) > now_s => {}
            _ => return Err(IdTokenError::Expired),
        }
        if number("nbf").is_some_and(|nbf| nbf.saturating_sub(LEEWAY_S) > now_s)
            || number("iat").is_some_and(|iat| iat.saturating_sub(LEEWAY_S) > now_s)
        {
            return Err(IdTokenError::NotYetValid);
        }
        Ok(())
    }
}

/// The DER `RSAPublicKey` (PKCS#1) of a JWK's modulus and exponent, the form ring reads RSA keys in.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn length(len: usize, out: &mut Vec<u8>) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn integer(value: &[u8], out: &mut Vec<u8>) {
        let value: Vec<u8> = value.iter().copied().skip_while(|b| *b == 0).collect();
        // A set high bit would make the INTEGER negative.
        let pad = value.first().is_none_or(|b| b & 0x80 != 0);
        out.push(0x02);
        length(value.len() + usize::from(pad), out);
        if pad {
            out.push(0);
        }
        out.extend(value);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(n, &mut body);
    integer(e, &mut body);
    let mut der = vec![0x30];
    length(body.len(), &mut der);
    der.extend(body);
    der
}

/// Exact match, plus two real-world variants: Google's issuer with and without `https://`, and Microsoft's
/// multi-tenant issuer template `https://login.microsoftonline.com/{tenantid}/v2.0` filled from `tid`.
fn issuer_matches(expected: &str, found: Option<&str>, claims: &serde_json::Map<String, Value>) -> bool {
    let Some(found) = found else { return false };
    if found == expected {
        return true;
    }
    if expected == "https://accounts.google.com" && found == "accounts.google.com" {
        return true;
    }
    match (expected.contains("{tenantid}"), claims.get("tid").and_then(Value::as_str)) {
        (true, Some(tid)) => expected.replace("{tenantid}", tid) == found,
        _ => false,
    }
}

/// Why the Apple client secret could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the Apple private key (additional_config.privateKey) is not a PEM PKCS#8 P-256 key")]
pub struct ApplePrivateKeyError;

/// The client secret of Sign in with Apple: an ES256 JWT signed with the team's key, valid for `lifetime_s`.
pub(crate) fn apple_client_secret(
    client_id: &str,
    key_id: &str,
    team_id: &str,
    private_key_pem: &str,
    now_s: i64,
    lifetime_s: i64,
) -> Result<String, ApplePrivateKeyError> {
    // Keys pasted into one-line settings keep their newlines as `\n`.
    let pem = private_key_pem.replace("\\n", "\n");
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).map(str::trim).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| ApplePrivateKeyError)?;
    let rng = ring::rand::SystemRandom::new();
    let key = signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
        .map_err(|_| ApplePrivateKeyError)?;
    let encode = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let header = serde_json::json!({"alg": "ES256", "kid": key_id, "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": team_id,
        "iat": now_s,
        "exp": now_s + lifetime_s,
        "aud": "https://appleid.apple.com",
        "sub": client_id,
    });
    let input = format!("{}.{}", encode(&header), encode(&claims));
    let signature = key.sign(&rng, input.as_bytes()).map_err(|_| ApplePrivateKeyError)?;
    Ok(format!("{input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair as _;

    /// A P-256 key, its JWK and a signer, made with ring.
    fn es256_key(kid: &str) -> (signature::EcdsaKeyPair, Jwk) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .expect("key");
        let public = pair.public_key().as_ref();
        let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = Jwk {
            kid: Some(kid.into()),
            kty: "EC".into(),
            alg: Some("ES256".into()),
            use_: Some("sig".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(enc(&public[1..33])),
            y: Some(enc(&public[33..])),
        };
        (pair, jwk)
    }

    fn sign(pair: &signature::EcdsaKeyPair, kid: &str, claims: &Value) -> String {
        let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", enc(&serde_json::json!({"alg":"ES256","kid":kid})), enc(claims));
        let sig = pair.sign(&ring::rand::SystemRandom::new(), input.as_bytes()).expect("sign");
        format!("{input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    #[test]
    fn verifies_signature_and_claims() {
        let (pair, jwk) = es256_key("k1");
        let claims = serde_json::json!({"iss":"https://idp","aud":"web","sub":"u1","exp":2000,"iat":1000});
        let token = decode(&sign(&pair, "k1", &claims)).expect("decodes");
        token.verify_signature(std::slice::from_ref(&jwk)).expect("signature");
        token.check_claims(Some("https://idp"), "web", 1500).expect("claims");
        assert_eq!(token.check_claims(Some("https://idp"), "web", 2100), Err(IdTokenError::Expired));
        assert_eq!(token.check_claims(Some("https://idp"), "other", 1500), Err(IdTokenError::Audience));
        assert!(matches!(token.check_claims(Some("https://evil"), "web", 1500), Err(IdTokenError::Issuer { .. })));
        assert_eq!(token.check_claims(Some("https://idp"), "web", 900), Err(IdTokenError::NotYetValid));
    }

    #[test]
    fn refuses_tampering_unknown_keys_and_none() {
        let (pair, jwk) = es256_key("k1");
        let claims = serde_json::json!({"iss":"https://idp","aud":"web","sub":"u1","exp":2000});
        let token = sign(&pair, "k1", &claims);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::json!({"iss":"https://idp","aud":"web","sub":"admin","exp":2000}).to_string());
        let forged = decode(&parts.join(".")).expect("decodes");
        assert_eq!(forged.verify_signature(std::slice::from_ref(&jwk)), Err(IdTokenError::Signature));
        let (_, other) = es256_key("k2");
        assert_eq!(
            decode(&token).expect("decodes").verify_signature(&[other]),
            Err(IdTokenError::UnknownKey(Some("k1".into())))
        );
        parts[0] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let none = decode(&parts.join(".")).expect("decodes");
        assert_eq!(none.verify_signature(&[jwk]), Err(IdTokenError::Algorithm("none".into())));
        assert!(decode("a.b").is_err());
        assert!(decode("!!.!!.!!").is_err());
    }

    #[test]
    fn issuer_variants() {
        let claims = serde_json::json!({"tid": "t1"});
        let claims = claims.as_object().expect("object");
        assert!(issuer_matches("https://accounts.google.com", Some("accounts.google.com"), claims));
        assert!(issuer_matches(
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            Some("https://login.microsoftonline.com/t1/v2.0"),
            claims
        ));
        assert!(!issuer_matches("https://a", Some("https://b"), claims));
        assert!(!issuer_matches("https://a", None, claims));
    }

    #[test]
    fn apple_client_secret_is_an_es256_jwt_verifiable_with_the_public_key() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let secret = apple_client_secret("com.example.web", "KEY1", "TEAM1", &pem, 1000, 600).expect("signs");
        let token = decode(&secret).expect("decodes");
        assert_eq!(token.alg, "ES256");
        assert_eq!(token.kid.as_deref(), Some("KEY1"));
        assert_eq!(token.payload["iss"], "TEAM1");
        assert_eq!(token.payload["sub"], "com.example.web");
        assert_eq!(token.payload["aud"], "https://appleid.apple.com");
        assert_eq!(token.payload["exp"], 1600);
        let pair =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .expect("key");
        let public = pair.public_key().as_ref();
        let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = Jwk {
            kid: Some("KEY1".into()),
            kty: "EC".into(),
            alg: None,
            use_: None,
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(enc(&public[1..33])),
            y: Some(enc(&public[33..])),
        };
        token.verify_signature(&[jwk]).expect("verifies");
        assert!(apple_client_secret("a", "b", "c", "not a key", 0, 1).is_err());
    }
}
