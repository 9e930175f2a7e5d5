"""The report's method section, written from the very constants the analysis uses, so the text can
never drift from what was done (change a threshold and the report says the new one).

Place in the flow: ``report.build`` puts these paragraphs in ``report.md`` and ``report.html``.
"""

from __future__ import annotations

from monitor.analysis.before_after import FOOTPRINT_WARNING
from monitor.analysis.flights import FlightRules
from monitor.analysis.stats import FAMILY_ALPHA, AnalysisRules

__all__ = ["method_paragraphs"]


def method_paragraphs(rules: AnalysisRules, flights: FlightRules, fir: str, fir_name: str, source: str) -> list[str]:
    """The method, one paragraph per step: data, gaps, matching, intervals, flights, zones."""
    gap_min = flights.gap_s / 60
    return [
        f"Counts come from {source} snapshots of the box around the {fir_name} ({fir}), classified into {fir}, "
        "the ring sectors around it and 'outside' by vzmon's zones (geo/data/SOURCES.md).",
        f"Gaps are gaps: hours whose share of expected polls that succeeded (coverage) is below "
        f"{rules.min_coverage:.0%} are left out, never counted as zero and never interpolated. Failed, "
        "rate-limited, skipped and empty polls are gaps.",
        "Like with like: only hours present on both sides are compared, matched on hour of the week (EUROCONTROL "
        "compares a day with the same weekday of earlier weeks), or on hour of the day when the windows share too "
        "few weekdays; each row of the table says which.",
        "Changes are after/before - 1 of the means over matched hours. The 95% interval treats days as the units "
        "of noise: matched on hour of the week, each weekday is a pair (its hours before and after) and the "
        "interval is the ratio estimator's with Student t on pairs - 1 degrees of freedom; matched on hour of the "
        "day, the two sides' days are independent samples (Welch t). Both are on the log scale. Short windows "
        f"give wide intervals on purpose: 2-3 days are few samples. Fewer than {rules.min_days:g} days of usable "
        f"matched hours on a side, or fewer than {rules.min_matched_hours} matched hours, gives 'insufficient "
        "data'. The interval column of metrics.csv says which method and how many degrees of freedom each row "
        "used.",
        *(
            [
                f"Long baseline: the before window is the {rules.baseline_weeks} weeks before the event. For each "
                "baseline week with enough usable hours matched to the after window on hour of the week, "
                "d = log(after mean / week mean) over the same hours; the change is exp(mean d) - 1, and its 95% "
                f"interval treats weeks as the units of noise: a prediction interval, variance s^2 (1 + 1/N) over "
                f"the N weeks, Student t with N - 1 degrees of freedom. Events inside the baseline weeks are "
                "not cut out: they are listed as possible confounders. Per-day measures (unique aircraft) compare "
                "days as above."
            ]
            if rules.baseline_weeks
            else []
        ),
        f"What the verdict may claim: it reports aircraft airborne in {fir} (the primary measure) and in each "
        f"ring sector, and {fir}'s flights per class; a change is claimed only where its p-value, adjusted by "
        f"Holm's method over that family, is below {FAMILY_ALPHA:.0%}, so with no event at all at most "
        f"{FAMILY_ALPHA:.0%} of reports claim any change (the familywise error). Other rows show their own "
        "interval only. The smallest change the windows could detect is stated for the primary measure "
        "(80% power, from its interval).",
        f"A flight is one aircraft's continuous presence, split where it went unseen for over {gap_min:g} minutes "
        "of working polling (a feed outage does not split it), at a new callsign or at a take-off after a "
        "landing. Across a coverage hole the two sides are one flight when it plainly flew on: airborne on "
        f"both sides, the same callsign, unseen at most {flights.join_max_s / 3600:g} h, at a speed across the "
        f"hole within {flights.join_speed_tolerance:.0%} of its own. A flight first seen in a zone right after a "
        "feed outage entered it at an unknown moment during the outage: such entries are spread evenly over "
        f"it. Flights with an airborne position in {fir} are classed by their ends (on the ground or below "
        f"{flights.low_agl_m:,.0f} m within {flights.airport_radius_km:g} km of an airport with an IATA code, or "
        f"climbing/descending at {flights.min_vrate_mps:g} m/s or more towards one on a "
        f"1:{flights.km_per_1000m:g} gradient, up to {flights.profile_agl_m:,.0f} m; of the airports that fit, the one "
        "its track points to or from): domestic (both ends at "
        f"airports in {fir}), departure, arrival or overflight (neither). A departure first seen at cruise (poor "
        "low-level coverage) counts as an overflight.",
        f"Ring sectors are named after the FIR across that part of the {fir} border; they do not mean membership "
        "of that FIR. Every count is of aircraft visible to the source: ADS-B sees only aircraft that transmit "
        "(military and state flights often do not) within reach of a receiver, so where an event moves traffic "
        "between well and poorly covered areas the visible change differs from the real one. The coverage map "
        "compares where any aircraft was seen in the last and the first stretch of equal length around the "
        "event. Sparse cells flip between any two samples, so the verdict warns only when the share of the "
        "FIR's and ring's cells seen on one side only exceeds, by more than "
        f"{FOOTPRINT_WARNING:.0%}, the share that differs between alternate hours of the same side (like "
        "halves compared: even hours with even, odd with odd).",
    ]
