package sapb1sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Marketing documents: Orders (17), DeliveryNotes (15), Invoices (13) and
// CreditNotes (14). Each is written in one transaction that takes, in order:
// the type's ONNM row (numbering, so adds of one type are serialised as in
// SAP), the base documents' header rows (sorted), then stock rows (see
// stock.go).
//
// Copying from a base (BaseType/BaseEntry/BaseLine) is what SAP allows:
// deliveries from orders, invoices from deliveries or orders, credit notes
// from invoices. The target line takes the base line's item, price,
// discount, warehouse, tax code and UDFs unless the request says otherwise,
// and reduces the base line's open quantity; a fully consumed line closes,
// and a header whose lines are all closed closes. A closed base is -10
// "One of the base documents has already been closed".
//
// Sales BOMs (OITM.TreeType S). The reference is unsure whether the Service
// Layer explodes a sales BOM (§A4, §E). The simulator does what the DI API
// documents and what an integrator's report implies (posting a delivery of
// a sales-BOM parent failed with negative inventory: its components had no
// stock): adding a line for a sales-BOM parent adds one line per component
// after it (TreeType I, quantity = parent quantity × component quantity /
// BOM quantity, price 0, the component's BOM warehouse or the parent's);
// the parent (a non-inventory item) holds the price and no stock, the
// components commit and move stock. Copying a parent line to a target copies
// its components with it.

var baseTypesAllowed = map[int][]int{
	15: {17},     // deliveries from orders
	13: {15, 17}, // invoices from deliveries or orders
	14: {13},     // credit notes from invoices
}

// docLine is a document line being written.
type docLine struct {
	lineNum              int
	itemCode, descr      string
	qty, open            decimal.Decimal
	price, unit, disc    decimal.Decimal
	lineTotal            decimal.Decimal
	vatPrcnt, vatSum     decimal.Decimal // the line's tax rate and tax (tax.go)
	gross                decimal.Decimal // PriceAfterVAT
	currency, whs        string
	taxCode, vatGroup    any
	treeType, status     string
	noInvMv              string
	baseType             int
	baseEntry, baseLine  int
	baseRef              string
	shipDate             any
	udfs                 map[string]any // by column
	invnt                bool           // an inventory item
	index                int            // 1-based position in the request, for locators
	targetType, trgEntry any
}

func locator(field string, index int) string {
	return fmt.Sprintf("[DocumentLines.%s][line: %d]", field, index)
}

// documentOp serves document writes.
func (s *Server) documentOp(ctx context.Context, op *operation, rq *slReq, tc *txCtx) (*slResp, *slError) {
	e := op.entity
	var docEntry int
	if op.key != nil {
		docEntry, _ = strconv.Atoi(op.key["DocEntry"])
	}
	switch op.kind {
	case opCreate:
		return s.createDocument(ctx, e, rq, tc)
	case opPatch:
		return s.patchDocument(ctx, e, docEntry, rq, tc)
	case opDelete:
		// Documents cannot be deleted, only cancelled or closed (SLG).
		return nil, errNotSupported()
	case opAction:
		switch op.action {
		case "Cancel":
			if e.objType == 17 {
				return s.cancelOrder(ctx, e, docEntry, rq, tc)
			}
			return s.cancelTarget(ctx, e, docEntry, rq, tc)
		case "Close":
			if e.objType != 17 && e.objType != 15 {
				// A/R invoices and credit memos close when paid or
				// reconciled, never by hand.
				return nil, errNotSupported()
			}
			return s.closeDocument(ctx, e, docEntry, rq, tc)
		case "Reopen":
			if e.objType != 17 {
				return nil, errNotSupported()
			}
			return s.reopenOrder(ctx, e, docEntry, rq, tc)
		}
		return nil, errResource(op.action)
	}
	return nil, methodNotAllowed(rq.method)
}

// header is a document header row as locked for a change.
type header struct {
	docEntry, docNum int
	cardCode         string
	status, canceled string
	logInstanc       int
	docDate          string
}

// lockHeader locks a document header; missing is 404 -2028.
func (s *Server) lockHeader(ctx context.Context, tx pgx.Tx, e *entity, docEntry int) (*header, error) {
	h := &header{docEntry: docEntry}
	err := tx.QueryRow(ctx, `SELECT "DocNum", "CardCode", "DocStatus", "CANCELED", "LogInstanc", to_char("DocDate", 'YYYY-MM-DD') FROM `+s.t(e.table)+
		` WHERE "DocEntry" = $1 FOR UPDATE`, docEntry).Scan(&h.docNum, &h.cardCode, &h.status, &h.canceled, &h.logInstanc, &h.docDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound(http.StatusNotFound)
	}
	return h, err
}

// checkIfMatch enforces If-Match against the object's DataVersion: a stale
// tag is 412 -2039, the only place the simulator answers -2039.
func checkIfMatch(rq *slReq, version int) *slError {
	v := rq.header.Get("If-Match")
	if v == "" {
		return nil
	}
	for _, tag := range strings.Split(v, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return nil
		}
		tag = strings.Trim(strings.TrimPrefix(tag, "W/"), `"`)
		if tag == strconv.Itoa(version) {
			return nil
		}
	}
	return errChanged()
}

// loadLines reads a document's lines.
func (s *Server) loadLines(ctx context.Context, tx pgx.Tx, e *entity, docEntry int) ([]*docLine, error) {
	rows, err := tx.Query(ctx, `SELECT L."LineNum", L."ItemCode", coalesce(L."Dscription", ''), L."Quantity", L."OpenQty", L."Price", L."PriceBefDi",
		L."DiscPrcnt", L."LineTotal", coalesce(L."Currency", ''), coalesce(L."WhsCode", ''), L."TaxCode", L."VatGroup", L."TreeType", L."LineStatus",
		L."NoInvtryMv", L."BaseType", coalesce(L."BaseEntry", 0), coalesce(L."BaseLine", 0), coalesce(I."InvntItem", 'N') = 'Y',
		L."TargetType", L."TrgetEntry", L."VatPrcnt", L."VatSum", L."PriceAfVAT"
		FROM `+s.t(e.lines().table)+` L LEFT JOIN `+s.t("OITM")+` I ON I."ItemCode" = L."ItemCode"
		WHERE L."DocEntry" = $1 ORDER BY L."LineNum"`, docEntry)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*docLine
	for rows.Next() {
		l := &docLine{}
		var tax, vat *string
		var tt int
		var te *int
		if err := rows.Scan(&l.lineNum, &l.itemCode, &l.descr, &l.qty, &l.open, &l.price, &l.unit, &l.disc, &l.lineTotal, &l.currency, &l.whs,
			&tax, &vat, &l.treeType, &l.status, &l.noInvMv, &l.baseType, &l.baseEntry, &l.baseLine, &l.invnt, &tt, &te, &l.vatPrcnt, &l.vatSum, &l.gross); err != nil {
			return nil, err
		}
		l.taxCode, l.vatGroup = ptrAny(tax), ptrAny(vat)
		l.targetType = tt
		if te != nil {
			l.trgEntry = *te
		}
		l.index = len(out) + 1
		out = append(out, l)
	}
	return out, rows.Err()
}

