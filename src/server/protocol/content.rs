//! How stored objects meet browsers: the type an object gets (the browser's, or else one from
//! its name), which types may show inline (media and plain text, never a document that could
//! run script), and the `Content-Disposition` that names a download.

/// The type a file named `name` is stored with: what the browser `declared`, when that is a
/// MIME type that says something; else one from the name's extension (browsers give none, or
/// `application/octet-stream`, for HEIC on Windows and for many odd types); else
/// `application/octet-stream`. Lower case, without parameters.
pub fn object_type(name: &str, declared: &str) -> String {
    let declared = declared.trim().to_ascii_lowercase();
    let declared = declared.split(';').next().unwrap_or("").trim();
    if is_mime(declared) && declared != "application/octet-stream" {
        return declared.to_owned();
    }
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// `kind/subtype` of RFC 6838 tokens.
fn is_mime(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.len() <= 127
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    matches!(text.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

/// Types a browser shows as media or text, never as a document that could run script
/// (SVG and XML can, and so can HTML: those are downloads).
pub fn shown_inline(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/avif"
            | "image/bmp"
            | "image/x-icon"
            | "image/vnd.microsoft.icon"
            | "video/mp4"
            | "video/webm"
            | "video/ogg"
            | "video/quicktime"
            | "audio/mpeg"
            | "audio/mp4"
            | "audio/ogg"
            | "audio/wav"
            | "audio/webm"
            | "audio/aac"
            | "audio/flac"
            | "text/plain"
    )
}

/// `inline` (for types shown inline) or `attachment`, with the file's name: an ASCII fallback
/// and the exact name in UTF-8 (RFC 6266), so a random key downloads under its picked name.
pub fn disposition_for(file_name: &str, content_type: &str) -> String {
    let kind = if shown_inline(content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = file_name
        .chars()
        .map(|c| match c {
            // Nor `&`: a V1 presigned link's parameters are signed unescaped.
            ' '..='~' if !matches!(c, '"' | '\\' | '%' | '&') => c,
            _ => '_',
        })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(file_name, super::signing::UNRESERVED);
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_get_the_browsers_type_or_one_from_their_name() {
        for (name, declared, stored) in [
            ("a.png", "image/png", "image/png"),
            ("a.jpg", "IMAGE/JPEG; x=y", "image/jpeg"),
            ("a.pdf", "", "application/pdf"),
            // HEIC from an iPhone: no type at all, or octet-stream (Chrome on Windows).
            ("IMG_0001.HEIC", "", "image/heic"),
            ("IMG_0001.heic", "application/octet-stream", "image/heic"),
            ("IMG_0002.heif", " ", "image/heif"),
            ("a.webp", "text/<script>", "image/webp"),
            ("notes", "", "application/octet-stream"),
            (
                "data.unknownext",
                "application/octet-stream",
                "application/octet-stream",
            ),
        ] {
            assert_eq!(object_type(name, declared), stored, "{name} {declared:?}");
        }
        assert!(!is_mime("text"));
        assert!(!is_mime("text/<script>"));
    }

    #[test]
    fn downloads_carry_the_picked_name() {
        assert_eq!(
            disposition_for("photo.jpg", "image/jpeg"),
            "inline; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"
        );
        assert_eq!(
            disposition_for("报告 \"final\".pdf", "application/pdf"),
            "attachment; filename=\"__ _final_.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf"
        );
        assert!(disposition_for("x.svg", "image/svg+xml").starts_with("attachment;"));
    }
}
