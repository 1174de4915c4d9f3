//! XSL stylesheets that turn a feed or sitemap into a readable page when a
//! person opens it in a browser. Feed readers and crawlers ignore them.
//!
//! One stylesheet per kind and language (labels in Vietnamese or English,
//! other languages fall back to English), served by herald beside the
//! feeds. Each RSS, Atom and sitemap file names its stylesheet in an
//! `<?xml-stylesheet?>` instruction with a site-relative path, so it works
//! on whatever host serves the files.
//!
//! Note: browsers are retiring XSLT (Chromium 156 still applies it but
//! shows a deprecation banner, and removal is scheduled); without it the
//! browser shows the XML itself, which is harmless.

use crate::config::Config;
use crate::snapshot::{Resource, ResourceKind};

/// `Content-Type` of stylesheets.
pub const XSL_CONTENT_TYPE: &str = "text/xsl; charset=utf-8";

/// The two stylesheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// For RSS and Atom feeds.
    Feed,
    /// For sitemaps and the sitemap index.
    Sitemap,
}

/// The site path of the stylesheet of `kind` in `lang`.
pub fn path(kind: Kind, lang: &str) -> String {
    match kind {
        Kind::Feed => format!("/_herald/feed.{lang}.xsl"),
        Kind::Sitemap => format!("/_herald/sitemap.{lang}.xsl"),
    }
}

/// The `<?xml-stylesheet?>` line naming the stylesheet of `kind` in `lang`,
/// with the base URL's path so it resolves on any host.
pub fn processing_instruction(config: &Config, kind: Kind, lang: &str) -> String {
    let base_path = config.site.base_url.path().trim_end_matches('/');
    format!("<?xml-stylesheet type=\"text/xsl\" href=\"{base_path}{}\"?>\n", path(kind, lang))
}

/// Inserts the stylesheet instruction after the XML declaration of `xml`.
pub fn insert_after_declaration(xml: Vec<u8>, instruction: &str) -> Vec<u8> {
    let Some(end) = xml.windows(2).position(|w| w == b"?>") else { return xml };
    let mut out = Vec::with_capacity(xml.len() + instruction.len() + 1);
    out.extend_from_slice(&xml[..end + 2]);
    out.push(b'\n');
    out.extend_from_slice(instruction.trim_end().as_bytes());
    let rest = &xml[end + 2..];
    if !rest.starts_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(rest);
    out
}

/// Every stylesheet, for every language of the site.
pub fn files(config: &Config) -> Vec<(String, Resource)> {
    let mut out = Vec::new();
    for language in &config.languages {
        let labels = Labels::for_language(&language.code);
        for (kind, text) in
            [(Kind::Feed, feed_xsl(&language.code, &labels)), (Kind::Sitemap, sitemap_xsl(&language.code, &labels))]
        {
            out.push((
                path(kind, &language.code),
                Resource::new(ResourceKind::Other, text.into_bytes(), XSL_CONTENT_TYPE, None),
            ));
        }
    }
    out
}

/// The words of the human-readable pages.
struct Labels {
    feed_badge: &'static str,
    feed_intro: &'static str,
    feed_url: &'static str,
    newest: &'static str,
    sitemap_badge: &'static str,
    sitemap_intro: &'static str,
    index_intro: &'static str,
    url: &'static str,
    last_modified: &'static str,
    images: &'static str,
    languages: &'static str,
    published: &'static str,
    count: &'static str,
}

