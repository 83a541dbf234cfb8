-- Items changed at or after a stamp (SAP local time, one-second resolution),
-- oldest first: an item created or reactivated in SAP reaches validation.
-- A watermark read: read committed, never NOLOCK.
-- @p1 page size, @p2 date, @p3 time HHMMSS, @p4 last ItemCode at that stamp.
SELECT TOP (@p1)
       ItemCode, UpdateDate, UpdateTS
FROM OITM
WHERE UpdateDate > @p2
   OR (UpdateDate = @p2 AND UpdateTS > @p3)
   OR (UpdateDate = @p2 AND UpdateTS = @p3 AND ItemCode > @p4)
ORDER BY UpdateDate, UpdateTS, ItemCode
