package tiktoksim

import "fmt"

// demoProducts are the listings of the demo shop.
var demoProducts = []NewProduct{
	{SellerSKU: "TEE-BLK-M", Product: "Classic Tee", Name: "Black / M", Price: "12.99", Stock: 40},
	{SellerSKU: "TEE-BLK-L", Product: "Classic Tee", Name: "Black / L", Price: "12.99", Stock: 35},
	{SellerSKU: "MUG-WHT-350", Product: "Enamel Mug 350 ml", Name: "White", Price: "8.5", Stock: 120},
	{SellerSKU: "SOCK-3PK", Product: "Bamboo Socks", Name: "3-pack", Price: "4", Stock: 90},
	{SellerSKU: "CANDLE-VAN", Product: "Vanilla Candle", Price: "15", Stock: 25},
	{SellerSKU: "KEYRING-GIFT", Product: "Logo Keyring", Price: "2", Stock: 300},
	{SellerSKU: "SERUM-30ML", Product: "Vitamin C Serum 30 ml", Price: "24.99", Stock: 60},
	{SellerSKU: "BOTTLE-750", Product: "Steel Bottle 750 ml", Price: "19.99", Stock: 18},
	{SellerSKU: "LAMP-DESK", Product: "Desk Lamp", Price: "19.99", Stock: 0, Status: "SELLER_DEACTIVATED"},
}

func one(sku string, qty int) NewOrderLine { return NewOrderLine{SellerSKU: sku, Quantity: qty} }

// demoOrder is one seeded order: placed UNPAID at its create time, moved to
// status ten minutes later, then shaped by then (cancellations, address).
type demoOrder struct {
	what   string
	order  NewOrder
	status string
	then   func(s *Server, o *order, at int64) error
}

