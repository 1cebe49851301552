"""The segment dashboard as a Superset import bundle: database, datasets, charts, one dashboard.

Written as code rather than as an exported zip so that a reviewer reads one file, and so that the
snapshot's path and column types come from the snapshot itself. Every object has a fixed UUID,
so importing again replaces the dashboard in place instead of adding a copy.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import sys
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

NAMESPACE = uuid.UUID("6b1f0d2e-5c1a-4e0b-9a55-16b1a5e6e916")
DATABASE_NAME = "Segment marts (read-only snapshot)"
DASHBOARD_SLUG = "customer-segments"
VERSION = "1.0.0"


def _table_contracts():
    """The pipeline's table contracts (the package segmentation_pipeline/contracts/tables/), loaded
    from its files: it needs only the standard library, and this environment has no Polars or Pandera."""
    package = Path(__file__).resolve().parents[2] / "segmentation_pipeline" / "contracts" / "tables"
    spec = importlib.util.spec_from_file_location(
        "segmentation_table_contracts", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


# The BI contract (SPEC.md, "Outputs"): the columns a dashboard may rely on, per mart.
GUARANTEED_COLUMNS: dict[str, list[str]] = _table_contracts().GUARANTEED

# The migrations chart shows the latest run's moves between behavioural segments, by persona
# name; `kind` tells segment moves from RFM moves (README, "Reading the outputs"). A Sankey needs
# distinct nodes on each side: a persona that keeps its customers would otherwise be a cycle.
LATEST_MIGRATIONS_SQL = """\
SELECT m.as_of_date,
       'before: ' || coalesce(f.persona_name, 'new customer') AS from_persona,
       'now: ' || coalesce(t.persona_name, 'gone') AS to_persona,
       m.customers,
       m.revenue
