//! Ticket times of the kitchen: how long orders took from being placed to being ready, today,
//! per station and overall (`GET /api/v1/stats/tickets?since=<ms>&late_after_min=<n>`).
//!
//! The hub stores one [`TicketSample`] per finished span and answers with [`ticket_stats`]; the
//! kitchen screens draw the [`TicketStats`]. Instants are Unix milliseconds, durations on the wire
//! are whole seconds (rounded half up); there is no floating point anywhere.
//!
//! A sample belongs to the day, and the hour, in which it became **ready**: a ticket placed at
//! 23:55 and ready at 00:07 counts in the new day's first hour (with its 12 minutes), not in the
//! day it was placed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One hour, the width of an [`HourFigures`] bucket.
pub const HOUR_MS: i64 = 3_600_000;
/// The longest range [`ticket_stats`] covers (48 hours, so 48 hourly buckets at most); a longer
/// range is clamped to its first 48 hours.
pub const MAX_STATS_RANGE_MS: i64 = 48 * HOUR_MS;

/// One finished span: an order (`station` `None`) or one station's part of it (its items) was
/// placed at `placed_ms` and ready at `ready_ms` (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSample {
    pub station: Option<String>,
    pub placed_ms: i64,
    pub ready_ms: i64,
}

/// Figures of one hour (bucket) of the day: the spans that became ready in
/// `[start_ms, start_ms + 1 h)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourFigures {
    pub start_ms: i64,
    pub count: u32,
    /// Mean duration, seconds (0 when `count` is 0).
    pub average_s: u32,
    /// Nearest-rank 90th percentile, seconds (see [`percentile_rank`]; 0 when `count` is 0).
    pub p90_s: u32,
}

/// Figures of a set of spans over the whole range, and hour by hour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFigures {
    pub count: u32,
    /// Mean duration, seconds, rounded half up (0 when `count` is 0).
    pub average_s: u32,
    /// Nearest-rank 90th percentile, seconds (see [`percentile_rank`]; 0 when `count` is 0).
    pub p90_s: u32,
    /// The longest duration, seconds (0 when `count` is 0).
    pub longest_s: u32,
    /// How many spans took strictly longer than [`TicketStats::late_after_s`].
    pub late: u32,
    /// One bucket per hour from `since_ms`, each present even when empty.
    pub hourly: Vec<HourFigures>,
}

/// The figures of one kitchen station (its items of each order). On the wire the figures sit
/// beside `station`: `{"station":"grill","count":…,"average_s":…}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationFigures {
    pub station: String,
    #[serde(flatten)]
    pub figures: TicketFigures,
}

/// The answer of `GET /api/v1/stats/tickets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketStats {
    /// Start of the range (the screen's local midnight), Unix milliseconds, inclusive.
    pub since_ms: i64,
    /// End of the range, Unix milliseconds, exclusive (at most `since_ms` + [`MAX_STATS_RANGE_MS`]).
    pub until_ms: i64,
    /// A span is late when it took strictly longer than this many seconds.
    pub late_after_s: u32,
    /// Whole orders (samples without a station).
    pub overall: TicketFigures,
    /// One entry per station with at least one sample in range, sorted by name.
    pub stations: Vec<StationFigures>,
}

/// The 1-based rank of the nearest-rank 90th percentile among `n` sorted values:
/// `ceil(0.9 · n)`, computed in integers as `n - floor(n / 10)` (the same as `(9n + 9) / 10`,
/// without overflow). 1 → 1, 5 → 5, 10 → 9, 11 → 10; 0 for an empty set.
pub fn percentile_rank(n: usize) -> usize {
    n - n / 10
}

