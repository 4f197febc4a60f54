//! Sitemaps (sitemaps.org): the page addresses a site publishes, or, in a sitemap index, the
//! addresses of further sitemaps. Read leniently with the HTML parser already in use (a
//! sitemap's `<loc>` elements survive it intact and entities are decoded), so a slightly
//! malformed sitemap still yields its addresses. Gzipped sitemaps are not read.

use scraper::{Html, Selector};

use crate::decode::decode_text;
use crate::error::ImportError;

/// Most addresses taken from one sitemap (the protocol's own limit is 50,000).
pub const MAX_SITEMAP_URLS: usize = 50_000;

/// What a sitemap lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Page addresses (`<urlset><url><loc>`), in document order, without repeats.
    pub pages: Vec<String>,
    /// Further sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<String>,
}

/// Reads a sitemap or sitemap index. Only http(s) addresses are kept.
pub fn parse_sitemap(bytes: &[u8]) -> Result<Sitemap, ImportError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(ImportError::Unsupported {
            reason: "gzipped sitemaps are not read; list the uncompressed sitemap".to_owned(),
        });
    }
    let (text, _) = decode_text(bytes);
    let document = Html::parse_document(&text);
    let collect = |selector: &str| -> Vec<String> {
        let Ok(selector) = Selector::parse(selector) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for loc in document.select(&selector) {
            let url = loc.text().collect::<String>().trim().to_owned();
            let is_web = url.starts_with("https://") || url.starts_with("http://");
            if is_web && !out.contains(&url) && out.len() < MAX_SITEMAP_URLS {
                out.push(url);
            }
        }
        out
    };
    let sitemap = Sitemap {
        pages: collect("url > loc"),
        sitemaps: collect("sitemap > loc"),
    };
    if sitemap.pages.is_empty() && sitemap.sitemaps.is_empty() {
        return Err(ImportError::Empty {
            detail: Some("no <loc> addresses in the sitemap".to_owned()),
        });
    }
    Ok(sitemap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pages_and_nested_sitemaps() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://help.example/a?x=1&amp;y=2</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc> https://help.example/b </loc></url>
  <url><loc>https://help.example/b</loc></url>
  <url><loc>ftp://help.example/c</loc></url>
</urlset>"#;
        let map = parse_sitemap(xml).unwrap();
        assert_eq!(
            map.pages,
            ["https://help.example/a?x=1&y=2", "https://help.example/b"]
        );
        assert!(map.sitemaps.is_empty());

        let index = br#"<sitemapindex><sitemap><loc>https://help.example/s1.xml</loc></sitemap></sitemapindex>"#;
        let map = parse_sitemap(index).unwrap();
        assert_eq!(map.sitemaps, ["https://help.example/s1.xml"]);
        assert!(map.pages.is_empty());
    }

    #[test]
    fn refuses_empty_and_gzipped() {
        assert!(parse_sitemap(b"<html><p>hi</p></html>").is_err());
        assert!(parse_sitemap(&[0x1f, 0x8b, 8, 0]).is_err());
    }
}
