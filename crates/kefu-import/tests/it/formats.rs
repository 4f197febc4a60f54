//! Every format parses to the expected text, including Chinese content.

use kefu_import::{
    ChunkOptions, DocumentKind, ImportOptions, ImportedDocument, QaPair, chunk_document,
    import_file,
};

use crate::fixtures::{self, DocxBlock};

fn import_one(name: &str, bytes: &[u8]) -> ImportedDocument {
    let outcome = import_file(name, bytes, &ImportOptions::default());
    let docs = outcome.result.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name}");
    docs.into_iter().next().unwrap()
}

fn pairs(doc: &ImportedDocument) -> &[QaPair] {
    match &doc.kind {
        DocumentKind::QaPairs(p) => p,
        DocumentKind::Article => panic!("expected Q&A pairs"),
    }
}

#[test]
fn markdown_with_chinese_keeps_markdown() {
    let src = "# 退款政策\r\n\r\n购买后七天内可申请退款。\r\n\r\n## 流程\r\n\r\n- 提交申请\r\n- 等待审核\r\n";
    let doc = import_one("refund.md", src.as_bytes());
    assert_eq!(doc.title, "退款政策");
    assert_eq!(doc.language, "zh");
    assert_eq!(
        doc.body_markdown,
        "# 退款政策\n\n购买后七天内可申请退款。\n\n## 流程\n\n- 提交申请\n- 等待审核"
    );
    assert_eq!(doc.source, "refund.md");
    assert_eq!(doc.kind, DocumentKind::Article);
}

#[test]
fn plain_text_paragraphs_and_title() {
    let doc = import_one(
        "shipping.txt",
        b"Shipping times\n\nOrders ship in 2 days.\n\n\n\nExpress is next day.",
    );
    assert_eq!(doc.title, "Shipping times");
    assert_eq!(doc.language, "en");
    assert_eq!(
        doc.body_markdown,
        "Shipping times\n\nOrders ship in 2 days.\n\nExpress is next day."
    );
}

const PAGE: &str = r#"<!DOCTYPE html>
<html><head><title>会员积分说明</title><style>p { color: red }</style>
<script>var tracking = "SCRIPT-TEXT";</script></head>
<body>
  <header class="site-header"><a href="/">HEADER-LOGO</a></header>
  <nav><ul><li>NAV-HOME</li><li>NAV-HELP</li></ul></nav>
  <div class="cookie-banner">COOKIE-CONSENT accept all</div>
  <div id="left-sidebar">SIDEBAR-LINKS</div>
  <div class="main-menu">MENU-ITEMS</div>
  <main>
    <article>
      <header><h1>会员积分</h1></header>
      <p>每消费一元
         累计一积分。</p>
      <h2>兑换规则</h2>
      <ul><li>100 积分抵 1 元</li><li>积分有效期<b>一年</b></li></ul>
      <table>
        <thead><tr><th>等级</th><th>倍率</th></tr></thead>
        <tbody><tr><td>金卡</td><td>2x</td></tr><tr><td>银卡</td><td>1.5x</td></tr></tbody>
      </table>
      <form><input value="FORM-INPUT"><button>FORM-BUTTON</button></form>
      <footer>ARTICLE-FOOTER</footer>
    </article>
  </main>
  <aside>ASIDE-ADS</aside>
  <footer class="site-footer">FOOTER-COPYRIGHT</footer>
</body></html>"#;

#[test]
fn html_boilerplate_is_removed_and_structure_kept() {
    let doc = import_one("points.html", PAGE.as_bytes());
    assert_eq!(doc.title, "会员积分说明");
    assert_eq!(doc.language, "zh");
    for chrome in [
        "SCRIPT-TEXT",
        "HEADER-LOGO",
        "NAV-HOME",
        "COOKIE-CONSENT",
        "SIDEBAR-LINKS",
        "MENU-ITEMS",
        "FORM-INPUT",
        "FORM-BUTTON",
        "ARTICLE-FOOTER",
        "ASIDE-ADS",
        "FOOTER-COPYRIGHT",
        "color: red",
    ] {
        assert!(
            !doc.body_markdown.contains(chrome),
            "{chrome} leaked:\n{}",
            doc.body_markdown
        );
    }
    assert_eq!(
        doc.body_markdown,
        "# 会员积分\n\n每消费一元累计一积分。\n\n## 兑换规则\n\n- 100 积分抵 1 元\n- 积分有效期一年\n\n\
         | 等级 | 倍率 |\n| --- | --- |\n| 金卡 | 2x |\n| 银卡 | 1.5x |"
    );
}

