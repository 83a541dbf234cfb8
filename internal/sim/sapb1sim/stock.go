package sapb1sim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Stock as SAP moves it. A document's effect on stock is gathered in a
// stockChange while the document is written, then applied at the end of its
// transaction in one place, in a fixed lock order: OITW rows (sorted), OITM
// rows (sorted), then the warehouse journal's counter. Every writer takes
// its document rows before its stock rows, so concurrent postings wait for
// each other instead of deadlocking (and if Postgres still finds a
// deadlock, the client gets SAP's deadlock error).
//
//   - OnHand moves with deliveries (out), invoices not based on a delivery
//     (out), credit notes (in, unless WithoutInventoryMovement), goods
//     receipts and issues (the control API), and cancellations (reversed);
//     every move writes an OIVL row.
//   - IsCommited is the open quantity of open order lines. It is computed
//     for the orders a change touches before and after the change, and the
//     difference is applied, so creating, copying, patching, closing,
//     cancelling and reopening all agree by construction.
//   - A move that would take a warehouse's OnHand below zero fails the whole
//     document with -10 "Quantity falls into negative inventory".
//   - Only inventory items (InvntItem = 'Y') have stock. A sales-BOM parent
//     (TreeType S) is not one; its component lines move stock instead.

type stockKey struct{ item, whs string }

type stockDelta struct {
	onHand, committed decimal.Decimal
}

type journalEntry struct {
	transType int
	docEntry  int
	docNum    int
	line      int
	docDate   string
	key       stockKey
	in, out   decimal.Decimal
}

type stockChange struct {
	deltas  map[stockKey]*stockDelta
	journal []journalEntry
	// where a key first went out: the locator of the negative-stock error
	firstOut map[stockKey]string
}

func newStockChange() *stockChange {
	return &stockChange{deltas: map[stockKey]*stockDelta{}, firstOut: map[stockKey]string{}}
}

func (c *stockChange) delta(k stockKey) *stockDelta {
	d := c.deltas[k]
	if d == nil {
		d = &stockDelta{}
		c.deltas[k] = d
	}
	return d
}

// move records a receipt (qty > 0) or an issue (qty < 0) with its journal
// row. locator names the line for the error text, e.g.
// "[DocumentLines.ItemCode][line: 2]".
func (c *stockChange) move(j journalEntry, qty decimal.Decimal, locator string) {
	if qty.IsZero() {
		return
	}
	d := c.delta(j.key)
	d.onHand = d.onHand.Add(qty)
	if qty.IsNegative() {
		j.out = qty.Neg()
		if _, ok := c.firstOut[j.key]; !ok {
			c.firstOut[j.key] = locator
		}
	} else {
		j.in = qty
	}
	c.journal = append(c.journal, j)
}

