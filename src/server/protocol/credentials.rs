//! AccessKeys as OSS knows them: permanent pairs, STS temporary ones, and the rules STS puts on
//! a role, a session name and a duration (the portal's config and the local STS check the same).

use secrecy::SecretString;
use time::OffsetDateTime;

/// An AccessKey pair. The secret never prints (`SecretString`'s Debug is redacted).
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: SecretString,
}

/// Temporary credentials as STS issues them.
#[derive(Clone, Debug)]
pub struct TemporaryCredentials {
    pub credentials: Credentials,
    pub security_token: SecretString,
    pub expiration: OffsetDateTime,
}

/// `acs:ram::<account id>:role/<role name>`.
pub fn is_role_arn(text: &str) -> bool {
    text.strip_prefix("acs:ram::")
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(account, role)| {
            !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
        })
}

/// A RoleSessionName: 2–64 of `A-Z a-z 0-9 . @ _ -`.
pub fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".@_-".contains(c))
}

/// The durations AssumeRole grants, in seconds: 15 minutes to 12 hours.
pub const SESSION_DURATIONS: std::ops::RangeInclusive<u32> = 900..=43200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_session_names_follow_sts() {
        assert!(is_role_arn("acs:ram::1234567890123456:role/uploader"));
        assert!(!is_role_arn("acs:ram::abc:role/uploader"));
        assert!(!is_role_arn("acs:ram::123:role/"));
        assert!(is_session_name("upload-portal"));
        assert!(!is_session_name("a"));
        assert!(!is_session_name("has space"));
        assert!(SESSION_DURATIONS.contains(&900) && !SESSION_DURATIONS.contains(&43201));
    }
}
