package tiktoksim

// The order object as the 202309 order endpoints return it (reference §5,
// the official search sample). Times are unix seconds, money decimal strings,
// ids strings. Times that have not happened yet are left out.

type orderJSON struct {
	ID                         string         `json:"id"`
	Status                     string         `json:"status"`
	CreateTime                 int64          `json:"create_time"`
	UpdateTime                 int64          `json:"update_time"`
	PaidTime                   int64          `json:"paid_time,omitempty"`
	RTSSLATime                 int64          `json:"rts_sla_time,omitempty"`
	TTSSLATime                 int64          `json:"tts_sla_time,omitempty"`
	ShippingDueTime            int64          `json:"shipping_due_time,omitempty"`
	CollectionDueTime          int64          `json:"collection_due_time,omitempty"`
	DeliveryDueTime            int64          `json:"delivery_due_time,omitempty"`
	CancelOrderSLATime         int64          `json:"cancel_order_sla_time,omitempty"`
	RTSTime                    int64          `json:"rts_time,omitempty"`
	CollectionTime             int64          `json:"collection_time,omitempty"`
	DeliveryTime               int64          `json:"delivery_time,omitempty"`
	CancelTime                 int64          `json:"cancel_time,omitempty"`
	CancelReason               string         `json:"cancel_reason,omitempty"`
	CancellationInitiator      string         `json:"cancellation_initiator,omitempty"`
	RequestCancelTime          int64          `json:"request_cancel_time,omitempty"`
	IsBuyerRequestCancel       bool           `json:"is_buyer_request_cancel"`
	UserID                     string         `json:"user_id"`
	BuyerEmail                 string         `json:"buyer_email"`
	BuyerMessage               string         `json:"buyer_message"`
	SellerNote                 string         `json:"seller_note"`
	FulfillmentType            string         `json:"fulfillment_type"`
	ShippingType               string         `json:"shipping_type"`
	DeliveryType               string         `json:"delivery_type"`
	DeliveryOptionID           string         `json:"delivery_option_id"`
	DeliveryOptionName         string         `json:"delivery_option_name"`
	WarehouseID                string         `json:"warehouse_id"`
	ShippingProvider           string         `json:"shipping_provider,omitempty"`
	ShippingProviderID         string         `json:"shipping_provider_id,omitempty"`
	TrackingNumber             string         `json:"tracking_number,omitempty"`
	IsCOD                      bool           `json:"is_cod"`
	IsSampleOrder              bool           `json:"is_sample_order"`
	IsOnHoldOrder              bool           `json:"is_on_hold_order"`
	IsReplacementOrder         bool           `json:"is_replacement_order"`
	HasUpdatedRecipientAddress bool           `json:"has_updated_recipient_address"`
	SplitOrCombineTag          string         `json:"split_or_combine_tag,omitempty"`
	OrderType                  string         `json:"order_type"`
	CommercePlatform           string         `json:"commerce_platform"`
	PaymentMethodName          string         `json:"payment_method_name"`
	Packages                   []packageJSON  `json:"packages"`
	Payment                    paymentJSON    `json:"payment"`
	RecipientAddress           *recipientJSON `json:"recipient_address,omitempty"`
	LineItems                  []lineItemJSON `json:"line_items"`
}

type packageJSON struct {
	ID string `json:"id"`
}

type paymentJSON struct {
	Currency                    string `json:"currency"`
	SubTotal                    string `json:"sub_total"`
	ShippingFee                 string `json:"shipping_fee"`
	SellerDiscount              string `json:"seller_discount"`
	PlatformDiscount            string `json:"platform_discount"`
	TotalAmount                 string `json:"total_amount"`
	OriginalTotalProductPrice   string `json:"original_total_product_price"`
	OriginalShippingFee         string `json:"original_shipping_fee"`
	ShippingFeeSellerDiscount   string `json:"shipping_fee_seller_discount"`
	ShippingFeePlatformDiscount string `json:"shipping_fee_platform_discount"`
	ShippingFeeCofundedDiscount string `json:"shipping_fee_cofunded_discount"`
	Tax                         string `json:"tax"`
	ProductTax                  string `json:"product_tax"`
	ShippingFeeTax              string `json:"shipping_fee_tax"`
	SmallOrderFee               string `json:"small_order_fee"`
	RetailDeliveryFee           string `json:"retail_delivery_fee"`
	BuyerServiceFee             string `json:"buyer_service_fee"`
	HandlingFee                 string `json:"handling_fee"`
	ItemInsuranceFee            string `json:"item_insurance_fee"`
	ShippingInsuranceFee        string `json:"shipping_insurance_fee"`
}

