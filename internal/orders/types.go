package orders

import (
	"time"

	"github.com/shopspring/decimal"
)

// TikTok order statuses (reference §5).
const (
	StatusUnpaid             = "UNPAID"
	StatusOnHold             = "ON_HOLD"
	StatusAwaitingShipment   = "AWAITING_SHIPMENT"
	StatusPartiallyShipping  = "PARTIALLY_SHIPPING"
	StatusAwaitingCollection = "AWAITING_COLLECTION"
	StatusInTransit          = "IN_TRANSIT"
	StatusDelivered          = "DELIVERED"
	StatusCompleted          = "COMPLETED"
	StatusCancelled          = "CANCELLED"
)

// Who fulfils an order (fulfillment_type) and who carries it (shipping_type).
const (
	FulfilledBySeller = "FULFILLMENT_BY_SELLER"
	FulfilledByTikTok = "FULFILLMENT_BY_TIKTOK"
	ShippingTikTok    = "TIKTOK"
	ShippingSeller    = "SELLER"
)

// Order is one TikTok order as the landing tables hold it (tiktok."order").
// Times are UTC instants; zero means TikTok has not sent it.
type Order struct {
	ShopID          string
	ID              string // TikTok's order id, an 18–19 digit string
	Status          string // StatusUnpaid ... StatusCancelled
	FulfillmentType string // FulfilledBySeller or FulfilledByTikTok; "" = by seller
	ShippingType    string // ShippingTikTok or ShippingSeller
	Currency        string // payment.currency
	// Region is the buyer's region code (recipient_address.region_code),
	// the key of the shop's tax codes. "" = unknown (the default tax code).
	Region string

	CreateTime time.Time
	PaidTime   time.Time // zero while UNPAID
	// ShipBy is rts_sla_time, the latest time the seller may ship. It
	// becomes the Sales Order's DocDueDate when known.
	ShipBy time.Time

	// BuyerRequestCancel is is_buyer_request_cancel: the buyer asked to
	// cancel and the seller has not answered yet.
	BuyerRequestCancel bool

	Payment Payment
}

// Payment is the order's payment object; every amount is TikTok's decimal
// string, parsed exactly. TikTok's identities (reference §5):
//
//	SubTotal    = original product price − SellerDiscount − PlatformDiscount = Σ line sale_price
//	ShippingFee = OriginalShippingFee − ShippingFeeSellerDiscount − ShippingFeePlatformDiscount
//	TotalAmount = SubTotal + ShippingFee + Tax + OtherFees
type Payment struct {
	SubTotal                    decimal.Decimal
	ShippingFee                 decimal.Decimal // what the buyer paid for shipping
	OriginalShippingFee         decimal.Decimal
	ShippingFeeSellerDiscount   decimal.Decimal
	ShippingFeePlatformDiscount decimal.Decimal // TikTok's shipping subsidy: paid to the seller by TikTok
	SellerDiscount              decimal.Decimal
	PlatformDiscount            decimal.Decimal
	Tax                         decimal.Decimal // product tax + shipping fee tax
	ProductTax                  decimal.Decimal // informative; the lines' Tax are used
	ShippingFeeTax              decimal.Decimal
	// OtherFees are the buyer's fees that TotalAmount holds beside the
	// above (retail_delivery_fee, small_order_fee, buyer_service_fee, ...).
	// They are not the seller's revenue and are never posted.
	OtherFees   decimal.Decimal
	TotalAmount decimal.Decimal
}

// Line is one TikTok line item (tiktok.order_line). TikTok sends one line
// item per unit: a purchase of three is three lines.
type Line struct {
	ID        string // order line item id
	SKUID     string
	SellerSKU string
	Currency  string // "" = the order's currency

	// OriginalPrice is the unit's list price, SalePrice what the buyer paid
	// for it: SalePrice = OriginalPrice − SellerDiscount − PlatformDiscount.
	// Either may be missing (Valid false); one of them is needed.
	OriginalPrice decimal.NullDecimal
	SalePrice     decimal.NullDecimal
	// SellerDiscount is the discount the seller gave on this unit;
	// PlatformDiscount the one TikTok gave and pays the seller back.
	SellerDiscount   decimal.Decimal
	PlatformDiscount decimal.Decimal
	// Tax is the sum of the unit's item_tax amounts.
	Tax decimal.Decimal

	IsGift        bool
	PackageID     string // "" before TikTok assigns packages
	DisplayStatus string // the line's display_status
	// Cancelled marks a cancelled unit; a DisplayStatus of CANCELLED does too.
	Cancelled bool
}

// IsCancelled reports whether the unit was cancelled.
func (l Line) IsCancelled() bool { return l.Cancelled || l.DisplayStatus == StatusCancelled }

// ShippingMode is how the shop posts shipping revenue.
type ShippingMode string

// Shipping modes (integration.shop_config.shipping_mode).
const (
	ShippingFreight     ShippingMode = "freight"      // a freight line (DocumentAdditionalExpenses) with FreightExpenseCode
	ShippingServiceItem ShippingMode = "service_item" // a document line of ShippingItemCode
	ShippingNone        ShippingMode = "none"         // shipping is not posted
)

// FBTMode is what happens to orders fulfilled by TikTok.
type FBTMode string

// FBT modes (integration.shop_config.fbt_mode).
const (
	FBTSkip      FBTMode = "skip"      // never posted
	FBTWarehouse FBTMode = "warehouse" // posted against FBTWarehouse
)

// ShippedRule is what happens to orders first seen already shipped.
type ShippedRule string

