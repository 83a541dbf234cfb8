-- Stock movements after a TransSeq, oldest first, one bounded page: the
-- items whose stock must be read again. @p1 page size, @p2 last TransSeq seen.
SELECT TOP (@p1)
       TransSeq, ItemCode, LocCode
FROM OIVL
WHERE TransSeq > @p2
ORDER BY TransSeq
