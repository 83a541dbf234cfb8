-- The warehouse journal's high-water mark (OIVL.TransSeq): every stock
-- movement adds a row. Read committed: a NOLOCK read could move the mark past
-- rows committed later.
SELECT MAX(TransSeq) AS TransSeq
FROM OIVL
