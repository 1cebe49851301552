"""Pure modelling logic over Polars frames (no Dagster): RFM, customer classes, CLV, clustering, personas."""
