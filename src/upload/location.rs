//! Where a photo was taken, taken out: the GPS data of a JPEG's EXIF, removed in place without
//! re-encoding (no length, offset or pixel changes). Pure: the page runs it on a photo's head.

/// Bytes of a JPEG the page reads to find its EXIF: an APP0 and an APP1 segment (64 KiB at
/// most each), and more that some cameras put before them.
pub const HEAD: u32 = 256 * 1024;

/// The EXIF tag of IFD0 that points at the GPS IFD.
const GPS_POINTER: u16 = 0x8825;

/// Removes the location from a JPEG whose first bytes are `head`: in each EXIF segment, every
/// entry of the GPS IFD and every value they point at is zeroed, and IFD0's pointer to that IFD
/// removed (the entries after it move up; no offset changes). Nothing outside the segments
/// changes: the pixels are the same bytes. True when a location was there and is gone.
pub fn strip_location(head: &mut [u8]) -> bool {
    if !head.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut stripped = false;
    let mut at = 2;
    while at + 4 <= head.len() && head[at] == 0xFF {
        let marker = head[at + 1];
        // Start of scan, or end of image: no metadata after.
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let length = usize::from(u16::from_be_bytes([head[at + 2], head[at + 3]]));
        let end = at + 2 + length;
        if length < 2 || end > head.len() {
            break;
        }
        let segment = &mut head[at + 4..end];
        if marker == 0xE1 && segment.starts_with(b"Exif\0\0") {
            stripped |= strip_tiff(&mut segment[6..]).is_some();
        }
        at = end;
    }
    stripped
}

/// The TIFF structure of an EXIF segment: reads and writes its numbers in its byte order.
struct Tiff<'a> {
    bytes: &'a mut [u8],
    big_endian: bool,
}

impl Tiff<'_> {
    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<usize> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        let n = if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(n).ok()
    }

    fn set_u16(&mut self, at: usize, n: u16) {
        let b = if self.big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        };
        self.bytes[at..at + 2].copy_from_slice(&b);
    }

    /// Zeroes `length` bytes from `at`, within the segment.
    fn zero(&mut self, at: usize, length: usize) -> Option<()> {
        self.bytes.get_mut(at..at.checked_add(length)?)?.fill(0);
        Some(())
    }
}

/// Removes the GPS IFD of one EXIF segment's TIFF data; `Some` when there was one.
fn strip_tiff(bytes: &mut [u8]) -> Option<()> {
    let big_endian = match bytes.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let mut tiff = Tiff { bytes, big_endian };
    let ifd0 = tiff.u32_at(4)?;
    let count = usize::from(tiff.u16_at(ifd0)?);
    // The entry table and the next IFD's offset after it.
    let table_end = ifd0.checked_add(2 + 12 * count + 4)?;
    if table_end > tiff.bytes.len() {
        return None;
    }
    let entry = (0..count)
        .map(|i| ifd0 + 2 + 12 * i)
        .find(|&entry| tiff.u16_at(entry) == Some(GPS_POINTER))?;
    let gps = tiff.u32_at(entry + 8)?;
    clear_ifd(&mut tiff, gps)?;
    tiff.bytes.copy_within(entry + 12..table_end, entry);
    tiff.zero(table_end - 12, 12)?;
    tiff.set_u16(ifd0, (count - 1) as u16);
    Some(())
}

/// Zeroes the IFD at `at`: each entry's value where it lies outside the entry, then the
/// entries, leaving an IFD of none. Every place is checked before any is zeroed: a broken IFD
/// is left as it is.
fn clear_ifd(tiff: &mut Tiff<'_>, at: usize) -> Option<()> {
    let count = usize::from(tiff.u16_at(at)?);
    let mut places = vec![(at + 2, 12 * count)];
    for i in 0..count {
        let entry = at + 2 + 12 * i;
        let size = type_size(tiff.u16_at(entry + 2)?).checked_mul(tiff.u32_at(entry + 4)?)?;
        if size > 4 {
            places.push((tiff.u32_at(entry + 8)?, size));
        }
    }
    if places.iter().any(|&(from, size)| {
        from.checked_add(size)
            .is_none_or(|end| end > tiff.bytes.len())
    }) {
        return None;
    }
    for (from, size) in places {
        tiff.zero(from, size)?;
    }
    tiff.set_u16(at, 0);
    Some(())
}

