//! Folder normalising and object naming: pure functions with no I/O. The server calls them to
//! decide every object key; nothing the browser sends is used as a key without passing here.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::i18n::Locale;

/// OSS limits an object key to 1023 bytes.
pub const MAX_KEY_BYTES: usize = 1023;
/// A folder may take at most half of a key.
pub const MAX_FOLDER_BYTES: usize = 512;
/// The longest file or folder name most file systems accept.
pub const MAX_NAME_BYTES: usize = 255;
/// Longest extension kept by random names (`.jpeg`, `.webm`, `.gltf`...).
const MAX_EXTENSION_CHARS: usize = 16;

/// Why a destination folder was refused. Its words complete "The destination folder ...".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FolderError {
    DotSegment,
    Backslash,
    Absolute,
    ControlCharacter,
    /// `$` would let the storage expand `${filename}` inside a key the portal signed.
    Dollar,
    SegmentTooLong,
    TooLong,
    OutsideRoot {
        root: String,
    },
}

impl FolderError {
    /// The reason, in words that complete "The destination folder ...".
    pub fn describe(&self, locale: Locale) -> String {
        use crate::i18n::td_string;
        match self {
            FolderError::DotSegment => td_string!(locale, folder_dot_segment).to_owned(),
            FolderError::Backslash => td_string!(locale, folder_backslash).to_owned(),
            FolderError::Absolute => td_string!(locale, folder_absolute).to_owned(),
            FolderError::ControlCharacter => td_string!(locale, folder_control).to_owned(),
            FolderError::Dollar => td_string!(locale, folder_dollar).to_owned(),
            FolderError::SegmentTooLong => {
                td_string!(locale, folder_segment_too_long, max = MAX_NAME_BYTES)
            }
            FolderError::TooLong => td_string!(locale, folder_too_long, max = MAX_FOLDER_BYTES),
            FolderError::OutsideRoot { root } => {
                td_string!(locale, folder_outside_root, root = root)
            }
        }
    }
}

impl std::fmt::Display for FolderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(Locale::en))
    }
}

/// Characters that render as nothing or reorder text: they let a name look like another one.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn is_forbidden_control(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Normalises a folder the user typed: NFC, trimmed, `//` collapsed, a trailing `/` added.
/// The empty folder stays empty (the bucket's top level).
pub fn normalize_folder(input: &str) -> Result<String, FolderError> {
    let folder: String = input.trim().nfc().collect();
    if folder.chars().any(is_forbidden_control) {
        return Err(FolderError::ControlCharacter);
    }
    if folder.contains('\\') {
        return Err(FolderError::Backslash);
    }
    if folder.contains('$') {
        return Err(FolderError::Dollar);
    }
    if folder.starts_with('/') {
        return Err(FolderError::Absolute);
    }
    let mut normalized = String::with_capacity(folder.len() + 1);
    for segment in folder.split('/').map(str::trim).filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return Err(FolderError::DotSegment);
        }
        if segment.len() > MAX_NAME_BYTES {
            return Err(FolderError::SegmentTooLong);
        }
        normalized.push_str(segment);
        normalized.push('/');
    }
    if normalized.len() > MAX_FOLDER_BYTES {
        return Err(FolderError::TooLong);
    }
    Ok(normalized)
}

/// Normalises `input` and checks that it lies under `root` (itself a normalised folder).
pub fn folder_under_root(input: &str, root: &str) -> Result<String, FolderError> {
    let folder = normalize_folder(input)?;
    if folder.starts_with(root) {
        Ok(folder)
    } else {
        Err(FolderError::OutsideRoot {
            root: root.to_owned(),
        })
    }
}

/// The folder a user typed, inside their `root`: typed after the root (`photos/2026/` or
/// `/photos/2026/` is `<root>photos/2026/`, as the uploader's field shows it) or in full
/// (`uploads/alice/photos/`). Normalised; it never leaves the root (a path outside it is taken
/// as one under it).
pub fn folder_in_root(typed: &str, root: &str) -> Result<String, FolderError> {
    let folder = normalize_folder(typed.trim().trim_start_matches('/'))?;
    if folder.starts_with(root) {
        return Ok(folder);
    }
    folder_under_root(&format!("{root}{folder}"), root)
}

