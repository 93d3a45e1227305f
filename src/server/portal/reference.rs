//! The key that stamps the multipart references the browser holds: an HMAC over every field,
//! so the portal keeps no state and any instance (or the portal after a restart) accepts them.

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::model::MultipartUpload;

/// The key that stamps upload references, derived from the configured secret (so every
/// instance of the portal, and the portal after a restart, accepts its own references).
#[derive(Clone)]
pub struct ReferenceKey([u8; 32]);

impl ReferenceKey {
    /// Derived from the target's AccessKey secret.
    pub fn new(secret: &secrecy::SecretString) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(b"upload-portal multipart reference v1");
        ReferenceKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, upload: &MultipartUpload) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for field in [
            upload.key.as_str(),
            &upload.upload_id,
            &upload.size.to_string(),
            &upload.part_size.to_string(),
            &upload.content_type,
        ] {
            mac.update(field.as_bytes());
            mac.update(b"\n");
        }
        mac
    }

    pub fn stamp(&self, upload: &mut MultipartUpload) {
        upload.token =
            crate::server::protocol::signing::hex(&self.mac(upload).finalize().into_bytes());
    }

    /// Whether the reference is one this portal made, unchanged (constant time).
    pub fn verify(&self, upload: &MultipartUpload) -> bool {
        match crate::server::protocol::signing::unhex(&upload.token) {
            Some(bytes) => self.mac(upload).verify_slice(&bytes).is_ok(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_stamped_and_any_change_breaks_them() {
        let key = ReferenceKey([7; 32]);
        let mut upload = MultipartUpload {
            key: "uploads/a.bin".into(),
            upload_id: "ID".into(),
            size: 1000,
            part_size: 500,
            content_type: "application/octet-stream".into(),
            token: String::new(),
        };
        key.stamp(&mut upload);
        assert!(key.verify(&upload));
        for change in [
            |u: &mut MultipartUpload| u.key = "uploads/b.bin".into(),
            |u: &mut MultipartUpload| u.upload_id = "OTHER".into(),
            |u: &mut MultipartUpload| u.size = 1001,
            |u: &mut MultipartUpload| u.part_size = 400,
            |u: &mut MultipartUpload| u.content_type = "text/html".into(),
            |u: &mut MultipartUpload| u.token = "00".into(),
        ] {
            let mut changed = upload.clone();
            change(&mut changed);
            assert!(!key.verify(&changed));
        }
        assert!(!ReferenceKey([8; 32]).verify(&upload));
    }
}