#[test]
fn html_without_main_reads_body_and_h1_title() {
    let html = "<html><body><div class='navbar'>Home | Pricing</div>\
                <div class='content'><h1>Password reset</h1>Click <a href='#'>Forgot password</a>.\
                <p>Check your inbox.</p></div></body></html>";
    let doc = import_one("https://help.example/reset", html.as_bytes());
    assert_eq!(doc.title, "Password reset");
    assert_eq!(
        doc.body_markdown,
        "# Password reset\n\nClick Forgot password.\n\nCheck your inbox."
    );
    assert_eq!(doc.source, "https://help.example/reset");
}

#[test]
fn html_boilerplate_stripping_can_be_turned_off() {
    let opts = ImportOptions {
        html_strip_boilerplate: false,
        ..ImportOptions::default()
    };
    let out = import_file("p.html", PAGE.as_bytes(), &opts);
    let body = &out.documents()[0].body_markdown;
    assert!(body.contains("NAV-HOME") && body.contains("会员积分"));
    assert!(!body.contains("SCRIPT-TEXT"), "scripts are never content");
}

#[test]
fn pdf_text_layer_is_extracted() {
    let bytes = fixtures::pdf(&[
        &["Warranty Guide", "All devices carry a two year warranty."],
        &["Batteries are covered for one year."],
    ]);
    let doc = import_one("warranty.pdf", &bytes);
    assert_eq!(doc.title, "Warranty Guide");
    assert_eq!(doc.language, "en");
    let body = &doc.body_markdown;
    assert!(
        body.contains("All devices carry a two year warranty."),
        "{body}"
    );
    assert!(
        body.contains("Batteries are covered for one year."),
        "{body}"
    );
    let first = body.find("Warranty Guide").unwrap();
    let second = body.find("Batteries").unwrap();
    assert!(first < second, "pages stay in order");
}

#[test]
fn pdf_without_text_layer_is_a_clear_error() {
    let bytes = fixtures::pdf(&[&[]]);
    let out = import_file("scan.pdf", &bytes, &ImportOptions::default());
    let err = out.error().expect("must fail");
    assert_eq!(err.code(), "no_text_layer");
    assert!(err.to_string().contains("OCR"));
}

#[test]
fn docx_headings_paragraphs_tables_chinese() {
    let bytes = fixtures::docx(&[
        DocxBlock::Para(Some("Heading1"), "售后服务指南"),
        DocxBlock::Para(None, "我们提供一年质保。"),
        DocxBlock::Para(Some("2"), "维修流程"),
        DocxBlock::Para(None, "请先联系客服。"),
        DocxBlock::Table(vec![
            vec!["项目", "费用"],
            vec!["屏幕", "300元"],
            vec!["电池", "100元"],
        ]),
        DocxBlock::Para(None, ""),
    ]);
    let doc = import_one("after-sales.docx", &bytes);
    assert_eq!(doc.title, "售后服务指南");
    assert_eq!(doc.language, "zh");
    assert_eq!(
        doc.body_markdown,
        "# 售后服务指南\n\n我们提供一年质保。\n\n## 维修流程\n\n请先联系客服。\n\n\
         | 项目 | 费用 |\n| --- | --- |\n| 屏幕 | 300元 |\n| 电池 | 100元 |"
    );
}

#[test]
fn csv_english_headers_multiline_and_row_warnings() {
    let csv = "Category, Question ,Answer,Similar questions\n\
               Billing,  How do I get a refund?  ,\"Open Orders.\nClick Refund.\",refund please|money back\n\
               Billing,,Orphan answer,\n\
               Account,How do I reset my password?,,\n\
               ,,,\n\
               Account,Change e-mail,Go to Settings.,\n";
    let doc = import_one("faq.csv", csv.as_bytes());
    let p = pairs(&doc);
    assert_eq!(p.len(), 2);
    assert_eq!(
        p[0],
        QaPair {
            question: "How do I get a refund?".into(),
            answer: "Open Orders.\nClick Refund.".into(),
            alternatives: vec!["refund please".into(), "money back".into()],
            category: Some("Billing".into()),
        }
    );
    assert_eq!(p[1].question, "Change e-mail");
    assert!(p[1].alternatives.is_empty());
    let rows: Vec<(Option<usize>, &str)> = doc
        .warnings
        .iter()
        .map(|w| (w.row, w.message.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some(3), "empty question; row skipped"),
            (Some(4), "empty answer; row skipped")
        ]
    );
}

