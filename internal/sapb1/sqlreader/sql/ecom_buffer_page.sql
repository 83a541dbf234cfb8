-- The e-commerce buffer UDF of the item master (OITM.U_EcomBuffer), one
-- keyset page, items with a value only. Used only when SAPB1_BUFFER_UDF is
-- U_EcomBuffer (the column exists only where the UDF was created). Master
-- data: NOLOCK is allowed.
-- @p1 page size, @p2 last ItemCode of the previous page ('' for the first).
SELECT TOP (@p1)
       ItemCode, U_EcomBuffer
FROM OITM WITH (NOLOCK)
WHERE ItemCode > @p2 AND U_EcomBuffer IS NOT NULL
ORDER BY ItemCode