// commit adds the difference of two commitment snapshots.
func (c *stockChange) commit(before, after map[stockKey]decimal.Decimal) {
	for k, v := range after {
		if diff := v.Sub(before[k]); !diff.IsZero() {
			d := c.delta(k)
			d.committed = d.committed.Add(diff)
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok && !v.IsZero() {
			d := c.delta(k)
			d.committed = d.committed.Sub(v)
		}
	}
}

// commitments returns the open quantities of the given orders' open lines
// per item and warehouse: what they hold in IsCommited.
func (s *Server) commitments(ctx context.Context, tx pgx.Tx, orders []int) (map[stockKey]decimal.Decimal, error) {
	out := map[stockKey]decimal.Decimal{}
	if len(orders) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT L."ItemCode", L."WhsCode", sum(L."OpenQty") FROM `+s.t("RDR1")+` L
		JOIN `+s.t("OITM")+` I ON I."ItemCode" = L."ItemCode"
		WHERE L."DocEntry" = ANY($1) AND L."LineStatus" = 'O' AND I."InvntItem" = 'Y' AND L."TreeType" <> 'S'
		GROUP BY 1, 2`, orders)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k stockKey
		var q decimal.Decimal
		if err := rows.Scan(&k.item, &k.whs, &q); err != nil {
			return nil, err
		}
		out[k] = q
	}
	return out, rows.Err()
}

// applyStock writes the change: OITW and OITM quantities, then the journal.
func (s *Server) applyStock(ctx context.Context, tx pgx.Tx, st *stamp, c *stockChange) error {
	var keys []stockKey
	for k, d := range c.deltas {
		if !d.onHand.IsZero() || !d.committed.IsZero() {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 && len(c.journal) == 0 {
		return nil
	}
	items := make([]string, len(keys))
	whss := make([]string, len(keys))
	for i, k := range keys {
		items[i], whss[i] = k.item, k.whs
	}
	// A missing OITW row (an item-warehouse pair SAP would have added) is
	// created before the rows are locked.
	if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("OITW")+` ("ItemCode", "WhsCode", "createDate")
		SELECT i, w, $3::timestamp FROM unnest($1::text[], $2::text[]) AS k(i, w) ON CONFLICT DO NOTHING`, items, whss, st.date); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT W."ItemCode", W."WhsCode", W."OnHand" FROM `+s.t("OITW")+` W
		JOIN unnest($1::text[], $2::text[]) AS k(i, w) ON W."ItemCode" = k.i AND W."WhsCode" = k.w
		ORDER BY W."ItemCode", W."WhsCode" FOR UPDATE OF W`, items, whss)
	if err != nil {
		return err
	}
	onHand := map[stockKey]decimal.Decimal{}
	canon := map[stockKey]stockKey{} // the key as the client spelled it → as stored
	for rows.Next() {
		var k stockKey
		var q decimal.Decimal
		if err := rows.Scan(&k.item, &k.whs, &q); err != nil {
			rows.Close()
			return err
		}
		onHand[k] = q
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range keys {
		for stored := range onHand {
			if strings.EqualFold(stored.item, k.item) && strings.EqualFold(stored.whs, k.whs) {
				canon[k] = stored
			}
		}
		if _, ok := canon[k]; !ok {
			return fmt.Errorf("sapb1sim: no OITW row for %s/%s", k.item, k.whs)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].item != keys[j].item {
			return keys[i].item < keys[j].item
		}
		return keys[i].whs < keys[j].whs
	})
	itemTotals := map[string]*stockDelta{}
	var itemOrder []string
	for _, k := range keys {
		d := c.deltas[k]
		stored := canon[k]
		if now := onHand[stored].Add(d.onHand); now.IsNegative() {
			return errRule("Quantity falls into negative inventory  %s", c.firstOut[k])
		}
		if _, err := tx.Exec(ctx, `UPDATE `+s.t("OITW")+` SET "OnHand" = "OnHand" + $3, "IsCommited" = "IsCommited" + $4
			WHERE "ItemCode" = $1 AND "WhsCode" = $2`, stored.item, stored.whs, d.onHand, d.committed); err != nil {
			return err
		}
		t := itemTotals[stored.item]
		if t == nil {
			t = &stockDelta{}
			itemTotals[stored.item] = t
			itemOrder = append(itemOrder, stored.item)
		}
		t.onHand = t.onHand.Add(d.onHand)
		t.committed = t.committed.Add(d.committed)
	}
	sort.Strings(itemOrder)
	for _, item := range itemOrder {
		t := itemTotals[item]
		if _, err := tx.Exec(ctx, `UPDATE `+s.t("OITM")+` SET "OnHand" = "OnHand" + $2, "IsCommited" = "IsCommited" + $3 WHERE "ItemCode" = $1`,
			item, t.onHand, t.committed); err != nil {
			return err
		}
	}
	if len(c.journal) == 0 {
		return nil
	}
	// TransSeq comes from a counter row held until commit, so journal rows
	// become visible in TransSeq order: a reader's high-water mark never
	// skips a row that commits later.
	var seq int
	if err := tx.QueryRow(ctx, `SELECT "AutoKey" FROM `+s.t("ONNM")+` WHERE "ObjectCode" = 'OIVL' FOR UPDATE`).Scan(&seq); err != nil {
		return err
	}
	for _, j := range c.journal {
		stored := canon[j.key]
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("OIVL")+` ("TransSeq", "TransType", "CreatedBy", "BASE_REF", "DocLineNum", "DocDate",
			"ItemCode", "LocType", "LocCode", "InQty", "OutQty", "CreateDate", "CreateTime")
			VALUES ($1, $2, $3, $4, $5, $6::timestamp, $7, 64, $8, $9, $10, $11::timestamp, $12)`,
			seq, j.transType, j.docEntry, fmt.Sprint(j.docNum), j.line, j.docDate, stored.item, stored.whs, j.in, j.out, st.date, st.ts); err != nil {
			return err
		}
		seq++
	}
	_, err = tx.Exec(ctx, `UPDATE `+s.t("ONNM")+` SET "AutoKey" = $1 WHERE "ObjectCode" = 'OIVL'`, seq)
	return err
}

