//! Reranking the best fused hits with a cross-encoder endpoint (kefu-search [`Reranker`]).
//! Optional and never in the way: any failure or timeout leaves the fused order as it was.

use kefu_search::Reranker;

use crate::search::SearchResult;

/// The reranker and how many of the best hits it sees.
#[derive(Clone, Debug)]
pub struct KbReranker {
    pub client: Reranker,
    /// Hits sent per search (the rest keep their fused order after these).
    pub top_n: usize,
}

/// Reorders the first `top_n` results by the endpoint's relevance. Results the endpoint did
/// not score follow the scored ones in their previous order.
pub(crate) async fn apply(reranker: &KbReranker, query: &str, results: &mut Vec<SearchResult>) {
    let n = reranker.top_n.min(results.len());
    if n < 2 {
        return;
    }
    let documents: Vec<String> = results[..n]
        .iter()
        .map(|r| {
            if r.heading_path.is_empty() {
                format!("{}\n{}", r.title, r.text)
            } else {
                format!("{} > {}\n{}", r.title, r.heading_path.join(" > "), r.text)
            }
        })
        .collect();
    let scored = match reranker.client.rerank(query, &documents).await {
        Ok(scored) => scored,
        Err(e) => {
            tracing::warn!(url = reranker.client.url(), error = %e, "rerank failed; keeping the fused order");
            return;
        }
    };
    let mut head: Vec<Option<SearchResult>> = results.drain(..n).map(Some).collect();
    let mut reordered = Vec::with_capacity(n);
    for (index, score) in scored {
        if let Some(mut result) = head.get_mut(index).and_then(Option::take) {
            result.rerank_score = Some(score);
            reordered.push(result);
        }
    }
    reordered.extend(head.into_iter().flatten());
    reordered.append(results);
    *results = reordered;
}
