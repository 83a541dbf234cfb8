package mapping

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// checker collects the problems of a file while its rows are read.
type checker struct{ problems Problems }

func (c *checker) addf(r row, col, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("line %d, %s: %s", r.line, col, fmt.Sprintf(format, args...)))
}

func (c *checker) required(r row, col string) string {
	v := r.get(col)
	if v == "" {
		c.addf(r, col, "required")
	}
	return v
}

func (c *checker) oneOf(r row, col, def string, allowed ...string) string {
	v := r.get(col)
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		c.addf(r, col, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return v
}

func (c *checker) boolean(r row, col string) bool {
	v := strings.ToLower(r.get(col))
	switch v {
	case "", "false", "no", "n", "0":
		return false
	case "true", "yes", "y", "1":
		return true
	}
	c.addf(r, col, "%q is not true or false", r.get(col))
	return false
}

func (c *checker) integer(r row, col string) int32 {
	v := r.get(col)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		c.addf(r, col, "%q is not a positive whole number", v)
	}
	return int32(n)
}

func (c *checker) positive(r row, col, def string) decimal.Decimal {
	v := r.get(col)
	if v == "" {
		v = def
	}
	d, err := decimal.NewFromString(v)
	if err != nil || !d.IsPositive() {
		c.addf(r, col, "%q is not a positive number (use a point for decimals, e.g. 1.5)", r.get(col))
	}
	return d
}

// number reads a required decimal number from lowest to highest with at
// most places decimals (the column's numeric precision, so nothing is
// rounded on the way in); what describes the values the column takes in
// problems, e.g. "a number from 0 to 1".
func (c *checker) number(r row, col, what string, lowest, highest decimal.Decimal, places int32) decimal.Decimal {
	v := c.required(r, col)
	if v == "" {
		return decimal.Zero
	}
	d, err := decimal.NewFromString(v)
	switch {
	case err != nil:
		c.addf(r, col, "%q is not a number (use a point for decimals): expected %s", v, what)
	case d.LessThan(lowest):
		c.addf(r, col, "%q is below %s: expected %s", v, lowest, what)
	case d.GreaterThan(highest):
		c.addf(r, col, "%q is above %s: expected %s", v, highest, what)
	case !d.Equal(d.Truncate(places)):
		c.addf(r, col, "%q has more than %d decimals: expected %s", v, places, what)
	}
	return d
}

func (c *checker) timestamp(r row, col string) time.Time {
	v := c.required(r, col)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	c.addf(r, col, "%q is not a time; expected e.g. 2026-11-01T00:00:00Z or 2026-11-01 (UTC)", v)
	return time.Time{}
}

func (c *checker) duration(r row, col string) time.Duration {
	v := r.get(col)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		c.addf(r, col, "%q is not a duration; expected e.g. 0s, 30m or 2h", v)
	}
	return d
}

func (c *checker) unique(rows []row, col string, key func(row) string) {
	seen := map[string]int{}
	for _, r := range rows {
		k := key(r)
		if k == "" {
			continue // an empty key is reported as required
		}
		if first, ok := seen[k]; ok {
			c.addf(r, col, "%q appears again (first on line %d)", k, first)
			continue
		}
		seen[k] = r.line
	}
}