/// Bytes of one value of a TIFF field type (unknown types: one byte).
fn type_size(kind: u16) -> usize {
    match kind {
        3 | 8 => 2,
        4 | 9 | 11 => 4,
        5 | 10 | 12 => 8,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG head as a phone writes one: SOI, an EXIF APP1 (IFD0 with Make, the GPS pointer and
    /// Orientation; a GPS IFD with latitude and longitude, their references and the altitude),
    /// then a quantisation table and the start of the scan, in either byte order.
    pub fn photo_with_location(big_endian: bool) -> Vec<u8> {
        let u16b = |n: u16| {
            if big_endian {
                n.to_be_bytes()
            } else {
                n.to_le_bytes()
            }
        };
        let u32b = |n: u32| {
            if big_endian {
                n.to_be_bytes()
            } else {
                n.to_le_bytes()
            }
        };
        let mut tiff = Vec::new();
        tiff.extend_from_slice(if big_endian { b"MM" } else { b"II" });
        tiff.extend_from_slice(&u16b(42));
        tiff.extend_from_slice(&u32b(8));
        // IFD0 at 8: 3 entries → 2 + 36 + 4 = 42 bytes; its values from 50.
        let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
            tiff.extend_from_slice(&u16b(tag));
            tiff.extend_from_slice(&u16b(kind));
            tiff.extend_from_slice(&u32b(count));
            tiff.extend_from_slice(&value);
        };
        tiff.extend_from_slice(&u16b(3));
        entry(&mut tiff, 0x010F, 2, 6, u32b(50)); // Make, "Apple\0" at 50
        entry(&mut tiff, GPS_POINTER, 4, 1, u32b(56));
        let mut orientation = [0u8; 4];
        orientation[..2].copy_from_slice(&u16b(6));
        entry(&mut tiff, 0x0112, 3, 1, orientation);
        tiff.extend_from_slice(&u32b(0));
        tiff.extend_from_slice(b"Apple\0");
        // GPS IFD at 56: 5 entries → 2 + 60 + 4 = 66 bytes; values from 122.
        assert_eq!(tiff.len(), 56);
        tiff.extend_from_slice(&u16b(5));
        entry(&mut tiff, 1, 2, 2, *b"N\0\0\0"); // GPSLatitudeRef
        entry(&mut tiff, 2, 5, 3, u32b(122)); // GPSLatitude, 3 rationals
        entry(&mut tiff, 3, 2, 2, *b"E\0\0\0"); // GPSLongitudeRef
        entry(&mut tiff, 4, 5, 3, u32b(146)); // GPSLongitude
        entry(&mut tiff, 6, 5, 1, u32b(170)); // GPSAltitude
        tiff.extend_from_slice(&u32b(0));
        assert_eq!(tiff.len(), 122);
        for (numerator, denominator) in [
            (30, 1),
            (15, 1),
            (4321, 100),
            (120, 1),
            (9, 1),
            (876, 100),
            (42, 1),
        ] {
            tiff.extend_from_slice(&u32b(numerator));
            tiff.extend_from_slice(&u32b(denominator));
        }
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
        jpeg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(&app1);
        jpeg.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x05, 1, 2, 3]);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x04, 7, 7, 0x12, 0x34, 0xFF, 0xD9]);
        jpeg
    }

    /// The EXIF fields as an independent reader (kamadak-exif) sees them: (IFD, tag) pairs.
    fn fields(jpeg: &[u8]) -> Vec<(exif::In, exif::Tag)> {
        let read = exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(jpeg))
            .expect("readable EXIF");
        read.fields().map(|f| (f.ifd_num, f.tag)).collect()
    }

    #[test]
    fn the_location_goes_and_nothing_else_moves() {
        for big_endian in [false, true] {
            let original = photo_with_location(big_endian);
            let before = fields(&original);
            assert!(before.contains(&(exif::In::PRIMARY, exif::Tag::GPSLatitude)));
            assert!(before.contains(&(exif::In::PRIMARY, exif::Tag::GPSLongitude)));
            let mut photo = original.clone();
            assert!(strip_location(&mut photo));
            assert_eq!(photo.len(), original.len());
            let after = fields(&photo);
            assert!(
                after
                    .iter()
                    .all(|(_, tag)| tag.context() != exif::Context::Gps),
                "{after:?}"
            );
            assert!(after.contains(&(exif::In::PRIMARY, exif::Tag::Make)));
            assert!(after.contains(&(exif::In::PRIMARY, exif::Tag::Orientation)));
            // The coordinates' bytes are gone from the file, not only unlinked.
            let degrees = if big_endian {
                4321u32.to_be_bytes()
            } else {
                4321u32.to_le_bytes()
            };
            assert!(original.windows(4).any(|w| w == degrees));
            assert!(!photo.windows(4).any(|w| w == degrees));
            // Everything after the EXIF segment (tables, the scan: the pixels) is unchanged.
            let app1_end = 4 + usize::from(u16::from_be_bytes([original[4], original[5]]));
            assert_eq!(photo[app1_end..], original[app1_end..]);
            // Once gone, there is nothing more to remove.
            assert!(!strip_location(&mut photo));
        }
    }

    #[test]
    fn other_files_and_broken_ones_are_left_alone() {
        let mut png = b"\x89PNG\r\n\x1a\n....".to_vec();
        assert!(!strip_location(&mut png));
        let photo = photo_with_location(false);
        // Cut anywhere: never a panic, never a change past the cut.
        for cut in 0..photo.len() {
            let mut head = photo[..cut].to_vec();
            strip_location(&mut head);
        }
        // Offsets pointing outside the segment change nothing: the GPS IFD's own (in IFD0's
        // pointer: the TIFF data starts at 12, IFD0 at 8 in it, the pointer is its 2nd entry),
        // or one of its values' (the latitude's, the GPS IFD's 2nd entry).
        for at in [12 + 8 + 2 + 12 + 8, 12 + 56 + 2 + 12 + 8] {
            let mut bad = photo.clone();
            bad[at] = 0xF0;
            bad[at + 1] = 0x0F;
            let copy = bad.clone();
            assert!(!strip_location(&mut bad));
            assert_eq!(bad, copy);
        }
    }
}
