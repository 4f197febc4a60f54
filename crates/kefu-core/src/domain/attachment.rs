//! Uploaded files: the kinds Kefu recognises by their content, and the metadata kept for each
//! upload. The bytes live on disk outside the web root (see kefu-server's `attachments`); the
//! database holds this record, and a message refers to it by id.

use serde::{Deserialize, Serialize};

use super::{AuthorKind, text_enum};
use crate::{AttachmentId, ConversationId, MessageId, SiteId, Timestamp};

text_enum!(
    /// A file type recognised from the file's bytes (never from its name or the client's
    /// Content-Type). Sites allow a subset; `svg` and `html` are known so an admin can turn
    /// them on deliberately, but they can carry scripts and are off by default.
    FileKind {
        Png => "png",
        Jpeg => "jpeg",
        Gif => "gif",
        Webp => "webp",
        Pdf => "pdf",
        Txt => "txt",
        Csv => "csv",
        Docx => "docx",
        Xlsx => "xlsx",
        Svg => "svg",
        Html => "html",
    }
);

impl FileKind {
    /// What a site allows when its admin has not chosen.
    pub const DEFAULT_ALLOWED: &'static [FileKind] = &[
        FileKind::Png,
        FileKind::Jpeg,
        FileKind::Gif,
        FileKind::Webp,
        FileKind::Pdf,
        FileKind::Txt,
        FileKind::Csv,
        FileKind::Docx,
        FileKind::Xlsx,
    ];

    /// The Content-Type it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Pdf => "application/pdf",
            FileKind::Txt => "text/plain",
            FileKind::Csv => "text/csv",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Svg => "image/svg+xml",
            FileKind::Html => "text/html",
        }
    }

    /// Raster images, which clients may show inline. SVG is not among them: it is a document
    /// that can run script, so it is only ever downloaded.
    pub fn is_inline_image(self) -> bool {
        matches!(
            self,
            FileKind::Png | FileKind::Jpeg | FileKind::Gif | FileKind::Webp
        )
    }
}

/// One upload as stored: who sent which file to which conversation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AttachmentInfo {
    pub id: AttachmentId,
    pub site_id: SiteId,
    pub conversation_id: ConversationId,
    /// The message carrying it; none until it is sent.
    pub message_id: Option<MessageId>,
    /// `visitor` or `agent`.
    pub uploader_kind: AuthorKind,
    /// The visitor's or agent's id.
    pub uploader_id: String,
    /// The client's file name, sanitised (see [`sanitize_file_name`]).
    pub name: String,
    pub kind: FileKind,
    /// Detected from the bytes; equals `kind.mime()`.
    pub content_type: String,
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub created_at: Timestamp,
}

impl AttachmentInfo {
    /// Where clients download it.
    pub fn url(&self) -> String {
        format!("/api/v1/attachments/{}", self.id)
    }

    /// The reference a message carries.
    pub fn to_message_attachment(&self) -> super::Attachment {
        super::Attachment {
            id: Some(self.id),
            url: self.url(),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
        }
    }
}

/// Longest kept file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// Makes a client's file name safe to store and to echo in a `Content-Disposition` header:
/// the last path component only, no control or quoting characters, no leading dots, at most
/// [`MAX_FILE_NAME_CHARS`] characters with the extension kept. Empty results become `file`.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "file".to_owned();
    }
    if cleaned.chars().count() <= MAX_FILE_NAME_CHARS {
        return cleaned.to_owned();
    }
    // Keep a short extension so the downloaded file still opens with the right program.
    let ext = cleaned
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 10);
    match ext {
        Some(ext) => {
            let keep = MAX_FILE_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = cleaned.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => cleaned.chars().take(MAX_FILE_NAME_CHARS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_controls_and_leading_dots() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\a.png"), "a.png");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(
            sanitize_file_name("a\"b\r\nc;.txt"),
            "a_b__c_.txt".to_owned()
        );
        assert_eq!(sanitize_file_name("   "), "file");
        assert_eq!(sanitize_file_name("发票 2026.pdf"), "发票 2026.pdf");
    }

    #[test]
    fn long_file_names_keep_their_extension() {
        let name = format!("{}.xlsx", "长".repeat(300));
        let clean = sanitize_file_name(&name);
        assert_eq!(clean.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(clean.ends_with(".xlsx"));
    }

    #[test]
    fn svg_is_never_an_inline_image() {
        assert!(FileKind::Png.is_inline_image());
        assert!(!FileKind::Svg.is_inline_image());
        assert!(!FileKind::DEFAULT_ALLOWED.contains(&FileKind::Svg));
        assert!(!FileKind::DEFAULT_ALLOWED.contains(&FileKind::Html));
    }
}