/// The figures of the spans among `samples` that became ready in `[since_ms, until_ms)`.
///
/// - A sample is attributed to the day and the hour in which it became **ready**
///   (`since_ms <= ready_ms < until_ms`), even when it was placed before `since_ms`.
/// - A sample ready before it was placed (a clock step) counts as 0 s, never negative.
/// - A range longer than [`MAX_STATS_RANGE_MS`] is clamped: `until_ms` is reduced to
///   `since_ms + 48 h` (and the answer says so in its `until_ms`). When `until_ms <= since_ms`
///   there are no buckets and nothing counts.
/// - `hourly` has one bucket per hour from `since_ms` up to `until_ms` (the last one may reach
///   past it), every one present even when empty.
/// - Seconds are rounded half up; the average is the exact mean of the millisecond durations,
///   rounded half up; the 90th percentile is nearest-rank ([`percentile_rank`]); a duration past
///   `u32::MAX` seconds reads `u32::MAX`, and a count past `u32::MAX` likewise.
/// - `overall` is computed from the samples without a station; each station's from its own.
pub fn ticket_stats(samples: &[TicketSample], since_ms: i64, until_ms: i64, late_after_s: u32) -> TicketStats {
    let until_ms = until_ms.min(since_ms.saturating_add(MAX_STATS_RANGE_MS));
    let window = Window::new(since_ms, until_ms, late_after_s);

    let mut overall = Vec::new();
    let mut stations: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
    for sample in samples {
        let Some(span) = window.span(sample) else { continue };
        match &sample.station {
            None => overall.push(span),
            Some(station) => stations.entry(station.as_str()).or_default().push(span),
        }
    }

    TicketStats {
        since_ms,
        until_ms,
        late_after_s,
        overall: window.figures(overall),
        stations: stations
            .into_iter()
            .map(|(station, spans)| StationFigures { station: station.to_string(), figures: window.figures(spans) })
            .collect(),
    }
}

/// A sample in range: its hourly bucket and its duration in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Span {
    bucket: usize,
    duration_ms: u64,
}

/// The (already clamped) range of a [`ticket_stats`] call.
struct Window {
    since_ms: i64,
    until_ms: i64,
    buckets: usize,
    late_after_ms: u64,
}

impl Window {
    fn new(since_ms: i64, until_ms: i64, late_after_s: u32) -> Window {
        let length = (i128::from(until_ms) - i128::from(since_ms)).max(0);
        let hour = i128::from(HOUR_MS);
        let buckets = usize::try_from((length + hour - 1) / hour).unwrap_or(0);
        Window { since_ms, until_ms, buckets, late_after_ms: u64::from(late_after_s) * 1000 }
    }

    fn span(&self, sample: &TicketSample) -> Option<Span> {
        if sample.ready_ms < self.since_ms || sample.ready_ms >= self.until_ms {
            return None;
        }
        let offset = i128::from(sample.ready_ms) - i128::from(self.since_ms);
        let bucket = usize::try_from(offset / i128::from(HOUR_MS)).ok()?;
        let duration = (i128::from(sample.ready_ms) - i128::from(sample.placed_ms)).max(0);
        // The difference of two i64 is below 2^64, so it always fits.
        let duration_ms = u64::try_from(duration).unwrap_or(u64::MAX);
        Some(Span { bucket, duration_ms })
    }

    fn figures(&self, spans: Vec<Span>) -> TicketFigures {
        let mut by_hour = vec![Vec::new(); self.buckets];
        let mut all = Vec::with_capacity(spans.len());
        for span in spans {
            if let Some(hour) = by_hour.get_mut(span.bucket) {
                hour.push(span.duration_ms);
            }
            all.push(span.duration_ms);
        }
        let late = all.iter().filter(|&&ms| ms > self.late_after_ms).count();
        let summary = Summary::of(all);
        TicketFigures {
            count: summary.count,
            average_s: summary.average_s,
            p90_s: summary.p90_s,
            longest_s: summary.longest_s,
            late: saturating_u32(late),
            hourly: by_hour
                .into_iter()
                .enumerate()
                .map(|(k, durations)| {
                    let summary = Summary::of(durations);
                    HourFigures {
                        // Bucket k starts before `until_ms`, so this never overflows.
                        start_ms: self.since_ms.saturating_add(HOUR_MS.saturating_mul(k as i64)),
                        count: summary.count,
                        average_s: summary.average_s,
                        p90_s: summary.p90_s,
                    }
                })
                .collect(),
        }
    }
}

