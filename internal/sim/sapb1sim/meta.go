package sapb1sim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// This file is the simulator's $metadata: for every entity the Service Layer
// property names (from reference/samples/sapb1/service-layer-v1-metadata.xml,
// where the Alias attribute is the DB column), their columns, types and
// enumerations. Requests are checked against it and SQL is built from it.

type kind int

const (
	kString kind = iota // nvarchar
	kInt                // int
	kDec                // numeric(19,6): Edm.Double in the Service Layer, decimal here (never float)
	kDate               // datetime, date part only: "2024-01-31"
	kTime               // int HHMMSS: "09:27:45"
	kEnum               // one letter in the DB, an enumeration name in JSON
	kColl               // a collection of child entities (DocumentLines, ItemPrices ...)
)

// enumType is an SAP enumeration: names ("bost_Open") for JSON, letters ("O")
// for the database. Input accepts either (SLG §3.7.3).
type enumType struct {
	name    string
	names   []string
	letters []string
}

func enum(name string, pairs ...string) *enumType {
	e := &enumType{name: name}
	for i := 0; i < len(pairs); i += 2 {
		e.names = append(e.names, pairs[i])
		e.letters = append(e.letters, pairs[i+1])
	}
	return e
}

// parse maps a name or a letter to the letter.
func (e *enumType) parse(s string) (string, bool) {
	for i, n := range e.names {
		if s == n || s == e.letters[i] {
			return e.letters[i], true
		}
	}
	return "", false
}

// nameOf maps a letter to its name; an unknown letter is shown as it is.
func (e *enumType) nameOf(letter string) string {
	for i, l := range e.letters {
		if l == letter {
			return e.names[i]
		}
	}
	return letter
}

var (
	enumYesNo     = enum("BoYesNoEnum", "tNO", "N", "tYES", "Y")
	enumStatus    = enum("BoStatus", "bost_Open", "O", "bost_Close", "C", "bost_Paid", "P", "bost_Delivered", "D")
	enumCardType  = enum("BoCardTypes", "cCustomer", "C", "cSupplier", "S", "cLid", "L")
	enumTreeType  = enum("BoItemTreeTypes", "iNotATree", "N", "iAssemblyTree", "A", "iSalesTree", "S", "iProductionTree", "P", "iTemplateTree", "T", "iIngredient", "I")
	enumFieldType = enum("BoFieldTypes", "db_Alpha", "A", "db_Memo", "M", "db_Numeric", "N", "db_Date", "D", "db_Float", "B")
	enumSubType   = enum("BoFldSubTypes", "st_None", "", "st_Address", "?", "st_Phone", "#", "st_Time", "T", "st_Rate", "R", "st_Sum", "S", "st_Price", "P", "st_Quantity", "Q", "st_Percentage", "%", "st_Measurement", "M", "st_Link", "B", "st_Image", "I")
	enumDocType   = enum("BoDocumentTypes", "dDocument_Items", "I", "dDocument_Service", "S")
	enumItemType  = enum("ItemTypeEnum", "itItems", "I", "itLabor", "L", "itTravel", "T", "itFixedAssets", "F")
	enumIssue     = enum("BoIssueMethod", "im_Backflush", "B", "im_Manual", "M")
	enumObject    = enum("BoObjectTypes", "oInvoices", "13", "oCreditNotes", "14", "oDeliveryNotes", "15", "oOrders", "17")
	// CANCELED is Y/N on a cancelled document and C on the cancellation
	// document itself; Cancelled (BoYesNoEnum) shows C as tNO, CancelStatus
	// shows it as csCancellation.
	enumCancelled    = enum("BoYesNoEnum", "tNO", "N", "tYES", "Y", "tNO", "C")
	enumCancelStatus = enum("CancelStatusEnum", "csYes", "Y", "csNo", "N", "csCancellation", "C")
)

// field is one property of an entity.
type field struct {
	name string    // Service Layer property
	col  string    // DB column; "" for a collection
	kind kind      // type
	enum *enumType // for kEnum
	size int       // maximum length of a string, 0 = unbounded
	ro   bool      // read-only: silently ignored in POST and PATCH bodies
	coll *entity   // for kColl: the child entity
	udf  bool      // a user-defined field (U_…)
}

