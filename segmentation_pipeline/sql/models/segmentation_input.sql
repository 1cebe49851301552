-- Everything known about each customer before segmentation: features, RFM, classes and CLV.
SELECT
    f.*,
    r.r_score, r.f_score, r.m_score, r.rfm_segment,
    c.lifecycle_stage, c.risk_class, c.volume_class, c.loyalty_class,
    p.p_alive, p.p_alive_basis, p.expected_orders_3m, p.expected_orders_12m, p.expected_order_value,
    p.expected_margin_per_order, p.margin_rate, p.clv_12m, p.clv_tier
FROM features.customer_features AS f
LEFT JOIN models.rfm_scores AS r USING (customer_id)
LEFT JOIN models.customer_classes AS c USING (customer_id)
LEFT JOIN models.clv_predictions AS p USING (customer_id)
