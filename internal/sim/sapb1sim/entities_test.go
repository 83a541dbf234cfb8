package sapb1sim

import (
	"context"
	"strings"
	"testing"
)

func TestWarehousesAndPriceLists(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.c
	r := c.must(201, "POST", "Warehouses", map[string]any{"WarehouseCode": "01", "WarehouseName": "Main", "DropShip": "N"})
	if r.json["WarehouseName"] != "Main" || r.json["DropShip"] != "tNO" || r.json["Inactive"] != "tNO" {
		t.Fatalf("created warehouse: %s", r)
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/b1s/v1/Warehouses('01')") {
		t.Errorf("Location = %q", loc)
	}
	wantError(t, c.do("POST", "Warehouses", map[string]any{"WarehouseCode": "01", "WarehouseName": "Again"}), 400, -2035, "already exists")
	c.must(204, "PATCH", "Warehouses('01')", map[string]any{"WarehouseName": "Main DC", "Inactive": "tYES"})
	if r := c.must(200, "GET", "Warehouses('01')", nil); r.json["WarehouseName"] != "Main DC" || r.json["Inactive"] != "tYES" {
		t.Fatalf("patched warehouse: %s", r)
	}
	wantError(t, c.do("GET", "Warehouses('99')", nil), 404, -2028, "No matching records found (ODBC -2028)")
	wantError(t, c.do("PATCH", "Warehouses('99')", map[string]any{"WarehouseName": "x"}), 404, -2028, "No matching records")
	wantError(t, c.do("PATCH", "Warehouses('01')", map[string]any{"WarehouseCode": "02"}), 400, -1029, "Field cannot be updated")

	p := c.must(201, "POST", "PriceLists", map[string]any{"PriceListName": "Retail", "DefaultPrimeCurrency": "EUR"})
	if jnum(p.json["PriceListNo"]) != 1 || jnum(p.json["BasePriceList"]) != 1 || p.json["Active"] != "tYES" {
		t.Fatalf("price list: %s", p)
	}
	c.must(201, "POST", "PriceLists", map[string]any{"PriceListName": "Wholesale", "BasePriceList": 1, "Factor": 0.8})
	if r := c.must(200, "GET", "PriceLists(2)", nil); jdec(r.json["Factor"]).String() != "0.8" {
		t.Fatalf("price list 2: %s", r)
	}
	wantError(t, c.do("POST", "PriceLists", map[string]any{"PriceListName": "x", "BasePriceList": 7}), 400, -2028, "No matching records")
	c.must(204, "PATCH", "PriceLists(2)", map[string]any{"PriceListName": "Trade", "Active": "tNO"})
	if r := c.must(200, "GET", "PriceLists?$filter=Active eq 'N'&$select=PriceListNo,PriceListName", nil); !strings.Contains(string(r.raw), `"PriceListNo":2,"PriceListName":"Trade"`) {
		t.Fatalf("patched price list: %s", r.raw)
	}
}