func ptrAny(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// itemInfo is what a line needs of its item.
type itemInfo struct {
	code, name, dfltWH, treeType string
	invnt, sell, active          bool
}

func (s *Server) item(ctx context.Context, tx pgx.Tx, code, onDate string) (*itemInfo, error) {
	it := &itemInfo{}
	var invnt, sell string
	var dflt *string
	err := tx.QueryRow(ctx, `SELECT "ItemCode", coalesce("ItemName", ''), "DfltWH", "TreeType", "InvntItem", "SellItem",
		("validFor" = 'Y' AND ("validFrom" IS NULL OR "validFrom" <= $2::timestamp) AND ("validTo" IS NULL OR "validTo" >= $2::timestamp))
		AND NOT ("frozenFor" = 'Y' AND ("frozenFrom" IS NULL OR "frozenFrom" <= $2::timestamp) AND ("frozenTo" IS NULL OR "frozenTo" >= $2::timestamp))
		FROM `+s.t("OITM")+` WHERE "ItemCode" = $1`, code, onDate).Scan(&it.code, &it.name, &dflt, &it.treeType, &invnt, &sell, &it.active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if dflt != nil {
		it.dfltWH = *dflt
	}
	it.invnt, it.sell = invnt == "Y", sell == "Y"
	return it, nil
}

// warehouse returns a warehouse's code as stored, or an SAP error.
func (s *Server) warehouse(ctx context.Context, tx pgx.Tx, code string, index int) (string, error) {
	var stored, inactive string
	err := tx.QueryRow(ctx, `SELECT "WhsCode", "Inactive" FROM `+s.t("OWHS")+` WHERE "WhsCode" = $1`, code).Scan(&stored, &inactive)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNotFound(http.StatusBadRequest)
	}
	if err != nil {
		return "", err
	}
	if inactive == "Y" {
		return "", errRule("Warehouse '%s' is inactive  %s", stored, locator("WarehouseCode", index))
	}
	return stored, nil
}

// partner is what a document needs of its business partner.
type partner struct {
	code, name, cardType, currency string
	listNum                        *int
	active                         bool
}

func (s *Server) partner(ctx context.Context, tx pgx.Tx, code, onDate string) (*partner, error) {
	p := &partner{}
	var name, cur *string
	err := tx.QueryRow(ctx, `SELECT "CardCode", "CardName", "CardType", "Currency", "ListNum",
		NOT ("frozenFor" = 'Y' AND ("frozenFrom" IS NULL OR "frozenFrom" <= $2::timestamp) AND ("frozenTo" IS NULL OR "frozenTo" >= $2::timestamp))
		FROM `+s.t("OCRD")+` WHERE "CardCode" = $1`, code, onDate).Scan(&p.code, &name, &p.cardType, &cur, &p.listNum, &p.active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if name != nil {
		p.name = *name
	}
	if cur != nil && *cur != "##" {
		p.currency = *cur
	}
	return p, nil
}

// baseDoc is a locked base document with its lines.
type baseDoc struct {
	entity *entity
	header *header
	lines  []*docLine
	udfs   map[int]map[string]any // line UDF values by LineNum, by column
	hudfs  map[string]any         // header UDF values by column
}

// lockBases locks every base document the request names, in a fixed order
// (by type, then DocEntry), and reads their lines.
func (s *Server) lockBases(ctx context.Context, tx pgx.Tx, refs map[int][]int) (map[[2]int]*baseDoc, error) {
	out := map[[2]int]*baseDoc{}
	types := make([]int, 0, len(refs))
	for t := range refs {
		types = append(types, t)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(types)))
	for _, t := range types {
		entries := refs[t]
		sort.Ints(entries)
		be := documentsByType[t]
		for _, n := range entries {
			if out[[2]int{t, n}] != nil {
				continue
			}
			h, err := s.lockHeader(ctx, tx, be, n)
			if err != nil {
				var sl *slError
				if errors.As(err, &sl) {
					return nil, errNotFound(http.StatusBadRequest)
				}
				return nil, err
			}
			lines, err := s.loadLines(ctx, tx, be, n)
			if err != nil {
				return nil, err
			}
			b := &baseDoc{entity: be, header: h, lines: lines}
			if b.udfs, err = s.readLineUDFs(ctx, tx, be, n); err != nil {
				return nil, err
			}
			if b.hudfs, err = s.readHeaderUDFs(ctx, tx, be, n); err != nil {
				return nil, err
			}
			out[[2]int{t, n}] = b
		}
	}
	return out, nil
}

// readLineUDFs reads a document's line UDF values as text.
func (s *Server) readLineUDFs(ctx context.Context, tx pgx.Tx, e *entity, docEntry int) (map[int]map[string]any, error) {
	out := map[int]map[string]any{}
	udfs := s.udfFields(e.lines().table)
	if len(udfs) == 0 {
		return out, nil
	}
	cols := []string{`"LineNum"`}
	for _, f := range udfs {
		cols = append(cols, ident(f.col)+"::text")
	}
	rows, err := tx.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+s.t(e.lines().table)+` WHERE "DocEntry" = $1`, docEntry)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ln int
		vals := make([]*string, len(udfs))
		ptrs := []any{&ln}
		for i := range vals {
			ptrs = append(ptrs, &vals[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for i, f := range udfs {
			if vals[i] != nil {
				m[f.col] = *vals[i]
			}
		}
		out[ln] = m
	}
	return out, rows.Err()
}

func (s *Server) readHeaderUDFs(ctx context.Context, tx pgx.Tx, e *entity, docEntry int) (map[string]any, error) {
	out := map[string]any{}
	udfs := s.udfFields(e.table)
	if len(udfs) == 0 {
		return out, nil
	}
	var cols []string
	for _, f := range udfs {
		cols = append(cols, ident(f.col)+"::text")
	}
	vals := make([]*string, len(udfs))
	ptrs := make([]any, len(udfs))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := tx.QueryRow(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+s.t(e.table)+` WHERE "DocEntry" = $1`, docEntry).Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, f := range udfs {
		if vals[i] != nil {
			out[f.col] = *vals[i]
		}
	}
	return out, nil
}

func (s *Server) udfFields(table string) []*field {
	s.udfMu.RLock()
	defer s.udfMu.RUnlock()
	return s.udfs[table]
}

// docContext is what building lines needs to know about the document.
type docContext struct {
	e        *entity
	bp       *partner
	docDate  string
	currency string
	bases    map[[2]int]*baseDoc
}

// buildLine turns one request line into document lines: the line itself
// and, for a sales-BOM parent, its components.
func (s *Server) buildLine(ctx context.Context, tx pgx.Tx, dc *docContext, lb *body, index int) ([]*docLine, error) {
	v := lb.values
	l := &docLine{index: index, status: "O", baseType: -1, noInvMv: "N", currency: dc.currency, udfs: map[string]any{}, targetType: -1}
	for name, val := range v {
		if strings.HasPrefix(name, "U_") {
			l.udfs[name] = val
		}
	}
	if nm, ok := v["WithoutInventoryMovement"].(string); ok {
		if nm == "Y" && dc.e.objType != 14 {
			return nil, errRule("Documents of this type cannot be added without inventory movement  %s", locator("WithoutInventoryMovement", index))
		}
		l.noInvMv = nm
	}
	bt, hasBT := v["BaseType"].(int64)
	be, hasBE := v["BaseEntry"].(int64)
	bl, hasBL := v["BaseLine"].(int64)
	if hasBT && bt == -1 {
		hasBT = false // -1 is SAP's "no base"
	}
	if hasBT || hasBE || hasBL {
		if !hasBT || !hasBE || !hasBL {
			return nil, errRule("Specify the base document type, entry and line  %s", locator("BaseEntry", index))
		}
		if dc.bases == nil {
			return nil, errRule("A line copied from a base document cannot be added to an existing document  %s", locator("BaseEntry", index))
		}
		base := dc.bases[[2]int{int(bt), int(be)}]
		return s.copyLine(ctx, tx, dc, l, lb, base, int(bl))
	}

	code, _ := v["ItemCode"].(string)
	if code == "" {
		return nil, errRule("Item number is missing; specify an item number %s", locator("ItemCode", index))
	}
	it, err := s.item(ctx, tx, code, dc.docDate)
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, errNotFound(http.StatusBadRequest)
	}
	if !it.sell {
		return nil, errRule("Item '%s' is not specified as a sales item  %s", it.code, locator("ItemCode", index))
	}
	if !it.active {
		return nil, errRule("Item '%s' is inactive  %s", it.code, locator("ItemCode", index))
	}
	l.itemCode, l.descr, l.invnt = it.code, it.name, it.invnt
	if d, ok := v["ItemDescription"].(string); ok {
		l.descr = d
	}
	l.qty = decimal.NewFromInt(1)
	if q, ok := v["Quantity"].(decimal.Decimal); ok {
		l.qty = q
	}
	if !l.qty.IsPositive() {
		return nil, errRule("Quantity must be greater than zero  %s", locator("Quantity", index))
	}
	l.open = l.qty
	whs, _ := v["WarehouseCode"].(string)
	if whs == "" {
		whs = it.dfltWH
	}
	if whs == "" {
		if err := tx.QueryRow(ctx, `SELECT coalesce("DfltWhs", '') FROM `+s.t("OADM")).Scan(&whs); err != nil {
			return nil, err
		}
	}
	if whs == "" {
		return nil, errRule("Specify a warehouse  %s", locator("WarehouseCode", index))
	}
	if l.whs, err = s.warehouse(ctx, tx, whs, index); err != nil {
		return nil, err
	}
	// No price given: the business partner's price list, as SAP does.
	_, hasUnit := v["UnitPrice"]
	_, hasPrice := v["Price"]
	_, hasTotal := v["LineTotal"]
	_, hasGross := v["PriceAfterVAT"]
	if !hasUnit && !hasPrice && !hasTotal && !hasGross && dc.bp.listNum != nil {
		var p *decimal.Decimal
		err := tx.QueryRow(ctx, `SELECT "Price" FROM `+s.t("ITM1")+` WHERE "ItemCode" = $1 AND "PriceList" = $2`, it.code, *dc.bp.listNum).Scan(&p)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if p != nil {
			l.unit = *p
		}
	}
	setPrices(l, v)
	l.taxCode, l.vatGroup, l.shipDate = v["TaxCode"], v["VatGroup"], v["ShipDate"]
	l.treeType = "N"
	rate, err := s.taxRate(ctx, tx, l.taxCode, l.vatGroup, locator("TaxCode", index))
	if err != nil {
		return nil, err
	}
	applyTax(l, rate, v)
	lines := []*docLine{l}
	if it.treeType == "S" {
		l.treeType = "S"
		comps, err := s.explode(ctx, tx, dc, l)
		if err != nil {
			return nil, err
		}
		lines = append(lines, comps...)
	}
	return lines, nil
}

// setPrices applies UnitPrice, Price, DiscountPercent and LineTotal from
// the request on top of l's current (default or copied) prices. UnitPrice
// is the price before the line discount, Price the price after it;
// LineTotal is Price × Quantity rounded to the currency's 2 decimals unless
// the request fixes it.
func setPrices(l *docLine, v map[string]any) {
	unit, hasUnit := v["UnitPrice"].(decimal.Decimal)
	price, hasPrice := v["Price"].(decimal.Decimal)
	disc, hasDisc := v["DiscountPercent"].(decimal.Decimal)
	total, hasTotal := v["LineTotal"].(decimal.Decimal)
	if hasDisc {
		l.disc = disc
	}
	factor := decimal.NewFromInt(1).Sub(l.disc.Div(decimal.NewFromInt(100)))
	switch {
	case hasUnit:
		l.unit = unit
		l.price = unit.Mul(factor).Round(6)
	case hasPrice:
		l.price = price
		if factor.IsZero() {
			l.unit = price
		} else {
			l.unit = price.Div(factor).Round(6)
		}
	case hasTotal && !l.qty.IsZero():
		l.price = total.Div(l.qty).Round(6)
		l.unit = l.price
		if !factor.IsZero() {
			l.unit = l.price.Div(factor).Round(6)
		}
	default:
		l.price = l.unit.Mul(factor).Round(6)
	}
	if hasTotal {
		l.lineTotal = total.Round(2)
	} else {
		l.lineTotal = l.price.Mul(l.qty).Round(2)
	}
	if l.treeType == "I" {
		l.price, l.unit, l.lineTotal = decimal.Zero, decimal.Zero, decimal.Zero
	}
}

// explode adds the component lines of a sales-BOM parent line.
func (s *Server) explode(ctx context.Context, tx pgx.Tx, dc *docContext, parent *docLine) ([]*docLine, error) {
	var treeQty decimal.Decimal
	if err := tx.QueryRow(ctx, `SELECT "Qauntity" FROM `+s.t("OITT")+` WHERE "Code" = $1`, parent.itemCode).Scan(&treeQty); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errRule("Sales BOM '%s' has no components  %s", parent.itemCode, locator("ItemCode", parent.index))
		}
		return nil, err
	}
	if !treeQty.IsPositive() {
		treeQty = decimal.NewFromInt(1)
	}
	rows, err := tx.Query(ctx, `SELECT T."Code", coalesce(I."ItemName", ''), T."Quantity", coalesce(T."Warehouse", ''), I."InvntItem" = 'Y'
		FROM `+s.t("ITT1")+` T JOIN `+s.t("OITM")+` I ON I."ItemCode" = T."Code"
		WHERE T."Father" = $1 AND T."Type" = 4 ORDER BY T."VisOrder", T."ChildNum"`, parent.itemCode)
	if err != nil {
		return nil, err
	}
	type comp struct {
		code, name, whs string
		qty             decimal.Decimal
		invnt           bool
	}
	var comps []comp
	for rows.Next() {
		var c comp
		if err := rows.Scan(&c.code, &c.name, &c.qty, &c.whs, &c.invnt); err != nil {
			rows.Close()
			return nil, err
		}
		comps = append(comps, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []*docLine
	for _, c := range comps {
		whs := parent.whs
		if c.whs != "" {
			if whs, err = s.warehouse(ctx, tx, c.whs, parent.index); err != nil {
				return nil, err
			}
		}
		q := parent.qty.Mul(c.qty).Div(treeQty).Round(6)
		out = append(out, &docLine{index: parent.index, status: "O", baseType: -1, noInvMv: parent.noInvMv, currency: parent.currency,
			itemCode: c.code, descr: c.name, qty: q, open: q, whs: whs, treeType: "I", invnt: c.invnt, udfs: map[string]any{},
			taxCode: parent.taxCode, vatGroup: parent.vatGroup, targetType: -1})
	}
	return out, nil
}

// copyLine builds a line copied from a base document's line, with the
// component lines of a sales-BOM parent.
func (s *Server) copyLine(ctx context.Context, tx pgx.Tx, dc *docContext, l *docLine, lb *body, base *baseDoc, baseLine int) ([]*docLine, error) {
	v := lb.values
	index := l.index
	if base == nil {
		return nil, errNotFound(http.StatusBadRequest)
	}
	var bl *docLine
	for _, x := range base.lines {
		if x.lineNum == baseLine {
			bl = x
		}
	}
	if bl == nil {
		return nil, errNotFound(http.StatusBadRequest)
	}
	h := base.header
	if h.status != "O" || h.canceled != "N" || bl.status != "O" {
		return nil, errRule("One of the base documents has already been closed  %s", locator("BaseEntry", index))
	}
	if !strings.EqualFold(h.cardCode, dc.bp.code) {
		return nil, errRule("Base document card and target document card do not match.")
	}
	if bl.treeType == "I" {
		return nil, errRule("A component of a sales BOM is copied with its parent line  %s", locator("BaseLine", index))
	}
	if code, ok := v["ItemCode"].(string); ok && !strings.EqualFold(code, bl.itemCode) {
		return nil, errRule("Target item number does not match base item number.  %s", locator("ItemCode", index))
	}
	l.baseType, l.baseEntry, l.baseLine, l.baseRef = base.entity.objType, h.docEntry, bl.lineNum, strconv.Itoa(h.docNum)
	l.itemCode, l.descr, l.invnt, l.treeType = bl.itemCode, bl.descr, bl.invnt, bl.treeType
	if d, ok := v["ItemDescription"].(string); ok {
		l.descr = d
	}
	l.qty = bl.open
	if q, ok := v["Quantity"].(decimal.Decimal); ok {
		l.qty = q
	}
	if !l.qty.IsPositive() {
		return nil, errRule("Quantity must be greater than zero  %s", locator("Quantity", index))
	}
	if l.qty.GreaterThan(bl.open) {
		return nil, errRule("Quantity exceeds the open quantity of the base document line  %s", locator("Quantity", index))
	}
	l.open = l.qty
	l.whs = bl.whs
	if w, ok := v["WarehouseCode"].(string); ok && w != "" {
		var err error
		if l.whs, err = s.warehouse(ctx, tx, w, index); err != nil {
			return nil, err
		}
	}
	l.unit, l.disc, l.price = bl.unit, bl.disc, bl.price
	l.currency = bl.currency
	l.taxCode, l.vatGroup = bl.taxCode, bl.vatGroup
	if t, ok := v["TaxCode"]; ok {
		l.taxCode = t
	}
	if t, ok := v["VatGroup"]; ok {
		l.vatGroup = t
	}
	l.shipDate = v["ShipDate"]
	for col, val := range base.udfs[bl.lineNum] {
		if _, given := l.udfs[col]; !given && s.hasUDF(dc.e.lines().table, col) {
			l.udfs[col] = val
		}
	}
	_, hasUnit := v["UnitPrice"]
	_, hasPrice := v["Price"]
	_, hasTotal := v["LineTotal"]
	_, hasDisc := v["DiscountPercent"]
	_, hasGross := v["PriceAfterVAT"]
	_, hasTax := v["TaxCode"]
	_, hasVat := v["VatGroup"]
	if !hasUnit && !hasPrice && !hasTotal && !hasDisc && !hasGross && !hasTax && !hasVat && l.qty.Equal(bl.qty) {
		// a full copy keeps the base's amounts to the cent
		l.lineTotal, l.vatPrcnt, l.vatSum, l.gross = bl.lineTotal, bl.vatPrcnt, bl.vatSum, bl.gross
	} else {
		setPrices(l, v)
		rate, err := s.taxRate(ctx, tx, l.taxCode, l.vatGroup, locator("TaxCode", index))
		if err != nil {
			return nil, err
		}
		applyTax(l, rate, v)
	}
	lines := []*docLine{l}
	if bl.treeType == "S" {
		// The parent's components follow it in the base; copy them in
		// proportion.
		started := false
		for _, c := range base.lines {
			if c.lineNum == bl.lineNum {
				started = true
				continue
			}
			if !started {
				continue
			}
			if c.treeType != "I" {
				break
			}
			q := c.qty.Mul(l.qty).Div(bl.qty).Round(6)
			if l.qty.Equal(bl.open) || q.GreaterThan(c.open) {
				q = c.open
			}
			if c.status != "O" || !q.IsPositive() {
				continue
			}
			lines = append(lines, &docLine{index: index, status: "O", noInvMv: l.noInvMv, currency: c.currency,
				itemCode: c.itemCode, descr: c.descr, qty: q, open: q, whs: c.whs, treeType: "I", invnt: c.invnt,
				taxCode: c.taxCode, vatGroup: c.vatGroup, udfs: map[string]any{}, targetType: -1,
				baseType: base.entity.objType, baseEntry: h.docEntry, baseLine: c.lineNum, baseRef: strconv.Itoa(h.docNum)})
		}
	}
	return lines, nil
}

func (s *Server) hasUDF(table, col string) bool {
	for _, f := range s.udfFields(table) {
		if f.col == col {
			return true
		}
	}
	return false
}

// createDocument adds a document.
func (s *Server) createDocument(ctx context.Context, e *entity, rq *slReq, tc *txCtx) (*slResp, *slError) {
	b, serr := s.decodeBody(rq.body, e)
	if serr != nil {
		return nil, serr
	}
	resp, err := s.addDocument(ctx, e, b, rq, tc)
	if err != nil {
		return nil, toSL(err)
	}
	return resp, nil
}

func toSL(err error) *slError {
	var sl *slError
	if errors.As(err, &sl) {
		return sl
	}
	return sqlErr(err)
}

func (s *Server) addDocument(ctx context.Context, e *entity, b *body, rq *slReq, tc *txCtx) (*slResp, error) {
	tx := tc.tx
	st := s.stampOf(tc)
	v := b.values
	if dt, ok := v["DocType"].(string); ok && dt != "I" {
		return nil, errRule("Service documents (dDocument_Service) are not supported by the simulator")
	}
	reqLines := b.colls["DocumentLines"]
	if len(reqLines) == 0 {
		return nil, errValidation("Cannot add a document without lines [DocumentLines]")
	}
	docEntry, docNum, series, err := s.nextNumber(ctx, tx, e.objType)
	if err != nil {
		return nil, err
	}
	docDate := st.date
	if d, ok := v["DocDate"].(string); ok {
		docDate = d
	}
	dueDate, hasDue := v["DocDueDate"].(string)
	if !hasDue {
		if e.objType == 17 {
			return nil, errValidation("Enter valid date [%s.DocDueDate][line: 0]", e.table)
		}
		dueDate = docDate
	}
	taxDate := docDate
	if d, ok := v["TaxDate"].(string); ok {
		taxDate = d
	}
	cardCode, _ := v["CardCode"].(string)
	bp, err := s.partner(ctx, tx, cardCode, docDate)
	if err != nil {
		return nil, err
	}
	if bp == nil || bp.cardType != "C" {
		return nil, errRule("Invalid BP code [%s.CardCode] , '%s'", e.table, cardCode)
	}
	if !bp.active {
		return nil, errRule("Business partner '%s' is inactive [%s.CardCode]", bp.code, e.table)
	}
	currency := bp.currency
	if c, ok := v["DocCurrency"].(string); ok && c != "" {
		currency = c
	}
	if currency == "" {
		currency = s.opts.Currency
	}

	// Lock the base documents first (sorted), then build the lines.
	refs := map[int][]int{}
	for i, lb := range reqLines {
		bt, okT := lb.values["BaseType"].(int64)
		be, okE := lb.values["BaseEntry"].(int64)
		if !okT || !okE || bt == -1 {
			continue
		}
		allowed := false
		for _, t := range baseTypesAllowed[e.objType] {
			allowed = allowed || int(bt) == t
		}
		if !allowed {
			return nil, errRule("Invalid base document type %d  %s", bt, locator("BaseType", i+1))
		}
		refs[int(bt)] = append(refs[int(bt)], int(be))
	}
	bases, err := s.lockBases(ctx, tx, refs)
	if err != nil {
		return nil, err
	}
	var baseOrders []int
	for k := range bases {
		if k[0] == 17 {
			baseOrders = append(baseOrders, k[1])
		}
	}
	before, err := s.commitments(ctx, tx, baseOrders)
	if err != nil {
		return nil, err
	}

	dc := &docContext{e: e, bp: bp, docDate: docDate, currency: currency, bases: bases}
	var lines []*docLine
	for i, lb := range reqLines {
		ls, err := s.buildLine(ctx, tx, dc, lb, i+1)
		if err != nil {
			return nil, err
		}
		lines = append(lines, ls...)
	}
	for i, l := range lines {
		l.lineNum = i
	}
	// Copying lines of the same base line twice must not exceed it.
	consumed := map[[3]int]decimal.Decimal{}
	for _, l := range lines {
		if l.baseType < 0 {
			continue
		}
		k := [3]int{l.baseType, l.baseEntry, l.baseLine}
		consumed[k] = consumed[k].Add(l.qty)
		for _, bl := range bases[[2]int{l.baseType, l.baseEntry}].lines {
			if bl.lineNum == l.baseLine && consumed[k].GreaterThan(bl.open) {
				return nil, errRule("Quantity exceeds the open quantity of the base document line  %s", locator("Quantity", l.index))
			}
		}
	}

	expenses, err := s.buildExpenses(ctx, tx, b.colls["DocumentAdditionalExpenses"])
	if err != nil {
		return nil, err
	}

	disc := decimal.Zero
	if d, ok := v["DiscountPercent"].(decimal.Decimal); ok {
		disc = d
	}
	total, discSum, vatSum := totals(lines, expenses, disc)
	hudfs := map[string]any{}
	if len(bases) == 1 {
		for _, bd := range bases {
			for col, val := range bd.hudfs {
				if s.hasUDF(e.table, col) {
					hudfs[col] = val
				}
			}
		}
	}
	for name, val := range v {
		if strings.HasPrefix(name, "U_") {
			hudfs[name] = val
		}
	}
	cols := []string{"DocEntry", "DocNum", "Series", "ObjType", "DocType", "DocDate", "DocDueDate", "TaxDate", "CardCode", "CardName",
		"NumAtCard", "Comments", "DocCur", "DocRate", "DiscPrcnt", "DiscSum", "VatSum", "DocTotal", "TrackNo", "SlpCode",
		"CreateDate", "CreateTS", "DocTime", "UpdateDate", "UpdateTS"}
	rate := decimal.NewFromInt(1)
	if r, ok := v["DocRate"].(decimal.Decimal); ok {
		rate = r
	}
	slp := int64(-1)
	if n, ok := v["SalesPersonCode"].(int64); ok {
		slp = n
	}
	vals := []any{docEntry, docNum, series, strconv.Itoa(e.objType), "I", docDate, dueDate, taxDate, bp.code, bp.name,
		v["NumAtCard"], v["Comments"], currency, rate, disc, discSum, vatSum, total, v["TrackingNumber"], slp,
		st.date, st.ts, st.ts / 100, st.date, st.ts}
	for col, val := range hudfs {
		cols = append(cols, col)
		vals = append(vals, val)
	}
	if err := s.insert(ctx, tx, e.table, cols, vals); err != nil {
		return nil, err
	}
	if err := s.insertLines(ctx, tx, e, docEntry, lines); err != nil {
		return nil, err
	}
	if err := s.insertExpenses(ctx, tx, e, docEntry, expenses); err != nil {
		return nil, err
	}

	// Consume the bases: open quantities down, consumed lines and headers
	// closed, the target recorded.
	for k, q := range consumed {
		be := documentsByType[k[0]]
		if _, err := tx.Exec(ctx, `UPDATE `+s.t(be.lines().table)+` SET "OpenQty" = "OpenQty" - $3,
			"LineStatus" = CASE WHEN "OpenQty" - $3 <= 0 THEN 'C' ELSE "LineStatus" END, "TargetType" = $4, "TrgetEntry" = $5
			WHERE "DocEntry" = $1 AND "LineNum" = $2`, k[1], k[2], q, e.objType, docEntry); err != nil {
			return nil, err
		}
	}
	for k := range bases {
		if err := s.touchHeader(ctx, tx, documentsByType[k[0]], k[1], st); err != nil {
			return nil, err
		}
	}
	sc := newStockChange()
	touched := baseOrders
	if e.objType == 17 {
		touched = append(touched, docEntry) // a new order commits its open lines
	}
	after, err := s.commitments(ctx, tx, touched)
	if err != nil {
		return nil, err
	}
	sc.commit(before, after)
	for _, l := range lines {
		if q := stockEffect(e.objType, l); !q.IsZero() {
			sc.move(journalEntry{transType: e.objType, docEntry: docEntry, docNum: docNum, line: l.lineNum, docDate: docDate,
				key: stockKey{l.itemCode, l.whs}}, q, locator("ItemCode", l.index))
		}
	}
	if err := s.applyStock(ctx, tx, st, sc); err != nil {
		return nil, err
	}
	tc.docs++
	tc.wrote = true
	resp, serr := s.created(ctx, tx, e, map[string]string{"DocEntry": strconv.Itoa(docEntry)}, rq)
	if serr != nil {
		return nil, serr
	}
	return resp, nil
}

// stockEffect is a line's change to OnHand when its document is added.
func stockEffect(objType int, l *docLine) decimal.Decimal {
	if !l.invnt || l.treeType == "S" {
		return decimal.Zero
	}
	switch objType {
	case 15:
		return l.qty.Neg()
	case 13:
		if l.baseType != 15 { // a delivery already moved it
			return l.qty.Neg()
		}
	case 14:
		if l.noInvMv != "Y" {
			return l.qty
		}
	}
	return decimal.Zero
}

// totals returns DocTotal, the header discount amount and VatSum: the
// lines' total less the header discount, plus the additional expenses
// (freight, which the header discount does not reduce), plus the tax of the
// lines and expenses (each rounded on its own, see tax.go).
func totals(lines []*docLine, expenses []*docExpense, discPct decimal.Decimal) (total, discSum, vatSum decimal.Decimal) {
	sum := decimal.Zero
	for _, l := range lines {
		sum = sum.Add(l.lineTotal)
		vatSum = vatSum.Add(l.vatSum)
	}
	discSum = sum.Mul(discPct).Div(decimal.NewFromInt(100)).Round(2)
	total = sum.Sub(discSum)
	for _, x := range expenses {
		total = total.Add(x.total)
		vatSum = vatSum.Add(x.vat)
	}
	return total.Add(vatSum), discSum, vatSum
}

// insert writes one row.
func (s *Server) insert(ctx context.Context, tx pgx.Tx, table string, cols []string, vals []any) error {
	ph := make([]string, len(cols))
	q := make([]string, len(cols))
	for i, c := range cols {
		ph[i] = "$" + strconv.Itoa(i+1)
		q[i] = ident(c)
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+s.t(table)+" ("+strings.Join(q, ", ")+") VALUES ("+strings.Join(ph, ", ")+")", vals...)
	return err
}

func (s *Server) insertLines(ctx context.Context, tx pgx.Tx, e *entity, docEntry int, lines []*docLine) error {
	for i, l := range lines {
		cols := []string{"DocEntry", "LineNum", "VisOrder", "ObjType", "LineStatus", "ItemCode", "Dscription", "Quantity", "OpenQty",
			"Price", "PriceBefDi", "PriceAfVAT", "DiscPrcnt", "LineTotal", "Currency", "WhsCode", "TaxCode", "VatGroup", "TreeType",
			"NoInvtryMv", "BaseType", "BaseEntry", "BaseLine", "BaseRef", "ShipDate", "TargetType", "TrgetEntry", "VatPrcnt", "VatSum"}
		var be, bl, bref any
		if l.baseType >= 0 {
			be, bl, bref = l.baseEntry, l.baseLine, l.baseRef
		}
		vals := []any{docEntry, l.lineNum, i, strconv.Itoa(e.objType), l.status, l.itemCode, l.descr, l.qty, l.open,
			l.price, l.unit, l.gross, l.disc, l.lineTotal, l.currency, l.whs, l.taxCode, l.vatGroup, l.treeType,
			l.noInvMv, l.baseType, be, bl, bref, l.shipDate, l.targetType, l.trgEntry, l.vatPrcnt, l.vatSum}
		for col, val := range l.udfs {
			cols = append(cols, col)
			vals = append(vals, val)
		}
		if err := s.insert(ctx, tx, e.lines().table, cols, vals); err != nil {
			return err
		}
	}
	return nil
}

// touchHeader recomputes a header's status from its lines and stamps it:
// a document whose lines are all closed is closed.
func (s *Server) touchHeader(ctx context.Context, tx pgx.Tx, e *entity, docEntry int, st *stamp) error {
	_, err := tx.Exec(ctx, `UPDATE `+s.t(e.table)+` H SET
		"DocStatus" = CASE WHEN H."CANCELED" <> 'N' OR NOT EXISTS (SELECT FROM `+s.t(e.lines().table)+` L WHERE L."DocEntry" = H."DocEntry" AND L."LineStatus" = 'O')
			THEN 'C' ELSE 'O' END,
		"UpdateDate" = $2::timestamp, "UpdateTS" = $3, "LogInstanc" = H."LogInstanc" + 1
		WHERE H."DocEntry" = $1`, docEntry, st.date, st.ts)
	return err
}

// ---- PATCH ----

// patchDocument updates a document: header fields that SAP lets change
// after adding, and (on orders) lines: a line with a known LineNum is
// updated, any other is appended; with B1S-ReplaceCollectionsOnPatch: true
// the lines not sent are removed (reference §A5).
func (s *Server) patchDocument(ctx context.Context, e *entity, docEntry int, rq *slReq, tc *txCtx) (*slResp, *slError) {
	if err := s.patchDocumentTx(ctx, e, docEntry, rq, tc); err != nil {
		return nil, toSL(err)
	}
	return noContent(), nil
}

var patchableHeader = map[string]bool{"NumAtCard": true, "Comments": true, "DocDueDate": true, "TaxDate": true,
	"TrackingNumber": true, "SalesPersonCode": true, "DiscountPercent": true}

func (s *Server) patchDocumentTx(ctx context.Context, e *entity, docEntry int, rq *slReq, tc *txCtx) error {
	tx := tc.tx
	st := s.stampOf(tc)
	h, err := s.lockHeader(ctx, tx, e, docEntry)
	if err != nil {
		return err
	}
	if err := checkIfMatch(rq, h.logInstanc); err != nil {
		return err
	}
	b, serr := s.decodeBody(rq.body, e)
	if serr != nil {
		return serr
	}
	if d, ok := b.ro["DocEntry"].(int64); ok && d != int64(docEntry) {
		return errReadOnly()
	}
	open := h.status == "O" && h.canceled == "N"
	sets := []string{}
	var a args
	for _, name := range b.order {
		val, ok := b.values[name]
		if !ok {
			continue
		}
		f := e.field(name)
		if strings.HasPrefix(name, "U_") {
			sets = append(sets, ident(name)+" = "+a.add(val))
			continue
		}
		if f == nil {
			continue
		}
		if !patchableHeader[name] {
			same, err := s.sameValue(ctx, tx, e, docEntry, f, val)
			if err != nil {
				return err
			}
			if !same {
				return errReadOnly()
			}
			continue
		}
		if name == "DiscountPercent" && !open {
			return errValidation("Document is already closed")
		}
		sets = append(sets, ident(f.col)+" = "+a.add(val))
	}
	if len(sets) > 0 {
		sql := "UPDATE " + s.t(e.table) + " SET " + strings.Join(sets, ", ") + ` WHERE "DocEntry" = ` + a.add(docEntry)
		if _, err := tx.Exec(ctx, sql, a...); err != nil {
			return err
		}
	}
	if _, ok := b.colls["DocumentAdditionalExpenses"]; ok {
		return errRule("The simulator does not change the additional expenses of an existing document [DocumentAdditionalExpenses]")
	}
	reqLines, hasLines := b.colls["DocumentLines"]
	replace := strings.EqualFold(rq.header.Get("B1S-ReplaceCollectionsOnPatch"), "true")
	sc := newStockChange()
	if hasLines {
		if err := s.patchLines(ctx, tx, e, h, reqLines, replace, open, sc); err != nil {
			return err
		}
	}
	// Totals follow the lines and the header discount.
	lines, err := s.loadLines(ctx, tx, e, docEntry)
	if err != nil {
		return err
	}
	var disc decimal.Decimal
	if err := tx.QueryRow(ctx, `SELECT "DiscPrcnt" FROM `+s.t(e.table)+` WHERE "DocEntry" = $1`, docEntry).Scan(&disc); err != nil {
		return err
	}
	expenses, err := s.loadExpenses(ctx, tx, e, docEntry)
	if err != nil {
		return err
	}
	total, discSum, vatSum := totals(lines, expenses, disc)
	if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.table)+` SET "DocTotal" = $2, "DiscSum" = $3, "VatSum" = $4 WHERE "DocEntry" = $1`, docEntry, total, discSum, vatSum); err != nil {
		return err
	}
	if err := s.touchHeader(ctx, tx, e, docEntry, st); err != nil {
		return err
	}
	if err := s.applyStock(ctx, tx, st, sc); err != nil {
		return err
	}
	tc.wrote = true
	return nil
}

