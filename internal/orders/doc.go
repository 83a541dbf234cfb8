// Package orders is the pure mapping and decision code of the orders flow
// (DESIGN.md, "Orders" and "Cancellations"): whether a landed TikTok order is
// posted now, later or never (Decide), the SAP Sales Order it becomes
// (Build), how its total reconciles with TikTok's and with SAP's
// (Totals, CompareTotals), and what a cancellation does to it
// (CancellationAction). It does no I/O: the caller reads the landed order,
// its configuration and its SKU mappings, and acts on the result.
//
// The money rules, in short (docs/decisions/0010-order-mapping.md):
//
//   - A SAP line is one (SKU, package, unit price, gift flag) group of
//     TikTok's one-unit line items, cancelled units left out.
//   - The SAP unit price is the TikTok original price minus the seller's
//     discount. The platform's discount is money TikTok pays the seller, so
//     it stays in the seller's revenue: SAP price = sale_price +
//     platform_discount.
//   - Shipping revenue is what the buyer paid plus TikTok's shipping
//     subsidy: original_shipping_fee − shipping_fee_seller_discount.
//   - Tax is left to SAP (a tax code per region); where TikTok collects and
//     remits it, the lines carry the exempt code and the tax is not posted.
//   - Every split of money (bundle prices over components, later refunds
//     and settlements) uses SplitLargestRemainder, so parts add up to the
//     whole to the cent.
package orders
