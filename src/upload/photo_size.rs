//! Which photos "Photo size: Smaller" redraws, and the size it draws them at; which are JPEGs
//! (for taking their location out). Pure; builds on both sides.

/// A JPEG, by the browser's type or else by the name's extension.
pub fn is_jpeg(name: &str, content_type: &str) -> bool {
    let extension = super::row::extension_of(name);
    content_type == "image/jpeg"
        || extension.eq_ignore_ascii_case("jpg")
        || extension.eq_ignore_ascii_case("jpeg")
}

/// The type a photo keeps when it is redrawn smaller: JPEG, PNG and WebP photos only (by the
/// browser's type, or else by the name's extension); `None` for anything else, HEIC included.
pub fn shrinkable(name: &str, content_type: &str) -> Option<&'static str> {
    let extension = super::row::extension_of(name);
    let named = |extension_of_type: &str| extension.eq_ignore_ascii_case(extension_of_type);
    let said = |kind: &str| content_type == kind;
    let untyped = content_type.is_empty() || said("application/octet-stream");
    if is_jpeg(name, content_type) && (untyped || said("image/jpeg")) {
        Some("image/jpeg")
    } else if said("image/png") || untyped && named("png") {
        Some("image/png")
    } else if said("image/webp") || untyped && named("webp") {
        Some("image/webp")
    } else {
        None
    }
}

/// The size to draw a `width` × `height` photo at so that its longest edge is `edge` pixels,
/// the same shape; `None` when it is no larger than that already.
pub fn fitted(width: u32, height: u32, edge: u32) -> Option<(u32, u32)> {
    let longest = width.max(height);
    if longest <= edge {
        return None;
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(edge) + u64::from(longest) / 2) / u64::from(longest);
        (scaled as u32).max(1)
    };
    Some((scale(width), scale(height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_png_and_webp_photos_may_be_made_smaller() {
        assert_eq!(shrinkable("a.jpg", "image/jpeg"), Some("image/jpeg"));
        assert_eq!(shrinkable("IMG_1.JPEG", ""), Some("image/jpeg"));
        assert_eq!(shrinkable("scan", "image/jpeg"), Some("image/jpeg"));
        assert_eq!(shrinkable("a.png", "image/png"), Some("image/png"));
        assert_eq!(
            shrinkable("a.PNG", "application/octet-stream"),
            Some("image/png")
        );
        assert_eq!(shrinkable("a.webp", ""), Some("image/webp"));
        // What the browser says wins over the name; HEIC, GIF and the rest stay as they are.
        assert_eq!(shrinkable("a.jpg", "image/png"), Some("image/png"));
        assert_eq!(shrinkable("a.png", "image/gif"), None);
        assert_eq!(shrinkable("IMG_2.HEIC", ""), None);
        assert_eq!(shrinkable("a.gif", "image/gif"), None);
        assert_eq!(shrinkable("report.pdf", "application/pdf"), None);
        assert_eq!(shrinkable("notes", ""), None);
    }

    #[test]
    fn the_longest_edge_is_brought_to_the_limit_keeping_the_shape() {
        assert_eq!(fitted(4032, 3024, 2560), Some((2560, 1920)));
        assert_eq!(fitted(3024, 4032, 2560), Some((1920, 2560)));
        assert_eq!(fitted(5000, 5000, 2560), Some((2560, 2560)));
        // A panorama keeps at least one pixel of height.
        assert_eq!(fitted(100_000, 10, 2560), Some((2560, 1)));
        assert_eq!(fitted(2560, 1000, 2560), None);
        assert_eq!(fitted(800, 600, 2560), None);
    }
}