FROM segment_migrations AS m
LEFT JOIN segments AS f ON f.segment_id = TRY_CAST(m.from_segment AS BIGINT)
LEFT JOIN segments AS t ON t.segment_id = TRY_CAST(m.to_segment AS BIGINT)
WHERE m.kind = 'segment' AND m.as_of_date = (SELECT max(as_of_date) FROM segment_migrations)
"""


def _uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


@dataclass
class Dataset:
    name: str  # table name in the snapshot, or the virtual dataset's name
    metrics: dict[str, tuple[str, str, str]]  # metric name -> (SQL expression, d3 format, label)
    sql: str | None = None  # a virtual dataset's query; physical tables have none
    columns: list[tuple[str, str, str | None]] = field(default_factory=list)  # (name, type, comment)


@dataclass
class Chart:
    title: str
    dataset: str
    viz_type: str
    params: dict
    width: int  # of the dashboard's 12 grid columns
    height: int = 50  # grid units of 8 px


DATASETS = [
    # Metric names differ from column names: DuckDB would read an ORDER BY alias as the column.
    Dataset("segments", {
        "segment_customers": ("SUM(customers)", ",d", "Customers"),
        "segment_count": ("COUNT(*)", ",d", "Segments"),
    }),
    Dataset("customer_profile", {
        "customer_count": ("COUNT(*)", ",d", "Customers"),
        "clv_12m_total": ("SUM(clv_12m)", ",.0f", "12-month CLV"),
    }),
    Dataset("rfm_segments", {
        "rfm_customers": ("SUM(customers)", ",d", "Customers"),
        "rfm_revenue": ("SUM(revenue)", ",.0f", "Revenue"),
    }),
    Dataset("latest_segment_migrations", {"customers_moved": ("SUM(customers)", ",d", "Customers")},
            sql=LATEST_MIGRATIONS_SQL),
    Dataset("service_queue", {
        "open_tickets": ("COUNT(*)", ",d", "Open tickets"),
        "value_at_stake_total": ("SUM(value_at_stake)", ",.0f", "Value at stake"),
    }),
]  # fmt: skip


def _bar(x: str, metric: str, horizontal: bool = False) -> dict:
    return {
        "x_axis": x, "metrics": [metric], "groupby": [], "orientation": "horizontal" if horizontal else "vertical",
        "x_axis_sort": metric, "x_axis_sort_asc": horizontal, "row_limit": 100, "show_legend": False,
        "y_axis_format": "SMART_NUMBER", "show_value": True, "rich_tooltip": True, "color_scheme": "supersetColors",
    }  # fmt: skip


def _heatmap(x: str, y: str, metric: str) -> dict:
    return {
        "x_axis": x, "groupby": y, "metric": metric, "normalize_across": "heatmap", "show_values": True,
        "show_legend": True, "sort_x_axis": "alpha_asc", "sort_y_axis": "alpha_asc", "linear_color_scheme": "blue_white_yellow",
        "y_axis_format": "SMART_NUMBER", "row_limit": 10000, "left_margin": "auto", "bottom_margin": "auto",
        "xscale_interval": -1, "yscale_interval": -1, "value_bounds": [None, None],
    }  # fmt: skip


def _sankey(source: str, target: str, metric: str) -> dict:
    return {
        "source": source,
        "target": target,
        "metric": metric,
        "row_limit": 10000,
        "color_scheme": "supersetColors",
    }


def _pie(groupby: str, metric: str, where: str) -> dict:
    return {
        "groupby": [groupby], "metric": metric, "adhoc_filters": [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": where}],
        "show_labels": True, "label_type": "key_percent", "labels_outside": True, "show_legend": False, "sort_by_metric": True,
        "number_format": "SMART_NUMBER", "innerRadius": 30, "outerRadius": 70, "donut": True, "row_limit": 100,
        "color_scheme": "supersetColors",
    }  # fmt: skip


def _big_number(metric: str, subheader: str) -> dict:
    return {"metric": metric, "subheader": subheader, "header_font_size": 0.4, "subheader_font_size": 0.15,
            "y_axis_format": "SMART_NUMBER"}  # fmt: skip


def _table(
    columns: list[str], order_by: str, ascending: bool, limit: int, formats: dict[str, str] | None = None
) -> dict:
    return {
        "query_mode": "raw", "all_columns": columns, "order_by_cols": [json.dumps([order_by, ascending])],
        "column_config": {column: {"d3NumberFormat": d3} for column, d3 in (formats or {}).items()},
        "row_limit": limit, "server_page_length": 10, "include_search": False, "show_cell_bars": True,
        "groupby": [], "percent_metrics": [], "table_timestamp_format": "smart_date",
    }  # fmt: skip


CHARTS = [
    # One row per line: the dashboard's layout follows this list, rows of up to 12 columns.
    [
        Chart("Customers", "customer_profile", "big_number_total", _big_number("customer_count", "known customers, prospects included"), 3, 30),
        Chart("Behavioural segments", "segments", "big_number_total", _big_number("segment_count", "personas, prospects included"), 3, 30),
        Chart("12-month CLV, all customers", "customer_profile", "big_number_total", _big_number("clv_12m_total", "sum of clv_12m"), 3, 30),
        Chart("Open service tickets", "service_queue", "big_number_total", _big_number("open_tickets", "in the service queue"), 3, 30),
    ],
    [
        Chart("Segment sizes", "segments", "echarts_timeseries_bar", _bar("persona_name", "segment_customers", horizontal=True), 5, 60),
        Chart("Segment value and service priority", "segments", "table", _table(
            ["service_priority", "persona_name", "customers", "customer_share", "revenue_share", "avg_clv_12m", "roi"],
            "service_priority", True, 50,
            {"customer_share": ".1%", "revenue_share": ".1%", "avg_clv_12m": ",.0f", "roi": ",.1f"}), 7, 60),
    ],
    [
        Chart("RFM grid: customers by R score (across) and F score (up)", "customer_profile", "heatmap_v2",
              _heatmap("r_score", "f_score", "customer_count"), 6, 60),
        Chart("RFM segments", "rfm_segments", "echarts_timeseries_bar", _bar("rfm_segment", "rfm_customers", horizontal=True), 6, 60),
    ],
    [
        Chart("CLV tiers: share of the 12-month CLV", "customer_profile", "pie",
              _pie("clv_tier", "clv_12m_total", "clv_tier IS NOT NULL"), 5, 60),
        Chart("Segment migrations of the latest run", "latest_segment_migrations", "sankey_v2",
              _sankey("from_persona", "to_persona", "customers_moved"), 7, 60),
    ],
    [
        Chart("Service queue: open tickets by rank", "service_queue", "table", _table(
            ["rank", "ticket_id", "segment_id", "value_at_stake"], "rank", True, 100, {"value_at_stake": ",.2f"}), 12, 50),
    ],
]  # fmt: skip


def snapshot_columns(snapshot: Path) -> dict[str, list[tuple[str, str, str | None]]]:
    """Columns (name, type, comment) of every table in the snapshot, read as a BI client would."""
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() ORDER BY table_name, column_index"
        ).fetchall()
    tables: dict[str, list[tuple[str, str, str | None]]] = {}
    for table, column, data_type, comment in rows:
        tables.setdefault(table, []).append((column, data_type, comment))
    return tables


def bundle(snapshot: Path) -> tuple[bytes, list[str]]:
    """The import bundle (zip bytes) for this snapshot, and the warnings a person should read.

    A physical dataset declares the guaranteed columns the snapshot has (a guaranteed column it
    lacks is a warning); a mart absent from the snapshot (the service queue before its source
    lands) leaves its dataset and charts out rather than showing errors on the dashboard.
    """
    tables = snapshot_columns(snapshot)
    warnings = []
    datasets = []
    for dataset in DATASETS:
        if dataset.sql is None:
            if dataset.name not in tables:
                warnings.append(f"marts.{dataset.name} is not in {snapshot}: its charts are left out")
                continue
            present = {name: (name, kind, comment) for name, kind, comment in tables[dataset.name]}
            missing = [c for c in GUARANTEED_COLUMNS[dataset.name] if c not in present]
            if missing:
                warnings.append(f"marts.{dataset.name} lacks guaranteed column(s) {', '.join(missing)}")
            dataset.columns = [present[c] for c in GUARANTEED_COLUMNS[dataset.name] if c in present]
        else:
            with duckdb.connect(str(snapshot), read_only=True) as conn:
                described = conn.execute(f"DESCRIBE ({dataset.sql})").fetchall()
            dataset.columns = [(row[0], row[1], None) for row in described]
        datasets.append(dataset)
    kept = {d.name for d in datasets}
    rows = [_fill_width([c for c in row if c.dataset in kept]) for row in CHARTS]
    rows = [row for row in rows if row]

    files = {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": "2026-12-01T00:00:00+00:00"},
        "databases/segment_marts.yaml": _database_config(snapshot),
    }
    for dataset in datasets:
        files[f"datasets/segment_marts/{dataset.name}.yaml"] = _dataset_config(dataset)
    for row in rows:
        for chart in row:
            files[f"charts/{_uuid(chart.title)}.yaml"] = _chart_config(chart)
    files["dashboards/customer_segments.yaml"] = _dashboard_config(rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, config in files.items():
            archive.writestr(f"segment_dashboard/{name}", yaml.safe_dump(config, sort_keys=False))
    return buffer.getvalue(), warnings


def _fill_width(row: list[Chart]) -> list[Chart]:
    """The row's charts widened in proportion to fill the 12 grid columns (the last takes the rest)."""
    total = sum(chart.width for chart in row)
    if not row or total == 12:
        return row
    widths = [chart.width * 12 // total for chart in row]
    widths[-1] += 12 - sum(widths)
    return [dataclasses.replace(chart, width=width) for chart, width in zip(row, widths, strict=True)]


def _database_config(snapshot: Path) -> dict:
    return {
        "database_name": DATABASE_NAME,
        # Four slashes: duckdb:/// and then the absolute path of the published snapshot.
        "sqlalchemy_uri": f"duckdb:///{snapshot.resolve()}",
        # read_only lets any number of readers share the file while the pipeline swaps in the next one.
        "extra": {
            "engine_params": {"connect_args": {"read_only": True}},
            "allows_virtual_table_explore": True,
        },
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "uuid": _uuid("database"),
        "version": VERSION,
    }


def _label(column: str) -> str:
    """customer_share -> Customer share; avg_clv_12m -> Avg CLV 12m (column headers in charts)."""
    words = [{"clv": "CLV", "roi": "ROI", "rfm": "RFM", "id": "ID"}.get(w, w) for w in column.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _dataset_config(dataset: Dataset) -> dict:
    columns = [
        {"column_name": name, "verbose_name": _label(name), "type": kind, "description": comment,
         "is_dttm": kind in ("DATE", "TIMESTAMP"),
         "groupby": True, "filterable": True, "is_active": True}
        for name, kind, comment in dataset.columns
    ]  # fmt: skip
    return {
        "table_name": dataset.name,
        "schema": "main",
        "sql": dataset.sql,
        "description": None,
        "columns": columns,
        "metrics": [
            {"metric_name": name, "expression": expression, "d3format": d3format, "verbose_name": label}
            for name, (expression, d3format, label) in dataset.metrics.items()
        ],
        "uuid": _uuid(f"dataset:{dataset.name}"),
        "database_uuid": _uuid("database"),
        "version": VERSION,
    }


def _chart_config(chart: Chart) -> dict:
    params = {"viz_type": chart.viz_type, "adhoc_filters": [], "extra_form_data": {}, **chart.params}
    return {
        "slice_name": chart.title,
        "viz_type": chart.viz_type,
        "params": params,
        "query_context": None,
        "cache_timeout": None,
        "uuid": _uuid(chart.title),
        "dataset_uuid": _uuid(f"dataset:{chart.dataset}"),
        "version": VERSION,
    }


def _dashboard_config(rows: list[list[Chart]]) -> dict:
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": "Customer segments"}},
    }
    chart_number = 0  # the importer maps each chart's old id (any number) to its new one
    for index, row in enumerate(rows):
        row_id = f"ROW-{index}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "id": row_id, "type": "ROW", "children": [], "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }  # fmt: skip
        for chart in row:
            chart_id = f"CHART-{_uuid(chart.title)[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "id": chart_id, "type": "CHART", "children": [], "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {"uuid": _uuid(chart.title), "sliceName": chart.title, "width": chart.width,
                         "height": chart.height, "chartId": chart_number},
            }  # fmt: skip
            chart_number += 1
    return {
        "dashboard_title": "Customer segments",
        "description": "Segments, RFM, CLV, migrations and the service queue, from the published marts snapshot.",
        "slug": DASHBOARD_SLUG,
        "uuid": _uuid("dashboard"),
        "position": position,
        "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "native_filter_configuration": [],
                     "cross_filters_enabled": False, "expanded_slices": {}, "timed_refresh_immune_slices": []},
        "published": True,
        "version": VERSION,
    }  # fmt: skip
