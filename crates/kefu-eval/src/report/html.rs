//! Self-contained HTML rendering of an [`EvalReport`]: one file, inline CSS, no scripts, so it
//! can be attached to a ticket or opened from CI artefacts offline. Every piece of text comes
//! from data (questions, entry ids, facts) and is escaped.

use std::fmt::Write;

use super::EvalReport;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;\
color:#1d2430;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;\
margin-top:2rem;border-bottom:1px solid #dde3ea;padding-bottom:.3rem}.meta{color:#5b6675}\
table{border-collapse:collapse;margin:.6rem 0}td,th{padding:.3rem .8rem;text-align:left;\
border-bottom:1px solid #eef1f5}th{background:#f5f7fa;font-weight:600}td.num,th.num{text-align:right;\
font-variant-numeric:tabular-nums}tr.chosen td{background:#e8f5e9;font-weight:600}\
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}.card{border:1px solid #dde3ea;\
border-radius:8px;padding:.6rem 1rem;min-width:9rem}.card .v{font-size:1.3rem;font-weight:600}\
.card .l{color:#5b6675;font-size:.85rem}.bar{display:inline-block;height:.7rem;background:#4a7fd4;\
border-radius:2px;vertical-align:middle}";

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

pub(super) fn render(report: &EvalReport) -> String {
    let mut out = String::new();
    let e = escape;
    // Writing into a String cannot fail; the results are ignored deliberately.
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        e(&report.title),
        e(&report.title)
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">Answerer: {}<br>Suite: {}</p>",
        e(&report.answerer),
        e(&report.suite)
    );
    if let Some(c) = &report.chosen_threshold {
        let _ = writeln!(
            out,
            "<p>Operating threshold <strong>{:.2}</strong>: most automation with wrong answers \
             at most {:.1}% ({}).</p>",
            c.threshold,
            c.max_wrong_rate * 100.0,
            e(&c.basis)
        );
    }

    out.push_str("<div class=\"cards\">\n");
    for (label, value) in report.headline() {
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
            e(&value),
            e(label)
        );
    }
    out.push_str("</div>\n");

    if !report.facts.is_empty() {
        out.push_str("<h2>Details</h2>\n<table>\n");
        for fact in &report.facts {
            let _ = writeln!(
                out,
                "<tr><th>{}</th><td>{}</td></tr>",
                e(&fact.label),
                e(&fact.value)
            );
        }
        out.push_str("</table>\n");
    }

    if !report.sweep.is_empty() {
        out.push_str(
            "<h2>Threshold sweep</h2>\n<table>\n<tr><th class=\"num\">Threshold</th>\
             <th class=\"num\">Automation</th><th></th><th class=\"num\">Accuracy (answered)</th>\
             <th class=\"num\">Wrong-answer rate</th></tr>\n",
        );
        for p in &report.sweep {
            let class = if report.is_chosen(p) {
                " class=\"chosen\""
            } else {
                ""
            };
            let accuracy = p
                .accuracy_among_answered
                .map_or_else(|| "n/a".to_owned(), |a| format!("{:.1}%", a * 100.0));
            let _ = writeln!(
                out,
                "<tr{class}><td class=\"num\">{:.2}</td><td class=\"num\">{:.1}%</td>\
                 <td><span class=\"bar\" style=\"width:{:.1}px\"></span></td>\
                 <td class=\"num\">{accuracy}</td><td class=\"num\">{:.1}%</td></tr>",
                p.threshold,
                p.automation_rate * 100.0,
                p.automation_rate * 120.0,
                p.wrong_answer_rate * 100.0
            );
        }
        out.push_str("</table>\n");
    }

    if !report.confusion.is_empty() {
        out.push_str(
            "<h2>Most confused entries</h2>\n<p class=\"meta\">Questions whose expected entry was \
             not ranked first, grouped by what was ranked first instead.</p>\n<table>\n\
             <tr><th>Expected</th><th>Ranked first instead</th><th class=\"num\">Questions</th></tr>\n",
        );
        for pair in &report.confusion {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                e(&pair.expected),
                e(&pair.got),
                pair.count
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn escapes_special_characters() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("卡丢了"), "卡丢了");
    }

    #[test]
    fn html_report_escapes_all_data_and_has_no_script() {
        let html = sample().render_html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("Test &lt;run&gt;"));
        assert!(html.contains("matcher &quot;x&quot;"));
        assert!(html.contains("a &amp; co"));
        assert!(html.contains("&lt;b&gt;"));
        assert!(!html.contains("<b>"));
        assert!(!html.contains("<run>"));
        assert!(!html.contains("<script"));
        assert!(html.contains("class=\"chosen\""));
        assert!(html.trim_end().ends_with("</html>"));
    }
}
