//! Rate limits on signing and on sign-in attempts (per user and per address, in memory per
//! instance), and the daily byte quota (per user, from the shared ledger).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::Requester;
use crate::model::{Limit, PortalError, Viewer};
use crate::server::ledger::Ledger;

/// How much each limit allows.
#[derive(Clone, Copy, Debug)]
pub struct LimitSettings {
    /// Signing requests per minute, per user and per address (0: no limit).
    pub sign_rate: u32,
    /// Sign-in attempts per minute, per address and per name (0: no limit).
    pub login_rate: u32,
    /// Bytes per user over any 24 hours (0: no limit).
    pub daily_bytes: u64,
}

const DAY: i64 = 24 * 3600;

pub struct Limiters {
    pub settings: LimitSettings,
    signing: Option<DefaultKeyedRateLimiter<String>>,
    logins: Option<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(n: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl Limiters {
    pub fn new(settings: LimitSettings) -> Self {
        Limiters {
            settings,
            signing: per_minute(settings.sign_rate),
            logins: per_minute(settings.login_rate),
        }
    }

    /// One signing request by `viewer` from `from`. In open mode everyone shares one name,
    /// so only the address counts.
    pub fn signing(&self, viewer: &Viewer, from: &Requester) -> Result<(), PortalError> {
        let mut keys = vec![format!("ip {}", from.ip)];
        if viewer.signed_in {
            keys.push(format!("user {}", viewer.name));
        }
        check(self.signing.as_ref(), &keys, Limit::Signing)
    }

    /// One sign-in attempt for `name` from `from`.
    pub fn login(&self, name: &str, from: &Requester) -> Result<(), PortalError> {
        let keys = [format!("ip {}", from.ip), format!("name {name}")];
        check(self.logins.as_ref(), &keys, Limit::Logins)
    }

    /// Drops the state of keys that are back to full allowance (bounded memory).
    pub fn forget_idle(&self) {
        for limiter in [&self.signing, &self.logins].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn check(
    limiter: Option<&DefaultKeyedRateLimiter<String>>,
    keys: &[String],
    limit: Limit,
) -> Result<(), PortalError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    for key in keys {
        if let Err(not_until) = limiter.check_key(key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(PortalError::Limited {
                limit,
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
    }
    Ok(())
}

/// Bytes `user` has used in the 24 hours before `now`.
pub async fn used_today(ledger: &Ledger, user: &str, now: i64) -> Result<u64, PortalError> {
    ledger
        .bytes_since(user, now - DAY, now)
        .await
        .map_err(ledger_failed)
}

/// Refuses `asked` more bytes when they would take `user` over the daily quota.
pub async fn within_quota(
    ledger: &Ledger,
    settings: &LimitSettings,
    user: &str,
    asked: u64,
    now: i64,
) -> Result<(), PortalError> {
    if settings.daily_bytes == 0 {
        return Ok(());
    }
    let used = used_today(ledger, user, now).await?;
    if used.saturating_add(asked) <= settings.daily_bytes {
        return Ok(());
    }
    // The quota frees up as the oldest counted upload leaves the window.
    let oldest = ledger
        .oldest_since(user, now - DAY)
        .await
        .map_err(ledger_failed)?;
    let retry_after = oldest.map_or(DAY, |t| (t + DAY - now).clamp(1, DAY)) as u64;
    Err(PortalError::Limited {
        limit: Limit::DailyBytes {
            limit: settings.daily_bytes,
            used,
            asked,
        },
        retry_after,
    })
}

pub fn ledger_failed(error: sqlx::Error) -> PortalError {
    tracing::error!(%error, "the ledger failed");
    PortalError::Unavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requester(ip: &str) -> Requester {
        Requester {
            ip: ip.into(),
            user_agent: String::new(),
            session_token: None,
        }
    }

    fn viewer(name: &str, signed_in: bool) -> Viewer {
        Viewer {
            name: name.into(),
            root: "uploads/".into(),
            admin: false,
            signed_in,
        }
    }

    #[test]
    fn signing_is_limited_per_user_and_per_address() {
        let limits = Limiters::new(LimitSettings {
            sign_rate: 2,
            login_rate: 0,
            daily_bytes: 0,
        });
        let alice = viewer("alice", true);
        assert!(limits.signing(&alice, &requester("10.0.0.1")).is_ok());
        assert!(limits.signing(&alice, &requester("10.0.0.2")).is_ok());
        // Alice's third request in the minute is refused, from whichever address.
        let refused = limits.signing(&alice, &requester("10.0.0.3")).unwrap_err();
        match refused {
            PortalError::Limited {
                limit: Limit::Signing,
                retry_after,
            } => assert!((1..=60).contains(&retry_after)),
            other => panic!("{other:?}"),
        }
        // Bob from a fresh address is not held back by Alice.
        assert!(limits
            .signing(&viewer("bob", true), &requester("10.0.0.9"))
            .is_ok());
        // Sign-in attempts are unlimited here (0).
        for _ in 0..100 {
            assert!(limits.login("alice", &requester("10.0.0.1")).is_ok());
        }
    }

    #[test]
    fn sign_in_attempts_are_limited_per_name_too() {
        let limits = Limiters::new(LimitSettings {
            sign_rate: 0,
            login_rate: 3,
            daily_bytes: 0,
        });
        for i in 0..3 {
            assert!(limits
                .login("alice", &requester(&format!("10.0.1.{i}")))
                .is_ok());
        }
        assert!(matches!(
            limits.login("alice", &requester("10.0.1.200")),
            Err(PortalError::Limited {
                limit: Limit::Logins,
                ..
            })
        ));
    }
}
