//! Access tokens: compact JWS (JWT) signed with ES256 (ECDSA P-256, SHA-256), with the key id in the
//! header so that keys can rotate: verifiers pick the key by `kid`, and [`PublicKey::to_jwk`] publishes
//! each key in the JWKS. The payload carries SuperTokens' claims: `sub`, `exp`, `iat`, `tId`, `rsub`,
//! `sessionHandle` and `iss`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Map, Value, json};

use crate::ids::{self, RandomError};
use crate::store::SigningKeyRecord;

/// The JWS algorithm of access tokens.
pub const ALGORITHM: &str = "ES256";

/// The claims of an access token this crate issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenClaims {
    /// `sub` and `rsub`: the user id.
    pub user_id: String,
    /// `sessionHandle`.
    pub session_handle: String,
    /// `tId`.
    pub tenant_id: String,
    /// `iat`, seconds since the epoch.
    pub issued_at_s: i64,
    /// `exp`, seconds since the epoch.
    pub expires_at_s: i64,
    /// `iss`.
    pub issuer: String,
}

impl AccessTokenClaims {
    /// The JSON payload, which is also the `up` of the front token.
    pub fn to_payload(&self) -> Map<String, Value> {
        let payload = json!({
            "iat": self.issued_at_s,
            "exp": self.expires_at_s,
            "sub": self.user_id,
            "tId": self.tenant_id,
            "rsub": self.user_id,
            "sessionHandle": self.session_handle,
            "iss": self.issuer,
        });
        match payload {
            Value::Object(map) => map,
            _ => unreachable!("json! of an object literal is an object"),
        }
    }
}

/// The refresh token an access token was issued with, when that token was still pending: its hash
/// (`refreshTokenHash1`) and its parent's (`parentRefreshTokenHash1`), SuperTokens' claim names. A request
/// made with such an access token uses the pending token, after which presenting the parent is theft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshBinding {
    /// The hash of the parent refresh token, current when the access token was issued.
    pub parent_hash: String,
    /// The hash of the refresh token issued with the access token.
    pub refresh_token_hash: String,
}

impl RefreshBinding {
    const PARENT: &str = "parentRefreshTokenHash1";
    const TOKEN: &str = "refreshTokenHash1";

    /// Adds the two claims to an access token payload.
    pub fn add_to(self, payload: &mut Map<String, Value>) {
        payload.insert(Self::TOKEN.to_owned(), Value::String(self.refresh_token_hash));
        payload.insert(Self::PARENT.to_owned(), Value::String(self.parent_hash));
    }

    /// The binding of a verified access token's payload, if it has one.
    pub fn of(payload: &Map<String, Value>) -> Option<Self> {
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Self { parent_hash: text(Self::PARENT)?, refresh_token_hash: text(Self::TOKEN)? })
    }
}

/// A stored key that does not decode.
#[derive(Debug, Clone, thiserror::Error)]
#[error("signing key `{key_id}` is not a valid {ALGORITHM} private key")]
pub struct InvalidKey {
    /// The key id.
    pub key_id: String,
}