/// The last path component of a client-side name (browsers on some systems send full paths).
pub fn basename(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The lower-cased extension of a file name, if it has a plain one: `Photo.JPG` → `jpg`.
/// Dotfiles (`.bashrc`), names ending in a dot and exotic extensions have none.
pub fn extension(name: &str) -> Option<String> {
    let base = basename(name);
    let (stem, ext) = base.rsplit_once('.')?;
    let stem_is_real = !stem.trim_start_matches('.').is_empty();
    let plain = !ext.is_empty()
        && ext.chars().count() <= MAX_EXTENSION_CHARS
        && ext.chars().all(|c| c.is_ascii_alphanumeric());
    (stem_is_real && plain).then(|| ext.to_ascii_lowercase())
}

/// A random object name: the caller's unguessable `id` plus the file's extension.
pub fn random_name(id: &str, client_name: &str) -> String {
    match extension(client_name) {
        Some(ext) => format!("{id}.{ext}"),
        None => id.to_owned(),
    }
}

/// Characters replaced in original names: path separators, characters Windows refuses, and
/// `$`, which the OSS policy language treats as special.
fn is_unsafe_in_name(c: char) -> bool {
    is_forbidden_control(c)
        || matches!(
            c,
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '$'
        )
}

/// The sub-folders a file was picked in, below the destination folder: the page names a file
/// of a folder picked or dropped whole by its path inside it (`trip/day 1/a.jpg`), and those
/// folders are kept (`trip/day 1/`), each made safe like a file's name (`a:b` → `a_b`). A plain
/// name has none (`""`). `.` and `..` are refused: no folder walk gives them.
pub fn relative_folder(client_name: &str) -> Result<String, FolderError> {
    let Some((folders, _)) = client_name.rsplit_once('/') else {
        return Ok(String::new());
    };
    let mut relative = String::new();
    for segment in folders.split('/').filter(|s| !s.trim().is_empty()) {
        if matches!(segment.trim(), "." | "..") {
            return Err(FolderError::DotSegment);
        }
        relative.push_str(&safe_name(segment));
        relative.push('/');
    }
    Ok(relative)
}

/// The file's own name made safe to use as the last part of a key: basename, then
/// [`safe_name`].
pub fn original_name(client_name: &str) -> String {
    safe_name(basename(client_name))
}

/// A name made safe as one part of a key: Unicode NFC, unsafe characters replaced by `_`,
/// surrounding spaces and dots trimmed, at most 255 bytes (the extension kept when
/// shortening). A name with nothing left becomes `file`.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .nfc()
        .map(|c| if is_unsafe_in_name(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    // Keep a leading dot of a dotfile (`.env`), which trimming dropped.
    let name = if cleaned.trim_start().starts_with('.') && !trimmed.is_empty() {
        format!(".{trimmed}")
    } else {
        trimmed.to_owned()
    };
    if name.is_empty() {
        return "file".to_owned();
    }
    let (stem, ext) = split_extension(&name);
    fit_name(stem, "", ext)
}

/// `name` with a counter before its extension, for picking a free name: `a.jpg` → `a-2.jpg`.
pub fn numbered_name(name: &str, n: u32) -> String {
    suffixed_name(name, &n.to_string())
}

/// `name` with `-suffix` before its extension, still at most 255 bytes.
pub fn suffixed_name(name: &str, suffix: &str) -> String {
    let (stem, ext) = split_extension(name);
    fit_name(stem, &format!("-{suffix}"), ext)
}

/// Splits `photo.tar.gz` into (`photo.tar`, `.gz`); a dotfile or extensionless name has no
/// extension. Extensions longer than 32 bytes count as part of the stem.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 32 && dot + 1 < name.len() => {
            (&name[..dot], &name[dot..])
        }
        _ => (name, ""),
    }
}

