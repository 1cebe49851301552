"""Reports layer: the self-contained HTML persona report, in English and French, under data/reports/."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.models.segmentation.clustering import SegmentModel
from segmentation_pipeline.reports.persona_report import render_persona_report
from segmentation_pipeline.warehouse.tables import query_frame


@dg.asset(
    key=["reports", "persona_report"],
    group_name="reports",
    kinds={"html"},
    deps=[
        ["marts", "customer_profile"],
        ["marts", "segments"],
        ["marts", "segment_claims"],
        ["marts", "rfm_segments"],
        ["marts", "segment_migrations"],
    ],
    description="Self-contained HTML report, in English and in French of the run (segment sizes and value, RFM grid, CLV distribution, "
    "segment profiles, migrations, a card per persona), under data/reports/; opens with no network.",
)
def persona_report(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        segments = query_frame(conn, "SELECT * FROM marts.segments")
        claims = query_frame(conn, "SELECT * FROM marts.segment_claims")
        profile = query_frame(
            conn,
            "SELECT segment_id, r_score, f_score, clv_12m, p_alive_basis, value_basis FROM marts.customer_profile",
        )
        rfm = query_frame(conn, "SELECT * FROM marts.rfm_segments")
        moves = query_frame(conn, "SELECT * FROM marts.segment_migrations WHERE as_of_date = ?", [as_of])
        state = conn.execute(
            "SELECT model_json FROM models.segment_model_state WHERE as_of_date = ? ORDER BY recorded_at DESC LIMIT 1",
            [as_of],
        ).fetchall()
    k_scores = SegmentModel.from_json(state[0][0]).k_scores if state else None
    reports = settings.settings().reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    paths = {
        lang: reports / f"persona_report_{as_of.isoformat()}{suffix}.html"
        for lang, suffix in (("en", ""), ("fr", ".fr"))
    }
    sizes = {}
    for language, path in paths.items():
        other = paths["fr" if language == "en" else "en"].name
        html = render_persona_report(
            segments, profile, rfm, moves, k_scores, as_of, settings.currency, claims, language, other
        )
        tmp = path.with_suffix(".html.tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)  # a reader never opens half a report
        sizes[language] = len(html.encode())
        context.log.info(f"persona report ({language}): {path.resolve()}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths["en"].resolve())),
            "open": dg.MetadataValue.url(paths["en"].resolve().as_uri()),
            "path_fr": dg.MetadataValue.path(str(paths["fr"].resolve())),
            "open_fr": dg.MetadataValue.url(paths["fr"].resolve().as_uri()),
            "size_kb": dg.MetadataValue.float(round(sizes["en"] / 1024, 1)),
            "personas": dg.MetadataValue.int(segments.height),
        }
    )
