//! Measures import + chunking throughput on a generated corpus (nothing downloaded).
//!
//! Run with `cargo run --release -p kefu-import --example import_throughput`. Numbers are for
//! people reading them; no test asserts on time, since the CI machine is shared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Shared with the tests; not every builder is used here.
#[allow(dead_code)]
#[path = "../tests/it/fixtures.rs"]
mod fixtures;

use std::time::Instant;

use kefu_import::{ChunkOptions, ImportOptions, chunk_document, import_batch};

fn markdown_doc(i: usize) -> String {
    let mut s = format!("# 帮助文档 {i}\n\n");
    for section in 0..30 {
        s.push_str(&format!("## Section {section} 退款与发票\n\n"));
        for _ in 0..4 {
            s.push_str("订单付款后七天内可以申请无理由退款。退款将在三个工作日内原路返回！");
            s.push_str("Refunds go back to the original payment method within three days. ");
            s.push_str("如需发票，请在订单详情页点击“申请发票”；电子发票会发送到您的邮箱。\n\n");
        }
        s.push_str("- 第一步：登录账号\n- Step two: open Orders\n- 第三步：提交申请\n\n");
        s.push_str("| 地区 | 运费 | 时效 |\n| --- | --- | --- |\n");
        for r in 0..12 {
            s.push_str(&format!("| 区域{r} | {}元 | {} 天 |\n", 10 + r, 1 + r % 4));
        }
        s.push('\n');
    }
    s
}

fn run(label: &str, files: Vec<(String, Vec<u8>)>) {
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let n = files.len();
    let opts = ImportOptions::default();
    let started = Instant::now();
    let report = import_batch(files, &opts, &|_| {});
    let imported = started.elapsed();
    let chunk_opts = ChunkOptions::default();
    let chunks: usize = report
        .documents()
        .map(|d| chunk_document(d, &chunk_opts).len())
        .sum();
    let total = started.elapsed();
    assert_eq!(
        report.failed().count(),
        0,
        "{label}: a generated file failed"
    );
    let mb = bytes as f64 / 1_000_000.0;
    println!(
        "{label:9} {n:4} files {mb:7.2} MB  import {:6.1} MB/s  import+chunk {:6.1} MB/s  {chunks} chunks",
        mb / imported.as_secs_f64(),
        mb / total.as_secs_f64(),
    );
}

fn main() {
    let md: Vec<(String, Vec<u8>)> = (0..100)
        .map(|i| (format!("doc{i}.md"), markdown_doc(i).into_bytes()))
        .collect();
    run("markdown", md);

    let html: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| {
            let body = markdown_doc(i)
                .lines()
                .map(|l| format!("<p>{l}</p>"))
                .collect::<String>();
            let page = format!(
                "<html><head><title>t{i}</title></head><body><nav>menu</nav><main>{body}</main></body></html>"
            );
            (format!("page{i}.html"), page.into_bytes())
        })
        .collect();
    run("html", html);

    let line = "Refunds go back to the original payment method within three days.";
    let page: Vec<&str> = vec![line; 45];
    let pages: Vec<&[&str]> = vec![page.as_slice(); 20];
    let pdfs: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("manual{i}.pdf"), fixtures::pdf(&pages)))
        .collect();
    run("pdf", pdfs);

    let paras: Vec<fixtures::DocxBlock<'_>> = (0..600)
        .map(|i| {
            if i % 20 == 0 {
                fixtures::DocxBlock::Para(Some("Heading1"), "退款与发票 Refunds")
            } else {
                fixtures::DocxBlock::Para(
                    None,
                    "订单付款后七天内可以申请无理由退款。Refunds return within three days.",
                )
            }
        })
        .collect();
    let docx: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("guide{i}.docx"), fixtures::docx(&paras)))
        .collect();
    run("docx", docx);

    let mut csv = String::from("问题,答案,相似问题,分类\n");
    for i in 0..5000 {
        csv.push_str(&format!(
            "如何申请第{i}号退款？,\"订单付款后七天内可以申请无理由退款。\n退款三个工作日内到账。\",退款{i}|退钱{i},售后\n"
        ));
    }
    run("csv", vec![("faq.csv".to_string(), csv.into_bytes())]);
}
