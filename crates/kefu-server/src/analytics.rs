//! A site's analytics over a period of local days: how many conversations came, how many the
//! assistant settled without a human (the automation rate), why it handed over, how fast
//! humans answered and resolved, what visitors thought (CSAT, thumbs), what they asked about
//! and in what mood, when they come, and what the language model cost.
//!
//! Definitions, so the figures can be checked by hand:
//! - a conversation counts on the local day it was created (the period holds conversations
//!   created in it; their later messages count with them);
//! - *automated*: the visitor wrote, the assistant answered, no human wrote, and no hand-off was
//!   asked for. *Handed off*: a hand-off event was logged. *Automation rate*: automated over
//!   conversations in which the visitor wrote at all;
//! - *first response*: from the first hand-off request (or, where the assistant never took
//!   part, the visitor's first message) to the first public agent message after it;
//! - *resolution time*: creation to resolution, for resolved conversations a human wrote in;
//! - ratings, thumbs and classifications count when they were given; model usage is kept per
//!   UTC day, so its days are UTC days.

use std::collections::BTreeMap;

use kefu_core::Timestamp;
use kefu_core::domain::{AuthorKind, SystemEvent};
use kefu_store::{AnalyticsFacts, ConversationFacts};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

/// Longest period one request may cover.
pub const MAX_DAYS: i64 = 366;

/// A period of whole local days, `from` and `to` included, at a fixed UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    /// Minutes east of UTC (the browser's zone at the time of asking).
    pub offset_minutes: i32,
}

impl Period {
    /// The UTC instants bounding the period, `[start, end)`; none for dates at the very edge
    /// of the representable years.
    pub fn bounds(&self) -> Option<(Timestamp, Timestamp)> {
        let start = |d: Date| {
            Timestamp::from_unix_seconds(
                d.midnight().assume_utc().unix_timestamp() - i64::from(self.offset_minutes) * 60,
            )
        };
        Some((start(self.from)?, start(self.to.next_day()?)?))
    }

    /// Number of days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }

    /// The local date and hour of an instant.
    fn local(&self, at: Timestamp) -> (Date, u8) {
        let local = OffsetDateTime::from_unix_timestamp(
            at.unix_seconds() + i64::from(self.offset_minutes) * 60,
        )
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        (local.date(), local.hour())
    }
}

/// The analytics of one period.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analytics {
    pub from: String,
    pub to: String,
    pub offset_minutes: i32,
    pub totals: Totals,
    /// One row per local day of the period, in order, days without activity included.
    pub days: Vec<Day>,
    /// Hand-offs by reason, most frequent first.
    pub handoff_reasons: Vec<Count>,
    /// Visitor messages per local hour of the day (24 entries, hour 0 first).
    pub busiest_hours: Vec<i64>,
    /// The ten most frequent intents of visitor messages, most frequent first.
    pub top_intents: Vec<Count>,
    /// Visitor messages by sentiment, most frequent first.
    pub sentiments: Vec<Count>,
    /// Why visitors rated answers down, when they said (the widget offers `wrong`, `unclear`,
    /// `off_topic`), most frequent first.
    pub thumbs_down_reasons: Vec<Count>,
}

/// The whole period in a few numbers.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Totals {
    pub conversations: i64,
    /// Conversations in which the visitor wrote.
    pub with_visitor_messages: i64,
    pub automated: i64,
    pub handed_off: i64,
    /// Conversations a human agent wrote in.
    pub human_handled: i64,
    pub resolved: i64,
    /// `automated / with_visitor_messages`; none when no visitor wrote.
    pub automation_rate: Option<f64>,
    pub first_response_median_secs: Option<i64>,
    pub first_response_p90_secs: Option<i64>,
    pub resolution_median_secs: Option<i64>,
    pub resolution_p90_secs: Option<i64>,
    pub ratings: i64,
    pub rating_average: Option<f64>,
    /// Share of 4s and 5s.
    pub satisfied_share: Option<f64>,
    /// Ratings 1..=5 (index 0 = rating 1).
    pub rating_distribution: [i64; 5],
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    pub ai_requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
}