/// A private signing key with its id.
#[derive(Clone)]
pub struct SigningKey {
    key_id: String,
    key: p256::ecdsa::SigningKey,
    /// The same key in ring, which signs several times faster (assembly P-256); `None` if ring refused it,
    /// and then `key` signs.
    signer: Option<Arc<EcdsaKeyPair>>,
    /// The token header, encoded once: it is the same for every token of the key.
    encoded_header: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key with a new key id (`s-<uuid>`, as SuperTokens names static keys).
    pub fn generate() -> Result<Self, RandomError> {
        let key_id = format!("s-{}", ids::uuid_v4()?);
        loop {
            // A random 32-byte string is a valid scalar except with probability about 2^-32.
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&ids::random_bytes::<32>()?) {
                return Ok(Self::new(key_id, key));
            }
        }
    }

    /// The key stored in `record`.
    pub fn from_record(record: &SigningKeyRecord) -> Result<Self, InvalidKey> {
        let key = p256::ecdsa::SigningKey::from_slice(&record.private_key)
            .map_err(|_| InvalidKey { key_id: record.key_id.clone() })?;
        Ok(Self::new(record.key_id.clone(), key))
    }

    fn new(key_id: String, key: p256::ecdsa::SigningKey) -> Self {
        let public_key = key.verifying_key().to_sec1_point(false);
        let signer = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.to_bytes(),
            public_key.as_bytes(),
            &SystemRandom::new(),
        )
        .ok()
        .map(Arc::new);
        let header = json!({ "alg": ALGORITHM, "kid": key_id, "typ": "JWT", "version": "5" });
        let encoded_header = URL_SAFE_NO_PAD.encode(header.to_string());
        Self { key_id, key, signer, encoded_header }
    }

    /// The record to store.
    pub fn to_record(&self, created_at_ms: i64) -> SigningKeyRecord {
        SigningKeyRecord {
            key_id: self.key_id.clone(),
            algorithm: ALGORITHM.to_owned(),
            private_key: self.key.to_bytes().to_vec(),
            created_at_ms,
        }
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Signs `payload` into a compact JWT.
    pub fn sign(&self, payload: &Map<String, Value>) -> String {
        let payload = Value::Object(payload.clone()).to_string();
        let mut token = String::with_capacity(self.encoded_header.len() + payload.len() * 4 / 3 + 92);
        token.push_str(&self.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        // ring's signature (r ‖ s, as JWS wants it), or the RustCrypto one when ring cannot sign; both are
        // plain ECDSA over SHA-256, which every ES256 verifier accepts.
        let signature = self
            .signer
            .as_ref()
            .and_then(|signer| signer.sign(&SystemRandom::new(), token.as_bytes()).ok())
            .and_then(|signature| p256::ecdsa::Signature::from_slice(signature.as_ref()).ok())
            .unwrap_or_else(|| self.key.sign(token.as_bytes()));
        // Low-S form (of the two valid `s` values, the smaller), which verifiers require: a token has one
        // valid signature, not two.
        let signature = signature.normalize_s();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        token
    }

    /// A verifier accepting tokens signed with this key.
    pub fn verifier(&self) -> AccessTokenVerifier {
        AccessTokenVerifier::new(vec![self.public_key(None)])
    }

    /// The public half, accepted until `valid_until_s` (seconds since the epoch; `None`: no end).
    pub fn public_key(&self, valid_until_s: Option<i64>) -> PublicKey {
        PublicKey { key_id: self.key_id.clone(), key: *self.key.verifying_key(), valid_until_s }
    }
}

/// A public key that verifies access tokens, with its key id and the end of its use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key_id: String,
    key: p256::ecdsa::VerifyingKey,
    valid_until_s: Option<i64>,
}

/// One key of a JWKS (RFC 7517) for ES256: the P-256 point's coordinates, base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// `kid`.
    pub key_id: String,
    /// `x`.
    pub x: String,
    /// `y`.
    pub y: String,
}

impl PublicKey {
    /// The key id (`kid`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Until when tokens signed with this key are accepted, in seconds since the epoch; `None`: no end.
    pub fn valid_until_s(&self) -> Option<i64> {
        self.valid_until_s
    }

    /// Whether the key is still accepted at `now_s`.
    pub fn is_valid_at(&self, now_s: i64) -> bool {
        self.valid_until_s.is_none_or(|until| now_s < until)
    }

    /// The key as a JWK (`kty` EC, `crv` P-256, `alg` ES256, `use` sig are implied).
    pub fn to_jwk(&self) -> Jwk {
        let point = self.key.to_sec1_point(false);
        let coordinate = |bytes: Option<&[u8]>| URL_SAFE_NO_PAD.encode(bytes.unwrap_or_default());
        Jwk {
            key_id: self.key_id.clone(),
            x: coordinate(point.x().map(|x| x.as_slice())),
            y: coordinate(point.y().map(|y| y.as_slice())),
        }
    }
}

/// The key id (`kid`) in the header of a compact JWT, without checking anything else.
pub fn key_id_of(token: &str) -> Option<String> {
    let header = decode_object(token.split('.').next()?)?;
    header.get("kid").and_then(Value::as_str).map(str::to_owned)
}

/// Why an access token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not an access token of ours at all (wrong shape): treated as absent.
    Malformed,
    /// Unknown key or bad signature.
    InvalidSignature,
    /// Past its `exp`.
    Expired,
}

/// Checks access tokens against a set of public keys.
#[derive(Debug, Clone)]
pub struct AccessTokenVerifier {
    keys: Vec<PublicKey>,
}

impl AccessTokenVerifier {
    /// A verifier accepting tokens signed with any of `keys` while the key is valid.
    pub fn new(keys: Vec<PublicKey>) -> Self {
        Self { keys }
    }

    /// The keys, as given.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// Whether a key with this id is known (valid or not).
    pub fn knows(&self, key_id: &str) -> bool {
        self.keys.iter().any(|key| key.key_id == key_id)
    }

