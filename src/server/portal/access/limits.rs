//! Rate limits on signing (per user and per address) and on sign-in attempts (per address and
//! name, per address, and a ceiling for the whole portal that slows rather than refuses), in
//! memory per instance; and the daily byte quota (per user, from the shared ledger).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::Requester;
use crate::error::{Limit, PortalError};
use crate::model::Viewer;
use crate::server::portal::ledger::Ledger;

/// How much each limit allows.
#[derive(Clone, Copy, Debug)]
pub struct LimitSettings {
    /// Signing requests per minute, per user and per address (0: no limit).
    pub sign_rate: u32,
    /// Sign-in attempts per minute for one name from one address (0: no limit); an address
    /// gets five times that for all names, the whole portal thirty times.
    pub login_rate: u32,
    /// Bytes per user over any 24 hours (0: no limit).
    pub daily_bytes: u64,
    /// Unfinished tickets per user (0: no limit).
    pub max_pending: u64,
}

const DAY: i64 = 24 * 3600;

pub struct Limiters {
    pub settings: LimitSettings,
    signing: Option<DefaultKeyedRateLimiter<String>>,
    /// Sign-ins by (address, name): a name tried from elsewhere is not locked out here.
    login_pairs: Option<DefaultKeyedRateLimiter<String>>,
    /// Sign-ins by address, whatever the name (one address spraying names).
    login_addresses: Option<DefaultKeyedRateLimiter<String>>,
    /// Sign-ins across the portal: past it, attempts wait their turn.
    login_ceiling: Option<DefaultDirectRateLimiter>,
    /// Password hashes checked at once (argon2 is made to be slow).
    password_checks: tokio::sync::Semaphore,
}

fn per_minute(n: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// How long a sign-in waits for its turn under the portal-wide ceiling before it is refused.
const LOGIN_QUEUE: Duration = Duration::from_secs(10);

impl Limiters {
    pub fn new(settings: LimitSettings) -> Self {
        let rate = settings.login_rate;
        Limiters {
            settings,
            signing: per_minute(settings.sign_rate),
            login_pairs: per_minute(rate),
            login_addresses: per_minute(rate.saturating_mul(5)),
            login_ceiling: NonZeroU32::new(rate.saturating_mul(30))
                .map(|n| RateLimiter::direct(Quota::per_minute(n))),
            password_checks: tokio::sync::Semaphore::new(2),
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

    /// One sign-in attempt for `name` (empty for an access code) from `from`. Limits count
    /// per address and per (address, name), so nobody elsewhere can lock a user out; past
    /// the portal-wide ceiling, attempts wait their turn (up to ten seconds).
    pub async fn login(&self, name: &str, from: &Requester) -> Result<(), PortalError> {
        check(
            self.login_pairs.as_ref(),
            &[format!("{}\n{name}", from.ip)],
            Limit::Logins,
        )?;
        check(
            self.login_addresses.as_ref(),
            std::slice::from_ref(&from.ip),
            Limit::Logins,
        )?;
        if let Some(ceiling) = &self.login_ceiling {
            if tokio::time::timeout(LOGIN_QUEUE, ceiling.until_ready())
                .await
                .is_err()
            {
                return Err(PortalError::Limited {
                    limit: Limit::Logins,
                    retry_after: LOGIN_QUEUE.as_secs(),
                });
            }
        }
        Ok(())
    }

    /// Runs argon2 `work` (hashing or checking a password) off the async threads, at most two
    /// at a time across the portal: argon2 is made to be slow.
    pub async fn password_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PortalError> {
        let _turn = self
            .password_checks
            .acquire()
            .await
            .map_err(|_| PortalError::Internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| PortalError::Internal)
    }

    /// Drops the state of keys that are back to full allowance (bounded memory).
    pub fn forget_idle(&self) {
        for limiter in [&self.signing, &self.login_pairs, &self.login_addresses]
            .into_iter()
            .flatten()
        {
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
        .bytes_since(user, now - DAY)
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
            max_pending: 0,
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
    }

    #[tokio::test]
    async fn nobody_elsewhere_can_lock_a_name_out() {
        let limits = Limiters::new(LimitSettings {
            sign_rate: 0,
            login_rate: 3,
            daily_bytes: 0,
            max_pending: 0,
        });
        let attacker = requester("10.0.1.66");
        for _ in 0..3 {
            assert!(limits.login("alice", &attacker).await.is_ok());
        }
        assert!(matches!(
            limits.login("alice", &attacker).await,
            Err(PortalError::Limited {
                limit: Limit::Logins,
                ..
            })
        ));
        // Alice, from her own address, still gets in; so does any code from another address.
        assert!(limits.login("alice", &requester("10.0.1.7")).await.is_ok());
        assert!(limits.login("", &requester("10.0.1.8")).await.is_ok());
        // One address trying many names is held back too (five times the rate).
        let sprayer = requester("10.0.1.99");
        let refused = futures_util::future::join_all((0..16).map(|i| {
            let name = format!("user{i}");
            let limits = &limits;
            let sprayer = &sprayer;
            async move { limits.login(&name, sprayer).await.is_err() }
        }))
        .await;
        assert_eq!(refused.iter().filter(|r| **r).count(), 1);
    }

    #[tokio::test]
    async fn unlimited_when_zero() {
        let limits = Limiters::new(LimitSettings {
            sign_rate: 0,
            login_rate: 0,
            daily_bytes: 0,
            max_pending: 0,
        });
        for _ in 0..100 {
            assert!(limits.login("alice", &requester("10.0.0.1")).await.is_ok());
        }
    }
}