/// One local day.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub conversations: i64,
    pub automated: i64,
    pub handed_off: i64,
    pub resolved: i64,
    pub ratings: i64,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
}

/// A label and how often it occurred.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// What one conversation contributes.
struct Outcome {
    visitor_wrote: bool,
    automated: bool,
    handoff_reasons: Vec<String>,
    human_handled: bool,
    first_response_secs: Option<i64>,
}

fn outcome(c: &ConversationFacts) -> Outcome {
    let mut visitor_wrote = false;
    let mut bot_answered = false;
    let mut human_handled = false;
    let mut handoff_reasons = Vec::new();
    // When a human became needed, and when one first answered after that.
    let mut needed_at: Option<Timestamp> = None;
    let mut first_visitor_at: Option<Timestamp> = None;
    let mut first_response_secs = None;
    for fact in &c.timeline {
        match (&fact.author_kind, &fact.event) {
            (AuthorKind::Visitor, _) => {
                visitor_wrote = true;
                first_visitor_at.get_or_insert(fact.at);
            }
            (AuthorKind::Bot, _) => bot_answered = true,
            (AuthorKind::System, Some(SystemEvent::HandoffRequested { reason })) => {
                handoff_reasons.push(reason.clone());
                needed_at.get_or_insert(fact.at);
            }
            (AuthorKind::Agent, _) => {
                human_handled = true;
                let since = if bot_answered || needed_at.is_some() {
                    needed_at
                } else {
                    first_visitor_at
                };
                if first_response_secs.is_none()
                    && let Some(since) = since
                {
                    first_response_secs =
                        Some((fact.at.unix_seconds() - since.unix_seconds()).max(0));
                }
            }
            (AuthorKind::System, _) => {}
        }
    }
    Outcome {
        visitor_wrote,
        automated: visitor_wrote && bot_answered && !human_handled && handoff_reasons.is_empty(),
        handoff_reasons,
        human_handled,
        first_response_secs,
    }
}

