//! Who may sign in: shared access codes or a users file (name, argon2 password hash, folder
//! root, role). Parsed and checked at start; a bad line stops the portal with its number.

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

use crate::naming::normalize_folder;

/// One account of the users file.
#[derive(Clone, Debug)]
pub struct UserAccount {
    pub name: String,
    /// The argon2 hash in PHC form (`$argon2id$v=19$...`).
    pub password_hash: String,
    /// The folder every upload of this user stays under (ends in `/`).
    pub root: String,
    pub admin: bool,
    /// May create upload requests (withheld by the role `user,no-requests`).
    pub requests: bool,
}

/// One shared access code, and the name its uploads are recorded under.
#[derive(Clone, Debug)]
pub struct AccessCode {
    pub label: String,
    pub code: SecretString,
}

/// A user name: 1–64 of `A-Z a-z 0-9 . _ -`, and not `-` first (safe in CSV and logs).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Reads the users file: one account per line, `name:argon2-hash[:root[:role]]`, the role
/// `user` or `admin`, optionally followed by `,no-requests` (may not create upload requests);
/// blank lines and `#` comments are skipped. A missing root means `<upload root><name>/`; a root must lie
/// inside the upload root.
pub fn parse_users(text: &str, upload_root: &str) -> Result<Vec<UserAccount>, String> {
    let mut accounts: Vec<UserAccount> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |problem: &str| format!("line {}: {problem}", number + 1);
        let mut fields = line.split(':');
        let name = fields.next().unwrap_or_default().trim();
        let hash = fields.next().unwrap_or_default().trim();
        let root = fields.next().unwrap_or_default().trim();
        let role = fields.next().unwrap_or_default().trim();
        if fields.next().is_some() {
            return Err(at("too many fields (name:hash:root:role)"));
        }
        if !valid_name(name) {
            return Err(at(
                "the name must be 1-64 of A-Z a-z 0-9 . _ - (not starting with -)",
            ));
        }
        if accounts.iter().any(|a| a.name == name) {
            return Err(at(&format!("{name} is listed twice")));
        }
        match PasswordHash::new(hash) {
            Ok(parsed) if parsed.algorithm.as_str().starts_with("argon2") => {}
            _ => {
                return Err(at(
                    "the password hash must be an argon2 PHC string (make one with `upload-portal --hash-password`)",
                ))
            }
        }
        let root = if root.is_empty() {
            format!("{upload_root}{name}/")
        } else {
            normalize_folder(root)
                .map_err(|e| at(&format!("the root folder {root:?} is not valid: {e:?}")))?
        };
        if !root.starts_with(upload_root) {
            return Err(at(&format!(
                "the root folder {root} is not inside PORTAL_UPLOAD_ROOT ({upload_root})"
            )));
        }
        let (role, rights) = role.split_once(',').unwrap_or((role, ""));
        let admin = match role.trim() {
            "" | "user" => false,
            "admin" => true,
            other => return Err(at(&format!("unknown role {other:?} (user or admin)"))),
        };
        let requests = match rights.trim() {
            "" | "requests" => true,
            "no-requests" => false,
            other => {
                return Err(at(&format!(
                    "unknown right {other:?} (after the role: requests or no-requests)"
                )))
            }
        };
        accounts.push(UserAccount {
            name: name.to_owned(),
            password_hash: hash.to_owned(),
            root,
            admin,
            requests,
        });
    }
    if accounts.is_empty() {
        return Err("the file lists no account".into());
    }
    Ok(accounts)
}

/// Reads and parses the users file.
pub fn load_users(path: &Path, upload_root: &str) -> Result<Vec<UserAccount>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_users(&text, upload_root)
}

/// Access codes from `PORTAL_ACCESS_CODES`: `label=code` or a bare code (labelled `code-N`).
pub fn parse_codes(values: &[SecretString]) -> Result<Vec<AccessCode>, String> {
    let mut codes: Vec<AccessCode> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let value = value.expose_secret().trim();
        let (label, code) = match value.split_once('=') {
            Some((label, code)) => (label.trim().to_owned(), code.trim()),
            None => (format!("code-{}", i + 1), value),
        };
        if !valid_name(&label) {
            return Err(format!(
                "entry {}: the label must be 1-64 of A-Z a-z 0-9 . _ -",
                i + 1
            ));
        }
        if code.chars().count() < 8 {
            return Err(format!(
                "entry {} ({label}): an access code needs at least 8 characters",
                i + 1
            ));
        }
        if codes.iter().any(|c| c.label == label) {
            return Err(format!("the label {label} is used twice"));
        }
        codes.push(AccessCode {
            label,
            code: SecretString::from(code.to_owned()),
        });
    }
    if codes.is_empty() {
        return Err("no access code given".into());
    }
    Ok(codes)
}

/// An argon2id hash of `password` in PHC form, with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC `hash`. Slow on purpose (argon2): call it off the
/// async threads.
pub fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Equal-time comparison of two secrets (no early exit on the first differing byte).
pub fn same_secret(a: &str, b: &str) -> bool {
    use hmac::Mac;
    // Compare MACs of both under a fixed key: equal-length inputs, constant-time verify.
    let mac = |text: &str| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"access-code-compare")
            .expect("any key length");
        mac.update(text.as_bytes());
        mac
    };
    mac(a).verify(&mac(b).finalize().into_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_file_is_read_and_checked() {
        let hash = hash_password("correct horse").unwrap();
        let text = format!(
            "# accounts\n\nalice:{hash}\nbob:{hash}:uploads/team/bob:admin\ncy:{hash}::user,no-requests\n"
        );
        let accounts = parse_users(&text, "uploads/").unwrap();
        assert_eq!(accounts.len(), 3);
        assert!(accounts[0].requests && accounts[1].requests);
        assert!(!accounts[2].requests && !accounts[2].admin);
        assert_eq!(accounts[0].root, "uploads/alice/");
        assert!(!accounts[0].admin);
        assert_eq!(accounts[1].root, "uploads/team/bob/");
        assert!(accounts[1].admin);
        assert!(password_matches(
            "correct horse",
            &accounts[0].password_hash
        ));
        assert!(!password_matches(
            "correct horse!",
            &accounts[0].password_hash
        ));

        let refused = |text: &str| parse_users(text, "uploads/").unwrap_err();
        assert!(refused(&format!("alice:{hash}:other/")).contains("line 1"));
        assert!(refused(&format!("alice:{hash}:uploads/../x")).contains("not valid"));
        assert!(refused("alice:plaintext").contains("argon2"));
        assert!(refused(&format!("al ice:{hash}")).contains("name"));
        assert!(refused(&format!("a:{hash}\na:{hash}")).contains("line 2"));
        assert!(refused(&format!("a:{hash}::root")).contains("role"));
        assert!(refused(&format!("a:{hash}::user,everything")).contains("right"));
        assert!(refused("# nobody\n").contains("no account"));
    }

    #[test]
    fn access_codes_have_labels_and_a_minimum_length() {
        let codes = parse_codes(&[
            SecretString::from("team-a=open sesame"),
            SecretString::from("longenough"),
        ])
        .unwrap();
        assert_eq!(codes[0].label, "team-a");
        assert_eq!(codes[0].code.expose_secret(), "open sesame");
        assert_eq!(codes[1].label, "code-2");
        assert!(parse_codes(&[SecretString::from("short")]).is_err());
        assert!(parse_codes(&[]).is_err());
        assert!(same_secret("open sesame", "open sesame"));
        assert!(!same_secret("open sesame", "open sesamE"));
        assert!(!same_secret("open sesame", "open"));
    }
}
