-- Item master (OITM), one keyset page. Master data: NOLOCK is allowed.
-- @p1 page size, @p2 last ItemCode of the previous page ('' for the first).
SELECT TOP (@p1)
       ItemCode, ItemName, InvntItem, SellItem, validFor, frozenFor, TreeType,
       UpdateDate, UpdateTS
FROM OITM WITH (NOLOCK)
WHERE ItemCode > @p2
ORDER BY ItemCode
