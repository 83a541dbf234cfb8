-- Warehouses (OWHS). Master data: NOLOCK is allowed. Few rows: one query.
SELECT WhsCode, WhsName, Inactive
FROM OWHS WITH (NOLOCK)
ORDER BY WhsCode
