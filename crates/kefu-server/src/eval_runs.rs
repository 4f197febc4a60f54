//! Evaluation runs from the console: a site's question suite goes through the very retrieval
//! and answer engine visitors get (offline, or with the site's provider chain when asked), and
//! the harness of kefu-eval measures it — hit@k, MRR, accuracy, automation, wrong answers,
//! hand-off precision/recall, latency, the threshold sweep and the most-confused entries.
//! Runs execute as durable jobs (kind `eval`), so a restart resumes them.

use kefu_ai::AnswerRequest;
use kefu_ai::gateway::Gateway;
use kefu_core::SiteId;
use kefu_core::domain::{AnswerKind, Site};
use kefu_eval::harness::EvalOptions;
use kefu_eval::{Answer, Answerer, Candidate, Decision, EvalReport, SuiteRow, evaluate};
use kefu_store::Job;
use serde_json::json;

use crate::chat::bot::{policy, thresholds};
use crate::state::AppState;

/// The job kind.
pub const EVAL: &str = "eval";

/// Candidates read per question for the retrieval figures (MRR@10).
const DEPTH: usize = 10;

/// The server's answer engine behind the harness's synchronous [`Answerer`] seam: the harness
/// runs on a blocking thread and waits on the runtime for each question.
struct EngineAnswerer {
    state: AppState,
    site: Site,
    gateway: Option<Gateway>,
    runtime: tokio::runtime::Handle,
}

impl Answerer for EngineAnswerer {
    fn answer(&self, question: &str) -> Answer {
        self.runtime.block_on(async {
            let candidates = self
                .state
                .answers
                .retriever()
                .retrieve(self.site.id, question, DEPTH)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|c| Candidate {
                    entry_id: c.entry_id.to_string(),
                    score: c.confidence,
                    confidence: c.confidence,
                })
                .collect();
            let settings = &self.site.settings;
            let reply = self
                .state
                .answers
                .answer(
                    AnswerRequest {
                        site: self.site.id,
                        visitor: None,
                        question,
                        thresholds: thresholds(settings),
                        after_clarification: false,
                        history: &[],
                        policy: policy(settings),
                        language: None,
                        llm: self.gateway.as_ref(),
                    },
                    None,
                )
                .await;
            let decision = match (reply.meta.kind, reply.meta.citations.first()) {
                (AnswerKind::Answer, Some(citation)) => Decision::Answer {
                    entry_id: citation.entry_id.to_string(),
                    confidence: reply.meta.confidence,
                    text: Some(reply.text.clone()),
                },
                (AnswerKind::Clarify, _) => Decision::Handoff {
                    reason: "clarify".to_owned(),
                },
                _ => Decision::Handoff {
                    reason: reply
                        .meta
                        .reason
                        .map_or_else(|| "no_citation".to_owned(), |r| r.as_str().to_owned()),
                },
            };
            Answer {
                candidates,
                decision,
            }
        })
    }

    fn describe(&self) -> String {
        let s = &self.site.settings;
        let mode = match &self.gateway {
            Some(_) => "with the site's language model",
            None => "offline",
        };
        format!(
            "Kefu answer engine ({mode}), answer threshold {:.2}, clarify threshold {:.2}",
            s.answer_threshold, s.clarify_threshold
        )
    }
}

/// Queues a run of `suite` for `site`.
pub async fn queue(
    state: &AppState,
    site: SiteId,
    name: &str,
    use_llm: bool,
    suite: &[SuiteRow],
    created_by: Option<kefu_core::AgentId>,
) -> kefu_store::Result<kefu_store::EvalRun> {
    let mode = if use_llm { "llm" } else { "offline" };
    let rows = serde_json::to_value(suite).unwrap_or_default();
    let questions = i64::try_from(suite.len()).unwrap_or(i64::MAX);
    let run = state
        .store
        .create_eval_run(site, name, mode, &rows, questions, created_by)
        .await?;
    state
        .store
        .create_job(EVAL, site, &json!({ "run_id": run.id }), &[], created_by)
        .await?;
    state.jobs_queued.notify_one();
    Ok(run)
}

/// Runs a queued evaluation job to the end, recording the figures or the failure.
pub async fn run_eval(state: &AppState, job: Job) {
    let Some(run_id) = job.params["run_id"].as_str().map(str::to_owned) else {
        let _ = state.store.finish_job(&job.id, Some("no run_id")).await;
        return;
    };
    let outcome = execute(state, &run_id).await;
    let error = outcome.as_ref().err().cloned();
    let recorded = match &outcome {
        Ok((metrics, report)) => state.store.finish_eval_run(&run_id, Ok((metrics, report))),
        Err(e) => state.store.finish_eval_run(&run_id, Err(e)),
    }
    .await;
    if let Err(e) = recorded {
        tracing::error!(run = %run_id, error = %e, "recording the evaluation failed");
    }
    let _ = state.store.finish_job(&job.id, error.as_deref()).await;
}

async fn execute(
    state: &AppState,
    run_id: &str,
) -> Result<(serde_json::Value, serde_json::Value), String> {
    let run = state
        .store
        .get_eval_run(run_id)
        .await
        .map_err(|e| e.to_string())?;
    state
        .store
        .start_eval_run(run_id)
        .await
        .map_err(|e| e.to_string())?;
    let suite: Vec<SuiteRow> = serde_json::from_value(
        state
            .store
            .get_eval_run_suite(run_id)
            .await
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("stored suite is unreadable: {e}"))?;
    let site = state
        .store
        .get_site(run.site_id)
        .await
        .map_err(|e| e.to_string())?;
    let gateway = if run.mode == "llm" {
        match state.gateways.get(site.id).await {
            Ok(Some(g)) => Some(g),
            Ok(None) => return Err("the site has no language model configured".to_owned()),
            Err(e) => return Err(format!("loading the provider chain failed: {e}")),
        }
    } else {
        None
    };
    let answerer = EngineAnswerer {
        state: state.clone(),
        site,
        gateway,
        runtime: tokio::runtime::Handle::current(),
    };
    let name = run.name.clone();
    let report = tokio::task::spawn_blocking(move || {
        let evaluation = evaluate(&answerer, &suite, &EvalOptions::default(), &|_, _| {});
        EvalReport::new(
            format!("Evaluation: {name}"),
            answerer.describe(),
            name,
            &evaluation,
        )
    })
    .await
    .map_err(|e| format!("evaluation stopped: {e}"))?;
    let metrics = serde_json::to_value(&report.metrics).map_err(|e| e.to_string())?;
    let report = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    Ok((metrics, report))
}