func TestItemsWithPricesAndWarehouseInfo(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.c
	ts.warehouse("01")
	ts.warehouse("02")
	c.must(201, "POST", "PriceLists", map[string]any{"PriceListName": "Retail", "DefaultPrimeCurrency": "USD"})
	r := c.must(201, "POST", "Items", map[string]any{
		"ItemCode": "SKU-1", "ItemName": "T-shirt", "InventoryItem": "tYES", "SalesItem": "Y", "PurchaseItem": "tNO",
		"DefaultWarehouse":            "01",
		"ItemPrices":                  []any{map[string]any{"PriceList": 1, "Price": "12.50"}},
		"ItemWarehouseInfoCollection": []any{map[string]any{"WarehouseCode": "02", "MinimalStock": 3}},
	})
	if r.json["PurchaseItem"] != "tNO" || r.json["SalesItem"] != "tYES" || r.json["DefaultWarehouse"] != "01" {
		t.Fatalf("item: %s", r)
	}
	prices := r.json["ItemPrices"].([]any)
	if len(prices) != 1 || jdec(prices[0].(map[string]any)["Price"]).String() != "12.5" || prices[0].(map[string]any)["Currency"] != "USD" {
		t.Fatalf("prices: %v", prices)
	}
	whs := r.json["ItemWarehouseInfoCollection"].([]any)
	if len(whs) != 2 || jnum(whs[1].(map[string]any)["MinimalStock"]) != 3 {
		t.Fatalf("warehouse info (one row per warehouse): %v", whs)
	}
	// SQL Server is case-insensitive: the key matches in any case, and a
	// second item differing only in case is a duplicate.
	if g := c.must(200, "GET", "Items('sku-1')", nil); g.json["ItemCode"] != "SKU-1" {
		t.Fatalf("case-insensitive key: %s", g)
	}
	c.must(200, "GET", "Items(ItemCode='SKU-1')", nil)
	wantError(t, c.do("POST", "Items", map[string]any{"ItemCode": "sku-1"}), 400, -10, "Item code 'sku-1' already exists")

	before := c.must(200, "GET", "Items('SKU-1')", nil)
	c.must(204, "PATCH", "Items('SKU-1')", map[string]any{"ItemName": "T-shirt, blue", "Frozen": "tYES",
		"ItemPrices": []any{map[string]any{"PriceList": 1, "Price": 14}}})
	after := c.must(200, "GET", "Items('SKU-1')", nil)
	if after.json["ItemName"] != "T-shirt, blue" || after.json["Frozen"] != "tYES" || jnum(after.json["DataVersion"]) != jnum(before.json["DataVersion"])+1 {
		t.Fatalf("patched item: %s", after)
	}
	if p := after.json["ItemPrices"].([]any)[0].(map[string]any); jnum(p["Price"]) != 14 {
		t.Fatalf("patched price: %v", p)
	}
	if after.header.Get("ETag") != `W/"1"` {
		t.Errorf("ETag = %q", after.header.Get("ETag"))
	}
	// Read-only properties are ignored; unknown ones are refused.
	c.must(204, "PATCH", "Items('SKU-1')", map[string]any{"QuantityOnStock": 999})
	wantError(t, c.do("PATCH", "Items('SKU-1')", map[string]any{"Colour": "blue"}), 400, -1000, "Property 'Colour' of 'Item' is invalid")
	wantError(t, c.do("POST", "Items", map[string]any{"ItemCode": "X", "InventoryItem": "maybe"}), 400, -1000, "Enumeration value 'maybe'")
	wantError(t, c.do("POST", "Items", map[string]any{"ItemCode": "X", "DefaultWarehouse": "77"}), 400, -2028, "No matching records")

	// A new warehouse adds a stock row for every item.
	ts.warehouse("03")
	if n := len(c.must(200, "GET", "Items('SKU-1')", nil).json["ItemWarehouseInfoCollection"].([]any)); n != 3 {
		t.Fatalf("after a new warehouse: %d rows", n)
	}
	c.must(204, "DELETE", "Items('SKU-1')", nil)
	wantError(t, c.do("GET", "Items('SKU-1')", nil), 404, -2028, "No matching records")
}

