//! Knobs for importing, shared by every format parser and the batch runner.

use serde::{Deserialize, Serialize};

/// Default upper bound on one file's size: big enough for manuals, small enough that one
/// upload cannot exhaust a small server's memory while it is parsed.
pub const DEFAULT_MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// How files are imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportOptions {
    /// Files larger than this are refused before any parsing ([`crate::ImportError::TooLarge`]).
    pub max_file_bytes: usize,
    /// Drop HTML page chrome (nav, header, footer, sidebars, cookie banners). On by default;
    /// turn off for pages whose content really lives in such elements.
    pub html_strip_boilerplate: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            html_strip_boilerplate: true,
        }
    }
}