type recipientJSON struct {
	Name                string            `json:"name"`
	FirstName           string            `json:"first_name"`
	LastName            string            `json:"last_name"`
	PhoneNumber         string            `json:"phone_number"`
	FullAddress         string            `json:"full_address"`
	AddressDetail       string            `json:"address_detail"`
	AddressLine1        string            `json:"address_line1"`
	AddressLine2        string            `json:"address_line2"`
	AddressLine3        string            `json:"address_line3"`
	AddressLine4        string            `json:"address_line4"`
	PostalCode          string            `json:"postal_code"`
	RegionCode          string            `json:"region_code"`
	DistrictInfo        []districtJSON    `json:"district_info"`
	DeliveryPreferences map[string]string `json:"delivery_preferences"`
}

type districtJSON struct {
	AddressLevel     string `json:"address_level"`
	AddressLevelName string `json:"address_level_name"`
	AddressName      string `json:"address_name"`
}

type itemTaxJSON struct {
	TaxType   string `json:"tax_type"`
	TaxAmount string `json:"tax_amount"`
	TaxRate   string `json:"tax_rate"`
}

type lineItemJSON struct {
	ID                   string        `json:"id"`
	SKUID                string        `json:"sku_id"`
	ProductID            string        `json:"product_id"`
	ProductName          string        `json:"product_name"`
	SKUName              string        `json:"sku_name"`
	SKUImage             string        `json:"sku_image"`
	SellerSKU            string        `json:"seller_sku"`
	SKUType              string        `json:"sku_type"`
	OriginalPrice        string        `json:"original_price"`
	SalePrice            string        `json:"sale_price"`
	PlatformDiscount     string        `json:"platform_discount"`
	SellerDiscount       string        `json:"seller_discount"`
	Currency             string        `json:"currency"`
	DisplayStatus        string        `json:"display_status"`
	PackageID            string        `json:"package_id,omitempty"`
	PackageStatus        string        `json:"package_status,omitempty"`
	ShippingProviderID   string        `json:"shipping_provider_id,omitempty"`
	ShippingProviderName string        `json:"shipping_provider_name,omitempty"`
	TrackingNumber       string        `json:"tracking_number,omitempty"`
	RTSTime              int64         `json:"rts_time,omitempty"`
	IsGift               bool          `json:"is_gift"`
	CancelReason         string        `json:"cancel_reason,omitempty"`
	CancelUser           string        `json:"cancel_user,omitempty"`
	ItemTax              []itemTaxJSON `json:"item_tax"`
}

const (
	shippingProviderName = "TT Virtual express"
	day                  = 24 * 60 * 60
)