/// The value below which `q` (0–1) of the sorted values fall (nearest rank).
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn ranked(counts: BTreeMap<String, i64>, limit: usize) -> Vec<Count> {
    let mut out: Vec<Count> = counts
        .into_iter()
        .map(|(key, count)| Count { key, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out.truncate(limit);
    out
}

/// Turns the period's facts into its figures.
pub fn compute(period: &Period, facts: &AnalyticsFacts) -> Analytics {
    let mut days: Vec<Day> = (0..period.days())
        .map(|i| Day {
            day: (period.from + Duration::days(i)).to_string(),
            ..Day::default()
        })
        .collect();
    let day_index = |date: Date| -> Option<usize> {
        usize::try_from((date - period.from).whole_days())
            .ok()
            .filter(|&i| i < days_len(period))
    };
    let mut totals = Totals::default();
    let mut reasons = BTreeMap::new();
    let mut hours = vec![0i64; 24];
    let mut first_responses = Vec::new();
    let mut resolutions = Vec::new();

    for c in &facts.conversations {
        let o = outcome(c);
        let slot = day_index(period.local(c.created_at).0);
        totals.conversations += 1;
        totals.with_visitor_messages += i64::from(o.visitor_wrote);
        totals.automated += i64::from(o.automated);
        totals.handed_off += i64::from(!o.handoff_reasons.is_empty());
        totals.human_handled += i64::from(o.human_handled);
        if let Some(i) = slot {
            let d = &mut days[i];
            d.conversations += 1;
            d.automated += i64::from(o.automated);
            d.handed_off += i64::from(!o.handoff_reasons.is_empty());
        }
        for reason in o.handoff_reasons {
            *reasons.entry(reason).or_insert(0) += 1;
        }
        if let Some(secs) = o.first_response_secs {
            first_responses.push(secs);
        }
        if let Some(resolved_at) = c.resolved_at {
            totals.resolved += 1;
            if let Some(i) = slot {
                days[i].resolved += 1;
            }
            if o.human_handled {
                resolutions.push((resolved_at.unix_seconds() - c.created_at.unix_seconds()).max(0));
            }
        }
        for fact in c
            .timeline
            .iter()
            .filter(|f| f.author_kind == AuthorKind::Visitor)
        {
            hours[usize::from(period.local(fact.at).1)] += 1;
        }
    }
    totals.automation_rate = (totals.with_visitor_messages > 0)
        .then(|| totals.automated as f64 / totals.with_visitor_messages as f64);
    first_responses.sort_unstable();
    resolutions.sort_unstable();
    totals.first_response_median_secs = quantile(&first_responses, 0.5);
    totals.first_response_p90_secs = quantile(&first_responses, 0.9);
    totals.resolution_median_secs = quantile(&resolutions, 0.5);
    totals.resolution_p90_secs = quantile(&resolutions, 0.9);

    for (at, rating) in &facts.ratings {
        if let Some(slot) = usize::try_from(rating - 1)
            .ok()
            .and_then(|i| totals.rating_distribution.get_mut(i))
        {
            *slot += 1;
            totals.ratings += 1;
            if let Some(i) = day_index(period.local(*at).0) {
                days[i].ratings += 1;
            }
        }
    }
    if totals.ratings > 0 {
        let sum: i64 = (1..=5)
            .zip(totals.rating_distribution)
            .map(|(r, n)| r * n)
            .sum();
        let d = totals.rating_distribution;
        totals.rating_average = Some(sum as f64 / totals.ratings as f64);
        totals.satisfied_share = Some((d[3] + d[4]) as f64 / totals.ratings as f64);
    }
    let mut down_reasons = BTreeMap::new();
    for (at, rating, reason) in &facts.thumbs {
        let up = rating == "up";
        if let Some(reason) = reason.as_deref().filter(|_| !up) {
            *down_reasons.entry(reason.to_owned()).or_insert(0) += 1;
        }
        totals.thumbs_up += i64::from(up);
        totals.thumbs_down += i64::from(!up);
        if let Some(i) = day_index(period.local(*at).0) {
            days[i].thumbs_up += i64::from(up);
            days[i].thumbs_down += i64::from(!up);
        }
    }
    for u in &facts.usage {
        totals.ai_requests += u.requests;
        totals.prompt_tokens += u.prompt_tokens;
        totals.completion_tokens += u.completion_tokens;
        totals.cost_micros += u.cost_micros;
        if let Some(i) = Date::parse(&u.day, &time::format_description::well_known::Iso8601::DATE)
            .ok()
            .and_then(day_index)
        {
            days[i].prompt_tokens += u.prompt_tokens;
            days[i].completion_tokens += u.completion_tokens;
            days[i].cost_micros += u.cost_micros;
        }
    }
    let mut intents = BTreeMap::new();
    let mut sentiments = BTreeMap::new();
    for (intent, sentiment) in &facts.classifications {
        *intents.entry(intent.clone()).or_insert(0) += 1;
        *sentiments.entry(sentiment.clone()).or_insert(0) += 1;
    }

    Analytics {
        from: period.from.to_string(),
        to: period.to.to_string(),
        offset_minutes: period.offset_minutes,
        totals,
        days,
        handoff_reasons: ranked(reasons, usize::MAX),
        busiest_hours: hours,
        top_intents: ranked(intents, 10),
        sentiments: ranked(sentiments, usize::MAX),
        thumbs_down_reasons: ranked(down_reasons, 20),
    }
}

fn days_len(period: &Period) -> usize {
    usize::try_from(period.days()).unwrap_or(0)
}

/// The daily rows as CSV (a header, then one line per day), for spreadsheets.
pub fn daily_csv(a: &Analytics) -> String {
    let mut out = String::from(
        "day,conversations,automated,handed_off,resolved,ratings,thumbs_up,thumbs_down,\
         prompt_tokens,completion_tokens,cost_micros\n",
    );
    for d in &a.days {
        // Every field is a date or a number: nothing needs quoting.
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            d.day,
            d.conversations,
            d.automated,
            d.handed_off,
            d.resolved,
            d.ratings,
            d.thumbs_up,
            d.thumbs_down,
            d.prompt_tokens,
            d.completion_tokens,
            d.cost_micros
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::ConversationId;
    use kefu_store::{LogFact, UsageDayFacts};
    use time::macros::date;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn fact(kind: AuthorKind, when: &str, event: Option<SystemEvent>) -> LogFact {
        LogFact {
            author_kind: kind,
            at: at(when),
            event,
        }
    }

    fn conversation(
        created: &str,
        resolved: Option<&str>,
        timeline: Vec<LogFact>,
    ) -> ConversationFacts {
        ConversationFacts {
            id: ConversationId::new(),
            created_at: at(created),
            resolved_at: resolved.map(at),
            timeline,
        }
    }

    fn handoff(reason: &str) -> Option<SystemEvent> {
        Some(SystemEvent::HandoffRequested {
            reason: reason.into(),
        })
    }

    #[test]
    fn figures_follow_the_definitions() {
        let period = Period {
            from: date!(2026 - 11 - 01),
            to: date!(2026 - 11 - 03),
            offset_minutes: 0,
        };
        let facts = AnalyticsFacts {
            conversations: vec![
                // The assistant settles it.
                conversation(
                    "2026-11-01T09:00:00Z",
                    Some("2026-11-01T09:05:00Z"),
                    vec![
                        fact(AuthorKind::Visitor, "2026-11-01T09:00:00Z", None),
                        fact(AuthorKind::Bot, "2026-11-01T09:00:01Z", None),
                    ],
                ),
                // Handed off after the assistant was unsure; a human answers 120 s later and
                // resolves after an hour.
                conversation(
                    "2026-11-01T10:00:00Z",
                    Some("2026-11-01T11:00:00Z"),
                    vec![
                        fact(AuthorKind::Visitor, "2026-11-01T10:00:00Z", None),
                        fact(AuthorKind::Bot, "2026-11-01T10:00:01Z", None),
                        fact(
                            AuthorKind::System,
                            "2026-11-01T10:00:02Z",
                            handoff("low_confidence"),
                        ),
                        fact(AuthorKind::Agent, "2026-11-01T10:02:02Z", None),
                    ],
                ),
                // No assistant: first response counts from the visitor's first message.
                conversation(
                    "2026-11-03T23:00:00Z",
                    None,
                    vec![
                        fact(AuthorKind::Visitor, "2026-11-03T23:00:00Z", None),
                        fact(AuthorKind::Visitor, "2026-11-03T23:00:30Z", None),
                        fact(AuthorKind::Agent, "2026-11-03T23:01:00Z", None),
                    ],
                ),
                // Opened, never written in.
                conversation("2026-11-02T12:00:00Z", None, vec![]),
            ],
            ratings: vec![
                (at("2026-11-01T11:00:00Z"), 5),
                (at("2026-11-02T08:00:00Z"), 2),
            ],
            thumbs: vec![
                (at("2026-11-01T09:01:00Z"), "up".into(), None),
                (
                    at("2026-11-01T10:01:00Z"),
                    "down".into(),
                    Some("unclear".into()),
                ),
            ],
            classifications: vec![
                ("refund".into(), "neutral".into()),
                ("refund".into(), "negative".into()),
                ("shipping".into(), "neutral".into()),
            ],
            usage: vec![UsageDayFacts {
                day: "2026-11-02".into(),
                requests: 3,
                prompt_tokens: 300,
                completion_tokens: 30,
                cost_micros: 1500,
            }],
        };
        let a = compute(&period, &facts);
        let t = &a.totals;
        assert_eq!(t.conversations, 4);
        assert_eq!(t.with_visitor_messages, 3);
        assert_eq!(
            (t.automated, t.handed_off, t.human_handled, t.resolved),
            (1, 1, 2, 2)
        );
        assert_eq!(t.automation_rate, Some(1.0 / 3.0));
        // 120 s and 60 s: the median is the lower (nearest rank), the p90 the higher.
        assert_eq!(t.first_response_median_secs, Some(60));
        assert_eq!(t.first_response_p90_secs, Some(120));
        // Only the human-handled resolved conversation: one hour.
        assert_eq!(t.resolution_median_secs, Some(3600));
        assert_eq!(t.rating_distribution, [0, 1, 0, 0, 1]);
        assert_eq!(t.rating_average, Some(3.5));
        assert_eq!(t.satisfied_share, Some(0.5));
        assert_eq!((t.thumbs_up, t.thumbs_down), (1, 1));
        assert_eq!(
            (t.ai_requests, t.prompt_tokens, t.cost_micros),
            (3, 300, 1500)
        );
        let per_day: Vec<(&str, i64, i64)> = a
            .days
            .iter()
            .map(|d| (d.day.as_str(), d.conversations, d.automated))
            .collect();
        assert_eq!(
            per_day,
            [
                ("2026-11-01", 2, 1),
                ("2026-11-02", 1, 0),
                ("2026-11-03", 1, 0)
            ]
        );
        assert_eq!(a.days[1].prompt_tokens, 300);
        assert_eq!(
            a.handoff_reasons,
            [Count {
                key: "low_confidence".into(),
                count: 1
            }]
        );
        assert_eq!(a.busiest_hours[9], 1);
        assert_eq!(a.busiest_hours[10], 1);
        assert_eq!(a.busiest_hours[23], 2);
        assert_eq!(a.busiest_hours.iter().sum::<i64>(), 4);
        assert_eq!(
            a.top_intents[0],
            Count {
                key: "refund".into(),
                count: 2
            }
        );
        assert_eq!(
            a.sentiments[0],
            Count {
                key: "neutral".into(),
                count: 2
            }
        );
        assert_eq!(
            a.thumbs_down_reasons,
            [Count {
                key: "unclear".into(),
                count: 1
            }]
        );

        let csv = daily_csv(&a);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("day,conversations,automated"));
        assert_eq!(lines[1], "2026-11-01,2,1,1,2,1,1,1,0,0,0");
    }

    #[test]
    fn days_and_hours_are_local_to_the_offset() {
        // UTC+8: 2026-11-01T20:00Z is 04:00 on 2 November.
        let period = Period {
            from: date!(2026 - 11 - 02),
            to: date!(2026 - 11 - 02),
            offset_minutes: 480,
        };
        let (start, end) = period.bounds().unwrap();
        assert_eq!(start.to_string(), "2026-11-01T16:00:00.000000Z");
        assert_eq!(end.to_string(), "2026-11-02T16:00:00.000000Z");
        let facts = AnalyticsFacts {
            conversations: vec![conversation(
                "2026-11-01T20:00:00Z",
                None,
                vec![fact(AuthorKind::Visitor, "2026-11-01T20:00:00Z", None)],
            )],
            ..AnalyticsFacts::default()
        };
        let a = compute(&period, &facts);
        assert_eq!(a.days.len(), 1);
        assert_eq!(a.days[0].conversations, 1);
        assert_eq!(a.busiest_hours[4], 1);
    }

    #[test]
    fn an_empty_period_has_no_rates() {
        let period = Period {
            from: date!(2026 - 01 - 01),
            to: date!(2026 - 01 - 31),
            offset_minutes: -300,
        };
        let a = compute(&period, &AnalyticsFacts::default());
        assert_eq!(a.days.len(), 31);
        assert_eq!(a.totals.automation_rate, None);
        assert_eq!(a.totals.first_response_median_secs, None);
        assert_eq!(a.totals.rating_average, None);
    }
}
