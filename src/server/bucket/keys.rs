//! The AccessKeys a bucket accepts: the configured permanent ones, and the temporary ones its
//! local STS endpoint issues (each bound to a security token and an expiry).

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::server::protocol::credentials::{Credentials, TemporaryCredentials};

/// Why a key was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("The OSS Access Key Id you provided does not exist in our records.")]
    Unknown,
    #[error("The security token you provided is invalid.")]
    InvalidToken,
    #[error("The security token you provided has expired.")]
    Expired,
}

pub struct KeyRing {
    permanent: Vec<Credentials>,
    temporary: Mutex<HashMap<String, TemporaryCredentials>>,
}

impl KeyRing {
    pub fn new(permanent: Vec<Credentials>) -> Self {
        KeyRing {
            permanent,
            temporary: Mutex::new(HashMap::new()),
        }
    }

    /// The secret of a permanent key (the only kind that may call STS).
    pub fn permanent_secret(&self, access_key_id: &str) -> Option<&str> {
        self.permanent
            .iter()
            .find(|c| c.access_key_id == access_key_id)
            .map(|c| c.secret.expose_secret())
    }

    /// The secret that signs a request from `access_key_id`, checking the security token:
    /// required and matching for temporary keys, absent for permanent ones.
    pub fn secret(
        &self,
        access_key_id: &str,
        token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<SecretString, KeyError> {
        if let Some(secret) = self.permanent_secret(access_key_id) {
            return match token {
                None => Ok(SecretString::from(secret.to_owned())),
                Some(_) => Err(KeyError::InvalidToken),
            };
        }
        let mut temporary = self.temporary.lock().expect("key ring lock");
        temporary.retain(|_, t| t.expiration > now - time::Duration::hours(1));
        let issued = temporary.get(access_key_id).ok_or(KeyError::Unknown)?;
        let token_matches = token.is_some_and(|t| {
            constant_time_eq(
                t.as_bytes(),
                issued.security_token.expose_secret().as_bytes(),
            )
        });
        if !token_matches {
            return Err(KeyError::InvalidToken);
        }
        if issued.expiration <= now {
            return Err(KeyError::Expired);
        }
        Ok(issued.credentials.secret.clone())
    }

    /// Issues temporary credentials valid for `lifetime`.
    pub fn issue(&self, lifetime: time::Duration, now: OffsetDateTime) -> TemporaryCredentials {
        let random = || uuid::Uuid::new_v4().simple().to_string();
        let issued = TemporaryCredentials {
            credentials: Credentials {
                access_key_id: format!("STS.{}", &random()[..24]),
                secret: SecretString::from(format!("{}{}", random(), &random()[..12])),
            },
            security_token: SecretString::from(format!("CAIS{}{}{}", random(), random(), random())),
            expiration: (now + lifetime)
                .replace_nanosecond(0)
                .expect("zero nanoseconds"),
        };
        self.temporary
            .lock()
            .expect("key ring lock")
            .insert(issued.credentials.access_key_id.clone(), issued.clone());
        issued
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(vec![Credentials {
            access_key_id: "LTAI".into(),
            secret: SecretString::from("s".to_owned()),
        }])
    }

    #[test]
    fn permanent_keys_take_no_token() {
        let ring = ring();
        let now = OffsetDateTime::now_utc();
        assert_eq!(ring.secret("LTAI", None, now).unwrap().expose_secret(), "s");
        assert_eq!(
            ring.secret("LTAI", Some("t"), now).unwrap_err(),
            KeyError::InvalidToken
        );
        assert_eq!(
            ring.secret("nobody", None, now).unwrap_err(),
            KeyError::Unknown
        );
    }

    #[test]
    fn temporary_keys_need_their_token_and_expire() {
        let ring = ring();
        let now = OffsetDateTime::now_utc();
        let issued = ring.issue(time::Duration::minutes(15), now);
        let id = &issued.credentials.access_key_id;
        let token = issued.security_token.expose_secret();
        assert_eq!(
            ring.secret(id, Some(token), now).unwrap().expose_secret(),
            issued.credentials.secret.expose_secret()
        );
        assert_eq!(
            ring.secret(id, None, now).unwrap_err(),
            KeyError::InvalidToken
        );
        assert_eq!(
            ring.secret(id, Some("CAISforged"), now).unwrap_err(),
            KeyError::InvalidToken
        );
        let later = now + time::Duration::minutes(16);
        assert_eq!(
            ring.secret(id, Some(token), later).unwrap_err(),
            KeyError::Expired
        );
    }
}
