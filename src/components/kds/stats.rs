//! Today's ticket times: a strip with the screen's own figures, and at expo a summary per
//! station with the day drawn hour by hour (a trend reads faster than a table).

use leptos::prelude::*;
use restaurant_protocol::{HourFigures, TicketFigures, TicketStats};

use crate::core::board::Station;
use crate::core::ticket_stats::{StatsView, duration_text, figures_for};
use crate::web::clock::local_hour;

#[component]
pub fn TicketStatsPanel(view: Signal<StatsView>, station: Memo<Station>) -> impl IntoView {
    let state = move || view.with(StatsView::as_str);
    let stale = move || {
        view.with(|v| match v {
            StatsView::Stale { message, .. } => Some(message.clone()),
            _ => None,
        })
    };
    let strip = move || {
        view.with(|v| {
            let Some(stats) = v.stats() else {
                return view! { <p class="stats-line" data-testid="stats-loading">"Ticket times: loading…"</p> }
                    .into_any();
            };
            let here = station.get();
            let empty = TicketFigures::default();
            let figures = figures_for(stats, &here).unwrap_or(&empty);
            let whose = match &here {
                Station::Prep(name) => name.clone(),
                Station::Kitchen | Station::Expo => "all orders".to_string(),
            };
            figures_line(&format!("Today, {whose}"), figures, "stats-strip-figures").into_any()
        })
    };
    let expo = move || {
        (station.get() == Station::Expo).then(|| view.with(|v| v.stats().cloned())).flatten().map(|stats| {
            let rows = stats
                .stations
                .iter()
                .map(|s| {
                    view! {
                        <li data-testid="stats-station" data-station=s.station.clone() data-count=s.figures.count>
                            {figures_line(&s.station, &s.figures, "stats-station-figures")}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul class="stats-stations" aria-label="Ticket times by station">{rows}</ul>
                {hourly_chart(&stats)}
            }
        })
    };
    view! {
        <section class="kds-stats" data-testid="stats-strip" data-state=state aria-label="Ticket times today">
            {strip}
            {move || stale().map(|m| view! { <p class="stats-stale" data-testid="stats-stale">{format!("Not current: {m}")}</p> })}
            {expo}
        </section>
    }
}

fn figures_line(label: &str, f: &TicketFigures, testid: &'static str) -> impl IntoView + use<> {
    let tickets = if f.count == 1 { "ticket" } else { "tickets" };
    let some_late = f.late > 0;
    view! {
        <p class="stats-line" data-testid=testid data-count=f.count data-late=f.late>
            <span class="stats-label">{label.to_string()}</span>
            ": "
            <span data-testid="stats-count">{format!("{} {tickets}", f.count)}</span>
            " · avg "
            <span data-testid="stats-average">{duration_text(f.average_s)}</span>
            " · p90 "
            <span data-testid="stats-p90">{duration_text(f.p90_s)}</span>
            " · "
            <span data-testid="stats-late" class:stats-late-some=some_late>{format!("{} late", f.late)}</span>
        </p>
    }
}

/// Width and height of the chart's drawing, in its own units (it scales with the panel).
const CHART_W: f64 = 240.0;
const CHART_H: f64 = 80.0;

/// A chart coordinate to one decimal place, in integer arithmetic: Rust's float formatting
/// would add its whole machinery (about 13 KB) to the page for these few numbers.
fn tenths(v: f64) -> String {
    let t = (v * 10.0).round() as i64;
    let sign = if t < 0 { "-" } else { "" };
    let t = t.unsigned_abs();
    format!("{sign}{}.{}", t / 10, t % 10)
}

/// The day's average ticket time per hour as bars, with the late threshold as a line.
fn hourly_chart(stats: &TicketStats) -> impl IntoView + use<> {
    let hours: Vec<&HourFigures> = stats.overall.hourly.iter().take(24).collect();
    let late = f64::from(stats.late_after_s);
    let top = hours.iter().map(|h| f64::from(h.average_s)).fold(late * 1.25, f64::max).max(1.0);
    let slot = CHART_W / hours.len().max(1) as f64;
    let scale = |seconds: f64| CHART_H * (seconds / top).min(1.0);
    let late_y = CHART_H - scale(late);
    let bars = hours
        .iter()
        .map(|h| {
            let hour = local_hour(h.start_ms as f64);
            let height = scale(f64::from(h.average_s));
            let over = h.average_s > stats.late_after_s;
            let x = slot * hours.iter().position(|o| o.start_ms == h.start_ms).unwrap_or(0) as f64;
            let title = if h.count == 0 {
                format!("{hour:02}:00 — no tickets")
            } else {
                format!("{hour:02}:00 — {} tickets, average {}", h.count, duration_text(h.average_s))
            };
            view! {
                <rect
                    class="stats-bar"
                    class:stats-bar-late=over
                    data-testid="stats-bar"
                    data-hour=hour
                    data-count=h.count
                    x=tenths(x + slot * 0.15)
                    y=tenths(CHART_H - height)
                    width=tenths(slot * 0.7)
                    height=tenths(height)
                >
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let busiest = hours.iter().max_by_key(|h| h.count).filter(|h| h.count > 0);
    let summary = match busiest {
        Some(h) => format!(
            "Average ticket time by hour today; busiest hour {:02}:00 with {} tickets averaging {}",
            local_hour(h.start_ms as f64),
            h.count,
            duration_text(h.average_s)
        ),
        None => "Average ticket time by hour today: no tickets yet".to_string(),
    };
    view! {
        <figure class="stats-chart">
            <svg
                viewBox=format!("0 0 {} {}", tenths(CHART_W), tenths(CHART_H + 12.0))
                role="img"
                aria-label=summary.clone()
                data-testid="stats-chart"
            >
                {bars}
                <line class="stats-late-line" x1="0" x2=tenths(CHART_W) y1=tenths(late_y) y2=tenths(late_y)/>
                {[0usize, 6, 12, 18]
                    .into_iter()
                    .filter(|&i| i < hours.len())
                    .map(|i| {
                        view! {
                            <text class="stats-axis" x=tenths(slot * i as f64) y=tenths(CHART_H + 11.0)>
                                {format!("{:02}", local_hour(hours[i].start_ms as f64))}
                            </text>
                        }
                    })
                    .collect_view()}
            </svg>
            <figcaption>{summary}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::tenths;

    #[test]
    fn coordinates_have_one_decimal_place() {
        assert_eq!(tenths(0.0), "0.0");
        assert_eq!(tenths(240.0), "240.0");
        assert_eq!(tenths(12.34), "12.3");
        assert_eq!(tenths(7.96), "8.0");
        assert_eq!(tenths(0.04), "0.0");
        assert_eq!(tenths(-0.04), "0.0");
        assert_eq!(tenths(-1.26), "-1.3");
    }
}
