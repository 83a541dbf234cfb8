package orders_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

// simNow is the simulator's clock: demo orders are created over the three
// days before it, one every three hours.
var simNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// simOrderJSON is the part of TikTok's order object the landing keeps
// (reference §5), decoded as the landing's SQL does: money as exact decimal
// text, ids as strings.
type simOrderJSON struct {
	ID                   string `json:"id"`
	Status               string `json:"status"`
	CreateTime           int64  `json:"create_time"`
	PaidTime             int64  `json:"paid_time"`
	RTSSLATime           int64  `json:"rts_sla_time"`
	FulfillmentType      string `json:"fulfillment_type"`
	ShippingType         string `json:"shipping_type"`
	IsBuyerRequestCancel bool   `json:"is_buyer_request_cancel"`
	Payment              struct {
		Currency                    string `json:"currency"`
		SubTotal                    string `json:"sub_total"`
		ShippingFee                 string `json:"shipping_fee"`
		OriginalShippingFee         string `json:"original_shipping_fee"`
		ShippingFeeSellerDiscount   string `json:"shipping_fee_seller_discount"`
		ShippingFeePlatformDiscount string `json:"shipping_fee_platform_discount"`
		SellerDiscount              string `json:"seller_discount"`
		PlatformDiscount            string `json:"platform_discount"`
		Tax                         string `json:"tax"`
		ProductTax                  string `json:"product_tax"`
		ShippingFeeTax              string `json:"shipping_fee_tax"`
		SmallOrderFee               string `json:"small_order_fee"`
		RetailDeliveryFee           string `json:"retail_delivery_fee"`
		BuyerServiceFee             string `json:"buyer_service_fee"`
		TotalAmount                 string `json:"total_amount"`
	} `json:"payment"`
	RecipientAddress *struct {
		RegionCode string `json:"region_code"`
	} `json:"recipient_address"`
	LineItems []struct {
		ID               string `json:"id"`
		SKUID            string `json:"sku_id"`
		SellerSKU        string `json:"seller_sku"`
		OriginalPrice    string `json:"original_price"`
		SalePrice        string `json:"sale_price"`
		PlatformDiscount string `json:"platform_discount"`
		SellerDiscount   string `json:"seller_discount"`
		Currency         string `json:"currency"`
		DisplayStatus    string `json:"display_status"`
		PackageID        string `json:"package_id"`
		IsGift           bool   `json:"is_gift"`
		ItemTax          []struct {
			TaxAmount string `json:"tax_amount"`
		} `json:"item_tax"`
	} `json:"line_items"`
}

func dec(t testing.TB, s string) decimal.Decimal {
	t.Helper()
	if s == "" {
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return d
}

func nullDec(t testing.TB, s string) decimal.NullDecimal {
	if s == "" {
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(dec(t, s))
}

func unix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// fromTikTok maps TikTok's order JSON to the flow's input types.
func fromTikTok(t testing.TB, shopID string, raw []byte) (orders.Order, []orders.Line) {
	t.Helper()
	var j simOrderJSON
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&j); err != nil {
		t.Fatalf("order JSON: %v", err)
	}
	p := j.Payment
	o := orders.Order{
		ShopID: shopID, ID: j.ID, Status: j.Status, FulfillmentType: j.FulfillmentType, ShippingType: j.ShippingType,
		Currency: p.Currency, CreateTime: unix(j.CreateTime), PaidTime: unix(j.PaidTime), ShipBy: unix(j.RTSSLATime),
		BuyerRequestCancel: j.IsBuyerRequestCancel,
		Payment: orders.Payment{
			SubTotal: dec(t, p.SubTotal), ShippingFee: dec(t, p.ShippingFee), OriginalShippingFee: dec(t, p.OriginalShippingFee),
			ShippingFeeSellerDiscount: dec(t, p.ShippingFeeSellerDiscount), ShippingFeePlatformDiscount: dec(t, p.ShippingFeePlatformDiscount),
			SellerDiscount: dec(t, p.SellerDiscount), PlatformDiscount: dec(t, p.PlatformDiscount),
			Tax: dec(t, p.Tax), ProductTax: dec(t, p.ProductTax), ShippingFeeTax: dec(t, p.ShippingFeeTax),
			OtherFees:   dec(t, p.SmallOrderFee).Add(dec(t, p.RetailDeliveryFee)).Add(dec(t, p.BuyerServiceFee)),
			TotalAmount: dec(t, p.TotalAmount),
		},
	}
	if j.RecipientAddress != nil {
		o.Region = j.RecipientAddress.RegionCode
	}
	var lines []orders.Line
	for _, li := range j.LineItems {
		tax := decimal.Zero
		for _, it := range li.ItemTax {
			tax = tax.Add(dec(t, it.TaxAmount))
		}
		lines = append(lines, orders.Line{
			ID: li.ID, SKUID: li.SKUID, SellerSKU: li.SellerSKU, Currency: li.Currency,
			OriginalPrice: nullDec(t, li.OriginalPrice), SalePrice: nullDec(t, li.SalePrice),
			SellerDiscount: dec(t, li.SellerDiscount), PlatformDiscount: dec(t, li.PlatformDiscount), Tax: tax,
			IsGift: li.IsGift, PackageID: li.PackageID, DisplayStatus: li.DisplayStatus,
		})
	}
	return o, lines
}

type simOrder struct {
	order orders.Order
	lines []orders.Line
}

// demoOrders are the simulator's seeded orders, in seeding order (see
// tiktoksim/demo.go), as the landing would hold them.
func demoOrders(t testing.TB) (tiktoksim.Shop, []simOrder) {
	t.Helper()
	s := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Demo: true, Seed: 7, Now: func() time.Time { return simNow }})
	t.Cleanup(func() { s.Close() })
	shop := s.Shop()
	var out []simOrder
	for _, id := range s.OrderIDs() {
		raw, err := s.Order(id)
		if err != nil {
			t.Fatal(err)
		}
		o, lines := fromTikTok(t, shop.ID, raw)
		out = append(out, simOrder{o, lines})
	}
	return shop, out
}

// placeOrder places one order on a fresh simulator and returns it as landed.
func placeOrder(t testing.TB, products []tiktoksim.NewProduct, no tiktoksim.NewOrder) simOrder {
	t.Helper()
	s := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: 11, Now: func() time.Time { return simNow }})
	t.Cleanup(func() { s.Close() })
	if _, err := s.AddProducts(products); err != nil {
		t.Fatal(err)
	}
	id, err := s.PlaceOrder(no)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Order(id)
	if err != nil {
		t.Fatal(err)
	}
	o, lines := fromTikTok(t, s.Shop().ID, raw)
	return simOrder{o, lines}
}