func TestBusinessPartners(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.c
	c.must(201, "POST", "PriceLists", map[string]any{"PriceListName": "Retail"})
	r := c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": "TIKTOK-US", "CardName": "TikTok Shop US", "CardType": "C", "EmailAddress": "shop@example.com"})
	if r.json["CardType"] != "cCustomer" || jnum(r.json["PriceListNum"]) != 1 || r.json["Valid"] != "tYES" {
		t.Fatalf("business partner: %s", r)
	}
	wantError(t, c.do("POST", "BusinessPartners", map[string]any{"CardCode": "tiktok-us", "CardName": "dup"}), 400, -10, "already assigned to a business partner")
	c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": "V1", "CardName": "Vendor", "CardType": "cSupplier"})
	c.must(204, "PATCH", "BusinessPartners('TIKTOK-US')", map[string]any{"Phone1": "555"})
	g := c.must(200, "GET", "BusinessPartners?$filter=CardType eq 'cCustomer'&$select=CardCode,Phone1", nil)
	v := g.json["value"].([]any)
	if len(v) != 1 || v[0].(map[string]any)["Phone1"] != "555" {
		t.Fatalf("customers: %s", g)
	}
	wantError(t, c.do("POST", "BusinessPartners", map[string]any{"CardCode": "X", "CardType": "cAlien"}), 400, -1000, "Enumeration value")
}

func TestProductTreesMarkTheItem(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.c
	ts.warehouse("01")
	ts.item("KIT", map[string]any{"InventoryItem": "tNO"})
	ts.item("A", nil)
	ts.item("B", nil)
	wantError(t, c.do("POST", "ProductTrees", map[string]any{"TreeCode": "A", "TreeType": "iSalesTree", "ProductTreeLines": []any{map[string]any{"ItemCode": "B"}}}),
		400, -10, "non-inventory")
	r := c.must(201, "POST", "ProductTrees", map[string]any{"TreeCode": "KIT", "TreeType": "iSalesTree", "Quantity": 1,
		"ProductTreeLines": []any{map[string]any{"ItemCode": "A", "Quantity": 2}, map[string]any{"ItemCode": "B", "Quantity": 1}}})
	tl := r.json["ProductTreeLines"].([]any)
	if r.json["TreeType"] != "iSalesTree" || len(tl) != 2 || jnum(tl[0].(map[string]any)["Quantity"]) != 2 || tl[1].(map[string]any)["ParentItem"] != "KIT" {
		t.Fatalf("tree: %s", r)
	}
	if it := c.must(200, "GET", "Items('KIT')", nil); it.json["TreeType"] != "iSalesTree" {
		t.Fatalf("item tree type: %v", it.json["TreeType"])
	}
	wantError(t, c.do("POST", "ProductTrees", map[string]any{"TreeCode": "KIT", "ProductTreeLines": []any{map[string]any{"ItemCode": "A"}}}), 400, -2035, "already exists")
	wantError(t, c.do("POST", "ProductTrees", map[string]any{"TreeCode": "NOPE", "ProductTreeLines": []any{map[string]any{"ItemCode": "A"}}}), 400, -2028, "No matching")
	c.must(204, "PATCH", "ProductTrees('KIT')", map[string]any{"ProductTreeLines": []any{map[string]any{"ItemCode": "B", "Quantity": 3}}},
		"B1S-ReplaceCollectionsOnPatch", "true")
	if tl := c.must(200, "GET", "ProductTrees('KIT')", nil).json["ProductTreeLines"].([]any); len(tl) != 1 || jnum(tl[0].(map[string]any)["Quantity"]) != 3 {
		t.Fatalf("replaced lines: %v", tl)
	}
	c.must(204, "DELETE", "ProductTrees('KIT')", nil)
	if it := c.must(200, "GET", "Items('KIT')", nil); it.json["TreeType"] != "iNotATree" {
		t.Fatalf("after delete: %v", it.json["TreeType"])
	}
}

