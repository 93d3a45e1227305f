//! Upload-callback signatures: OSS signs its callback request with RSA (PKCS#1 v1.5 over MD5)
//! and names its public key by URL. The embedded bucket signs, the portal verifies, here.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use md5::Md5;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// `urldecode(path) + query + "\n" + body`, where `query` is the raw query with its `?`, or
/// empty.
pub fn string_to_sign(raw_path: &str, raw_query: Option<&str>, body: &[u8]) -> Vec<u8> {
    let path = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    let mut out = path.as_bytes().to_vec();
    if let Some(query) = raw_query.filter(|q| !q.is_empty()) {
        out.push(b'?');
        out.extend_from_slice(query.as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

/// The `authorization` header value: base64 of the RSA-MD5 signature.
pub fn sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    let signer = rsa::pkcs1v15::SigningKey::<Md5>::new(key.clone());
    BASE64.encode(signer.sign(message).to_bytes())
}

pub fn verify(key: &RsaPublicKey, message: &[u8], authorization: &str) -> bool {
    let Ok(bytes) = BASE64.decode(authorization.trim()) else {
        return false;
    };
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<Md5>::new(key.clone())
        .verify(message, &signature)
        .is_ok()
}

/// A public key in either PEM form OSS keys come in (`PUBLIC KEY` or `RSA PUBLIC KEY`).
pub fn parse_public_key(pem: &str) -> Option<RsaPublicKey> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .ok()
}

/// A private key in PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`) PEM.
pub fn parse_private_key(pem: &str) -> Option<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs1_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem.trim()))
        .ok()
}

/// The `PUBLIC KEY` PEM a key URL serves.
pub fn public_key_pem(key: &RsaPrivateKey) -> String {
    key.to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("an RSA public key always encodes")
}