// sameValue reports whether a read-only-after-add field is sent unchanged.
func (s *Server) sameValue(ctx context.Context, tx pgx.Tx, e *entity, docEntry int, f *field, val any) (bool, error) {
	var same bool
	cast := ""
	switch f.kind {
	case kDate:
		cast = "::timestamp"
	case kDec:
		cast = "::numeric"
	case kInt, kTime:
		cast = "::bigint"
	}
	err := tx.QueryRow(ctx, "SELECT "+ident(f.col)+" IS NOT DISTINCT FROM $2"+cast+" FROM "+s.t(e.table)+` WHERE "DocEntry" = $1`, docEntry, val).Scan(&same)
	return same, err
}

var patchableLine = map[string]bool{"Quantity": true, "UnitPrice": true, "Price": true, "DiscountPercent": true, "LineTotal": true,
	"WarehouseCode": true, "LineStatus": true, "ItemDescription": true, "TaxCode": true, "VatGroup": true, "ShipDate": true}

func (s *Server) patchLines(ctx context.Context, tx pgx.Tx, e *entity, h *header, reqLines []*body, replace, open bool, sc *stockChange) error {
	isOrder := e.objType == 17
	var before map[stockKey]decimal.Decimal
	var err error
	if isOrder {
		if before, err = s.commitments(ctx, tx, []int{h.docEntry}); err != nil {
			return err
		}
	}
	existing, err := s.loadLines(ctx, tx, e, h.docEntry)
	if err != nil {
		return err
	}
	byNum := map[int]*docLine{}
	maxNum := -1
	for _, l := range existing {
		byNum[l.lineNum] = l
		maxNum = max(maxNum, l.lineNum)
	}
	kept := map[int]bool{}
	var appended []*body
	for i, lb := range reqLines {
		index := i + 1
		n, hasNum := lb.ro["LineNum"].(int64)
		l := byNum[int(n)]
		if !hasNum || l == nil {
			appended = append(appended, lb)
			continue
		}
		kept[l.lineNum] = true
		changes := false
		for name := range lb.values {
			if !strings.HasPrefix(name, "U_") {
				changes = true
			}
		}
		if changes && !isOrder {
			return errReadOnly()
		}
		if changes && !open {
			return errValidation("Document is already closed")
		}
		if err := s.patchLine(ctx, tx, e, h, l, existing, lb, index); err != nil {
			return err
		}
	}
	if replace {
		// Lines not sent are removed, with the components of a removed
		// sales-BOM parent; components of a kept parent stay.
		var parentKept bool
		for _, l := range existing {
			if l.treeType != "I" {
				parentKept = kept[l.lineNum]
			}
			if kept[l.lineNum] || (l.treeType == "I" && parentKept) {
				continue
			}
			if !isOrder || !open {
				return errReadOnly()
			}
			if !l.open.Equal(l.qty) || l.trgEntry != nil {
				return errValidation("Cannot remove a line that has been copied to a target document  [DocumentLines][line: %d]", l.index)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM `+s.t(e.lines().table)+` WHERE "DocEntry" = $1 AND "LineNum" = $2`, h.docEntry, l.lineNum); err != nil {
				return err
			}
		}
	}
	if len(appended) > 0 {
		if !isOrder {
			return errReadOnly()
		}
		if !open {
			return errValidation("Document is already closed")
		}
		var cardCode, cur, docDate string
		if err := tx.QueryRow(ctx, `SELECT "CardCode", coalesce("DocCur", ''), to_char("DocDate", 'YYYY-MM-DD') FROM `+s.t(e.table)+` WHERE "DocEntry" = $1`, h.docEntry).Scan(&cardCode, &cur, &docDate); err != nil {
			return err
		}
		bp, err := s.partner(ctx, tx, cardCode, docDate)
		if err != nil {
			return err
		}
		dc := &docContext{e: e, bp: bp, docDate: docDate, currency: cur}
		var lines []*docLine
		for i, lb := range appended {
			ls, err := s.buildLine(ctx, tx, dc, lb, len(existing)+i+1)
			if err != nil {
				return err
			}
			lines = append(lines, ls...)
		}
		for _, l := range lines {
			maxNum++
			l.lineNum = maxNum
		}
		if err := s.insertLines(ctx, tx, e, h.docEntry, lines); err != nil {
			return err
		}
	}
	// VisOrder follows LineNum after removals and additions.
	if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.lines().table)+` L SET "VisOrder" = R.n - 1 FROM
		(SELECT "LineNum", row_number() OVER (ORDER BY "LineNum") AS n FROM `+s.t(e.lines().table)+` WHERE "DocEntry" = $1) R
		WHERE L."DocEntry" = $1 AND L."LineNum" = R."LineNum"`, h.docEntry); err != nil {
		return err
	}
	if isOrder {
		after, err := s.commitments(ctx, tx, []int{h.docEntry})
		if err != nil {
			return err
		}
		sc.commit(before, after)
	}
	return nil
}

// patchLine updates one existing line (and the components of a sales-BOM
// parent whose quantity changes).
func (s *Server) patchLine(ctx context.Context, tx pgx.Tx, e *entity, h *header, l *docLine, all []*docLine, lb *body, index int) error {
	v := lb.values
	var a args
	var sets []string
	for name, val := range v {
		if strings.HasPrefix(name, "U_") {
			sets = append(sets, ident(name)+" = "+a.add(val))
			continue
		}
		if !patchableLine[name] {
			f := e.lines().field(name)
			if f == nil {
				continue
			}
			if name == "ItemCode" {
				if code, _ := val.(string); strings.EqualFold(code, l.itemCode) {
					continue
				}
			}
			return errReadOnly()
		}
	}
	delivered := l.qty.Sub(l.open)
	if l.status == "C" {
		for name := range v {
			if name == "LineStatus" && v[name] == "C" {
				continue
			}
			if !strings.HasPrefix(name, "U_") {
				return errValidation("Cannot update a closed line  %s", locator("LineNum", index))
			}
		}
	}
	oldQty := l.qty
	if q, ok := v["Quantity"].(decimal.Decimal); ok {
		if !q.IsPositive() {
			return errRule("Quantity must be greater than zero  %s", locator("Quantity", index))
		}
		if q.LessThan(delivered) {
			return errRule("Quantity cannot be less than the quantity already delivered  %s", locator("Quantity", index))
		}
		l.qty, l.open = q, q.Sub(delivered)
		if l.open.IsZero() {
			l.status = "C"
		}
	}
	if w, ok := v["WarehouseCode"].(string); ok && !strings.EqualFold(w, l.whs) {
		if !delivered.IsZero() {
			return errRule("Cannot change the warehouse of a line that has been delivered  %s", locator("WarehouseCode", index))
		}
		whs, err := s.warehouse(ctx, tx, w, index)
		if err != nil {
			return err
		}
		l.whs = whs
	}
	if st, ok := v["LineStatus"].(string); ok {
		switch {
		case st == "C":
			l.status = "C"
		case st == "O" && l.status == "C" && l.open.IsPositive():
			l.status = "O"
		}
	}
	if d, ok := v["ItemDescription"].(string); ok {
		l.descr = d
	}
	_, qtyChanged := v["Quantity"]
	priced := qtyChanged
	for _, name := range []string{"UnitPrice", "Price", "DiscountPercent", "LineTotal"} {
		_, ok := v[name]
		priced = priced || ok
	}
	if l.treeType != "I" && priced {
		setPrices(l, v) // a line whose price and quantity did not change keeps its total
		applyTax(l, l.vatPrcnt, v)
	}
	sets = append(sets, `"Quantity" = `+a.add(l.qty), `"OpenQty" = `+a.add(l.open), `"LineStatus" = `+a.add(l.status),
		`"WhsCode" = `+a.add(l.whs), `"Dscription" = `+a.add(l.descr), `"Price" = `+a.add(l.price), `"PriceAfVAT" = `+a.add(l.gross), `"VatSum" = `+a.add(l.vatSum),
		`"PriceBefDi" = `+a.add(l.unit), `"DiscPrcnt" = `+a.add(l.disc), `"LineTotal" = `+a.add(l.lineTotal))
	for _, name := range []string{"TaxCode", "VatGroup", "ShipDate"} {
		if val, ok := v[name]; ok {
			sets = append(sets, ident(e.lines().field(name).col)+" = "+a.add(val))
		}
	}
	sql := "UPDATE " + s.t(e.lines().table) + " SET " + strings.Join(sets, ", ") + ` WHERE "DocEntry" = ` + a.add(h.docEntry) + ` AND "LineNum" = ` + a.add(l.lineNum)
	if _, err := tx.Exec(ctx, sql, a...); err != nil {
		return err
	}
	if l.treeType != "S" {
		return nil
	}
	// A sales-BOM parent: its components follow its quantity and status.
	started := false
	for _, c := range all {
		if c.lineNum == l.lineNum {
			started = true
			continue
		}
		if !started {
			continue
		}
		if c.treeType != "I" {
			break
		}
		cDelivered := c.qty.Sub(c.open)
		q := c.qty.Mul(l.qty).Div(oldQty).Round(6)
		open := q.Sub(cDelivered)
		if open.IsNegative() {
			open = decimal.Zero
		}
		status := c.status
		if l.status == "C" || open.IsZero() {
			status = "C"
		} else if l.status == "O" {
			status = "O"
		}
		if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.lines().table)+` SET "Quantity" = $3, "OpenQty" = $4, "LineStatus" = $5 WHERE "DocEntry" = $1 AND "LineNum" = $2`,
			h.docEntry, c.lineNum, q, open, status); err != nil {
			return err
		}
	}
	return nil
}

// ---- actions ----

// cancelOrder cancels an order: it releases what the order still commits.
// An order with a delivery or invoice against it cannot be cancelled (close
// it instead), as in SAP.
func (s *Server) cancelOrder(ctx context.Context, e *entity, docEntry int, rq *slReq, tc *txCtx) (*slResp, *slError) {
	err := func() error {
		tx := tc.tx
		h, err := s.lockHeader(ctx, tx, e, docEntry)
		if err != nil {
			return err
		}
		if err := checkIfMatch(rq, h.logInstanc); err != nil {
			return err
		}
		if h.canceled != "N" {
			return errValidation("Document is already cancelled")
		}
		if h.status != "O" {
			return errValidation("Document is already closed")
		}
		lines, err := s.loadLines(ctx, tx, e, docEntry)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if l.trgEntry != nil || !l.open.Equal(l.qty) {
				return errValidation("Cannot cancel a document that has been copied to a target document; close it instead")
			}
		}
		return s.setStatus(ctx, tc, e, docEntry, "Y")
	}()
	if err != nil {
		return nil, toSL(err)
	}
	return noContent(), nil
}

// closeDocument closes an open order or delivery: its open lines close and
// what an order still commits is released. Open quantities are kept, so
// Reopen can restore them.
func (s *Server) closeDocument(ctx context.Context, e *entity, docEntry int, rq *slReq, tc *txCtx) (*slResp, *slError) {
	err := func() error {
		h, err := s.lockHeader(ctx, tc.tx, e, docEntry)
		if err != nil {
			return err
		}
		if err := checkIfMatch(rq, h.logInstanc); err != nil {
			return err
		}
		if h.canceled != "N" {
			return errValidation("Document is already cancelled")
		}
		if h.status != "O" {
			return errValidation("Document is already closed")
		}
		return s.setStatus(ctx, tc, e, docEntry, "")
	}()
	if err != nil {
		return nil, toSL(err)
	}
	return noContent(), nil
}

// setStatus closes every open line and the header (cancel = "Y" also marks
// it cancelled) and releases the order's commitments.
func (s *Server) setStatus(ctx context.Context, tc *txCtx, e *entity, docEntry int, cancel string) error {
	tx := tc.tx
	st := s.stampOf(tc)
	var orders []int
	if e.objType == 17 {
		orders = []int{docEntry}
	}
	before, err := s.commitments(ctx, tx, orders)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.lines().table)+` SET "LineStatus" = 'C' WHERE "DocEntry" = $1`, docEntry); err != nil {
		return err
	}
	if cancel != "" {
		if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.table)+` SET "CANCELED" = $2 WHERE "DocEntry" = $1`, docEntry, cancel); err != nil {
			return err
		}
	}
	if err := s.touchHeader(ctx, tx, e, docEntry, st); err != nil {
		return err
	}
	after, err := s.commitments(ctx, tx, orders)
	if err != nil {
		return err
	}
	sc := newStockChange()
	sc.commit(before, after)
	tc.wrote = true
	return s.applyStock(ctx, tx, st, sc)
}

// reopenOrder reverses Close: lines with an open quantity reopen and commit
// again.
func (s *Server) reopenOrder(ctx context.Context, e *entity, docEntry int, rq *slReq, tc *txCtx) (*slResp, *slError) {
	err := func() error {
		tx := tc.tx
		st := s.stampOf(tc)
		h, err := s.lockHeader(ctx, tx, e, docEntry)
		if err != nil {
			return err
		}
		if err := checkIfMatch(rq, h.logInstanc); err != nil {
			return err
		}
		if h.canceled != "N" {
			return errValidation("Cannot reopen a cancelled document")
		}
		if h.status == "O" {
			return errValidation("Document is already open")
		}
		before, err := s.commitments(ctx, tx, []int{docEntry})
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE `+s.t(e.lines().table)+` SET "LineStatus" = 'O' WHERE "DocEntry" = $1 AND "OpenQty" > 0`, docEntry)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errValidation("Cannot reopen a document whose lines are fully delivered")
		}
		if err := s.touchHeader(ctx, tx, e, docEntry, st); err != nil {
			return err
		}
		after, err := s.commitments(ctx, tx, []int{docEntry})
		if err != nil {
			return err
		}
		sc := newStockChange()
		sc.commit(before, after)
		tc.wrote = true
		return s.applyStock(ctx, tx, st, sc)
	}()
	if err != nil {
		return nil, toSL(err)
	}
	return noContent(), nil
}