impl Labels {
    fn for_language(lang: &str) -> Labels {
        match lang.split('-').next().unwrap_or(lang) {
            "vi" => Labels {
                feed_badge: "Nguồn tin (web feed)",
                feed_intro: "Đây là nguồn tin để theo dõi bằng ứng dụng đọc tin (feed reader). Sao chép địa chỉ dưới đây và dán vào ứng dụng để nhận bài mới ngay khi đăng.",
                feed_url: "Địa chỉ nguồn tin",
                newest: "Bài mới nhất",
                sitemap_badge: "Sơ đồ trang (sitemap)",
                sitemap_intro: "Tệp này giúp công cụ tìm kiếm tìm thấy mọi bài viết. Bạn đọc có thể xem danh sách dưới đây.",
                index_intro: "Chỉ mục các sơ đồ trang của trang web.",
                url: "Địa chỉ",
                last_modified: "Cập nhật",
                images: "Ảnh",
                languages: "Ngôn ngữ",
                published: "Đăng lúc",
                count: "Số mục",
            },
            _ => Labels {
                feed_badge: "Web feed",
                feed_intro: "This is a web feed: subscribe to it with a feed reader to get new articles as soon as they are published. Copy the address below into your reader.",
                feed_url: "Feed address",
                newest: "Newest articles",
                sitemap_badge: "Sitemap",
                sitemap_intro: "This file helps search engines find every article. People can browse the list below.",
                index_intro: "The index of this site's sitemaps.",
                url: "Address",
                last_modified: "Updated",
                images: "Images",
                languages: "Languages",
                published: "Published",
                count: "Entries",
            },
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.5}\
header{border-bottom:1px solid #ddd;margin-bottom:1.5rem}.badge{display:inline-block;background:#ee802f;color:#fff;border-radius:4px;padding:.1rem .5rem;font-size:.85rem}\
input{width:100%;font:inherit;padding:.4rem;border:1px solid #bbb;border-radius:4px}article{margin:1.2rem 0}article h3{margin:0 0 .2rem}\
.meta{color:#666;font-size:.9rem;margin:0}table{border-collapse:collapse;width:100%;font-size:.92rem}td,th{border-bottom:1px solid #eee;padding:.35rem;text-align:left;vertical-align:top}a{color:#0b57d0}";

fn feed_xsl(lang: &str, l: &Labels) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="self" select="rss/channel/atom:link[@rel='self']/@href | atom:feed/atom:link[@rel='self']/@href"/>
    <html lang="{lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/></title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <p class="badge">{feed_badge}</p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
          <p>{feed_intro}</p>
          <p><label>{feed_url}<br/><input type="text" readonly="readonly" value="{{$self}}" onclick="this.select()"/></label></p>
        </header>
        <main>
          <h2>{newest}</h2>
          <xsl:for-each select="rss/channel/item">
            <article>
              <h3><a href="{{link}}"><xsl:value-of select="title"/></a></h3>
              <p class="meta">{published}: <xsl:value-of select="pubDate"/></p>
              <p><xsl:call-template name="html-text"><xsl:with-param name="html" select="description"/></xsl:call-template></p>
            </article>
          </xsl:for-each>
          <xsl:for-each select="atom:feed/atom:entry">
            <article>
              <h3><a href="{{atom:link[@rel='alternate'][1]/@href}}"><xsl:value-of select="atom:title"/></a></h3>
              <p class="meta">{published}: <xsl:value-of select="atom:published"/></p>
              <p><xsl:value-of select="atom:summary"/></p>
            </article>
          </xsl:for-each>
        </main>
      </body>
    </html>
  </xsl:template>
  <!-- An RSS description holds the summary as HTML, its `&`, `<` and `>`
       escaped: the characters again, shown as text (never as markup). -->
  <xsl:template name="html-text">
    <xsl:param name="html"/>
    <xsl:choose>
      <xsl:when test="contains($html, '&amp;')">
        <xsl:value-of select="substring-before($html, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($html, '&amp;')"/>
        <xsl:choose>
          <xsl:when test="starts-with($rest, 'lt;')">
            <xsl:text>&lt;</xsl:text>
            <xsl:call-template name="html-text"><xsl:with-param name="html" select="substring($rest, 4)"/></xsl:call-template>
          </xsl:when>
          <xsl:when test="starts-with($rest, 'gt;')">
            <xsl:text>&gt;</xsl:text>
            <xsl:call-template name="html-text"><xsl:with-param name="html" select="substring($rest, 4)"/></xsl:call-template>
          </xsl:when>
          <xsl:when test="starts-with($rest, 'amp;')">
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="html-text"><xsl:with-param name="html" select="substring($rest, 5)"/></xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="html-text"><xsl:with-param name="html" select="$rest"/></xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$html"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
"#,
        feed_badge = l.feed_badge,
        feed_intro = l.feed_intro,
        feed_url = l.feed_url,
        newest = l.newest,
        published = l.published,
    )
}

fn sitemap_xsl(lang: &str, l: &Labels) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" exclude-result-prefixes="sm xhtml image news">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:template match="/">
    <html lang="{lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>{sitemap_badge}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <p class="badge">{sitemap_badge}</p>
          <xsl:choose>
            <xsl:when test="sm:sitemapindex"><p>{index_intro}</p></xsl:when>
            <xsl:otherwise><p>{sitemap_intro}</p></xsl:otherwise>
          </xsl:choose>
          <p>{count}: <xsl:value-of select="count(sm:urlset/sm:url | sm:sitemapindex/sm:sitemap)"/></p>
        </header>
        <main>
          <table>
            <tr><th>{url}</th><th>{last_modified}</th><th>{images}</th><th>{languages}</th></tr>
            <xsl:for-each select="sm:urlset/sm:url | sm:sitemapindex/sm:sitemap">
              <tr>
                <td>
                  <a href="{{sm:loc}}"><xsl:choose><xsl:when test="news:news"><xsl:value-of select="news:news/news:title"/></xsl:when><xsl:otherwise><xsl:value-of select="sm:loc"/></xsl:otherwise></xsl:choose></a>
                </td>
                <td><xsl:value-of select="sm:lastmod | news:news/news:publication_date"/></td>
                <td><xsl:if test="image:image"><xsl:value-of select="count(image:image)"/></xsl:if></td>
                <td><xsl:for-each select="xhtml:link[@hreflang != 'x-default']"><a href="{{@href}}"><xsl:value-of select="@hreflang"/></a><xsl:text> </xsl:text></xsl:for-each></td>
              </tr>
            </xsl:for-each>
          </table>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
"#,
        sitemap_badge = l.sitemap_badge,
        sitemap_intro = l.sitemap_intro,
        index_intro = l.index_intro,
        count = l.count,
        url = l.url,
        last_modified = l.last_modified,
        images = l.images,
        languages = l.languages,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_after_declaration() {
        let xml = b"<?xml version=\"1.0\"?>\n<rss/>".to_vec();
        let out = insert_after_declaration(xml, "<?xml-stylesheet href=\"/a.xsl\"?>\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"/a.xsl\"?>\n<rss/>"
        );
        let xml = b"<?xml version=\"1.0\"?><rss/>".to_vec();
        let out = insert_after_declaration(xml, "<?xml-stylesheet href=\"/a.xsl\"?>");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"/a.xsl\"?>\n<rss/>"
        );
    }
}
