-- Stock per item and warehouse (OITW), one keyset page. Stock is never read
-- with NOLOCK: a dirty read would publish stock a rolled-back document never
-- had. @p1 page size, @p2/@p3 the last (ItemCode, WhsCode) of the previous page.
SELECT TOP (@p1)
       ItemCode, WhsCode, OnHand, IsCommited, OnOrder
FROM OITW
WHERE ItemCode > @p2 OR (ItemCode = @p2 AND WhsCode > @p3)
ORDER BY ItemCode, WhsCode
