package sapb1

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Document sets (entity sets sharing SAP's Document type).
const (
	Orders        = "Orders"
	DeliveryNotes = "DeliveryNotes"
	Invoices      = "Invoices"
	CreditNotes   = "CreditNotes"
)

// Document is a marketing document (order, delivery, invoice, credit note).
// Only the fields the flows use are typed; UDFs carry U_ fields.
type Document struct {
	DocEntry       int            `json:"DocEntry,omitempty"`
	DocNum         int            `json:"DocNum,omitempty"`
	Series         *int           `json:"Series,omitempty"`
	CardCode       string         `json:"CardCode,omitempty"`
	DocDate        string         `json:"DocDate,omitempty"`
	DocDueDate     string         `json:"DocDueDate,omitempty"`
	TaxDate        string         `json:"TaxDate,omitempty"`
	NumAtCard      string         `json:"NumAtCard,omitempty"`
	Comments       string         `json:"Comments,omitempty"`
	DocCurrency    string         `json:"DocCurrency,omitempty"`
	DocTotal       *Num           `json:"DocTotal,omitempty"`
	VatSum         *Num           `json:"VatSum,omitempty"`
	DocumentStatus string         `json:"DocumentStatus,omitempty"`
	Cancelled      string         `json:"Cancelled,omitempty"`
	TrackingNumber string         `json:"TrackingNumber,omitempty"`
	Lines          []DocumentLine `json:"DocumentLines,omitempty"`
	// Expenses are the document's freight (additional expense) lines.
	Expenses []AdditionalExpense `json:"DocumentAdditionalExpenses,omitempty"`
	UDF      UDFs                `json:"-"`
	// ETag is the entity's version as read (W/"…"); PATCH and actions
	// send it as If-Match so a concurrent change answers -2039.
	ETag string `json:"-"`
}

// DocumentLine is one line of a Document.
type DocumentLine struct {
	LineNum               *int   `json:"LineNum,omitempty"`
	ItemCode              string `json:"ItemCode,omitempty"`
	ItemDescription       string `json:"ItemDescription,omitempty"`
	Quantity              *Num   `json:"Quantity,omitempty"`
	Price                 *Num   `json:"Price,omitempty"`
	UnitPrice             *Num   `json:"UnitPrice,omitempty"`
	PriceAfterVAT         *Num   `json:"PriceAfterVAT,omitempty"`
	DiscountPercent       *Num   `json:"DiscountPercent,omitempty"`
	WarehouseCode         string `json:"WarehouseCode,omitempty"`
	TaxCode               string `json:"TaxCode,omitempty"`
	VatGroup              string `json:"VatGroup,omitempty"`
	LineTotal             *Num   `json:"LineTotal,omitempty"`
	LineStatus            string `json:"LineStatus,omitempty"`
	RemainingOpenQuantity *Num   `json:"RemainingOpenQuantity,omitempty"`
	BaseType              *int   `json:"BaseType,omitempty"`
	BaseEntry             *int   `json:"BaseEntry,omitempty"`
	BaseLine              *int   `json:"BaseLine,omitempty"`
	UDF                   UDFs   `json:"-"`
}

// AdditionalExpense is one freight line of a Document (the Service Layer's
// DocumentAdditionalExpense; tables RDR3/DLN3/INV3/RIN3): ExpenseCode is an
// additional expense definition (OEXD, entity AdditionalExpenses). Send the
// net LineTotal, or LineGross when the amount includes tax; SAP answers
// both with TaxPercent and TaxSum.
type AdditionalExpense struct {
	LineNum     *int   `json:"LineNum,omitempty"`
	ExpenseCode int    `json:"ExpenseCode"`
	LineTotal   *Num   `json:"LineTotal,omitempty"`
	LineGross   *Num   `json:"LineGross,omitempty"`
	TaxCode     string `json:"TaxCode,omitempty"`
	VatGroup    string `json:"VatGroup,omitempty"`
	TaxPercent  *Num   `json:"TaxPercent,omitempty"`
	TaxSum      *Num   `json:"TaxSum,omitempty"`
	Remarks     string `json:"Remarks,omitempty"`
}

type documentFields Document
type lineFields DocumentLine

func (d Document) MarshalJSON() ([]byte, error) {
	lines := make([]json.RawMessage, len(d.Lines))
	for i, l := range d.Lines {
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		lines[i] = b
	}
	type withRawLines struct {
		documentFields
		Lines []json.RawMessage `json:"DocumentLines,omitempty"`
	}
	return marshalWithUDFs(withRawLines{documentFields(d), lines}, d.UDF)
}

func (d *Document) UnmarshalJSON(b []byte) error {
	var f documentFields
	udfs, err := unmarshalWithUDFs(b, &f)
	if err != nil {
		return err
	}
	*d = Document(f)
	d.UDF = udfs
	return nil
}

func (l DocumentLine) MarshalJSON() ([]byte, error) {
	return marshalWithUDFs(lineFields(l), l.UDF)
}

func (l *DocumentLine) UnmarshalJSON(b []byte) error {
	var f lineFields
	udfs, err := unmarshalWithUDFs(b, &f)
	if err != nil {
		return err
	}
	*l = DocumentLine(f)
	l.UDF = udfs
	return nil
}

// Create posts a new document to set. A lost answer returns an error
// matching ErrUnknownOutcome: look the document up (FindByUDF) after
// ServiceLayerTimeout before deciding to post again.
func (c *Client) Create(ctx context.Context, set string, doc Document) (Document, error) {
	resp, err := c.do(ctx, request{op: "create " + set, method: http.MethodPost, path: set, body: doc})
	if err != nil {
		return Document{}, err
	}
	var out Document
	if err := decode("create "+set, resp.body, &out); err != nil {
		return Document{}, err
	}
	out.ETag = resp.header.Get("ETag")
	return out, nil
}

// Get reads one document.
func (c *Client) Get(ctx context.Context, set string, docEntry int) (Document, error) {
	resp, err := c.do(ctx, request{op: "get " + set, method: http.MethodGet, path: keyPath(set, docEntry)})
	if err != nil {
		return Document{}, err
	}
	var out Document
	if err := decode("get "+set, resp.body, &out); err != nil {
		return Document{}, err
	}
	out.ETag = resp.header.Get("ETag")
	return out, nil
}

// Patch changes the given fields of a document. With replaceLines the lines
// sent replace the stored ones (the only way to remove lines); otherwise
// lines with a LineNum are updated and others added.
func (c *Client) Patch(ctx context.Context, set string, docEntry int, patch Document, replaceLines bool) error {
	h := http.Header{}
	if replaceLines {
		h.Set("B1S-ReplaceCollectionsOnPatch", "true")
	}
	if patch.ETag != "" {
		h.Set("If-Match", patch.ETag)
	}
	_, err := c.do(ctx, request{op: "patch " + set, method: http.MethodPatch, path: keyPath(set, docEntry), body: patch, headers: h})
	return err
}

// Cancel cancels a document (an order with deliveries cannot be: close it).
func (c *Client) Cancel(ctx context.Context, set string, docEntry int) error {
	return c.action(ctx, set, docEntry, "Cancel")
}

// CloseDocument closes a document, releasing what is still open.
func (c *Client) CloseDocument(ctx context.Context, set string, docEntry int) error {
	return c.action(ctx, set, docEntry, "Close")
}

// Reopen reopens a closed document.
func (c *Client) Reopen(ctx context.Context, set string, docEntry int) error {
	return c.action(ctx, set, docEntry, "Reopen")
}

func (c *Client) action(ctx context.Context, set string, docEntry int, name string) error {
	_, err := c.do(ctx, request{op: name + " " + set, method: http.MethodPost, path: keyPath(set, docEntry) + "/" + name})
	return err
}

// DocumentKey finds a document by its idempotency UDF. AfterDocEntry and
// Since bound the search so SAP does not scan the whole table: the caller
// records both before posting.
type DocumentKey struct {
	UDF           string // e.g. U_TikTokOrderId
	Value         string
	AfterDocEntry int
	Since         time.Time
}

// FindByUDF returns the documents of set carrying key (normally none or one).
func (c *Client) FindByUDF(ctx context.Context, set string, key DocumentKey) ([]Document, error) {
	filter := fmt.Sprintf("%s eq %s and DocEntry gt %d", key.UDF, quote(key.Value), key.AfterDocEntry)
	if !key.Since.IsZero() {
		filter += " and DocDate ge " + quote(key.Since.Format("2006-01-02"))
	}
	var out []Document
	err := c.List(ctx, set, url.Values{"$filter": {filter}, "$orderby": {"DocEntry"}}, func(page json.RawMessage) error {
		var docs []Document
		if err := json.Unmarshal(page, &docs); err != nil {
			return err
		}
		out = append(out, docs...)
		return nil
	})
	return out, err
}

// LastDocEntry is the highest DocEntry of set: the lower bound of a later
// FindByUDF for a document about to be posted.
func (c *Client) LastDocEntry(ctx context.Context, set string) (int, error) {
	resp, err := c.do(ctx, request{op: "last " + set, method: http.MethodGet, path: set,
		query: url.Values{"$select": {"DocEntry"}, "$orderby": {"DocEntry desc"}, "$top": {"1"}}})
	if err != nil {
		return 0, err
	}
	var out struct {
		Value []struct {
			DocEntry int `json:"DocEntry"`
		} `json:"value"`
	}
	if err := decode("last "+set, resp.body, &out); err != nil {
		return 0, err
	}
	if len(out.Value) == 0 {
		return 0, nil
	}
	return out.Value[0].DocEntry, nil
}

// CreateOnce posts doc unless a document with key exists, and when the
// answer is lost, waits past the Service Layer's own timeout and looks it up
// before deciding: it never posts the same key twice. It blocks for that
// wait; River jobs use Create + FindByUDF with a snooze instead.
func (c *Client) CreateOnce(ctx context.Context, set string, doc Document, key DocumentKey) (Document, error) {
	if existing, err := c.FindByUDF(ctx, set, key); err != nil {
		return Document{}, err
	} else if len(existing) > 0 {
		return existing[0], nil
	}
	created, err := c.Create(ctx, set, doc)
	if err == nil || !isUnknown(err) {
		return created, err
	}
	t := time.NewTimer(c.cfg.ServiceLayerTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Document{}, ctx.Err()
	case <-t.C:
	}
	found, ferr := c.FindByUDF(ctx, set, key)
	if ferr != nil {
		return Document{}, fmt.Errorf("%w; looking it up failed too: %w", err, ferr)
	}
	if len(found) > 0 {
		return found[0], nil
	}
	// SAP's own timeout has passed and the document is not there: the
	// first POST did not commit, so posting again cannot duplicate it.
	return c.Create(ctx, set, doc)
}
