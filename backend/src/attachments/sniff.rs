//! What a file really is, from its first bytes (never from its name).

/// The allowed types: images, PDF, plain text, office documents, zip archives.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
];

/// The detected MIME type if it is allowed; `None` for anything else (executables,
/// scripts with a binary header, unknown binary data).
pub fn allowed_type(bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        return ALLOWED.iter().copied().find(|t| *t == kind.mime_type());
    }
    // No magic number: accept valid UTF-8 text without NULs (logs, CSV, notes).
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.contains('\0')).then_some("text/plain; charset=utf-8")
}

/// The client's file name reduced to a harmless display name: no directories, no control
/// characters, at most 120 characters. It is never used as a path.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_content_not_names() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0];
        assert_eq!(allowed_type(&png), Some("image/png"));
        let elf = [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(allowed_type(&elf), None);
        let pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert_eq!(allowed_type(pe), None);
        assert_eq!(
            allowed_type(b"hello, world\n"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(allowed_type(&[0xff, 0xfe, 0x00, 0x01]), None);
    }

    #[test]
    fn filenames_never_escape() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Windows\\evil.exe"), "evil.exe");
        assert_eq!(clean_filename("..."), "file");
        assert_eq!(clean_filename("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_filename("report \"final\".pdf"), "report final.pdf");
    }
}
