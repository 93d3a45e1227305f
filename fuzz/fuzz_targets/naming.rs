//! The folder normaliser and the object namers: whatever the browser sends, a folder is either
//! refused or safe (relative, no `.`/`..` segments, no backslash or control character, ends in
//! `/`, normalising it again changes nothing), and a name never carries a path separator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upload_portal::naming::{
    folder_under_root, normalize_folder, numbered_name, original_name, random_name,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(folder) = normalize_folder(text) {
        assert!(!folder.starts_with('/'), "{folder:?}");
        assert!(folder.is_empty() || folder.ends_with('/'), "{folder:?}");
        assert!(!folder.contains('\\') && !folder.chars().any(char::is_control), "{folder:?}");
        assert!(
            !folder.split('/').any(|s| s == "." || s == ".."),
            "{folder:?}"
        );
        assert_eq!(normalize_folder(&folder).as_deref(), Ok(folder.as_str()));
    }
    if let Ok(folder) = folder_under_root(text, "uploads/") {
        assert!(folder.starts_with("uploads/"), "{folder:?}");
    }
    let name = original_name(text);
    assert!(!name.is_empty() && name.len() <= 255, "{name:?}");
    assert!(!name.contains(['/', '\\', '$']), "{name:?}");
    assert!(name != "." && name != "..", "{name:?}");
    let numbered = numbered_name(&name, 7);
    assert!(numbered.len() <= 255 && !numbered.contains('/'), "{numbered:?}");
    let random = random_name("0123456789abcdef0123456789abcdef", text);
    assert!(random.starts_with("0123456789abcdef0123456789abcdef") && !random.contains('/'));
});