/// Count, mean, 90th percentile and maximum of a set of durations.
struct Summary {
    count: u32,
    average_s: u32,
    p90_s: u32,
    longest_s: u32,
}

impl Summary {
    fn of(mut durations_ms: Vec<u64>) -> Summary {
        if durations_ms.is_empty() {
            return Summary { count: 0, average_s: 0, p90_s: 0, longest_s: 0 };
        }
        durations_ms.sort_unstable();
        let n = durations_ms.len();
        let sum: u128 = durations_ms.iter().map(|&ms| u128::from(ms)).sum();
        // The mean rounded half up to seconds, (sum / n + 500) / 1000, in one division (the same
        // result, as the sub-millisecond part of the mean cannot reach the next second).
        let n128 = n as u128;
        let average_s = (sum + 500 * n128) / (1000 * n128);
        let p90_ms = durations_ms[percentile_rank(n) - 1];
        let longest_ms = durations_ms[n - 1];
        Summary {
            count: saturating_u32(n),
            average_s: u32::try_from(average_s).unwrap_or(u32::MAX),
            p90_s: ms_to_s(p90_ms),
            longest_s: ms_to_s(longest_ms),
        }
    }
}

/// Milliseconds to whole seconds, rounded half up, saturating at `u32::MAX`.
fn ms_to_s(ms: u64) -> u32 {
    u32::try_from((u128::from(ms) + 500) / 1000).unwrap_or(u32::MAX)
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Saturday midnight (UTC), 2025-11-29T00:00:00Z.
    const MIDNIGHT: i64 = 1_764_374_400_000;
    const DAY: i64 = 86_400_000;
    const MIN: i64 = 60_000;

    fn order(placed_ms: i64, ready_ms: i64) -> TicketSample {
        TicketSample { station: None, placed_ms, ready_ms }
    }

    fn at(station: &str, placed_ms: i64, ready_ms: i64) -> TicketSample {
        TicketSample { station: Some(station.into()), placed_ms, ready_ms }
    }

    /// Orders ready at 10:00 that took the given milliseconds.
    fn took(durations_ms: &[i64]) -> Vec<TicketSample> {
        let ready = MIDNIGHT + 10 * HOUR_MS;
        durations_ms.iter().map(|&ms| order(ready - ms, ready)).collect()
    }

    fn day(samples: &[TicketSample]) -> TicketStats {
        ticket_stats(samples, MIDNIGHT, MIDNIGHT + DAY, 600)
    }

    #[test]
    fn nothing_to_count() {
        let stats = day(&[]);
        assert_eq!((stats.since_ms, stats.until_ms, stats.late_after_s), (MIDNIGHT, MIDNIGHT + DAY, 600));
        let o = &stats.overall;
        assert_eq!((o.count, o.average_s, o.p90_s, o.longest_s, o.late), (0, 0, 0, 0, 0));
        assert_eq!(o.hourly.len(), 24);
        for (k, hour) in o.hourly.iter().enumerate() {
            assert_eq!(*hour, HourFigures { start_ms: MIDNIGHT + k as i64 * HOUR_MS, ..HourFigures::default() });
        }
        assert!(stats.stations.is_empty());
    }

    #[test]
    fn one_sample() {
        let stats = day(&[order(MIDNIGHT + 12 * HOUR_MS, MIDNIGHT + 12 * HOUR_MS + 7 * MIN + 30_000)]);
        let o = &stats.overall;
        assert_eq!((o.count, o.average_s, o.p90_s, o.longest_s, o.late), (1, 450, 450, 450, 0));
        let busy: Vec<usize> = o.hourly.iter().enumerate().filter(|(_, h)| h.count > 0).map(|(k, _)| k).collect();
        assert_eq!(busy, [12]);
        assert_eq!(
            o.hourly[12],
            HourFigures { start_ms: MIDNIGHT + 12 * HOUR_MS, count: 1, average_s: 450, p90_s: 450 }
        );
    }

    #[test]
    fn nearest_rank_percentile() {
        assert_eq!([0, 1, 2, 5, 10, 11, 19, 20, 100].map(percentile_rank), [0, 1, 2, 5, 9, 10, 18, 18, 90]);
        assert_eq!(percentile_rank(usize::MAX), usize::MAX - usize::MAX / 10, "no overflow");
        // Durations 1 s, 2 s, … n s, given in reverse so that sorting matters: the p90 is the
        // rank-th second.
        for (n, chosen) in [(1, 1), (2, 2), (5, 5), (10, 9), (11, 10)] {
            let durations: Vec<i64> = (1..=n).rev().map(|s| s * 1000).collect();
            let o = day(&took(&durations)).overall;
            assert_eq!(o.p90_s, chosen as u32, "n = {n}");
            assert_eq!(o.hourly[10].p90_s, chosen as u32, "n = {n}, the hour");
            assert_eq!(o.longest_s, n as u32);
        }
    }

    #[test]
    fn seconds_round_half_up() {
        assert_eq!(day(&took(&[1_499])).overall.average_s, 1);
        assert_eq!(day(&took(&[1_500])).overall.average_s, 2);
        assert_eq!(day(&took(&[499])).overall.longest_s, 0);
        assert_eq!(day(&took(&[500])).overall.p90_s, 1);
        // Means with a fraction of a millisecond: 1 499.5 ms → 1 s, 1 500.5 ms → 2 s, 1 499.67 ms → 1 s.
        assert_eq!(day(&took(&[1_499, 1_500])).overall.average_s, 1);
        assert_eq!(day(&took(&[1_500, 1_501])).overall.average_s, 2);
        assert_eq!(day(&took(&[1_000, 1_000, 2_499])).overall.average_s, 1);
        let o = day(&took(&[60_000, 120_000, 240_000])).overall;
        assert_eq!((o.average_s, o.longest_s), (140, 240));
    }

    #[test]
    fn a_ticket_counts_on_the_day_and_hour_it_was_ready() {
        let late_night = order(MIDNIGHT - 5 * MIN, MIDNIGHT + 7 * MIN);
        let today = day(std::slice::from_ref(&late_night)).overall;
        assert_eq!((today.count, today.average_s), (1, 720));
        assert_eq!(today.hourly[0], HourFigures { start_ms: MIDNIGHT, count: 1, average_s: 720, p90_s: 720 });
        let yesterday = ticket_stats(&[late_night], MIDNIGHT - DAY, MIDNIGHT, 600).overall;
        assert_eq!(yesterday.count, 0);
        assert!(yesterday.hourly.iter().all(|h| h.count == 0));
        assert_eq!(yesterday.hourly[0].start_ms, MIDNIGHT - DAY);
    }

    #[test]
    fn the_range_includes_since_and_excludes_until() {
        let until = MIDNIGHT + DAY;
        let stats = day(&[
            order(MIDNIGHT - MIN, MIDNIGHT),
            order(until - 2 * MIN, until - 1),
            order(until - 3 * MIN, until),
            order(MIDNIGHT - 2 * MIN, MIDNIGHT - 1),
        ]);
        let o = &stats.overall;
        assert_eq!(o.count, 2);
        assert_eq!((o.hourly[0].count, o.hourly[23].count), (1, 1));
        assert_eq!((o.hourly[0].average_s, o.hourly[23].average_s), (60, 120));
    }

    #[test]
    fn late_means_strictly_over() {
        let limit = 600_000;
        let o = day(&took(&[limit - 1, limit, limit + 1, 2 * limit])).overall;
        assert_eq!(o.late, 2);
        assert_eq!(ticket_stats(&took(&[1]), MIDNIGHT, MIDNIGHT + DAY, 0).overall.late, 1);
        assert_eq!(ticket_stats(&took(&[0]), MIDNIGHT, MIDNIGHT + DAY, 0).overall.late, 0);
        let far = i64::from(u32::MAX) * 1000;
        assert_eq!(ticket_stats(&took(&[far, far + 1]), MIDNIGHT, MIDNIGHT + DAY, u32::MAX).overall.late, 1);
    }

    #[test]
    fn stations_are_grouped_and_sorted_by_name() {
        let t = MIDNIGHT + 9 * HOUR_MS;
        let stats = day(&[
            at("grill", t, t + 10 * MIN),
            at("drinks", t, t + MIN),
            order(t, t + 12 * MIN),
            at("grill", t + HOUR_MS, t + HOUR_MS + 4 * MIN),
            at("fryer", MIDNIGHT - 2 * HOUR_MS, MIDNIGHT - HOUR_MS),
            at("drinks", t + 2 * HOUR_MS, t + 2 * HOUR_MS + 3 * MIN),
        ]);
        let names: Vec<&str> = stats.stations.iter().map(|s| s.station.as_str()).collect();
        assert_eq!(names, ["drinks", "grill"], "fryer has nothing in range");
        let grill = &stats.stations[1].figures;
        assert_eq!((grill.count, grill.average_s, grill.p90_s, grill.longest_s, grill.late), (2, 420, 600, 600, 0));
        assert_eq!((grill.hourly[9].count, grill.hourly[10].count, grill.hourly.len()), (1, 1, 24));
        let drinks = &stats.stations[0].figures;
        assert_eq!((drinks.count, drinks.average_s, drinks.hourly[11].average_s), (2, 120, 180));
        let o = &stats.overall;
        assert_eq!((o.count, o.average_s, o.late), (1, 720, 1), "only the whole orders");
    }

    #[test]
    fn hours_cover_the_range_and_long_ranges_are_clamped() {
        let hours = |until: i64| ticket_stats(&[], MIDNIGHT, until, 60).overall.hourly.len();
        assert_eq!(hours(MIDNIGHT + 1), 1);
        assert_eq!(hours(MIDNIGHT + HOUR_MS), 1);
        assert_eq!(hours(MIDNIGHT + HOUR_MS + 1), 2);
        assert_eq!(hours(MIDNIGHT + 23 * HOUR_MS), 23, "the day the clocks go forward");
        assert_eq!(hours(MIDNIGHT + 25 * HOUR_MS), 25, "the day they go back");
        assert_eq!(hours(MIDNIGHT + MAX_STATS_RANGE_MS), 48);
        assert_eq!(hours(MIDNIGHT + 30 * DAY), 48);
        assert_eq!(hours(i64::MAX), 48);
        assert_eq!(hours(MIDNIGHT), 0);
        assert_eq!(hours(MIDNIGHT - DAY), 0);

        let beyond = order(MIDNIGHT + 50 * HOUR_MS, MIDNIGHT + 50 * HOUR_MS + MIN);
        let within = order(MIDNIGHT + 47 * HOUR_MS, MIDNIGHT + 47 * HOUR_MS + MIN);
        let stats = ticket_stats(&[beyond.clone(), within], MIDNIGHT, MIDNIGHT + 7 * DAY, 60);
        assert_eq!(stats.until_ms, MIDNIGHT + MAX_STATS_RANGE_MS);
        assert_eq!(stats.overall.count, 1);
        assert_eq!(stats.overall.hourly[47].count, 1);
        assert_eq!(stats.overall.hourly[47].start_ms, MIDNIGHT + 47 * HOUR_MS);

        let empty = ticket_stats(&[beyond], MIDNIGHT + DAY, MIDNIGHT, 60);
        assert_eq!((empty.overall.count, empty.overall.hourly.len(), empty.stations.len()), (0, 0, 0));
        assert_eq!(empty.until_ms, MIDNIGHT);
    }

    #[test]
    fn a_ticket_ready_before_it_was_placed_took_no_time() {
        let t = MIDNIGHT + 10 * HOUR_MS;
        let o = day(&[order(t + 5 * MIN, t), order(t, t + 2 * MIN)]).overall;
        assert_eq!((o.count, o.average_s, o.p90_s, o.longest_s), (2, 60, 120, 120));
        assert_eq!(day(&[order(i64::MAX, t)]).overall.longest_s, 0);
    }

    #[test]
    fn huge_values_saturate_and_do_not_panic() {
        let ready = i64::MAX / 2;
        let since = ready - HOUR_MS;
        let samples: Vec<TicketSample> =
            (0..5).map(|_| order(i64::MIN / 2, ready)).chain((0..5).map(|_| at("grill", i64::MIN, ready))).collect();
        let stats = ticket_stats(&samples, since, since + DAY, u32::MAX);
        for figures in [&stats.overall, &stats.stations[0].figures] {
            assert_eq!(figures.count, 5);
            assert_eq!((figures.average_s, figures.p90_s, figures.longest_s), (u32::MAX, u32::MAX, u32::MAX));
            assert_eq!(figures.late, 5);
            assert_eq!(figures.hourly[1].average_s, u32::MAX);
        }

        // Ranges at the ends of time.
        let top = ticket_stats(&[order(i64::MIN, i64::MAX - 1)], i64::MAX - 10, i64::MAX, 0);
        assert_eq!((top.until_ms, top.overall.count, top.overall.hourly.len()), (i64::MAX, 1, 1));
        assert_eq!(top.overall.longest_s, u32::MAX);
        let bottom = ticket_stats(&[order(i64::MAX, i64::MIN)], i64::MIN, i64::MAX, 0);
        assert_eq!(bottom.until_ms, i64::MIN + MAX_STATS_RANGE_MS);
        assert_eq!((bottom.overall.count, bottom.overall.longest_s, bottom.overall.hourly.len()), (1, 0, 48));
    }

    #[test]
    fn json_round_trip_with_the_station_figures_flattened() {
        let t = MIDNIGHT + 8 * HOUR_MS;
        let stats = ticket_stats(
            &[order(t, t + 9 * MIN), at("grill", t, t + 6 * MIN), at("grill", t, t + 8 * MIN)],
            MIDNIGHT,
            MIDNIGHT + 10 * HOUR_MS,
            420,
        );
        let text = serde_json::to_string(&stats).unwrap();
        assert!(text.contains(r#"{"station":"grill","count":2,"average_s":420,"p90_s":480,"longest_s":480,"late":1,"#));
        let value = serde_json::to_value(&stats).unwrap();
        assert_eq!(value["stations"][0]["station"], "grill");
        assert_eq!(value["stations"][0]["count"], 2);
        assert!(value["stations"][0].get("figures").is_none());
        assert_eq!(
            value["stations"][0]["hourly"][8],
            json!({"start_ms": MIDNIGHT + 8 * HOUR_MS, "count": 2, "average_s": 420, "p90_s": 480})
        );
        assert_eq!(value["overall"]["late"], 1);
        assert_eq!(value["late_after_s"], 420);
        assert_eq!(value["until_ms"], MIDNIGHT + 10 * HOUR_MS);
        let back: TicketStats = serde_json::from_str(&text).unwrap();
        assert_eq!(back, stats);

        let sample = at("fryer", 1, 2);
        let value = serde_json::to_value(&sample).unwrap();
        assert_eq!(value, json!({"station":"fryer","placed_ms":1,"ready_ms":2}));
        assert_eq!(serde_json::from_value::<TicketSample>(value).unwrap(), sample);
    }
}