// entity is an entity type as stored in one table.
type entity struct {
	set      string // entity set name ("Orders"); "" for child collections
	typ      string // entity type name in error texts ("Document")
	table    string // DB table
	keys     []string
	fields   []*field
	udfTable string // CUFD TableID of its U_ fields; "" = none
	etag     bool   // has DataVersion / ETag (reference §A5)
	objType  int    // document object type (17, 15, 13, 14); 0 otherwise
	link     string // for a child entity: its column holding the parent's key
	sort     string // for a child entity: the SQL order of its rows
}

func (e *entity) field(name string) *field {
	for _, f := range e.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

func str(name, col string, size int) *field {
	return &field{name: name, col: col, kind: kString, size: size}
}
func num(name, col string) *field  { return &field{name: name, col: col, kind: kInt} }
func dec(name, col string) *field  { return &field{name: name, col: col, kind: kDec} }
func date(name, col string) *field { return &field{name: name, col: col, kind: kDate} }
func tod(name, col string) *field  { return &field{name: name, col: col, kind: kTime} }
func en(name, col string, e *enumType) *field {
	return &field{name: name, col: col, kind: kEnum, enum: e}
}
func ro(f *field) *field { f.ro = true; return f }

func docLineEntity(table string) *entity {
	return &entity{typ: "DocumentLine", table: table, keys: []string{"DocEntry", "LineNum"}, udfTable: table, link: "DocEntry", sort: `"LineNum"`, fields: []*field{
		ro(num("LineNum", "LineNum")),
		str("ItemCode", "ItemCode", 50),
		str("ItemDescription", "Dscription", 200),
		dec("Quantity", "Quantity"),
		date("ShipDate", "ShipDate"),
		dec("Price", "Price"),
		dec("PriceAfterVAT", "PriceAfVAT"),
		ro(str("Currency", "Currency", 3)),
		dec("DiscountPercent", "DiscPrcnt"),
		str("WarehouseCode", "WhsCode", 8),
		ro(en("TreeType", "TreeType", enumTreeType)),
		str("VatGroup", "VatGroup", 8),
		num("BaseType", "BaseType"),
		num("BaseEntry", "BaseEntry"),
		num("BaseLine", "BaseLine"),
		str("TaxCode", "TaxCode", 8),
		dec("LineTotal", "LineTotal"),
		ro(dec("TaxPercentagePerRow", "VatPrcnt")),
		ro(dec("TaxTotal", "VatSum")),
		ro(num("VisualOrder", "VisOrder")),
		dec("UnitPrice", "PriceBefDi"),
		en("LineStatus", "LineStatus", enumStatus),
		ro(dec("RemainingOpenQuantity", "OpenQty")),
		en("WithoutInventoryMovement", "NoInvtryMv", enumYesNo),
		ro(num("DocEntry", "DocEntry")),
	}}
}

// docExpenseEntity is a document's additional expenses (freight). TaxSum
// is writable in SAP's metadata; the simulator always computes it.
func docExpenseEntity(table string) *entity {
	return &entity{typ: "DocumentAdditionalExpense", table: table, keys: []string{"DocEntry", "LineNum"}, link: "DocEntry", sort: `"LineNum"`, fields: []*field{
		num("ExpenseCode", "ExpnsCode"),
		dec("LineTotal", "LineTotal"),
		dec("LineGross", "GrsAmount"),
		str("TaxCode", "TaxCode", 8),
		str("VatGroup", "VatGroup", 8),
		ro(dec("TaxPercent", "VatPrcnt")),
		ro(dec("TaxSum", "VatSum")),
		en("TaxLiable", "TaxStatus", enumYesNo),
		str("Remarks", "Comments", 254),
		ro(en("Status", "Status", enumStatus)),
		ro(num("LineNum", "LineNum")),
	}}
}

func documentEntity(set, head, line, exp string, objType int) *entity {
	lines := docLineEntity(line)
	return &entity{set: set, typ: "Document", table: head, keys: []string{"DocEntry"}, udfTable: head, etag: true, objType: objType, fields: []*field{
		ro(num("DocEntry", "DocEntry")),
		ro(num("DocNum", "DocNum")),
		en("DocType", "DocType", enumDocType),
		date("DocDate", "DocDate"),
		date("DocDueDate", "DocDueDate"),
		str("CardCode", "CardCode", 15),
		ro(str("CardName", "CardName", 100)),
		str("NumAtCard", "NumAtCard", 100),
		ro(dec("DocTotal", "DocTotal")),
		str("DocCurrency", "DocCur", 3),
		dec("DocRate", "DocRate"),
		str("Comments", "Comments", 254),
		num("SalesPersonCode", "SlpCode"),
		ro(num("Series", "Series")),
		date("TaxDate", "TaxDate"),
		ro(en("DocObjectCode", "ObjType", enumObject)),
		dec("DiscountPercent", "DiscPrcnt"),
		ro(date("CreationDate", "CreateDate")),
		ro(date("UpdateDate", "UpdateDate")),
		ro(dec("VatSum", "VatSum")),
		ro(en("DocumentStatus", "DocStatus", enumStatus)),
		str("TrackingNumber", "TrackNo", 30),
		ro(dec("TotalDiscount", "DiscSum")),
		ro(en("Cancelled", "CANCELED", enumCancelled)),
		ro(en("CancelStatus", "CANCELED", enumCancelStatus)),
		ro(tod("UpdateTime", "UpdateTS")),
		ro(num("DataVersion", "LogInstanc")),
		{name: "DocumentLines", kind: kColl, coll: lines},
		{name: "DocumentAdditionalExpenses", kind: kColl, coll: docExpenseEntity(exp)},
	}}
}

var (
	itemPriceEntity = &entity{typ: "ItemPrice", table: "ITM1", keys: []string{"ItemCode", "PriceList"}, link: "ItemCode", sort: `"PriceList"`, fields: []*field{
		num("PriceList", "PriceList"),
		dec("Price", "Price"),
		str("Currency", "Currency", 3),
		dec("Factor", "Factor"),
	}}
	itemWhsEntity = &entity{typ: "ItemWarehouseInfo", table: "OITW", keys: []string{"ItemCode", "WhsCode"}, udfTable: "OITW", link: "ItemCode", sort: `"WhsCode"`, fields: []*field{
		dec("MinimalStock", "MinStock"),
		dec("MaximalStock", "MaxStock"),
		dec("MinimalOrder", "MinOrder"),
		ro(dec("StandardAveragePrice", "AvgPrice")),
		en("Locked", "Locked", enumYesNo),
		str("WarehouseCode", "WhsCode", 8),
		ro(dec("InStock", "OnHand")),
		ro(dec("Committed", "IsCommited")),
		ro(dec("Ordered", "OnOrder")),
		ro(str("ItemCode", "ItemCode", 50)),
	}}
	itemEntity = &entity{set: "Items", typ: "Item", table: "OITM", keys: []string{"ItemCode"}, udfTable: "OITM", etag: true, fields: []*field{
		str("ItemCode", "ItemCode", 50),
		str("ItemName", "ItemName", 200),
		str("ForeignName", "FrgnName", 200),
		num("ItemsGroupCode", "ItmsGrpCod"),
		str("BarCode", "CodeBars", 254),
		en("VatLiable", "VATLiable", enumYesNo),
		en("PurchaseItem", "PrchseItem", enumYesNo),
		en("SalesItem", "SellItem", enumYesNo),
		en("InventoryItem", "InvntItem", enumYesNo),
		ro(en("TreeType", "TreeType", enumTreeType)),
		ro(dec("QuantityOnStock", "OnHand")),
		ro(dec("QuantityOrderedFromVendors", "OnOrder")),
		ro(dec("QuantityOrderedByCustomers", "IsCommited")),
		en("ManageSerialNumbers", "ManSerNum", enumYesNo),
		en("ManageBatchNumbers", "ManBtchNum", enumYesNo),
		en("Valid", "validFor", enumYesNo),
		date("ValidFrom", "validFrom"),
		date("ValidTo", "validTo"),
		en("Frozen", "frozenFor", enumYesNo),
		date("FrozenFrom", "frozenFrom"),
		date("FrozenTo", "frozenTo"),
		str("DefaultWarehouse", "DfltWH", 8),
		en("ItemType", "ItemType", enumItemType),
		str("InventoryUOM", "InvntryUom", 100),
		ro(date("UpdateDate", "UpdateDate")),
		ro(tod("UpdateTime", "UpdateTS")),
		ro(date("CreateDate", "CreateDate")),
		ro(tod("CreateTime", "CreateTS")),
		ro(num("DataVersion", "LogInstanc")),
		{name: "ItemPrices", kind: kColl, coll: itemPriceEntity},
		{name: "ItemWarehouseInfoCollection", kind: kColl, coll: itemWhsEntity},
	}}
	warehouseEntity = &entity{set: "Warehouses", typ: "Warehouse", table: "OWHS", keys: []string{"WhsCode"}, udfTable: "OWHS", fields: []*field{
		str("WarehouseCode", "WhsCode", 8),
		str("WarehouseName", "WhsName", 100),
		str("Street", "Street", 100),
		str("City", "City", 100),
		str("ZipCode", "ZipCode", 20),
		str("Country", "Country", 3),
		en("DropShip", "DropShip", enumYesNo),
		en("Nettable", "Nettable", enumYesNo),
		en("EnableBinLocations", "BinActivat", enumYesNo),
		en("Inactive", "Inactive", enumYesNo),
	}}
	priceListEntity = &entity{set: "PriceLists", typ: "PriceList", table: "OPLN", keys: []string{"ListNum"}, fields: []*field{
		num("BasePriceList", "BASE_NUM"),
		dec("Factor", "Factor"),
		ro(num("PriceListNo", "ListNum")),
		str("PriceListName", "ListName", 32),
		en("IsGrossPrice", "IsGrossPrc", enumYesNo),
		en("Active", "ValidFor", enumYesNo),
		date("ValidFrom", "ValidFrom"),
		date("ValidTo", "ValidTo"),
		str("DefaultPrimeCurrency", "PrimCurr", 3),
	}}
	businessPartnerEntity = &entity{set: "BusinessPartners", typ: "BusinessPartner", table: "OCRD", keys: []string{"CardCode"}, udfTable: "OCRD", etag: true, fields: []*field{
		str("CardCode", "CardCode", 15),
		str("CardName", "CardName", 100),
		en("CardType", "CardType", enumCardType),
		str("Phone1", "Phone1", 20),
		num("PriceListNum", "ListNum"),
		str("FederalTaxID", "LicTradNum", 32),
		str("Currency", "Currency", 3),
		str("CardForeignName", "CardFName", 100),
		str("EmailAddress", "E_Mail", 100),
		en("Valid", "validFor", enumYesNo),
		date("ValidFrom", "validFrom"),
		date("ValidTo", "validTo"),
		en("Frozen", "frozenFor", enumYesNo),
		date("FrozenFrom", "frozenFrom"),
		date("FrozenTo", "frozenTo"),
		ro(date("CreateDate", "CreateDate")),
		ro(tod("CreateTime", "CreateTS")),
		ro(date("UpdateDate", "UpdateDate")),
		ro(tod("UpdateTime", "UpdateTS")),
		ro(num("DataVersion", "LogInstanc")),
	}}
	productTreeLineEntity = &entity{typ: "ProductTreeLine", table: "ITT1", keys: []string{"Father", "ChildNum"}, link: "Father", sort: `"VisOrder", "ChildNum"`, fields: []*field{
		str("ItemCode", "Code", 50),
		dec("Quantity", "Quantity"),
		str("Warehouse", "Warehouse", 8),
		dec("Price", "Price"),
		str("Currency", "Currency", 3),
		en("IssueMethod", "IssueMthd", enumIssue),
		str("InventoryUOM", "Uom", 100),
		str("Comment", "Comment", 254),
		ro(str("ParentItem", "Father", 50)),
		num("PriceList", "PriceList"),
		ro(num("ItemType", "Type")),
		ro(num("ChildNum", "ChildNum")),
		ro(num("VisualOrder", "VisOrder")),
	}}
	productTreeEntity = &entity{set: "ProductTrees", typ: "ProductTree", table: "OITT", keys: []string{"Code"}, fields: []*field{
		str("TreeCode", "Code", 50),
		en("TreeType", "TreeType", enumTreeType),
		dec("Quantity", "Qauntity"),
		num("PriceList", "PriceList"),
		str("Warehouse", "ToWH", 8),
		en("HideBOMComponentsInPrintout", "HideComp", enumYesNo),
		str("ProductDescription", "Name", 100),
		{name: "ProductTreeLines", kind: kColl, coll: productTreeLineEntity},
	}}
	userFieldEntity = &entity{set: "UserFieldsMD", typ: "UserFieldMD", table: "CUFD", keys: []string{"TableID", "FieldID"}, fields: []*field{
		str("Name", "AliasID", 50),
		en("Type", "TypeID", enumFieldType),
		num("Size", "SizeID"),
		str("Description", "Descr", 80),
		en("SubType", "EditType", enumSubType),
		str("LinkedTable", "RTable", 20),
		str("DefaultValue", "Dflt", 254),
		str("TableName", "TableID", 20),
		ro(num("FieldID", "FieldID")),
		num("EditSize", "EditSize"),
		en("Mandatory", "NotNull", enumYesNo),
	}}

	ordersEntity        = documentEntity("Orders", "ORDR", "RDR1", "RDR3", 17)
	deliveryNotesEntity = documentEntity("DeliveryNotes", "ODLN", "DLN1", "DLN3", 15)
	invoicesEntity      = documentEntity("Invoices", "OINV", "INV1", "INV3", 13)
	creditNotesEntity   = documentEntity("CreditNotes", "ORIN", "RIN1", "RIN3", 14)

	salesTaxCodeEntity = &entity{set: "SalesTaxCodes", typ: "SalesTaxCode", table: "OSTC", keys: []string{"Code"}, fields: []*field{
		str("Code", "Code", 8),
		str("Name", "Name", 100),
		// Read-only in SAP (the sum of the code's jurisdiction rates); the
		// simulator takes it on create, having no jurisdictions.
		dec("Rate", "Rate"),
		en("Inactive", "Lock", enumYesNo),
	}}

	additionalExpenseEntity = &entity{set: "AdditionalExpenses", typ: "AdditionalExpense", table: "OEXD", keys: []string{"ExpnsCode"}, fields: []*field{
		ro(num("ExpensCode", "ExpnsCode")),
		str("Name", "ExpnsName", 20),
		str("RevenuesAccount", "RevAcct", 15),
		en("TaxLiable", "TaxLiable", enumYesNo),
		str("OutputVATGroup", "VatGroupI", 8),
	}}

	// entitySets are the entity sets the simulator serves, by name.
	entitySets = map[string]*entity{}
	// documentsByType maps an object type to its entity set.
	documentsByType = map[int]*entity{}
)

func init() {
	for _, e := range []*entity{ordersEntity, deliveryNotesEntity, invoicesEntity, creditNotesEntity,
		itemEntity, warehouseEntity, priceListEntity, businessPartnerEntity, productTreeEntity, userFieldEntity, additionalExpenseEntity, salesTaxCodeEntity} {
		entitySets[e.set] = e
		if e.objType != 0 {
			documentsByType[e.objType] = e
		}
	}
}

func (e *entity) isDocument() bool { return e.objType != 0 }

// lines returns a document's line entity.
func (e *entity) lines() *entity { return e.field("DocumentLines").coll }

// expenses returns a document's additional expense entity.
func (e *entity) expenses() *entity { return e.field("DocumentAdditionalExpenses").coll }

// ---- values ----

// parseValue converts one JSON value of a request body into the value bound
// for the field's column: string, int64, decimal.Decimal, a date as
// "YYYY-MM-DD", a time as int HHMMSS, an enumeration letter, or nil.
func (f *field) parseValue(v any, typ string) (any, *slError) {
	if v == nil {
		return nil, nil
	}
	bad := func() *slError {
		return errQuery("Invalid value for property '%s' of '%s': %s", f.name, typ, describe(v))
	}
	switch f.kind {
	case kString:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return nil, bad()
		}
		if f.size > 0 && utf8.RuneCountInString(s) > f.size {
			return nil, errRule("Value too long in property '%s' of '%s' (%d characters, at most %d)", f.name, typ, utf8.RuneCountInString(s), f.size)
		}
		return s, nil
	case kInt:
		s, ok := numberText(v)
		if !ok {
			return nil, bad()
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case kDec:
		s, ok := numberText(v)
		if !ok {
			return nil, bad()
		}
		d, err := decimal.NewFromString(s)
		if err != nil || d.Abs().GreaterThanOrEqual(decimal.New(1, 13)) {
			return nil, bad()
		}
		return d.Round(6), nil
	case kDate:
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		d, ok := parseDate(s)
		if !ok {
			return nil, bad()
		}
		return d, nil
	case kTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		t, ok := parseTime(s)
		if !ok {
			return nil, bad()
		}
		return int64(t), nil
	case kEnum:
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		l, ok := f.enum.parse(s)
		if !ok {
			return nil, errQuery("Enumeration value '%s' is invalid for property '%s' of '%s' (%s)", s, f.name, typ, f.enum.name)
		}
		return l, nil
	}
	return nil, bad()
}

// numberText accepts a JSON number or a numeric string: the Service Layer
// takes "Quantity": "1" as well as 1 (SLG's own $batch sample sends strings).
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case string:
		s := strings.TrimSpace(x)
		if _, err := decimal.NewFromString(s); err != nil || s == "" {
			return "", false
		}
		return s, true
	}
	return "", false
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 60 {
		return fmt.Sprintf("%T", v)
	}
	return string(b)
}

