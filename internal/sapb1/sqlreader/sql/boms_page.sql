-- Bill-of-materials lines (ITT1) with their header's type (OITT), one
-- keyset page. Master data: NOLOCK is allowed. SAP spells the header's
-- quantity column Qauntity. @p1 page size, @p2/@p3 last (Father, ChildNum).
SELECT TOP (@p1)
       T.Code AS Father, T.TreeType, T.Qauntity AS HeaderQuantity,
       L.ChildNum, L.Code AS Component, L.Quantity, L.Warehouse
FROM OITT T WITH (NOLOCK)
INNER JOIN ITT1 L WITH (NOLOCK) ON L.Father = T.Code
WHERE T.Code > @p2 OR (T.Code = @p2 AND L.ChildNum > @p3)
ORDER BY T.Code, L.ChildNum
