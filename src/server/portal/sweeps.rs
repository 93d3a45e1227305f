//! The portal's background loops: expired tickets checked against the storage, abandoned
//! multipart uploads aborted, sessions and idle rate-limit state forgotten, and the storage
//! diagnosis once at start. Every instance may run them: each step is safe to repeat.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinHandle;

use super::completion::{self, Found, Ticket};
use super::ledger::{CompletedBy, ExpiredTicket, TicketKind};
use super::state::AppState;
use crate::error::PortalError;

/// Entries one pass of the ticket sweep looks at (the next pass takes the rest).
const TICKETS_PER_PASS: u32 = 500;
/// Tickets in a row the storage cannot answer for that end a pass of the sweep.
const FAILURES_THAT_END_A_PASS: u32 = 3;

/// Starts every loop; the handles end them.
pub fn start(state: &AppState) -> Vec<JoinHandle<()>> {
    let mut loops = vec![
        tokio::spawn(check_expired_tickets_every_minute(state.clone())),
        tokio::spawn(sweep_sessions_and_limits(state.clone())),
        tokio::spawn(diagnose_at_start(state.clone())),
    ];
    if state.rules.multipart_threshold > 0 {
        loops.push(tokio::spawn(sweep_abandoned_uploads(state.clone())));
    }
    loops
}

async fn check_expired_tickets_every_minute(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        match check_expired_tickets(&state, OffsetDateTime::now_utc()).await {
            Ok(counts) if counts == SweepCounts::default() => {}
            Ok(counts) => tracing::info!(?counts, "expired tickets checked"),
            Err(error) => tracing::warn!(%error, "could not check expired tickets"),
        }
    }
}

/// What one pass of the ticket sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepCounts {
    /// Uploads nobody confirmed, completed now.
    pub completed: u32,
    /// Tickets that stored nothing, forgotten.
    pub forgotten: u32,
    /// Objects that broke their tickets, deleted.
    pub removed: u32,
}

/// Looks at the storage for every ticket that expired before `now` and was not checked yet: an
/// upload nobody confirmed is completed (it counts against the quota like any other), a
/// ticket that stored nothing is forgotten (the ledger keeps uploads, not page views), an
/// object that broke its ticket is deleted, and a plain form keeps one file (any other its
/// ticket stored is deleted).
pub async fn check_expired_tickets(
    state: &AppState,
    now: OffsetDateTime,
) -> Result<SweepCounts, PortalError> {
    let mut counts = SweepCounts::default();
    let expired = state
        .ledger
        .expired_unchecked(now.unix_timestamp(), TICKETS_PER_PASS)
        .await
        .map_err(super::access::limits::ledger_failed)?;
    // A ticket the storage cannot answer for now is left for the next pass, and the rest go
    // on; several in a row say the storage itself is down, and the pass ends.
    let mut failed_in_a_row = 0;
    for entry in expired {
        let checked = match entry.kind {
            TicketKind::Form => check_plain_form(state, &entry, &mut counts).await,
            TicketKind::File | TicketKind::Multipart => check_one(state, &entry, &mut counts).await,
        };
        if let Err(error) = checked {
            failed_in_a_row += 1;
            if failed_in_a_row == FAILURES_THAT_END_A_PASS {
                return Err(error);
            }
            tracing::warn!(key = %entry.key, %error, "an expired ticket could not be checked now");
            continue;
        }
        failed_in_a_row = 0;
        if !state
            .ledger
            .forget_unused(&entry.id)
            .await
            .map_err(super::access::limits::ledger_failed)?
        {
            state
                .ledger
                .mark_checked(&entry.id, now.unix_timestamp())
                .await
                .map_err(super::access::limits::ledger_failed)?;
        } else {
            counts.forgotten += 1;
        }
    }
    Ok(counts)
}

/// A file or multipart ticket: its one key.
async fn check_one(
    state: &AppState,
    entry: &ExpiredTicket,
    counts: &mut SweepCounts,
) -> Result<(), PortalError> {
    if entry.completed {
        return Ok(());
    }
    let ticket = Ticket {
        id: &entry.id,
        kind: entry.kind,
        declared_size: entry.declared_size,
    };
    match completion::complete_from_storage(state, &ticket, &entry.key, None, CompletedBy::Sweep)
        .await?
    {
        Found::Completed(_) => counts.completed += 1,
        Found::Removed => counts.removed += 1,
        Found::Missing | Found::Different => {}
    }
    Ok(())
}

/// A plain form: everything under its key prefix. The file it completed with stays (or the
/// oldest that fits, when nobody confirmed); every other object is deleted.
async fn check_plain_form(
    state: &AppState,
    entry: &ExpiredTicket,
    counts: &mut SweepCounts,
) -> Result<(), PortalError> {
    let prefix = match super::completion::form_prefix(&entry.key) {
        Some(prefix) => prefix,
        None => entry.key.as_str(),
    };
    let mut objects = state.target.list_objects(prefix).await.map_err(|error| {
        tracing::warn!(%error, prefix, "could not list a plain form's objects");
        PortalError::Unavailable
    })?;
    objects.sort_by(|a, b| (a.last_modified, &a.key).cmp(&(b.last_modified, &b.key)));
    let mut kept = entry.completed.then(|| entry.key.clone());
    for object in objects {
        if kept.as_deref() == Some(object.key.as_str()) {
            continue;
        }
        if kept.is_none() {
            let ticket = Ticket {
                id: &entry.id,
                kind: TicketKind::Form,
                declared_size: entry.declared_size,
            };
            match completion::complete_from_storage(
                state,
                &ticket,
                &object.key,
                None,
                CompletedBy::Sweep,
            )
            .await?
            {
                Found::Completed(_) => {
                    counts.completed += 1;
                    kept = Some(object.key);
                }
                Found::Removed => counts.removed += 1,
                Found::Missing | Found::Different => {}
            }
            continue;
        }
        // One ticket, one file: a second file under the same ticket is not an upload the
        // portal signed.
        tracing::warn!(key = %object.key, user = %entry.user, "a plain form stored a second file: deleted");
        completion::remove(state, &object.key).await?;
        counts.removed += 1;
    }
    Ok(())
}

/// Aborts abandoned multipart uploads at start and then every hour (or a quarter of the
/// expiry, when shorter).
async fn sweep_abandoned_uploads(state: AppState) {
    let expiry = state.rules.multipart_expiry;
    let mut every = tokio::time::interval((expiry / 4).min(Duration::from_secs(3600)));
    loop {
        every.tick().await;
        let now = OffsetDateTime::now_utc();
        match super::multipart::abort_abandoned(
            &state.target,
            &state.rules.upload_root,
            expiry,
            now,
        )
        .await
        {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "abandoned multipart uploads aborted"),
            Err(error) => tracing::warn!(%error, "could not sweep abandoned multipart uploads"),
        }
    }
}

/// Forgets expired sessions and idle rate-limit state, every ten minutes.
async fn sweep_sessions_and_limits(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        state.limits.forget_idle();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if let Err(error) = state.ledger.sweep_sessions(now).await {
            tracing::warn!(%error, "could not sweep expired sessions");
        }
    }
}

/// The storage self-diagnosis, once at start, into the log (the admin page runs it again).
async fn diagnose_at_start(state: AppState) {
    // The embedded bucket starts alongside: give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for finding in super::diagnosis::run(&state).await {
        if finding.ok {
            tracing::info!(check = %finding.check, "{}", finding.detail);
        } else {
            tracing::warn!(check = %finding.check, "{}", finding.detail);
        }
    }
}
