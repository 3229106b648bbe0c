//! Photos the service keeps (a patrol's findings, their rectification, feedback): JPEG, PNG or
//! WebP, known by their magic bytes, not by what the client says they are.

/// Largest photo accepted, in bytes (5 MiB): a phone's photo, not a raw camera file.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// The image types accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

/// Every accepted type's media type, as the request's `Content-Type` names it.
pub const MEDIA_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

impl ImageType {
    /// The type a `Content-Type` names (`image/jpeg`, `image/png`, `image/webp`), if accepted.
    pub fn from_media_type(essence: &str) -> Option<Self> {
        match essence.to_ascii_lowercase().as_str() {
            "image/jpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The type the bytes' signature says: JPEG's SOI marker `FF D8 FF`, PNG's eight-byte
    /// signature, WebP's `RIFF` container of form `WEBP`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_magic_bytes() {
        assert_eq!(
            ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(ImageType::Jpeg)
        );
        assert_eq!(
            ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageType::Png)
        );
        assert_eq!(
            ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        for other in [
            &b""[..],
            b"GIF89a",
            b"<svg xmlns=",
            b"\x89PNG",
            b"RIFF\x24\0\0\0WAVE",
        ] {
            assert_eq!(ImageType::sniff(other), None, "{other:?}");
        }
        assert_eq!(
            ImageType::from_media_type("IMAGE/PNG"),
            Some(ImageType::Png)
        );
        assert_eq!(ImageType::from_media_type("image/gif"), None);
    }
}