/// Joins stem + suffix + extension, shortening the stem (at a character boundary) so that the
/// result fits in `MAX_NAME_BYTES`.
fn fit_name(stem: &str, suffix: &str, ext: &str) -> String {
    let budget = MAX_NAME_BYTES.saturating_sub(suffix.len() + ext.len());
    let mut end = stem.len().min(budget);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}{ext}", &stem[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_normalised() {
        assert_eq!(normalize_folder("uploads").unwrap(), "uploads/");
        assert_eq!(
            normalize_folder("  uploads/2024 ").unwrap(),
            "uploads/2024/"
        );
        assert_eq!(normalize_folder("a//b///c/").unwrap(), "a/b/c/");
        assert_eq!(normalize_folder("").unwrap(), "");
        assert_eq!(normalize_folder("   ").unwrap(), "");
        assert_eq!(normalize_folder("照片/旅行").unwrap(), "照片/旅行/");
        // NFD input (e + combining acute) is stored as NFC.
        assert_eq!(normalize_folder("cafe\u{301}").unwrap(), "caf\u{e9}/");
    }

    #[test]
    fn folders_that_escape_or_hide_are_refused() {
        assert_eq!(normalize_folder("../x"), Err(FolderError::DotSegment));
        assert_eq!(normalize_folder("../etc"), Err(FolderError::DotSegment));
        assert_eq!(normalize_folder("a/../../b"), Err(FolderError::DotSegment));
        assert_eq!(normalize_folder("a/./b"), Err(FolderError::DotSegment));
        assert_eq!(normalize_folder("/abs"), Err(FolderError::Absolute));
        assert_eq!(normalize_folder("a\\b"), Err(FolderError::Backslash));
        // The storage would expand it inside the signed key.
        assert_eq!(
            normalize_folder("uploads/${filename}/"),
            Err(FolderError::Dollar)
        );
        assert_eq!(
            normalize_folder("a\u{0}b"),
            Err(FolderError::ControlCharacter)
        );
        assert_eq!(normalize_folder("a\nb"), Err(FolderError::ControlCharacter));
        assert_eq!(
            normalize_folder("a\u{202E}gpj"),
            Err(FolderError::ControlCharacter)
        );
        assert_eq!(
            normalize_folder(&"x".repeat(256)),
            Err(FolderError::SegmentTooLong)
        );
        assert!(normalize_folder(&"x".repeat(255)).is_ok());
        let long = vec!["abcdefgh"; 60].join("/");
        assert_eq!(normalize_folder(&long), Err(FolderError::TooLong));
    }

    #[test]
    fn folders_stay_under_the_root() {
        assert_eq!(
            folder_under_root("uploads/a", "uploads/").unwrap(),
            "uploads/a/"
        );
        assert_eq!(
            folder_under_root("uploads", "uploads/").unwrap(),
            "uploads/"
        );
        assert_eq!(
            folder_under_root("uploadsX/a", "uploads/"),
            Err(FolderError::OutsideRoot {
                root: "uploads/".into()
            })
        );
        assert_eq!(
            folder_under_root("", "uploads/"),
            Err(FolderError::OutsideRoot {
                root: "uploads/".into()
            })
        );
        assert_eq!(folder_under_root("", "").unwrap(), "");
        assert_eq!(folder_under_root("x/y", "").unwrap(), "x/y/");
        let message = FolderError::OutsideRoot {
            root: "uploads/".into(),
        }
        .to_string();
        assert_eq!(message, "must be inside \u{201c}uploads/\u{201d}");
    }

    #[test]
    fn typed_folders_are_read_inside_the_root() {
        let root = "uploads/alice/";
        for (typed, folder) in [
            ("", "uploads/alice/"),
            ("photos/2026", "uploads/alice/photos/2026/"),
            (" photos//2026/ ", "uploads/alice/photos/2026/"),
            ("uploads/alice/photos/", "uploads/alice/photos/"),
            ("uploads/alice", "uploads/alice/"),
            // Someone else's folder, typed: taken as a folder under one's own root.
            ("uploads/bob/", "uploads/alice/uploads/bob/"),
            ("/etc", "uploads/alice/etc/"),
            ("//photos", "uploads/alice/photos/"),
        ] {
            assert_eq!(folder_in_root(typed, root).unwrap(), folder, "{typed:?}");
        }
        assert_eq!(folder_in_root("x", "").unwrap(), "x/");
        assert_eq!(folder_in_root("", "").unwrap(), "");
        for bad in ["../bob", "/../x", "a\\b", "photos/./x", "a$b"] {
            assert!(folder_in_root(bad, root).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extensions_are_plain_and_lowercase() {
        assert_eq!(extension("Photo.JPG").as_deref(), Some("jpg"));
        assert_eq!(extension("archive.tar.gz").as_deref(), Some("gz"));
        assert_eq!(extension("C:\\Users\\a\\doc.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension("README"), None);
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("..hidden"), None);
        assert_eq!(extension("trailing."), None);
        assert_eq!(extension("weird.j p g"), None);
        assert_eq!(extension("照片.jpeg").as_deref(), Some("jpeg"));
        assert_eq!(extension("a.abcdefghijklmnopq"), None);
    }

    #[test]
    fn random_names_keep_the_extension() {
        let id = "3f9c0e1a2b3c4d5e6f708192a3b4c5e1";
        assert_eq!(random_name(id, "IMG_0001.HEIC"), format!("{id}.heic"));
        assert_eq!(random_name(id, "Makefile"), id);
        assert_eq!(random_name(id, ".env"), id);
    }

    #[test]
    fn original_names_are_made_safe() {
        assert_eq!(original_name("photo.jpg"), "photo.jpg");
        assert_eq!(original_name("/home/me/photo.jpg"), "photo.jpg");
        assert_eq!(original_name("C:\\fakepath\\photo.jpg"), "photo.jpg");
        assert_eq!(original_name("../../etc/passwd"), "passwd");
        assert_eq!(original_name("旅行 照片.png"), "旅行 照片.png");
        assert_eq!(
            original_name("a:b*c?d\"e<f>g|h$.txt"),
            "a_b_c_d_e_f_g_h_.txt"
        );
        assert_eq!(original_name("tab\there.txt"), "tab_here.txt");
        assert_eq!(original_name("evil\u{202E}gpj.exe"), "evil_gpj.exe");
        assert_eq!(original_name("cafe\u{301}.txt"), "caf\u{e9}.txt");
        assert_eq!(original_name(".env"), ".env");
        assert_eq!(original_name("  spaced.txt  "), "spaced.txt");
        assert_eq!(original_name("name."), "name");
        assert_eq!(original_name(".."), "file");
        assert_eq!(original_name(""), "file");
        assert_eq!(original_name("noextension"), "noextension");
    }

    #[test]
    fn a_files_path_keeps_its_folders_made_safe() {
        assert_eq!(relative_folder("a.jpg").unwrap(), "");
        assert_eq!(relative_folder("trip/a.jpg").unwrap(), "trip/");
        assert_eq!(relative_folder("trip/day 1/a.jpg").unwrap(), "trip/day 1/");
        // Empty segments go, as in a typed folder; unsafe characters become `_`.
        assert_eq!(relative_folder("/a//b/c.txt").unwrap(), "a/b/");
        assert_eq!(
            relative_folder("x:y/$HOME/t\\u/z.txt").unwrap(),
            "x_y/_HOME/t_u/"
        );
        assert_eq!(relative_folder(".git/config").unwrap(), ".git/");
        assert_eq!(relative_folder("cafe\u{301}/a").unwrap(), "caf\u{e9}/");
        assert_eq!(
            relative_folder(&format!("{}/a", "d".repeat(300))).unwrap(),
            format!("{}/", "d".repeat(255))
        );
        for bad in ["../a.jpg", "a/../../b.jpg", "a/./b", " .. /x"] {
            assert_eq!(
                relative_folder(bad),
                Err(FolderError::DotSegment),
                "{bad:?}"
            );
        }
        // The file's own name is what follows the last `/`.
        assert_eq!(original_name("trip/day 1/a.jpg"), "a.jpg");
    }

    #[test]
    fn long_names_are_shortened_keeping_the_extension() {
        let long = format!("{}.jpg", "长".repeat(100)); // 300 bytes of stem
        let name = original_name(&long);
        assert!(name.len() <= MAX_NAME_BYTES, "{} bytes", name.len());
        assert!(name.ends_with(".jpg"));
        assert!(name.starts_with("长长"));
        let ascii = original_name(&"a".repeat(300));
        assert_eq!(ascii.len(), 255);
    }

    #[test]
    fn numbered_names_go_before_the_extension() {
        assert_eq!(numbered_name("image.jpg", 1), "image-1.jpg");
        assert_eq!(numbered_name("archive.tar.gz", 2), "archive.tar-2.gz");
        assert_eq!(numbered_name("README", 3), "README-3");
        assert_eq!(numbered_name(".env", 1), ".env-1");
        let long = numbered_name(&format!("{}.png", "b".repeat(251)), 12);
        assert_eq!(long.len(), 255);
        assert!(long.ends_with("-12.png"));
    }
}
