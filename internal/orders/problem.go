package orders

import "strings"

// Problem kinds: the ops.exception kinds Build raises. Any problem blocks the
// order; fixing the cause (a mapping, a bundle, the shop's configuration)
// and building again lets it flow.
const (
	KindUnmappedSKU          = "unmapped_sku"           // no SAP item for a seller SKU
	KindBundleUndefined      = "bundle_undefined"       // a bundle without a usable definition
	KindBundleBadComponent   = "bundle_bad_component"   // a component without item, quantity or weight
	KindCurrencyMismatch     = "currency_mismatch"      // the order's currency is not the shop's
	KindMissingPrice         = "missing_price"          // a unit with neither original nor sale price
	KindPriceInconsistent    = "price_inconsistent"     // original − discounts ≠ sale price
	KindInvalidAmount        = "invalid_amount"         // a negative amount or price
	KindNoActiveLines        = "no_active_lines"        // every unit is cancelled
	KindShopConfigIncomplete = "shop_config_incomplete" // the shop's configuration lacks what this order needs
)

// Owner teams (ops.exception.owner_team).
const (
	OwnerOperations = "operations"
	OwnerCX         = "cx"
	OwnerFinance    = "finance"
	OwnerIT         = "it"
)

// Problem is why an order cannot be posted as it is: the caller turns each
// into an ops.exception row.
type Problem struct {
	Kind      string
	Owner     string   // the team that fixes it
	SellerSKU string   // the TikTok SKU concerned, if any
	ItemCode  string   // the SAP item concerned, if any
	LineIDs   []string // the TikTok line items concerned
	Message   string   // what is wrong and what to do, for a person
}

// Error makes a Problem usable as an error.
func (p Problem) Error() string { return p.Kind + ": " + p.Message }

// problems collects problems, one per (kind, SKU, item): a SKU unmapped on
// three units is one problem naming three lines.
type problems struct {
	list []Problem
}

func (ps *problems) add(p Problem) {
	if p.Owner == "" {
		p.Owner = OwnerOperations
	}
	for i := range ps.list {
		q := &ps.list[i]
		if q.Kind == p.Kind && q.SellerSKU == p.SellerSKU && q.ItemCode == p.ItemCode {
			q.LineIDs = append(q.LineIDs, p.LineIDs...)
			if p.Message != q.Message && !strings.Contains(q.Message, p.Message) {
				q.Message += " " + p.Message
			}
			return
		}
	}
	ps.list = append(ps.list, p)
}
