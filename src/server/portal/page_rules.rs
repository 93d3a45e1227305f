//! What the uploader is told: the upload rules it shows and pre-fills for a viewer (the server
//! enforces them again on signing), their limits, the kind of browser asking, and the folders
//! they used lately.

use time::OffsetDateTime;

use super::access::{limits, Requester};
use super::state::AppState;
use crate::error::PortalError;
use crate::model::{ClientKind, Limits, UploaderSettings, Viewer};

/// The upload rules as the page shows and pre-fills them for `viewer` (the server enforces
/// them again on signing), their limits, and the kind of browser asking.
pub async fn uploader_settings(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
) -> Result<UploaderSettings, PortalError> {
    let now = OffsetDateTime::now_utc();
    let rules = &state.rules;
    let settings = &state.limits.settings;
    // Without a daily limit there is nothing to show, and nothing to add up.
    let used = if settings.daily_bytes == 0 {
        0
    } else {
        limits::used_today(&state.ledger, &viewer.name, now.unix_timestamp()).await?
    };
    let default_folder = if rules.default_folder.starts_with(&viewer.root) {
        rules.default_folder.clone()
    } else {
        viewer.root.clone()
    };
    let client = ClientKind::from_user_agent(&from.user_agent);
    Ok(UploaderSettings {
        default_folder,
        upload_root: viewer.root.clone(),
        max_file_size: rules.max_file_size,
        max_files: rules.max_files,
        parallel_uploads: rules.parallel_uploads,
        upload_retries: rules.upload_retries,
        strip_location: rules.strip_location,
        photo_smaller: rules.photos.starts_smaller,
        photo_choice: rules.photos.choice,
        photo_edge: rules.photos.max_edge,
        photo_quality: rules.photos.quality_percent.into(),
        multipart_threshold: rules.multipart_threshold,
        allowed_types: rules.allowed_types.clone(),
        client,
        limits: Limits {
            signs_per_minute: settings.sign_rate,
            daily_bytes: settings.daily_bytes,
            used_bytes: used,
        },
        checksum: state.target.checksum(),
        sender: None,
        // A phone has no other phone to continue on.
        phone: client == ClientKind::Desktop && state.access.may_create_requests(viewer),
    })
}

/// Uploads looked at for the folders used lately, and folders offered at most.
const LATEST_UPLOADS: u32 = 200;
const RECENT_FOLDERS: usize = 8;

/// The folders `viewer` uploaded to lately, as the folder field takes them (after their root),
/// newest first.
pub async fn recent_folders(state: &AppState, viewer: &Viewer) -> Result<Vec<String>, PortalError> {
    let uploads = state
        .ledger
        .latest_uploads(&viewer.name, LATEST_UPLOADS)
        .await
        .map_err(limits::ledger_failed)?;
    Ok(folders_of(&uploads, &viewer.root, RECENT_FOLDERS))
}

/// The folders `uploads` (keys and file names as picked) went to under `root`, after it, each
/// once in the order first met, `max` at most (the root itself is the empty folder, and is left
/// out: the field starts empty). A file of a folder picked whole counts for the folder it was
/// sent to, not for the sub-folders it brought (`trip/day 1/` of `trip/day 1/b.jpg`).
fn folders_of(uploads: &[(String, String)], root: &str, max: usize) -> Vec<String> {
    let mut folders: Vec<String> = Vec::new();
    for (key, file_name) in uploads {
        let folder = key.rsplit_once('/').map_or("", |(folder, _)| folder);
        let folder = match file_name.rsplit_once('/') {
            Some((brought, _)) => folder
                .strip_suffix(brought)
                .and_then(|sent_to| sent_to.strip_suffix('/'))
                .unwrap_or(folder),
            None => folder,
        };
        let Some(after) = format!("{folder}/").strip_prefix(root).map(str::to_owned) else {
            continue;
        };
        if !after.is_empty() && !folders.contains(&after) {
            folders.push(after);
            if folders.len() == max {
                break;
            }
        }
    }
    folders
}

#[cfg(test)]
mod tests {
    use super::folders_of;

    fn uploads(keys: &[(&str, &str)]) -> Vec<(String, String)> {
        keys.iter()
            .map(|(key, name)| (key.to_string(), name.to_string()))
            .collect()
    }

    #[test]
    fn recent_folders_are_the_latest_first_each_once() {
        let keys = uploads(&[
            ("uploads/alice/trip/2026/a.jpg", "a.jpg"),
            ("uploads/alice/b.txt", "b.txt"),
            ("uploads/alice/notes/c.txt", "c.txt"),
            ("uploads/alice/trip/2026/d.jpg", ""),
            ("elsewhere/e.txt", "e.txt"),
            ("uploads/alice/x/f.txt", "f.txt"),
        ]);
        assert_eq!(
            folders_of(&keys, "uploads/alice/", 8),
            ["trip/2026/", "notes/", "x/"]
        );
        assert_eq!(
            folders_of(&keys, "uploads/alice/", 2),
            ["trip/2026/", "notes/"]
        );
        assert_eq!(folders_of(&keys, "", 1), ["uploads/alice/trip/2026/"]);
    }

    #[test]
    fn a_folder_picked_whole_counts_for_where_it_was_sent() {
        let keys = uploads(&[
            ("uploads/alice/albums/trip/day 1/b.jpg", "trip/day 1/b.jpg"),
            ("uploads/alice/albums/trip/3f9c0e1a.txt", "trip/a.txt"),
            // Made safe on the way: `x:y` is `x_y` in both.
            ("uploads/alice/albums/trip/x_y/d.txt", "trip/x_y/d.txt"),
            ("uploads/alice/trip/e.txt", "trip/e.txt"),
        ]);
        assert_eq!(folders_of(&keys, "uploads/alice/", 8), ["albums/"]);
    }
}