// nextNumber takes the next DocEntry and DocNum of an object type. The
// ONNM row stays locked until the transaction ends: adds of one document
// type are serialised, as in SAP.
func (s *Server) nextNumber(ctx context.Context, tx pgx.Tx, objType int) (docEntry, docNum, series int, err error) {
	if err = tx.QueryRow(ctx, `SELECT "AutoKey", "DfltSeries" FROM `+s.t("ONNM")+` WHERE "ObjectCode" = $1 FOR UPDATE`, fmt.Sprint(objType)).Scan(&docEntry, &series); err != nil {
		return
	}
	if _, err = tx.Exec(ctx, `UPDATE `+s.t("ONNM")+` SET "AutoKey" = "AutoKey" + 1 WHERE "ObjectCode" = $1`, fmt.Sprint(objType)); err != nil {
		return
	}
	err = tx.QueryRow(ctx, `UPDATE `+s.t("NNM1")+` SET "NextNumber" = "NextNumber" + 1 WHERE "Series" = $1 RETURNING "NextNumber" - 1`, series).Scan(&docNum)
	return
}

// StockLevel is one item's stock in one warehouse.
type StockLevel struct {
	ItemCode  string          `json:"item_code"`
	Warehouse string          `json:"warehouse"`
	OnHand    decimal.Decimal `json:"on_hand"`
	Committed decimal.Decimal `json:"committed"`
	TransSeq  int             `json:"trans_seq"` // the journal row of this movement
}

// ReceiveStock posts a goods receipt (quantity > 0, OIVL TransType 59) or a
// goods issue (quantity < 0, TransType 60) of one item in one warehouse, as
// a warehouse user would in SAP. An issue below zero fails with SAP's
// negative-inventory error and changes nothing.
func (s *Server) ReceiveStock(ctx context.Context, itemCode, warehouse string, quantity decimal.Decimal) (StockLevel, error) {
	var lvl StockLevel
	if quantity.IsZero() {
		return lvl, errors.New("quantity must not be zero")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var invnt, item string
		err := tx.QueryRow(ctx, `SELECT "ItemCode", "InvntItem" FROM `+s.t("OITM")+` WHERE "ItemCode" = $1`, itemCode).Scan(&item, &invnt)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("item %q does not exist", itemCode)
		}
		if err != nil {
			return err
		}
		if invnt != "Y" {
			return fmt.Errorf("item %q is not an inventory item", itemCode)
		}
		var whs string
		err = tx.QueryRow(ctx, `SELECT "WhsCode" FROM `+s.t("OWHS")+` WHERE "WhsCode" = $1`, warehouse).Scan(&whs)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("warehouse %q does not exist", warehouse)
		}
		if err != nil {
			return err
		}
		objType, table := 59, "IGN1"
		if quantity.IsNegative() {
			objType, table = 60, "IGE1"
		}
		docEntry, docNum, _, err := s.nextNumber(ctx, tx, objType)
		if err != nil {
			return err
		}
		st := s.stampOf(&txCtx{})
		c := newStockChange()
		k := stockKey{item, whs}
		c.move(journalEntry{transType: objType, docEntry: docEntry, docNum: docNum, line: 0, docDate: st.date, key: k},
			quantity, "["+table+".ItemCode][line: 1]")
		if err := s.applyStock(ctx, tx, st, c); err != nil {
			return err
		}
		lvl = StockLevel{ItemCode: item, Warehouse: whs}
		return tx.QueryRow(ctx, `SELECT W."OnHand", W."IsCommited", (SELECT max("TransSeq") FROM `+s.t("OIVL")+`)
			FROM `+s.t("OITW")+` W WHERE W."ItemCode" = $1 AND W."WhsCode" = $2`, item, whs).Scan(&lvl.OnHand, &lvl.Committed, &lvl.TransSeq)
	})
	if err != nil {
		var sl *slError
		if errors.As(err, &sl) {
			return lvl, errors.New(sl.msg)
		}
		return lvl, err
	}
	return lvl, nil
}
