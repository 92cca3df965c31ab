-- One row per driver per race, for every source: dbt's own statistics over ALL timed laps (lap 1
-- included), next to the source's published figures. Non-starters keep their row with laps = 0 and NULL
-- lap statistics. Own consistency uses LiveRC's formula, 100 * (1 - population stddev / mean), for every
-- source, so own figures compare across sources (published ones only within their source).
-- total_time_s is the laps alone (lap statistics, means); race_time_s adds the lead-in that the source
-- counts (Everlaps heats with races.lead_in_counted: the run from the grid to the line), the neutral
-- total sum(laps) + coalesce(lead_in_time_s, 0) of mre.race_results, and the gaps are taken on it.
-- Maintained per event: a build with a batch reads and replaces only the batch's events.
-- depends_on: {{ ref('summary_batch_history_keys') }}
{{ config(
    indexes=[
        {'columns': ['race_result_id'], 'unique': True},
        {'columns': ['event_id']},
        {'columns': ['driver_id', 'track_id', 'race_year']},
        {'columns': ['source_race_id', 'source_driver_id']},
    ],
) }}

with results_in_scope as (

    select rr.*
    from {{ ref('stg_race_results') }} as rr
    join {{ ref('stg_races') }} as ra on ra.race_id = rr.race_id
    where {{ summary_event_filter('ra.event_id') }}

),

laps as (

    select
        race_result_id,
        lap_number,
        lap_time_s,
        count(*) over (partition by race_result_id) as n_laps,
        row_number() over (partition by race_result_id order by lap_number) as lap_seq,
        row_number() over (partition by race_result_id order by lap_time_s, lap_number) as speed_rank,
        sum(lap_time_s) over three_laps as three_lap_sum,
        count(*) over three_laps as three_lap_count
    from {{ ref('stg_laps') }} as l
    {%- if summary_event_ids() is not none %}
    where l.race_result_id in (select race_result_id from results_in_scope)
    {%- endif %}
    window three_laps as (
        partition by race_result_id order by lap_number rows between current row and 2 following
    )

),

lap_stats as (

    select
        race_result_id,
        count(*) as laps,
        sum(lap_time_s) as total_time_s,
        min(lap_time_s) as best_lap_s,
        min(lap_number) filter (where speed_rank = 1) as best_lap_number,
        avg(lap_time_s) as mean_lap_s,
        avg(lap_time_s) filter (
            where speed_rank in ((n_laps + 1) / 2, (n_laps + 2) / 2)
        ) as median_lap_s,
        case when count(*) >= 2 then stddev_pop(lap_time_s) end as stddev_lap_s,
        min(three_lap_sum) filter (where three_lap_count = 3) as best_3_consecutive_s,
        case when count(*) >= 5 then avg(lap_time_s) filter (where speed_rank <= 5) end as avg_top5_s,
        case when count(*) >= 10 then avg(lap_time_s) filter (where speed_rank <= 10) end as avg_top10_s,
        -- Thirds by lap count (n / 3 laps each, integer division): NULL below 3 laps.
        avg(lap_time_s) filter (where lap_seq <= n_laps / 3) as first_third_avg_s,
        avg(lap_time_s) filter (where lap_seq > n_laps - n_laps / 3) as last_third_avg_s
    from laps
    group by race_result_id

),

results as (

    select
        rr.*,
        coalesce(ls.laps, 0) as laps,
        ls.total_time_s,
        -- Non-starters: NULL, unless the source counted a lead-in (a published total without a lap).
        case
            when ls.laps > 0 or rr.lead_in_time_s is not null
                then coalesce(ls.total_time_s, 0) + coalesce(rr.lead_in_time_s, 0)
        end as race_time_s,
        ls.best_lap_s,
        ls.best_lap_number,
        round(ls.mean_lap_s, 3) as mean_lap_s,
        round(ls.median_lap_s, 3) as median_lap_s,
        round(ls.stddev_lap_s, 3) as stddev_lap_s,
        round(100 * (1 - ls.stddev_lap_s / nullif(ls.mean_lap_s, 0)), 3) as consistency_pct,
        ls.best_3_consecutive_s,
        round(ls.avg_top5_s, 3) as avg_top5_s,
        round(ls.avg_top10_s, 3) as avg_top10_s,
        round(ls.first_third_avg_s, 3) as first_third_avg_s,
        round(ls.last_third_avg_s, 3) as last_third_avg_s,
        round(ls.last_third_avg_s - ls.first_third_avg_s, 3) as drop_off_s,
        round(100 * (ls.last_third_avg_s - ls.first_third_avg_s) / nullif(ls.first_third_avg_s, 0), 3)
            as drop_off_pct
    from results_in_scope as rr
    left join lap_stats as ls on ls.race_result_id = rr.race_result_id

),

winners as (

    -- The winner is whoever the source placed first; a race without a P1 row gets NULL gaps.
    select race_id, laps as winner_laps, race_time_s as winner_race_time_s
    from results
    where finish_position = 1

)

select
    r.race_result_id,
    r.race_id,
    ra.source,
    ra.source_race_id,
    ra.locator,
    ra.event_id,
    e.source_event_id,
    e.event_name,
    e.event_start_date,
    e.event_starts_at_utc,
    e.track_id,
    t.track_slug,
    t.track_name,
    r.driver_id,
    d.source_driver_id,
    d.driver_name,
    r.car_number,
    ra.class_name,
    ra.session_label,
    ra.section,
    ra.round_label,
    ra.race_number,
    ra.length_label,
    ra.completed_at,
    -- The race's own date when the source prints one (LiveRC); Everlaps publishes no time per heat, so its
    -- races take the event's first day (the UTC date of event_starts_at_utc).
    coalesce(ra.completed_at::date, e.event_start_date) as race_date,
    extract(year from coalesce(ra.completed_at::date, e.event_start_date))::integer as race_year,
    r.laps,
    r.laps > 0 as started,
    r.total_time_s,
    ra.lead_in_counted,
    r.lead_in_time_s,
    r.race_time_s,
    r.best_lap_s,
    r.best_lap_number,
    r.published_fastest_lap_s,
    r.published_fastest_lap_number,
    r.mean_lap_s,
    r.median_lap_s,
    r.stddev_lap_s,
    r.consistency_pct,
    r.best_3_consecutive_s,
    r.avg_top5_s,
    r.avg_top10_s,
    r.first_third_avg_s,
    r.last_third_avg_s,
    r.drop_off_s,
    r.drop_off_pct,
    r.grid_position,
    r.qual_position,
    r.finish_position,
    r.grid_position - r.finish_position as positions_gained,
    w.winner_laps - r.laps as laps_behind_winner,
    case when r.laps > 0 and r.laps = w.winner_laps then r.race_time_s - w.winner_race_time_s end
        as gap_to_winner_s,
    r.published_laps,
    r.published_total_time_s,
    r.published_behind_text,
    r.published_avg_lap_s,
    r.published_avg_top3_s,
    r.published_avg_top5_s,
    r.published_avg_top10_s,
    r.published_avg_top15_s,
    r.published_top3_consecutive_s,
    r.published_std_deviation_s,
    r.published_consistency_pct
from results as r
join {{ ref('stg_races') }} as ra on ra.race_id = r.race_id
join {{ ref('stg_events') }} as e on e.event_id = ra.event_id
join {{ ref('stg_tracks') }} as t on t.track_id = e.track_id
join {{ ref('stg_drivers') }} as d on d.driver_id = r.driver_id
left join winners as w on w.race_id = r.race_id
