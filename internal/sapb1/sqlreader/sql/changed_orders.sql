-- Sales orders changed at or after a stamp (SAP local time, one-second
-- resolution: UpdateDate is the date, UpdateTS the time as HHMMSS), oldest
-- first. Commitments move with orders, which OIVL does not show.
-- @p1 page size, @p2 date, @p3 time HHMMSS, @p4 last DocEntry at that stamp.
SELECT TOP (@p1)
       DocEntry, UpdateDate, UpdateTS
FROM ORDR
WHERE UpdateDate > @p2
   OR (UpdateDate = @p2 AND UpdateTS > @p3)
   OR (UpdateDate = @p2 AND UpdateTS = @p3 AND DocEntry > @p4)
ORDER BY UpdateDate, UpdateTS, DocEntry