// renderOrder builds the API's view of o. The payment identities hold to the
// cent over every line item, cancelled ones included (a line cancellation
// refunds through its cancellation record; the order's payment keeps what
// was paid):
//
//	sub_total    = original_total_product_price − seller_discount − platform_discount = Σ sale_price
//	shipping_fee = original_shipping_fee − shipping_fee_seller_discount − shipping_fee_platform_discount
//	total_amount = sub_total + shipping_fee + tax,  tax = product_tax + shipping_fee_tax
func (s *Server) renderOrder(o *order) orderJSON {
	cur := s.opts.Currency
	providerID := "6617675021119438849"
	j := orderJSON{
		ID: o.id, Status: o.status, CreateTime: o.createTime, UpdateTime: o.updateTime,
		RTSTime: o.rtsTime, CollectionTime: o.collectionTime, DeliveryTime: o.deliveryTime,
		CancelTime: o.cancelTime, CancelReason: o.cancelReason, CancellationInitiator: o.cancelInitiator,
		RequestCancelTime: o.requestCancelTime, IsBuyerRequestCancel: o.buyerRequestCancel,
		UserID: o.userID, BuyerEmail: o.buyerEmail, BuyerMessage: o.buyerMessage,
		FulfillmentType: o.fulfillmentType, ShippingType: o.shippingType, DeliveryType: "HOME_DELIVERY",
		DeliveryOptionID: "7091146663229654785", DeliveryOptionName: "Standard shipping",
		WarehouseID: o.warehouseID, IsOnHoldOrder: o.status == "ON_HOLD",
		HasUpdatedRecipientAddress: o.addressUpdated, OrderType: "NORMAL", CommercePlatform: "TIKTOK_SHOP",
		PaymentMethodName: "CCDC", Packages: []packageJSON{}, LineItems: []lineItemJSON{},
	}
	if o.status == "UNPAID" {
		j.CancelOrderSLATime = o.createTime + day
	}
	if o.paid {
		j.PaidTime = o.paidTime
		j.RTSSLATime = o.paidTime + 2*day
		j.TTSSLATime = o.paidTime + 3*day
		j.ShippingDueTime = o.paidTime + 3*day
		j.CollectionDueTime = o.paidTime + 5*day
		j.DeliveryDueTime = o.paidTime + 10*day
	}
	if o.released {
		for _, p := range o.packages {
			j.Packages = append(j.Packages, packageJSON{p.id})
		}
		if len(o.packages) > 1 {
			j.SplitOrCombineTag = "SPLIT"
		}
		if o.packages[0].tracking != "" {
			j.ShippingProvider, j.ShippingProviderID, j.TrackingNumber = shippingProviderName, providerID, o.packages[0].tracking
		}
		j.RecipientAddress = s.renderAddress(o)
	}
	var original, sellerDisc, platformDisc, sub, productTax cents
	for _, l := range o.lines {
		original += l.original
		sellerDisc += l.sellerDisc
		platformDisc += l.platformDisc
		sub += l.sale()
		productTax += l.tax
		lj := lineItemJSON{
			ID: l.id, SKUID: l.sku.id, ProductID: l.sku.prod.id, ProductName: l.sku.prod.title, SKUName: l.sku.name,
			SKUImage:  "https://p16-oec-eu-common.ibyteimg.com/tos-alisg-i-aphluv4xwc-sg/" + l.sku.id + "~tplv-aphluv4xwc-origin-jpeg.jpeg",
			SellerSKU: l.sku.sellerSKU, SKUType: "NORMAL",
			OriginalPrice: l.original.String(), SalePrice: l.sale().String(),
			PlatformDiscount: l.platformDisc.String(), SellerDiscount: l.sellerDisc.String(), Currency: cur,
			DisplayStatus: l.status, IsGift: l.gift, CancelReason: l.cancelReason, CancelUser: l.cancelUser,
			ItemTax: []itemTaxJSON{},
		}
		if l.tax > 0 {
			lj.ItemTax = append(lj.ItemTax, itemTaxJSON{"SALES_TAX", l.tax.String(), taxRate(l.tax, l.sale())})
		}
		if o.released {
			p := o.packages[l.pkg]
			lj.PackageID, lj.PackageStatus = p.id, l.pkgStatus
			if p.tracking != "" && !l.cancelled() {
				lj.ShippingProviderID, lj.ShippingProviderName, lj.TrackingNumber, lj.RTSTime = providerID, shippingProviderName, p.tracking, o.rtsTime
			}
		}
		j.LineItems = append(j.LineItems, lj)
	}
	shipping := o.shipFee - o.shipSellerDisc - o.shipPlatformDisc
	tax := productTax + o.shipTax
	zero := cents(0).String()
	j.Payment = paymentJSON{
		Currency: cur, SubTotal: sub.String(), ShippingFee: shipping.String(),
		SellerDiscount: sellerDisc.String(), PlatformDiscount: platformDisc.String(),
		TotalAmount:               (sub + shipping + tax).String(),
		OriginalTotalProductPrice: original.String(), OriginalShippingFee: o.shipFee.String(),
		ShippingFeeSellerDiscount: o.shipSellerDisc.String(), ShippingFeePlatformDiscount: o.shipPlatformDisc.String(),
		ShippingFeeCofundedDiscount: zero, Tax: tax.String(), ProductTax: productTax.String(), ShippingFeeTax: o.shipTax.String(),
		SmallOrderFee: zero, RetailDeliveryFee: zero, BuyerServiceFee: zero, HandlingFee: zero,
		ItemInsuranceFee: zero, ShippingInsuranceFee: zero,
	}
	return j
}

// taxRate is tax/base to two decimals, as a string; only informative.
func taxRate(tax, base cents) string {
	if base <= 0 {
		return "0"
	}
	return cents((int64(tax)*100 + int64(base)/2) / int64(base)).String()
}

func (s *Server) renderAddress(o *order) *recipientJSON {
	a := o.addr
	first, last, name := a.first, a.last, a.first+" "+a.last
	if o.shippingType == "TIKTOK" {
		// TikTok masks the buyer when its own logistics carry the parcel.
		first, last, name = mask(first), mask(last), mask(name)
	}
	full := a.line1
	if a.line2 != "" {
		full += ", " + a.line2
	}
	full += ", " + a.town + ", " + a.county + ", " + a.postcode
	return &recipientJSON{
		Name: name, FirstName: first, LastName: last, PhoneNumber: maskPhone(a.phone),
		FullAddress: full, AddressDetail: a.line2, AddressLine1: a.line1, AddressLine2: a.line2,
		PostalCode: a.postcode, RegionCode: s.shop.Region,
		DistrictInfo: []districtJSON{
			{"L0", "Country", "United Kingdom"},
			{"L1", "County", a.county},
			{"L2", "Post town", a.town},
		},
		DeliveryPreferences: map[string]string{"drop_off_location": ""},
	}
}
