//! The keys of upload requests: each link's token (derived from the request's id, so it need
//! not be stored) and each sender's pass, both stamped with one HMAC key; pure.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The key behind request links and senders' passes, derived from the portal's secret: any
/// instance (or the portal after a restart) recognises them, and the links need not be stored.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

/// Base64url characters of a link token or a pass's stamp: 132 bits.
const STAMP_CHARS: usize = 22;

impl LinkKey {
    pub fn new(secret: &secrecy::SecretString) -> Self {
        use secrecy::ExposeSecret;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(b"upload-portal request links v1");
        LinkKey(mac.finalize().into_bytes().into())
    }

    fn stamp(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        let mut text = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        text.truncate(STAMP_CHARS);
        text
    }

    /// The key that signs request `id`'s webhook bodies (shown to its creator).
    pub fn webhook_key(&self, id: &str) -> String {
        self.stamp(&["webhook", id])
    }

    /// The token of request `id`'s link (`/r/<token>`): 132 unguessable bits.
    pub fn link_token(&self, id: &str) -> String {
        self.stamp(&["link", id])
    }

    /// A sender's pass: the request, their name and note, stamped. The page sends it back on
    /// every upload call (in the path, `/r/<pass>/api/...`).
    pub fn pass(&self, request_id: &str, name: &str, note: &str) -> String {
        format!(
            "{request_id}.{}.{}.{}",
            URL_SAFE_NO_PAD.encode(name),
            URL_SAFE_NO_PAD.encode(note),
            self.stamp(&["pass", request_id, name, note])
        )
    }

    /// The request id, name and note of a pass this portal stamped, unchanged.
    pub fn read_pass(&self, pass: &str) -> Option<(String, String, String)> {
        let mut parts = pass.split('.');
        let (id, name, note, stamp) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !is_request_id(id) {
            return None;
        }
        let text = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
        };
        let (name, note) = (text(name)?, text(note)?);
        let expected = self.stamp(&["pass", id, &name, &note]);
        let same: bool = subtle_eq(expected.as_bytes(), stamp.as_bytes());
        same.then(|| (id.to_owned(), name, note))
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A request id: 32 lowercase hex characters (a UUIDv7, simple form).
pub fn is_request_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A link token's shape: what `link_token` makes.
pub fn is_link_token(token: &str) -> bool {
    token.len() == STAMP_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// What the ledger stores of a link token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    const ID: &str = "0193a1b2c3d4e5f60718293a4b5c6d7e";

    #[test]
    fn passes_carry_who_sends_and_any_change_breaks_them() {
        let key = LinkKey::new(&SecretString::from("secret"));
        let id = ID.to_owned();
        let pass = key.pass(&id, "Li Lei", "第一批\nsecond line");
        assert_eq!(
            key.read_pass(&pass),
            Some((id.clone(), "Li Lei".into(), "第一批\nsecond line".into()))
        );
        assert!(pass
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        let forged = key.pass(&id, "Han Meimei", "");
        let (head, _) = forged.rsplit_once('.').unwrap();
        let (_, stamp) = pass.rsplit_once('.').unwrap();
        assert_eq!(key.read_pass(&format!("{head}.{stamp}")), None);
        assert_eq!(key.read_pass("x.y.z.w"), None);
        let other = LinkKey::new(&SecretString::from("other"));
        assert_eq!(other.read_pass(&pass), None);
        // Link tokens: 132 bits, per request, per portal secret.
        let token = key.link_token(&id);
        assert!(is_link_token(&token));
        assert_ne!(token, key.link_token("0193a1b2c3d4e5f60718293a4b5c6d7f"));
        assert_ne!(token, other.link_token(&id));
        assert_eq!(token_hash(&token).len(), 64);
    }
}
