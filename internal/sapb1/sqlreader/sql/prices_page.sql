-- Prices of one price list (ITM1), one keyset page. Master data: NOLOCK is
-- allowed. @p1 page size, @p2 price list number, @p3 last ItemCode.
SELECT TOP (@p1)
       ItemCode, PriceList, Price, Currency
FROM ITM1 WITH (NOLOCK)
WHERE PriceList = @p2 AND ItemCode > @p3
ORDER BY ItemCode
