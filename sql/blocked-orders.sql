-- TikTok orders that are not flowing to SAP, oldest first: blocked by an
-- exception, or stuck being posted (a POST whose answer was lost is looked
-- up after the Service Layer's timeout; minutes there are normal, hours not).
SELECT shop_name, order_id, tiktok_status, posting_state, age, in_state_for,
       exception_kind, exception_owner, coalesce(exception_message, reason) AS what_to_do
FROM report.order_pipeline
WHERE posting_state = 'blocked'
   OR (posting_state IN ('ready', 'posting', 'unknown') AND in_state_for > interval '15 minutes')
ORDER BY age DESC;