// Already-shipped rules (integration.shop_config.already_shipped).
const (
	ShippedPost      ShippedRule = "post_as_shipped"
	ShippedException ShippedRule = "exception"
)

// ShopConfig is how one shop posts to SAP (integration.shop_config and
// integration.tax_code). Every default is the zero value's meaning.
type ShopConfig struct {
	ShopID   string
	CardCode string // the shop's generic SAP customer; required
	Currency string // the shop's currency; orders in another are refused. "" = not checked
	Series   int    // SAP numbering series of the Sales Orders; 0 = SAP's default series

	DefaultWarehouse string // WarehouseCode of every line; required

	Shipping           ShippingMode // default ShippingFreight
	ShippingItemCode   string       // ShippingServiceItem: the SAP service item
	FreightExpenseCode int          // ShippingFreight: SAP's freight (OEXD) code

	// TaxCodes is the SAP tax code of the lines per buyer region; the ""
	// key serves every other region. Empty: no TaxCode is sent and SAP uses
	// the item's and customer's defaults.
	TaxCodes map[string]string
	// PricesIncludeTax: TikTok's prices are gross (VAT included) and go to
	// SAP as prices after tax. Default false: net prices, SAP adds the tax.
	PricesIncludeTax bool
	// TikTokRemitsTax: TikTok collects and remits the tax (US marketplace
	// facilitator). Lines carry ExemptTaxCode and TikTok's tax is not posted.
	TikTokRemitsTax bool
	ExemptTaxCode   string

	FBT          FBTMode // default FBTSkip
	FBTWarehouse string  // FBTWarehouse mode: the lines' warehouse

	AlreadyShipped ShippedRule // default ShippedException

	CutOver      time.Time     // orders created before it are never posted
	ExtraHold    time.Duration // wait this long after payment before posting; default 0
	OrdersPaused bool          // the shop's orders flow is paused

	UDF UDFNames
}

// UDFNames are the SAP user fields the Sales Order carries. Empty names take
// the defaults.
type UDFNames struct {
	OrderID   string // header; default U_TikTokOrderId
	ShopID    string // header; default U_TikTokShopId
	PackageID string // line; default U_TikTokPackageId
	// Gift is a line UDF set to "Y" on gift lines. Default "": not sent
	// (gift lines are still their own lines, and flagged in PostedLine).
	Gift string
	// Release is the header UDF of the release gate (DESIGN.md "Release
	// gate"): a Sales Order is created with it "N" (on hold: the warehouse
	// filters on it) and set to "Y" once TikTok confirmed the order still
	// shippable just before release. Default U_TikTokRelease.
	Release string
}

// Default UDF names (DESIGN.md, "Orders").
const (
	DefaultOrderIDUDF   = "U_TikTokOrderId"
	DefaultShopIDUDF    = "U_TikTokShopId"
	DefaultPackageIDUDF = "U_TikTokPackageId"
	DefaultReleaseUDF   = "U_TikTokRelease"
)

// Values of the release UDF.
const (
	ReleaseHeld     = "N"
	ReleaseReleased = "Y"
)

func (u UDFNames) withDefaults() UDFNames {
	if u.OrderID == "" {
		u.OrderID = DefaultOrderIDUDF
	}
	if u.ShopID == "" {
		u.ShopID = DefaultShopIDUDF
	}
	if u.PackageID == "" {
		u.PackageID = DefaultPackageIDUDF
	}
	if u.Release == "" {
		u.Release = DefaultReleaseUDF
	}
	return u
}

// BundleMode is how a bundle SKU is posted.
type BundleMode string

// Bundle modes (integration.bundle.mode).
const (
	BundleKit        BundleMode = "kit"        // one line of an SAP sales-BOM item (OITT TreeType S)
	BundleComponents BundleMode = "components" // one line per component, the price allocated by weight
)

// Bundle is the definition of a TikTok SKU sold as a bundle.
type Bundle struct {
	Mode        BundleMode
	KitItemCode string      // BundleKit
	Components  []Component // BundleComponents
}

// Component is one SAP item of a bundle in component mode.
type Component struct {
	ItemCode string
	Quantity decimal.Decimal // units of the item per bundle; > 0
	// PriceWeight is the component's relative price per unit (e.g. its list
	// price); the bundle's amount is allocated over the components in
	// proportion to PriceWeight × Quantity. > 0; 1 for every component
	// spreads the price evenly over the units.
	PriceWeight decimal.Decimal
}

// Resolver tells Build what a seller SKU is in SAP. The caller resolves in
// SQL (the SKU map, identity when an SAP item has that code, the bundle
// tables) and validates the items against the SAP snapshot; Build only maps.
type Resolver interface {
	// Bundle returns the bundle definition of a seller SKU, if it is one. A
	// bundle definition wins over an item mapping of the same SKU.
	Bundle(sellerSKU string) (Bundle, bool)
	// Item returns the SAP ItemCode a seller SKU maps to.
	Item(sellerSKU string) (itemCode string, ok bool)
}

// Catalog is a Resolver over maps.
type Catalog struct {
	Items   map[string]string // seller SKU → ItemCode
	Bundles map[string]Bundle // seller SKU → bundle
}

// Bundle implements Resolver.
func (c Catalog) Bundle(sellerSKU string) (Bundle, bool) {
	b, ok := c.Bundles[sellerSKU]
	return b, ok
}

// Item implements Resolver.
func (c Catalog) Item(sellerSKU string) (string, bool) {
	code, ok := c.Items[sellerSKU]
	return code, ok && code != ""
}