#[test]
fn csv_chinese_headers_in_gbk() {
    let text = "问题,答案,相似问题,分类\n怎么退款？,七天内无理由退款。,退货|退钱\n发票,\"登录后\n在订单页申请\",开发票,财务\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(text);
    let doc = import_one("常见问题.csv", &gbk);
    assert_eq!(doc.title, "常见问题");
    let p = pairs(&doc);
    assert_eq!(p[0].question, "怎么退款？");
    assert_eq!(p[0].alternatives, vec!["退货", "退钱"]);
    assert_eq!(p[0].category, None);
    assert_eq!(p[1].answer, "登录后\n在订单页申请");
    assert_eq!(p[1].category.as_deref(), Some("财务"));
    assert!(doc.warnings.iter().any(|w| w.message.contains("GB18030")));
}

#[test]
fn xlsx_chinese_headers_notes_sheet_ignored() {
    let bytes = fixtures::xlsx(&[
        ("说明", vec![vec!["这是填写说明"]]),
        (
            "FAQ",
            vec![
                vec!["分类", "问题（必填）", "答案（必填）", "相似问题"],
                vec![
                    "配送",
                    " 多久发货？ ",
                    "付款后48小时内发货。",
                    "什么时候发货\n几天发货",
                ],
                vec!["配送", "支持哪些快递", "", ""],
                vec!["", "", "只有答案", ""],
                vec!["售后", "如何换货", "联系客服\n提供订单号", ""],
            ],
        ),
    ]);
    let out = import_file("faq.xlsx", &bytes, &ImportOptions::default());
    let docs = out.result.unwrap();
    assert_eq!(
        docs.len(),
        1,
        "the notes sheet has no Q&A header and is skipped"
    );
    let doc = &docs[0];
    let p = pairs(doc);
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].question, "多久发货？");
    assert_eq!(p[0].alternatives, vec!["什么时候发货", "几天发货"]);
    assert_eq!(p[0].category.as_deref(), Some("配送"));
    assert_eq!(p[1].answer, "联系客服\n提供订单号");
    let rows: Vec<Option<usize>> = doc.warnings.iter().map(|w| w.row).collect();
    assert_eq!(
        rows,
        vec![Some(3), Some(4)],
        "row numbers as Excel shows them"
    );
    assert_eq!(doc.language, "zh");
}

#[test]
fn qa_table_without_answer_column_fails_clearly() {
    let out = import_file(
        "x.csv",
        "名称,描述\na,b\n".as_bytes(),
        &ImportOptions::default(),
    );
    let err = out.error().unwrap();
    assert_eq!(err.code(), "missing_columns");
    assert!(err.to_string().contains("名称"));
}

#[test]
fn qa_table_with_only_bad_rows_is_empty_with_reason() {
    let out = import_file(
        "x.csv",
        b"question,answer\nq1,\n,a2\n",
        &ImportOptions::default(),
    );
    let err = out.error().unwrap();
    assert_eq!(err.code(), "empty_text");
    assert!(err.to_string().contains("empty answer"), "{err}");
}

#[test]
fn qa_pairs_are_one_chunk_each() {
    let csv = "question,answer,alternatives,category\nRefund?,Within 7 days.,money back,Billing\nInvoice?,From the orders page.,,Billing\n";
    let doc = import_one("faq.csv", csv.as_bytes());
    let chunks = chunk_document(&doc, &ChunkOptions::default());
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        chunks[0].text,
        "## Refund?\n\nAlso asked: money back\n\nWithin 7 days."
    );
    assert_eq!(chunks[0].heading_path, vec!["Billing", "Refund?"]);
    let body: Vec<char> = doc.body_markdown.chars().collect();
    for c in &chunks {
        let slice: String = body[c.char_start..c.char_end].iter().collect();
        assert_eq!(slice, c.text);
    }
}

#[test]
fn content_hash_is_stable_across_reimport_and_changes_on_edit() {
    let a = import_one("guide.md", b"# Guide\n\nStep one.\n");
    let again = import_one("guide.md", b"# Guide\n\nStep one.\n");
    let crlf = import_one("guide.md", b"# Guide  \r\n\r\n\r\nStep one.\r\n");
    let edited = import_one("guide.md", b"# Guide\n\nStep two.\n");
    assert_eq!(a.content_hash, again.content_hash);
    assert_eq!(
        a.content_hash, crlf.content_hash,
        "line endings are not an edit"
    );
    assert_ne!(a.content_hash, edited.content_hash);
    assert_eq!(a.content_hash.len(), 64);

    let x1 = fixtures::xlsx(&[("s", vec![vec!["question", "answer"], vec!["q", "a"]])]);
    let x2 = fixtures::xlsx(&[("s", vec![vec!["question", "answer"], vec!["q", "a"]])]);
    let x3 = fixtures::xlsx(&[("s", vec![vec!["question", "answer"], vec!["q", "b"]])]);
    let h = |b: &[u8]| import_one("f.xlsx", b).content_hash;
    assert_eq!(h(&x1), h(&x2));
    assert_ne!(h(&x1), h(&x3));
}