func TestUserFieldsCreateColumnsOnEveryLineTable(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.c
	r := c.must(201, "POST", "UserFieldsMD", map[string]any{"Name": "TikTokPackageId", "Type": "db_Alpha", "Size": 30, "Description": "TikTok package", "TableName": "RDR1"})
	if r.json["TableName"] != "RDR1" || jnum(r.json["FieldID"]) != 0 || r.json["Type"] != "db_Alpha" || r.json["SubType"] != "st_None" {
		t.Fatalf("udf: %s", r)
	}
	c.must(201, "POST", "UserFieldsMD", map[string]any{"Name": "TikTokOrderId", "Type": "db_Alpha", "Size": 20, "TableName": "ORDR"})
	wantError(t, c.do("POST", "UserFieldsMD", map[string]any{"Name": "TikTokOrderId", "Type": "db_Alpha", "Size": 20, "TableName": "ORDR"}), 400, -2035, "already exists")
	wantError(t, c.do("POST", "UserFieldsMD", map[string]any{"Name": "Amount", "Type": "db_Float", "TableName": "ORDR"}), 400, -10, "SubType")
	c.must(201, "POST", "UserFieldsMD", map[string]any{"Name": "Amount", "Type": "db_Float", "SubType": "st_Sum", "TableName": "ORDR"})
	wantError(t, c.do("POST", "UserFieldsMD", map[string]any{"Name": "Count", "Type": "db_Numeric", "DefaultValue": "many", "TableName": "ORDR"}), 400, -1000, "Invalid value")
	c.must(201, "POST", "UserFieldsMD", map[string]any{"Name": "Released", "Type": "db_Alpha", "Size": 1, "DefaultValue": "N", "TableName": "ORDR"})
	for _, table := range []string{"RDR1", "DLN1", "INV1", "RIN1"} {
		var n int
		if err := ts.srv.Pool().QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'U_TikTokPackageId'`,
			ts.srv.Schema(), table).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%s.U_TikTokPackageId: %d %v", table, n, err)
		}
	}
	l := c.must(200, "GET", "UserFieldsMD?$filter=TableName eq 'ORDR'", nil).json["value"].([]any)
	if len(l) != 3 {
		t.Fatalf("ORDR fields: %v", l)
	}
	c.must(204, "PATCH", "UserFieldsMD(TableName='RDR1',FieldID=0)", map[string]any{"Description": "TikTok package id"})
	if g := c.must(200, "GET", "UserFieldsMD(TableName='RDR1',FieldID=0)", nil); g.json["Description"] != "TikTok package id" || g.json["Name"] != "TikTokPackageId" {
		t.Fatalf("udf after patch: %s", g)
	}
	wantError(t, c.do("PATCH", "UserFieldsMD(TableName='RDR1',FieldID=0)", map[string]any{"Size": 40}), 400, -1029, "cannot be updated")

	// The new fields are part of documents at once, and copied to targets.
	ts.warehouse("01")
	ts.item("A", nil)
	ts.customer("C1")
	ts.receive("A", "01", "5")
	o := c.must(201, "POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "U_TikTokOrderId": "577000000000000001", "U_Amount": "10.25",
		"DocumentLines": []any{map[string]any{"ItemCode": "A", "Quantity": 2, "U_TikTokPackageId": "PKG-1"}}})
	if o.json["U_TikTokOrderId"] != "577000000000000001" || jdec(o.json["U_Amount"]).String() != "10.25" || docLines(o)[0]["U_TikTokPackageId"] != "PKG-1" || o.json["U_Released"] != "N" {
		t.Fatalf("order with udfs: %s", o)
	}
	d := c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": jnum(o.json["DocEntry"]), "BaseLine": 0}}})
	if d.json["U_TikTokOrderId"] != "577000000000000001" || docLines(d)[0]["U_TikTokPackageId"] != "PKG-1" {
		t.Fatalf("delivery did not copy udfs: %s", d)
	}
}

func TestReturnNoContent(t *testing.T) {
	ts := newSim(t, nil)
	r := ts.c.must(204, "POST", "Warehouses", map[string]any{"WarehouseCode": "W9", "WarehouseName": "x"}, "Prefer", "return-no-content")
	if !strings.HasSuffix(r.header.Get("Location"), "/b1s/v1/Warehouses('W9')") || r.header.Get("Preference-Applied") != "return-no-content" || len(r.raw) != 0 {
		t.Fatalf("204: %v %q", r.header, r.raw)
	}
}