// parseDate accepts the date formats SAP documents (SLG §3.7.4) and ignores
// any time part.
func parseDate(s string) (string, bool) {
	for _, layout := range []string{"2006-01-02", "20060102", "2006-01-02T15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05", "20060102150405", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	return "", false
}

// parseTime accepts the time formats SAP documents (SLG §3.7.5) and returns
// HHMMSS.
func parseTime(s string) (int, bool) {
	for _, layout := range []string{"15:04:05", "15:04", "150405", "1504", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour()*10000 + t.Minute()*100 + t.Second(), true
		}
	}
	return 0, false
}

// render turns a column's text (as selected by selectExpr) into JSON.
func (f *field) render(text string, valid bool) json.RawMessage {
	if !valid {
		return json.RawMessage("null")
	}
	switch f.kind {
	case kInt:
		return json.RawMessage(text)
	case kDec:
		d, err := decimal.NewFromString(text)
		if err != nil {
			return json.RawMessage("null")
		}
		return json.RawMessage(d.String())
	case kTime:
		n, _ := strconv.Atoi(text)
		return jsonString(fmt.Sprintf("%02d:%02d:%02d", n/10000, n/100%100, n%100))
	case kEnum:
		return jsonString(f.enum.nameOf(text))
	}
	return jsonString(text)
}

// selectExpr is the SQL that reads the field as text for render.
func (f *field) selectExpr(alias string) string {
	c := alias + "." + ident(f.col)
	if f.kind == kDate {
		return "to_char(" + c + ", 'YYYY-MM-DD')"
	}
	return c + "::text"
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// object is a JSON object that keeps its keys in order, as SAP prints them.
type object []member

type member struct {
	key string
	val json.RawMessage
}

func (o *object) set(key string, v json.RawMessage) { *o = append(*o, member{key, v}) }

func (o object) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(m.key))
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
