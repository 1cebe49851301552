-- The rows of marts.customer_profile (inserted BY NAME into the table created empty from its
-- contract, so the contract orders the columns; marts/profile/customer_profile.py): the
-- segmentation input (_segmentation_input, a temporary view of sql/models/segmentation_input.sql) with the segment, the persona, the value basis ($basis), the
-- model-free churn signal, the assumed-margin estimates ($rate: NULL unless the operator set one
-- and the basis is revenue) and the customer economics (registered as _customer_economics).
SELECT
    i.* EXCLUDE (p_alive_basis),
    s.segment_id,
    seg.persona_name,
    CAST($basis AS VARCHAR) AS value_basis,
    coalesce(i.p_alive_basis, 'unknown') AS p_alive_basis,
    CASE WHEN i.purchase_days >= 2 THEN greatest(i.recency_days - i.mean_days_between_orders, 0) END AS days_overdue,
    i.monetary * CAST($rate AS DOUBLE) AS estimated_margin,
    i.clv_12m * CAST($rate AS DOUBLE) AS estimated_margin_clv_12m,
    e.tickets_per_year,
    e.expected_cost_to_serve_12m,
    e.cost_exceeds_value_12m
FROM _segmentation_input AS i
LEFT JOIN _customer_economics AS e USING (customer_id)
LEFT JOIN models.customer_segments AS s USING (customer_id)
LEFT JOIN marts.segments AS seg ON seg.segment_id = s.segment_id
