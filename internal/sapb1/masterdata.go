package sapb1

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Item is an item master record (OITM) with the fields the flows read.
type Item struct {
	ItemCode        string `json:"ItemCode"`
	ItemName        string `json:"ItemName,omitempty"`
	InventoryItem   string `json:"InventoryItem,omitempty"`
	SalesItem       string `json:"SalesItem,omitempty"`
	Valid           string `json:"Valid,omitempty"`
	Frozen          string `json:"Frozen,omitempty"`
	TreeType        string `json:"TreeType,omitempty"`
	QuantityOnStock *Num   `json:"QuantityOnStock,omitempty"`
	ItemPrices      []struct {
		PriceList int    `json:"PriceList"`
		Price     *Num   `json:"Price"`
		Currency  string `json:"Currency"`
	} `json:"ItemPrices,omitempty"`
	Warehouses []struct {
		WarehouseCode string `json:"WarehouseCode"`
		InStock       *Num   `json:"InStock"`
		Committed     *Num   `json:"Committed"`
	} `json:"ItemWarehouseInfoCollection,omitempty"`
	UDF UDFs `json:"-"`
}

type itemFields Item

func (i Item) MarshalJSON() ([]byte, error) { return marshalWithUDFs(itemFields(i), i.UDF) }

func (i *Item) UnmarshalJSON(b []byte) error {
	var f itemFields
	udfs, err := unmarshalWithUDFs(b, &f)
	if err != nil {
		return err
	}
	*i = Item(f)
	i.UDF = udfs
	return nil
}

// GetItem reads one item.
func (c *Client) GetItem(ctx context.Context, code string) (Item, error) {
	var out Item
	err := c.getJSON(ctx, "get item", keyPath("Items", code), nil, &out)
	return out, err
}

// CreateItem adds an item (the sandbox and tests; the flows only read items).
func (c *Client) CreateItem(ctx context.Context, it Item) error {
	_, err := c.do(ctx, request{op: "create item", method: http.MethodPost, path: "Items", body: it})
	return err
}

// Warehouse is a warehouse (OWHS).
type Warehouse struct {
	WarehouseCode string `json:"WarehouseCode"`
	WarehouseName string `json:"WarehouseName,omitempty"`
	Inactive      string `json:"Inactive,omitempty"`
}

// Warehouses lists every warehouse.
func (c *Client) Warehouses(ctx context.Context) ([]Warehouse, error) {
	var all []Warehouse
	err := c.List(ctx, "Warehouses", nil, func(page json.RawMessage) error {
		var ws []Warehouse
		if err := json.Unmarshal(page, &ws); err != nil {
			return err
		}
		all = append(all, ws...)
		return nil
	})
	return all, err
}

// CreateWarehouse adds a warehouse (the sandbox and tests).
func (c *Client) CreateWarehouse(ctx context.Context, w Warehouse) error {
	_, err := c.do(ctx, request{op: "create warehouse", method: http.MethodPost, path: "Warehouses", body: w})
	return err
}

// ProductTree is a bill of materials (OITT/ITT1); TreeType iSalesTree is a
// sales BOM (kit).
type ProductTree struct {
	TreeCode string `json:"TreeCode"`
	TreeType string `json:"TreeType,omitempty"`
	Quantity *Num   `json:"Quantity,omitempty"`
	Lines    []struct {
		ItemCode  string `json:"ItemCode"`
		Quantity  *Num   `json:"Quantity"`
		Warehouse string `json:"Warehouse,omitempty"`
	} `json:"ProductTreeLines"`
}

// GetProductTree reads the bill of materials of an item.
func (c *Client) GetProductTree(ctx context.Context, code string) (ProductTree, error) {
	var out ProductTree
	err := c.getJSON(ctx, "get product tree", keyPath("ProductTrees", code), nil, &out)
	return out, err
}

// BusinessPartner is a customer or supplier (OCRD).
type BusinessPartner struct {
	CardCode string `json:"CardCode"`
	CardName string `json:"CardName,omitempty"`
	CardType string `json:"CardType,omitempty"`
	Currency string `json:"Currency,omitempty"`
}

// GetBusinessPartner reads one business partner.
func (c *Client) GetBusinessPartner(ctx context.Context, code string) (BusinessPartner, error) {
	var out BusinessPartner
	err := c.getJSON(ctx, "get business partner", keyPath("BusinessPartners", code), nil, &out)
	return out, err
}

// CreateBusinessPartner adds a business partner, e.g. a shop's generic
// customer.
func (c *Client) CreateBusinessPartner(ctx context.Context, bp BusinessPartner) error {
	_, err := c.do(ctx, request{op: "create business partner", method: http.MethodPost, path: "BusinessPartners", body: bp})
	return err
}

// UserField is a user-defined field definition (CUFD).
type UserField struct {
	TableName   string `json:"TableName"`
	Name        string `json:"Name"`
	Type        string `json:"Type,omitempty"`
	Size        int    `json:"Size,omitempty"`
	EditSize    int    `json:"EditSize,omitempty"`
	Description string `json:"Description,omitempty"`
	SubType     string `json:"SubType,omitempty"`
	FieldID     *int   `json:"FieldID,omitempty"`
}

// UserFields lists the user-defined fields of a table (e.g. ORDR).
func (c *Client) UserFields(ctx context.Context, table string) ([]UserField, error) {
	var all []UserField
	q := url.Values{"$filter": {"TableName eq " + quote(table)}}
	err := c.List(ctx, "UserFieldsMD", q, func(page json.RawMessage) error {
		var fs []UserField
		if err := json.Unmarshal(page, &fs); err != nil {
			return err
		}
		all = append(all, fs...)
		return nil
	})
	return all, err
}

// CreateUserField creates a user-defined field. It alters SAP's tables (and
// for line tables every document-line table) and the Service Layer sees it
// only after a restart: an IT change-window step, done only when asked.
func (c *Client) CreateUserField(ctx context.Context, f UserField) error {
	_, err := c.do(ctx, request{op: "create user field", method: http.MethodPost, path: "UserFieldsMD", body: f})
	return err
}

func (c *Client) getJSON(ctx context.Context, op, path string, q url.Values, out any) error {
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, path: path, query: q})
	if err != nil {
		return err
	}
	return decode(op, resp.body, out)
}