// demoOrders cover what real shops send (DESIGN.md, the sandbox contract).
var demoOrders = []demoOrder{
	{"one unit, seller shipping, with a shipping fee", NewOrder{Lines: []NewOrderLine{one("TEE-BLK-M", 1)}, ShippingType: "SELLER", ShippingFee: "2.99"}, "AWAITING_SHIPMENT", nil},
	{"three units of one SKU with unequal discounts", NewOrder{Lines: []NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 3, SellerDiscount: "1", PlatformDiscount: "0.6"}}}, "AWAITING_SHIPMENT", nil},
	{"awkward price: 3 for 10.00 (3.33, 3.33, 3.34)", NewOrder{Lines: []NewOrderLine{{SellerSKU: "SOCK-3PK", Quantity: 3, SellerDiscount: "2"}}}, "AWAITING_SHIPMENT", nil},
	{"a free gift with a mug", NewOrder{Lines: []NewOrderLine{one("MUG-WHT-350", 1), {SellerSKU: "KEYRING-GIFT", Quantity: 1, IsGift: true}}}, "AWAITING_SHIPMENT", nil},
	{"split into two packages", NewOrder{Lines: []NewOrderLine{{SellerSKU: "CANDLE-VAN", Quantity: 1, Package: 1}, {SellerSKU: "BOTTLE-750", Quantity: 1, Package: 2}, {SellerSKU: "MUG-WHT-350", Quantity: 1, Package: 1}}}, "AWAITING_SHIPMENT", nil},
	{"the buyer cancels one of two units", NewOrder{Lines: []NewOrderLine{one("TEE-BLK-L", 2), one("MUG-WHT-350", 1)}}, "AWAITING_SHIPMENT",
		func(s *Server, o *order, at int64) error {
			_, err := s.cancelLocked(o, CancelRequest{Lines: []CancelLine{{"TEE-BLK-L", 1}}, Reason: "Bought too many"}, at)
			return err
		}},
	{"unpaid", NewOrder{Lines: []NewOrderLine{one("BOTTLE-750", 1)}}, "UNPAID", nil},
	{"on hold", NewOrder{Lines: []NewOrderLine{one("CANDLE-VAN", 2)}}, "ON_HOLD", nil},
	{"fulfilled by TikTok", NewOrder{Lines: []NewOrderLine{one("SERUM-30ML", 2)}, FulfillmentType: fulfilledByTikTok}, "AWAITING_SHIPMENT", nil},
	{"cancelled by the buyer after payment", NewOrder{Lines: []NewOrderLine{one("MUG-WHT-350", 2)}, ShippingFee: "1.99"}, "AWAITING_SHIPMENT",
		func(s *Server, o *order, at int64) error {
			_, err := s.cancelLocked(o, CancelRequest{}, at)
			return err
		}},
	{"in transit, seller shipping", NewOrder{Lines: []NewOrderLine{one("TEE-BLK-M", 1), one("SOCK-3PK", 1)}, ShippingType: "SELLER", ShippingFee: "3.49"}, "IN_TRANSIT", nil},
	{"delivered", NewOrder{Lines: []NewOrderLine{one("BOTTLE-750", 1)}}, "DELIVERED", nil},
	{"completed", NewOrder{Lines: []NewOrderLine{one("CANDLE-VAN", 1), one("MUG-WHT-350", 1)}}, "COMPLETED", nil},
	{"awaiting collection", NewOrder{Lines: []NewOrderLine{one("SERUM-30ML", 1)}}, "AWAITING_COLLECTION", nil},
	{"partially shipping: one of two packages in transit", NewOrder{Lines: []NewOrderLine{{SellerSKU: "TEE-BLK-L", Quantity: 1, Package: 1}, {SellerSKU: "CANDLE-VAN", Quantity: 1, Package: 2}}}, "PARTIALLY_SHIPPING", nil},
	{"platform discount and free shipping paid by seller and platform", NewOrder{Lines: []NewOrderLine{{SellerSKU: "MUG-WHT-350", Quantity: 2, PlatformDiscount: "1.7"}}, ShippingFee: "3.99", ShippingFeeSellerDiscount: "1", ShippingFeePlatformDiscount: "2.99"}, "AWAITING_SHIPMENT", nil},
	{"with taxes on the item and the shipping", NewOrder{Lines: []NewOrderLine{{SellerSKU: "BOTTLE-750", Quantity: 1, Tax: "4"}}, ShippingFee: "4.99", ShippingFeeTax: "1"}, "AWAITING_SHIPMENT", nil},
	{"the buyer asks to cancel; the seller has not answered", NewOrder{Lines: []NewOrderLine{one("TEE-BLK-M", 1)}}, "AWAITING_SHIPMENT",
		func(s *Server, o *order, at int64) error {
			_, err := s.cancelLocked(o, CancelRequest{Request: true, Reason: "Changed my mind"}, at)
			return err
		}},
	{"several SKUs", NewOrder{Lines: []NewOrderLine{one("TEE-BLK-M", 1), one("TEE-BLK-L", 1), one("SOCK-3PK", 2), one("MUG-WHT-350", 1)}, BuyerMessage: "Gift wrap please"}, "AWAITING_SHIPMENT", nil},
	{"never paid: cancelled by the system", NewOrder{Lines: []NewOrderLine{one("CANDLE-VAN", 1)}}, "CANCELLED", nil},
	{"address changed by the buyer", NewOrder{Lines: []NewOrderLine{one("CANDLE-VAN", 1)}}, "AWAITING_SHIPMENT",
		func(s *Server, o *order, at int64) error {
			s.updateAddressLocked(o, at)
			return nil
		}},
	{"the seller cancels a unit out of stock", NewOrder{Lines: []NewOrderLine{one("SERUM-30ML", 2)}}, "AWAITING_SHIPMENT",
		func(s *Server, o *order, at int64) error {
			_, err := s.cancelLocked(o, CancelRequest{Role: "SELLER", Lines: []CancelLine{{"SERUM-30ML", 1}}}, at)
			return err
		}},
}

// seedDemo creates the demo listings and orders, spread over the last three
// days. History sends no webhooks: it happened before anyone subscribed.
func (s *Server) seedDemo() {
	s.quiet = true
	defer func() { s.quiet = false }()
	if _, err := s.addProductsLocked(demoProducts); err != nil {
		panic("tiktoksim: demo products: " + err.Error())
	}
	now := s.now().Unix()
	for i, d := range demoOrders {
		at := now - 3*day + int64(i)*3*3600
		no := d.order
		no.CreateTime, no.Status = at, "UNPAID"
		o, err := s.placeOrderLocked(no, at)
		if err == nil && d.status == "CANCELLED" {
			_, err = s.cancelLocked(o, CancelRequest{Role: "SYSTEM", Reason: "Order was not paid in time"}, at+3600)
		} else if err == nil {
			err = s.advanceLocked(o, d.status, at+600)
		}
		if err == nil && d.then != nil {
			err = d.then(s, o, at+1800)
		}
		if err != nil {
			panic(fmt.Sprintf("tiktoksim: demo order %d (%s): %v", i, d.what, err))
		}
	}
}
