//! Sign-in sessions in the ledger's database: created at sign-in, looked up by the SHA-256 of
//! the cookie's token (the token itself is never stored), ended, and swept when they run out.

use sqlx::Row;

use super::writer::Param;
use super::Ledger;

/// A signed-in session, as stored (the token itself is never stored, only its SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: String,
    pub root: String,
    pub admin: bool,
    pub expires_at: i64,
}

impl Ledger {
    /// Starts a session; `token_hash` is the SHA-256 of the cookie's token, hex.
    pub async fn create_session(
        &self,
        token_hash: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        self.writes
            .execute(
                "INSERT INTO sessions (token_hash, user_name, root, is_admin, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    Param::Text(token_hash.to_owned()),
                    Param::Text(session.user.clone()),
                    Param::Text(session.root.clone()),
                    Param::Int(i64::from(session.admin)),
                    Param::Int(now),
                    Param::Int(session.expires_at),
                ],
            )
            .await?;
        Ok(())
    }

    /// The live session for a token hash.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT user_name, root, is_admin, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionRecord {
                user: r.try_get("user_name")?,
                root: r.try_get("root")?,
                admin: r.try_get::<i64, _>("is_admin")? != 0,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<(), sqlx::Error> {
        self.writes
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                vec![Param::Text(token_hash.to_owned())],
            )
            .await?;
        Ok(())
    }

    /// Forgets sessions that ran out; returns how many.
    pub async fn sweep_sessions(&self, now: i64) -> Result<u64, sqlx::Error> {
        self.writes
            .execute(
                "DELETE FROM sessions WHERE expires_at <= $1",
                vec![Param::Int(now)],
            )
            .await
    }
}
