//! Identifiers, codes and hashes, derived and encoded exactly as SuperTokens core does so that values are
//! interchangeable with SuperTokens':
//!
//! - `deviceId`: 32 random bytes, standard base64 with padding;
//! - `preAuthSessionId`: base64url without padding of SHA-256(device id bytes);
//! - `linkCode`: HMAC-SHA256(key = device id bytes ‖ link code salt bytes, message = user input code),
//!   base64url without padding, so the one-time code and the magic link resolve to the same code;
//! - `linkCodeHash` (the only form stored): base64url with padding of SHA-256(link code bytes).
//!
//! Randomness comes from the operating system's CSPRNG; comparisons of secrets are constant-time.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256, Sha512};
use subtle::ConstantTimeEq as _;

/// The operating system's random number generator failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the system random number generator failed: {0}")]
pub struct RandomError(String);

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    Ok(bytes)
}

/// A 6-digit one-time code, each digit uniform over `0-9` (rejection sampling, no modulo bias).
pub fn user_input_code() -> Result<String, RandomError> {
    let mut code = String::with_capacity(6);
    while code.len() < 6 {
        for byte in random_bytes::<16>()? {
            // 250 is the largest multiple of 10 that fits in a byte; larger values would bias the digits.
            if byte < 250 && code.len() < 6 {
                code.push(char::from(b'0' + byte % 10));
            }
        }
    }
    Ok(code)
}

/// A random UUID (version 4), the format SuperTokens uses for user ids, session handles and code ids.
pub fn uuid_v4() -> Result<String, RandomError> {
    let mut bytes = random_bytes::<16>()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]))
}

/// The wire form of a device id: standard base64 with padding (44 characters for 32 bytes).
pub fn encode_device_id(device_id: &[u8]) -> String {
    STANDARD.encode(device_id)
}

/// Decodes a device id sent by a client (standard base64, padding optional).
pub fn decode_device_id(device_id: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(device_id.trim_end_matches('=')).ok()
}

/// The `preAuthSessionId` (core's `deviceIdHash`): base64url without padding of SHA-256(device id bytes).
pub fn pre_auth_session_id(device_id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(device_id))
}

/// A `preAuthSessionId` as sent by a client, in the stored form: core strips `=` before comparing.
pub fn normalise_pre_auth_session_id(value: &str) -> &str {
    value.trim_end_matches('=')
}

/// The magic link code for a user input code: HMAC-SHA256 keyed with device id ‖ salt, base64url without
/// padding.
pub fn link_code(device_id: &[u8], link_code_salt: &[u8], user_input_code: &str) -> String {
    URL_SAFE_NO_PAD.encode(link_code_bytes(device_id, link_code_salt, user_input_code))
}

fn link_code_bytes(device_id: &[u8], link_code_salt: &[u8], user_input_code: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(device_id.len() + link_code_salt.len());
    key.extend_from_slice(device_id);
    key.extend_from_slice(link_code_salt);
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(&key).unwrap_or_else(|_| unreachable!("hmac takes any key"));
    mac.update(user_input_code.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The stored hash of a link code given in its wire form; `None` when it is not base64url.
pub fn link_code_hash(link_code: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(link_code.trim_end_matches('=')).ok()?;
    Some(hash_link_code_bytes(&bytes))
}

/// The stored hash for a user input code: the hash of the link code it derives.
pub fn link_code_hash_for_user_input_code(device_id: &[u8], link_code_salt: &[u8], user_input_code: &str) -> String {
    hash_link_code_bytes(&link_code_bytes(device_id, link_code_salt, user_input_code))
}

fn hash_link_code_bytes(link_code: &[u8]) -> String {
    URL_SAFE.encode(Sha256::digest(link_code))
}

/// The stored form of a link code salt: standard base64 with padding.
pub fn encode_salt(salt: &[u8]) -> String {
    STANDARD.encode(salt)
}

/// Decodes a stored link code salt.
pub fn decode_salt(salt: &str) -> Option<Vec<u8>> {
    STANDARD.decode(salt).ok()
}

/// A new opaque refresh token: 64 random bytes, base64url without padding.
pub fn refresh_token() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<64>()?))
}

/// The stored form of a refresh token: base64url without padding of its SHA-256.
pub fn refresh_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A new secret salt for a session's refresh tokens: 32 random bytes, base64url without padding.
pub fn refresh_token_salt() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The child of a refresh token: HMAC-SHA512 keyed with the session's secret salt over the parent token,
/// base64url without padding (64 bytes, the shape of [`refresh_token`]). Refreshing with one token always gives
/// the same child, so concurrent refreshes agree without the store keeping anything but hashes; without the
/// salt, which never leaves the store, a holder of the parent cannot compute it.
pub fn child_refresh_token(salt: &str, parent: &str) -> String {
    let mut mac =
        <hmac::Hmac<Sha512>>::new_from_slice(salt.as_bytes()).unwrap_or_else(|_| unreachable!("hmac takes any key"));
    mac.update(parent.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivations_match_the_supertokens_formats() {
        let device_id: Vec<u8> = (0u8..32).collect();
        let salt: Vec<u8> = (32u8..64).collect();

        let wire_device_id = encode_device_id(&device_id);
        assert_eq!(wire_device_id, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert_eq!(wire_device_id.len(), 44);
        assert_eq!(decode_device_id(&wire_device_id).as_deref(), Some(&device_id[..]));

        let pre_auth = pre_auth_session_id(&device_id);
        assert_eq!(pre_auth, "Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLIq8G4WBvXEN0");
        assert_eq!(normalise_pre_auth_session_id("Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLIq8G4WBvXEN0="), pre_auth);

        let link = link_code(&device_id, &salt, "123456");
        assert_eq!(link.len(), 43, "32 bytes, base64url without padding");
        assert!(!link.contains(['=', '+', '/']));

        let hash_from_link = link_code_hash(&link).expect("link code is base64url");
        let hash_from_otp = link_code_hash_for_user_input_code(&device_id, &salt, "123456");
        assert_eq!(hash_from_link, hash_from_otp, "both consume paths resolve to the same linkCodeHash");
        assert_eq!(hash_from_link.len(), 44, "base64url with padding");
        assert!(hash_from_link.ends_with('='));
        assert!(!hash_from_link.contains(['+', '/']));
        assert_ne!(hash_from_otp, link_code_hash_for_user_input_code(&device_id, &salt, "123457"));
    }

    #[test]
    fn derivations_match_known_values() {
        // Reference values computed independently (Python: hashlib/hmac/base64) for the bytes above.
        let device_id: Vec<u8> = (0u8..32).collect();
        let salt: Vec<u8> = (32u8..64).collect();
        assert_eq!(link_code(&device_id, &salt, "123456"), "GG0Ss4OqlRCeHdv7UHj5zeJmudmi8pXGJTZlfjEbW4Q");
        assert_eq!(
            link_code_hash_for_user_input_code(&device_id, &salt, "123456"),
            "nDpoavHqv8vldu3TKssOJvqFyOknHBs1tz-eXK0LVps="
        );
    }

    #[test]
    fn user_input_codes_are_six_digits() {
        for _ in 0..100 {
            let code = user_input_code().expect("randomness");
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4().expect("randomness");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