// cancelTarget cancels a delivery, invoice or credit note the way SAP 9.0+
// does: a cancellation document (CANCELED = 'C') of the same type reverses
// it, its stock moves are reversed in the journal, and the base lines get
// their open quantity back.
func (s *Server) cancelTarget(ctx context.Context, e *entity, docEntry int, rq *slReq, tc *txCtx) (*slResp, *slError) {
	err := func() error {
		tx := tc.tx
		st := s.stampOf(tc)
		h, err := s.lockHeader(ctx, tx, e, docEntry)
		if err != nil {
			return err
		}
		if err := checkIfMatch(rq, h.logInstanc); err != nil {
			return err
		}
		switch {
		case h.canceled == "Y":
			return errValidation("Document is already cancelled")
		case h.canceled == "C":
			return errValidation("A cancellation document cannot be cancelled")
		case h.status != "O":
			return errValidation("Document is already closed")
		}
		lines, err := s.loadLines(ctx, tx, e, docEntry)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if l.trgEntry != nil || !l.open.Equal(l.qty) {
				return errValidation("Cannot cancel a document that has been copied to a target document")
			}
		}
		newEntry, newNum, _, err := s.nextNumber(ctx, tx, e.objType)
		if err != nil {
			return err
		}
		refs := map[int][]int{}
		for _, l := range lines {
			if l.baseType >= 0 {
				refs[l.baseType] = append(refs[l.baseType], l.baseEntry)
			}
		}
		bases, err := s.lockBases(ctx, tx, refs)
		if err != nil {
			return err
		}
		var orders []int
		for k := range bases {
			if k[0] == 17 {
				orders = append(orders, k[1])
			}
		}
		before, err := s.commitments(ctx, tx, orders)
		if err != nil {
			return err
		}
		// The cancellation document: a copy with CANCELED = 'C', closed,
		// based on the original.
		cols := `"DocType", "DocDate", "DocDueDate", "TaxDate", "CardCode", "CardName", "NumAtCard", "Comments", "DocCur", "DocRate",
			"DiscPrcnt", "DiscSum", "VatSum", "DocTotal", "TrackNo", "SlpCode"`
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t(e.table)+` ("DocEntry", "DocNum", "Series", "ObjType", "CANCELED", "DocStatus",
			"CreateDate", "CreateTS", "DocTime", "UpdateDate", "UpdateTS", `+cols+`)
			SELECT $2, $3, "Series", "ObjType", 'C', 'C', $4::timestamp, $5, $6, $4::timestamp, $5, `+cols+` FROM `+s.t(e.table)+` WHERE "DocEntry" = $1`,
			docEntry, newEntry, newNum, st.date, st.ts, st.ts/100); err != nil {
			return err
		}
		lcols := `"ItemCode", "Dscription", "Quantity", "Price", "PriceBefDi", "PriceAfVAT", "DiscPrcnt", "LineTotal", "Currency", "WhsCode",
			"TaxCode", "VatGroup", "VatPrcnt", "VatSum", "TreeType", "NoInvtryMv", "ShipDate"`
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t(e.lines().table)+` ("DocEntry", "LineNum", "VisOrder", "ObjType", "LineStatus", "OpenQty",
			"BaseType", "BaseEntry", "BaseLine", "BaseRef", `+lcols+`)
			SELECT $2, "LineNum", "VisOrder", "ObjType", 'C', 0, $3, "DocEntry", "LineNum", $4, `+lcols+` FROM `+s.t(e.lines().table)+` WHERE "DocEntry" = $1`,
			docEntry, newEntry, e.objType, strconv.Itoa(h.docNum)); err != nil {
			return err
		}
		xcols := `"ObjType", "ExpnsCode", "LineTotal", "GrsAmount", "TaxCode", "VatGroup", "VatPrcnt", "VatSum", "TaxStatus", "Comments"`
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t(e.expenses().table)+` ("DocEntry", "LineNum", "Status", `+xcols+`)
			SELECT $2, "LineNum", 'C', `+xcols+` FROM `+s.t(e.expenses().table)+` WHERE "DocEntry" = $1`, docEntry, newEntry); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.lines().table)+` SET "LineStatus" = 'C', "TargetType" = $2, "TrgetEntry" = $3 WHERE "DocEntry" = $1`,
			docEntry, e.objType, newEntry); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+s.t(e.table)+` SET "CANCELED" = 'Y' WHERE "DocEntry" = $1`, docEntry); err != nil {
			return err
		}
		if err := s.touchHeader(ctx, tx, e, docEntry, st); err != nil {
			return err
		}
		// The bases get back what this document took.
		for _, l := range lines {
			if l.baseType < 0 {
				continue
			}
			be := documentsByType[l.baseType]
			if _, err := tx.Exec(ctx, `UPDATE `+s.t(be.lines().table)+` SET "OpenQty" = least("Quantity", "OpenQty" + $3), "LineStatus" = 'O'
				WHERE "DocEntry" = $1 AND "LineNum" = $2`, l.baseEntry, l.baseLine, l.qty); err != nil {
				return err
			}
		}
		for k := range bases {
			if bases[k].header.canceled != "N" {
				continue
			}
			if err := s.touchHeader(ctx, tx, documentsByType[k[0]], k[1], st); err != nil {
				return err
			}
		}
		after, err := s.commitments(ctx, tx, orders)
		if err != nil {
			return err
		}
		sc := newStockChange()
		sc.commit(before, after)
		for _, l := range lines {
			if q := stockEffect(e.objType, l); !q.IsZero() {
				sc.move(journalEntry{transType: e.objType, docEntry: newEntry, docNum: newNum, line: l.lineNum, docDate: st.date,
					key: stockKey{l.itemCode, l.whs}}, q.Neg(), locator("ItemCode", l.index))
			}
		}
		if err := s.applyStock(ctx, tx, st, sc); err != nil {
			return err
		}
		tc.docs++
		tc.wrote = true
		return nil
	}()
	if err != nil {
		return nil, toSL(err)
	}
	return noContent(), nil
}