var shopsKind = &Kind{
	Name:    "shops",
	Summary: "how each TikTok shop posts to SAP: customer, currency, warehouse, shipping, tax, FBT, cut-over, pause switches, the SAP price list of its TikTok prices",
	Columns: []string{"shop_id", "card_code", "currency", "series", "default_warehouse", "shipping_mode", "shipping_item_code",
		"freight_expense_code", "prices_include_tax", "tiktok_remits_tax", "exempt_tax_code", "fbt_mode", "fbt_warehouse",
		"already_shipped", "cutover_at", "extra_hold", "orders_paused", "inventory_paused", "cancellations_paused", "price_list"},
	// price_list: empty = no price sync; a file without the column leaves
	// each shop's price list as it is.
	Optional: []string{"price_list"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		p := db.UpsertShopConfigsParams{UpdatedBy: opts.By}
		c.unique(rows, "shop_id", func(r row) string { return r.get("shop_id") })
		for _, r := range rows {
			p.ShopIds = append(p.ShopIds, c.required(r, "shop_id"))
			p.CardCodes = append(p.CardCodes, c.required(r, "card_code"))
			cur := strings.ToUpper(c.required(r, "currency"))
			if cur != "" && (len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
				c.addf(r, "currency", "%q is not a three-letter currency code such as USD", cur)
			}
			p.Currencies = append(p.Currencies, cur)
			p.Series = append(p.Series, c.integer(r, "series"))
			p.DefaultWarehouses = append(p.DefaultWarehouses, c.required(r, "default_warehouse"))
			mode := c.oneOf(r, "shipping_mode", "freight", "freight", "service_item", "none")
			p.ShippingModes = append(p.ShippingModes, mode)
			p.ShippingItemCodes = append(p.ShippingItemCodes, r.get("shipping_item_code"))
			p.FreightExpenseCodes = append(p.FreightExpenseCodes, c.integer(r, "freight_expense_code"))
			if mode == "service_item" && r.get("shipping_item_code") == "" {
				c.addf(r, "shipping_item_code", "required when shipping_mode is service_item")
			}
			if mode == "freight" && r.get("freight_expense_code") == "" {
				c.addf(r, "freight_expense_code", "required when shipping_mode is freight (SAP's freight expense code)")
			}
			p.PricesIncludeTax = append(p.PricesIncludeTax, c.boolean(r, "prices_include_tax"))
			remits := c.boolean(r, "tiktok_remits_tax")
			p.TiktokRemitsTax = append(p.TiktokRemitsTax, remits)
			p.ExemptTaxCodes = append(p.ExemptTaxCodes, r.get("exempt_tax_code"))
			if remits && r.get("exempt_tax_code") == "" {
				c.addf(r, "exempt_tax_code", "required when tiktok_remits_tax is true")
			}
			fbt := c.oneOf(r, "fbt_mode", "skip", "skip", "warehouse")
			p.FbtModes = append(p.FbtModes, fbt)
			p.FbtWarehouses = append(p.FbtWarehouses, r.get("fbt_warehouse"))
			if fbt == "warehouse" && r.get("fbt_warehouse") == "" {
				c.addf(r, "fbt_warehouse", "required when fbt_mode is warehouse")
			}
			p.AlreadyShipped = append(p.AlreadyShipped, c.oneOf(r, "already_shipped", "exception", "post_as_shipped", "exception"))
			p.CutoverAts = append(p.CutoverAts, c.timestamp(r, "cutover_at"))
			p.ExtraHoldSeconds = append(p.ExtraHoldSeconds, c.duration(r, "extra_hold").Seconds())
			p.OrdersPaused = append(p.OrdersPaused, c.boolean(r, "orders_paused"))
			p.InventoryPaused = append(p.InventoryPaused, c.boolean(r, "inventory_paused"))
			p.CancellationsPaused = append(p.CancellationsPaused, c.boolean(r, "cancellations_paused"))
			priceList := int32(-1) // absent column: unchanged
			if r.has("price_list") {
				priceList = c.integer(r, "price_list") // OPLN.ListNum; empty: 0, no price sync
			}
			p.PriceLists = append(p.PriceLists, priceList)
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		return q.UpsertShopConfigs(ctx, p)
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListShopConfigs(ctx)
		if err != nil {
			return err
		}
		for _, s := range rows {
			err := w.Write([]string{s.ShopID, s.CardCode, s.Currency, zeroEmpty(s.Series), s.DefaultWarehouse, s.ShippingMode,
				s.ShippingItemCode, zeroEmpty(s.FreightExpenseCode), strconv.FormatBool(s.PricesIncludeTax),
				strconv.FormatBool(s.TiktokRemitsTax), s.ExemptTaxCode, s.FbtMode, s.FbtWarehouse, s.AlreadyShipped,
				s.CutoverAt.UTC().Format(time.RFC3339), (time.Duration(s.ExtraHoldSeconds * float64(time.Second))).String(),
				strconv.FormatBool(s.OrdersPaused), strconv.FormatBool(s.InventoryPaused), strconv.FormatBool(s.CancellationsPaused), zeroEmpty(s.PriceList)})
			if err != nil {
				return err
			}
		}
		return nil
	},
}

var taxCodesKind = &Kind{
	Name:    "tax-codes",
	Summary: "the SAP tax code of a shop's lines per buyer region (region empty: any other region)",
	Columns: []string{"shop_id", "region", "tax_code"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		p := db.UpsertTaxCodesParams{UpdatedBy: opts.By}
		c.unique(rows, "region", func(r row) string { return r.get("shop_id") + "/" + strings.ToUpper(r.get("region")) })
		for _, r := range rows {
			p.ShopIds = append(p.ShopIds, c.required(r, "shop_id"))
			p.Regions = append(p.Regions, strings.ToUpper(r.get("region")))
			p.TaxCodes = append(p.TaxCodes, c.required(r, "tax_code"))
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		return q.UpsertTaxCodes(ctx, p)
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListTaxCodes(ctx)
		if err != nil {
			return err
		}
		for _, t := range rows {
			if err := w.Write([]string{t.ShopID, t.Region, t.TaxCode}); err != nil {
				return err
			}
		}
		return nil
	},
}

var skusKind = &Kind{
	Name:      "skus",
	Inventory: true,
	Summary:   "TikTok seller SKU → SAP ItemCode (shop_id empty: every shop); without a row a SKU maps to the SAP item of the same code",
	Columns:   []string{"shop_id", "seller_sku", "item_code"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		p := db.UpsertSKUMapsParams{UpdatedBy: opts.By}
		c.unique(rows, "seller_sku", func(r row) string { return r.get("shop_id") + "/" + r.get("seller_sku") })
		for _, r := range rows {
			p.ShopIds = append(p.ShopIds, r.get("shop_id"))
			p.SellerSkus = append(p.SellerSkus, c.required(r, "seller_sku"))
			p.ItemCodes = append(p.ItemCodes, c.required(r, "item_code"))
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		n, err := q.UpsertSKUMaps(ctx, p)
		if err != nil || !opts.Replace {
			return n, err
		}
		deleted, err := q.DeleteSKUMapsNotIn(ctx, db.DeleteSKUMapsNotInParams{ShopIds: p.ShopIds, SellerSkus: p.SellerSkus})
		return n + deleted, err
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListSKUMaps(ctx)
		if err != nil {
			return err
		}
		for _, m := range rows {
			if err := w.Write([]string{m.ShopID, m.SellerSku, m.ItemCode}); err != nil {
				return err
			}
		}
		return nil
	},
}

var bundlesKind = &Kind{
	Name:      "bundles",
	Inventory: true,
	Summary: "a TikTok SKU sold as a bundle: mode kit (one SAP sales-BOM item, kit_item_code) or components " +
		"(one row per component: component_item_code, quantity per bundle, price_weight)",
	Columns: []string{"seller_sku", "mode", "kit_item_code", "component_item_code", "quantity", "price_weight"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		var bundles db.UpsertBundlesParams
		var comps db.InsertBundleComponentsParams
		modes := map[string]string{}
		c.unique(rows, "component_item_code", func(r row) string { return r.get("seller_sku") + "/" + r.get("component_item_code") })
		for _, r := range rows {
			sku := c.required(r, "seller_sku")
			mode := c.oneOf(r, "mode", "", "kit", "components")
			if mode == "" {
				c.addf(r, "mode", "required: kit or components")
			}
			if prev, ok := modes[sku]; ok {
				if prev != mode {
					c.addf(r, "mode", "bundle %q is %s on an earlier line", sku, prev)
				}
			} else {
				modes[sku] = mode
				bundles.SellerSkus = append(bundles.SellerSkus, sku)
				bundles.Modes = append(bundles.Modes, mode)
				bundles.KitItemCodes = append(bundles.KitItemCodes, r.get("kit_item_code"))
			}
			switch mode {
			case "kit":
				c.required(r, "kit_item_code")
				if r.get("component_item_code") != "" {
					c.addf(r, "component_item_code", "a kit bundle has no components: SAP's sales BOM defines them")
				}
			case "components":
				if r.get("kit_item_code") != "" {
					c.addf(r, "kit_item_code", "only for mode kit")
				}
				comps.SellerSkus = append(comps.SellerSkus, sku)
				comps.ItemCodes = append(comps.ItemCodes, c.required(r, "component_item_code"))
				comps.Quantities = append(comps.Quantities, c.positive(r, "quantity", ""))
				comps.PriceWeights = append(comps.PriceWeights, c.positive(r, "price_weight", "1"))
			}
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		bundles.UpdatedBy = opts.By
		n, err := q.UpsertBundles(ctx, bundles)
		if err != nil {
			return 0, err
		}
		if err := q.DeleteBundleComponents(ctx, bundles.SellerSkus); err != nil {
			return 0, err
		}
		if _, err := q.InsertBundleComponents(ctx, comps); err != nil {
			return 0, err
		}
		return n, nil
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListBundles(ctx)
		if err != nil {
			return err
		}
		for _, b := range rows {
			qty, weight := "", ""
			if b.Quantity.Valid {
				qty, weight = b.Quantity.Decimal.String(), b.PriceWeight.Decimal.String()
			}
			if err := w.Write([]string{b.SellerSku, b.Mode, b.KitItemCode, b.ComponentItemCode, qty, weight}); err != nil {
				return err
			}
		}
		return nil
	},
}

func zeroEmpty(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}

var warehouseSetsKind = &Kind{
	Name:      "warehouse-sets",
	Inventory: true,
	Summary:   "the SAP warehouses whose stock counts for a shop's TikTok warehouse (one row per SAP warehouse)",
	Columns:   []string{"shop_id", "tiktok_warehouse_id", "whs_code"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		p := db.UpsertWarehouseSetsParams{UpdatedBy: opts.By}
		c.unique(rows, "whs_code", func(r row) string {
			return r.get("shop_id") + "/" + r.get("tiktok_warehouse_id") + "/" + r.get("whs_code")
		})
		for _, r := range rows {
			p.ShopIds = append(p.ShopIds, c.required(r, "shop_id"))
			p.TiktokWarehouseIds = append(p.TiktokWarehouseIds, c.required(r, "tiktok_warehouse_id"))
			p.WhsCodes = append(p.WhsCodes, c.required(r, "whs_code"))
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		n, err := q.UpsertWarehouseSets(ctx, p)
		if err != nil || !opts.Replace {
			return n, err
		}
		deleted, err := q.DeleteWarehouseSetsNotIn(ctx, db.DeleteWarehouseSetsNotInParams{
			ShopIds: p.ShopIds, TiktokWarehouseIds: p.TiktokWarehouseIds, WhsCodes: p.WhsCodes})
		return n + deleted, err
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListWarehouseSets(ctx)
		if err != nil {
			return err
		}
		for _, ws := range rows {
			if err := w.Write([]string{ws.ShopID, ws.TiktokWarehouseID, ws.WhsCode}); err != nil {
				return err
			}
		}
		return nil
	},
}

var buffersKind = &Kind{
	Name:      "buffers",
	Inventory: true,
	Summary: "units of an SAP item never offered on TikTok (0: none, overriding SAP's U_EcomBuffer); " +
		"without a row the item's U_EcomBuffer counts, else 0",
	Columns: []string{"item_code", "buffer"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		p := db.UpsertStockBuffersParams{UpdatedBy: opts.By}
		c.unique(rows, "item_code", func(r row) string { return r.get("item_code") })
		for _, r := range rows {
			p.ItemCodes = append(p.ItemCodes, c.required(r, "item_code"))
			// numeric(19,6): 13 digits before the point, 6 after.
			p.Buffers = append(p.Buffers, c.number(r, "buffer", "a number of units, 0 or more",
				decimal.Zero, decimal.RequireFromString("9999999999999.999999"), 6))
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		n, err := q.UpsertStockBuffers(ctx, p)
		if err != nil || !opts.Replace {
			return n, err
		}
		deleted, err := q.DeleteStockBuffersNotIn(ctx, p.ItemCodes)
		return n + deleted, err
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListStockBuffers(ctx)
		if err != nil {
			return err
		}
		for _, b := range rows {
			if err := w.Write([]string{b.ItemCode, b.Buffer.String()}); err != nil {
				return err
			}
		}
		return nil
	},
}

var allocationsKind = &Kind{
	Name:      "allocations",
	Inventory: true,
	Summary: "the share (0 to 1, at most 4 decimals) of each SAP item's available-to-sell a TikTok listing (shop, seller SKU) offers, " +
		"rounded down; no row: the whole amount; 0.7 and 0.3 split an item 70/30 between two shops",
	Columns: []string{"shop_id", "seller_sku", "share"},
	importRows: func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error) {
		var c checker
		p := db.UpsertListingAllocationsParams{UpdatedBy: opts.By}
		c.unique(rows, "seller_sku", func(r row) string {
			if r.get("shop_id") == "" || r.get("seller_sku") == "" {
				return ""
			}
			return r.get("shop_id") + "/" + r.get("seller_sku")
		})
		for _, r := range rows {
			p.ShopIds = append(p.ShopIds, c.required(r, "shop_id"))
			p.SellerSkus = append(p.SellerSkus, c.required(r, "seller_sku"))
			// numeric(5,4).
			p.Shares = append(p.Shares, c.number(r, "share", "a number from 0 to 1 (e.g. 0.7, 0.3333)", decimal.Zero, decimal.NewFromInt(1), 4))
		}
		if len(c.problems) > 0 {
			return 0, c.problems
		}
		n, err := q.UpsertListingAllocations(ctx, p)
		if err != nil || !opts.Replace {
			return n, err
		}
		deleted, err := q.DeleteListingAllocationsNotIn(ctx, db.DeleteListingAllocationsNotInParams{ShopIds: p.ShopIds, SellerSkus: p.SellerSkus})
		return n + deleted, err
	},
	exportRows: func(ctx context.Context, q *db.Queries, w *csv.Writer) error {
		rows, err := q.ListListingAllocations(ctx)
		if err != nil {
			return err
		}
		for _, a := range rows {
			if err := w.Write([]string{a.ShopID, a.SellerSku, a.Share.String()}); err != nil {
				return err
			}
		}
		return nil
	},
}