    /// The payload of a valid, unexpired token.
    pub fn verify(&self, token: &str, now_s: i64) -> Result<Map<String, Value>, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header = decode_object(header).ok_or(TokenError::Malformed)?;
        let claims = decode_object(payload).ok_or(TokenError::Malformed)?;
        let (Some(alg), Some(kid)) =
            (header.get("alg").and_then(Value::as_str), header.get("kid").and_then(Value::as_str))
        else {
            return Err(TokenError::Malformed);
        };
        let has_structure = claims.get("sub").is_some_and(Value::is_string)
            && claims.get("sessionHandle").is_some_and(Value::is_string)
            && claims.get("exp").is_some_and(Value::is_i64);
        if !has_structure {
            return Err(TokenError::Malformed);
        }
        if alg != ALGORITHM {
            return Err(TokenError::InvalidSignature);
        }
        let key = self
            .keys
            .iter()
            .find(|key| key.key_id == kid && key.is_valid_at(now_s))
            .map(|key| &key.key)
            .ok_or(TokenError::InvalidSignature)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|bytes| p256::ecdsa::Signature::from_slice(&bytes).ok())
            // A high-S signature is the mirror of a valid low-S one: refused, so the bytes of a token are unique.
            .filter(|signature| signature.normalize_s() == *signature)
            .ok_or(TokenError::InvalidSignature)?;
        let signing_input_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
        key.verify(&token.as_bytes()[..signing_input_len], &signature).map_err(|_| TokenError::InvalidSignature)?;
        let expires_at_s = claims.get("exp").and_then(Value::as_i64).ok_or(TokenError::Malformed)?;
        if expires_at_s <= now_s {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_at_s: i64) -> Map<String, Value> {
        AccessTokenClaims {
            user_id: "u".into(),
            session_handle: "h".into(),
            tenant_id: "public".into(),
            issued_at_s: 1,
            expires_at_s,
            issuer: "http://localhost:3001/auth".into(),
        }
        .to_payload()
    }

    #[test]
    fn signs_and_verifies() {
        let key = SigningKey::generate().expect("randomness");
        let token = key.sign(&claims(2_000));
        assert_eq!(key.verifier().verify(&token, 1_000), Ok(claims(2_000)));
        assert_eq!(key.verifier().verify(&token, 2_000), Err(TokenError::Expired));

        let restored = SigningKey::from_record(&key.to_record(0)).expect("valid record");
        assert_eq!(restored.verifier().verify(&token, 1_000), Ok(claims(2_000)));

        let other = SigningKey::generate().expect("randomness");
        assert_eq!(other.verifier().verify(&token, 1_000), Err(TokenError::InvalidSignature));

        let (signing_input, _) = token.rsplit_once('.').expect("three parts");
        let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
        assert_eq!(key.verifier().verify(&forged, 1_000), Err(TokenError::InvalidSignature));
        let tampered_payload = URL_SAFE_NO_PAD.encode(Value::Object(claims(9_999)).to_string());
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{tampered_payload}.{}", parts[0], parts[2]);
        assert_eq!(key.verifier().verify(&tampered, 1_000), Err(TokenError::InvalidSignature));

        // Every token is signed low-S; its high-S mirror (s replaced by n - s, equally valid for plain ECDSA)
        // is refused.
        for _ in 0..16 {
            let token = key.sign(&claims(2_000));
            let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
            let bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
            let signature = p256::ecdsa::Signature::from_slice(&bytes).expect("a signature");
            assert_eq!(signature.normalize_s(), signature, "signed low-S");
            let (r, s) = signature.split_scalars();
            let mirrored = p256::ecdsa::Signature::from_scalars(r, -s).expect("valid scalars");
            assert_ne!(mirrored, signature);
            let mirrored = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mirrored.to_bytes()));
            assert_eq!(key.verifier().verify(&mirrored, 1_000), Err(TokenError::InvalidSignature));
            assert_eq!(key.verifier().verify(&token, 1_000), Ok(claims(2_000)));
        }

        for malformed in ["", "a.b", "a.b.c", "x.y.z.w", &format!("{}.e30.{}", parts[0], parts[2])] {
            assert_eq!(key.verifier().verify(malformed, 1_000), Err(TokenError::Malformed), "{malformed}");
        }
    }

    /// Tokens signed by ring and by the RustCrypto fallback have the same header and payload, and both verify.
    #[test]
    fn ring_and_the_fallback_sign_alike() {
        let key = SigningKey::generate().expect("randomness");
        assert!(key.signer.is_some(), "ring takes every valid P-256 key");
        let fallback = SigningKey { signer: None, ..key.clone() };
        let (by_ring, by_fallback) = (key.sign(&claims(2_000)), fallback.sign(&claims(2_000)));
        assert_eq!(by_ring.rsplit_once('.').map(|p| p.0), by_fallback.rsplit_once('.').map(|p| p.0));
        for token in [by_ring, by_fallback] {
            assert_eq!(key.verifier().verify(&token, 1_000), Ok(claims(2_000)));
            let header = decode_object(token.split('.').next().expect("header")).expect("a JSON header");
            assert_eq!(
                Value::Object(header),
                json!({ "alg": "ES256", "kid": key.key_id(), "typ": "JWT", "version": "5" })
            );
        }
    }
}
