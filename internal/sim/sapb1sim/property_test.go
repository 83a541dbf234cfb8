package sapb1sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// A random sequence of receipts, issues, orders, deliveries, invoices,
// credit notes, cancels, closes and reopens, checked against a model kept
// in Go: per item and warehouse, OnHand = receipts − issues − deliveries −
// invoices straight from orders + returns, IsCommited = the open quantity of
// open order lines, the journal (OIVL) sums to OnHand, and OITM holds the
// totals of OITW. The model also predicts which operations SAP refuses
// (negative stock, a closed base, cancelling a delivered order, ...).

type mLine struct {
	key       stockKey
	qty, open int
	closed    bool
}

type mOrder struct {
	entry     int
	lines     []*mLine
	closed    bool
	cancelled bool
}

type mInvoice struct {
	entry int
	line  *mLine
}

func TestStockFollowsRandomDocuments(t *testing.T) {
	ts := newSim(t, nil)
	ts.warehouse("01")
	ts.warehouse("02")
	ts.item("A", nil)
	ts.item("B", nil)
	ts.customer("C1")
	keys := []stockKey{{"A", "01"}, {"A", "02"}, {"B", "01"}, {"B", "02"}}
	onHand := map[stockKey]int{}
	var orders []*mOrder
	var invoices []*mInvoice
	docs, refused := 0, 0
	rng := rand.New(rand.NewPCG(2024, 5))
	c := ts.c
	post := func(set string, body map[string]any) *resp { return c.do("POST", set, body) }
	agree := func(op string, ok bool, r *resp) {
		t.Helper()
		if got := r.status < 300; got != ok {
			t.Fatalf("%s: model expects success=%v, simulator answered %s", op, ok, r)
		}
		if !ok {
			refused++
		}
	}
	openLine := func() (*mOrder, int, *mLine) {
		var cands [][2]int
		for i, o := range orders {
			for j, l := range o.lines {
				if !o.closed && !l.closed {
					cands = append(cands, [2]int{i, j})
				}
			}
		}
		if len(cands) == 0 {
			return nil, 0, nil
		}
		p := cands[rng.IntN(len(cands))]
		return orders[p[0]], p[1], orders[p[0]].lines[p[1]]
	}
	consume := func(o *mOrder, l *mLine, q int) {
		l.open -= q
		if l.open == 0 {
			l.closed = true
		}
		all := true
		for _, x := range o.lines {
			all = all && x.closed
		}
		o.closed = all
	}
	check := func(step int) {
		t.Helper()
		for _, k := range keys {
			want := decimal.Zero
			for _, o := range orders {
				for _, l := range o.lines {
					if l.key == k && !l.closed && !o.closed {
						want = want.Add(decimal.NewFromInt(int64(l.open)))
					}
				}
			}
			oh, com := ts.stock(k.item, k.whs)
			if !oh.Equal(decimal.NewFromInt(int64(onHand[k]))) || !com.Equal(want) {
				t.Fatalf("step %d %v: OnHand %s IsCommited %s, model %d and %s", step, k, oh, com, onHand[k], want)
			}
			var journal decimal.Decimal
			_ = ts.srv.Pool().QueryRow(context.Background(), `SELECT coalesce(sum("InQty" - "OutQty"), 0) FROM `+ts.srv.t("OIVL")+` WHERE "ItemCode" = $1 AND "LocCode" = $2`, k.item, k.whs).Scan(&journal)
			if !journal.Equal(oh) {
				t.Fatalf("step %d %v: OIVL sums to %s, OnHand %s", step, k, journal, oh)
			}
		}
		var bad int
		_ = ts.srv.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+ts.srv.t("OITM")+` I WHERE I."OnHand" <> (SELECT sum("OnHand") FROM `+ts.srv.t("OITW")+` W WHERE W."ItemCode" = I."ItemCode")
			OR I."IsCommited" <> (SELECT sum("IsCommited") FROM `+ts.srv.t("OITW")+` W WHERE W."ItemCode" = I."ItemCode")`).Scan(&bad)
		if bad != 0 {
			t.Fatalf("step %d: OITM totals differ from OITW for %d items", step, bad)
		}
		if got := ts.srv.Stats().Documents; got != int64(docs) {
			t.Fatalf("step %d: %d documents counted, %d added", step, got, docs)
		}
	}
	for step := range 160 {
		k := keys[rng.IntN(len(keys))]
		switch op := rng.IntN(10); op {
		case 0, 1: // receipt or issue
			q := 1 + rng.IntN(6)
			if op == 1 {
				q = -(1 + rng.IntN(3))
			}
			_, err := ts.srv.ReceiveStock(context.Background(), k.item, k.whs, decimal.NewFromInt(int64(q)))
			if ok := onHand[k]+q >= 0; ok != (err == nil) {
				t.Fatalf("step %d: stock %d on %v: model ok=%v, got %v", step, q, k, ok, err)
			}
			if err == nil {
				onHand[k] += q
			}
		case 2, 3: // order
			o := &mOrder{}
			var ls []any
			for range 1 + rng.IntN(2) {
				l := &mLine{key: keys[rng.IntN(len(keys))], qty: 1 + rng.IntN(4)}
				l.open = l.qty
				o.lines = append(o.lines, l)
				ls = append(ls, line(l.key.item, l.key.whs, l.qty))
			}
			r := post("Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "DocumentLines": ls})
			agree("order", true, r)
			o.entry = jnum(r.json["DocEntry"])
			orders = append(orders, o)
			docs++
		case 4, 5: // delivery, or an invoice straight from the order
			o, j, l := openLine()
			if o == nil {
				continue
			}
			q := 1 + rng.IntN(l.open)
			set, typ := "DeliveryNotes", 17
			if op == 5 {
				set = "Invoices"
			}
			r := post(set, map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": typ, "BaseEntry": o.entry, "BaseLine": j, "Quantity": q}}})
			ok := onHand[l.key] >= q
			agree(fmt.Sprintf("step %d %s of %d on %v (stock %d)", step, set, q, l.key, onHand[l.key]), ok, r)
			if ok {
				onHand[l.key] -= q
				consume(o, l, q)
				docs++
				if op == 5 {
					invoices = append(invoices, &mInvoice{entry: jnum(r.json["DocEntry"]), line: &mLine{key: l.key, qty: q, open: q}})
				}
			}
		case 6: // a delivery without a base
			q := 1 + rng.IntN(3)
			r := post("DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{line(k.item, k.whs, q)}})
			ok := onHand[k] >= q
			agree("standalone delivery", ok, r)
			if ok {
				onHand[k] -= q
				docs++
			}
		case 7: // a credit note for an invoice, with or without the goods
			if len(invoices) == 0 {
				continue
			}
			inv := invoices[rng.IntN(len(invoices))]
			returned := rng.IntN(2) == 0
			q := 1 + rng.IntN(inv.line.qty)
			body := map[string]any{"BaseType": 13, "BaseEntry": inv.entry, "BaseLine": 0, "Quantity": q}
			if !returned {
				body["WithoutInventoryMovement"] = "tYES"
			}
			r := post("CreditNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{body}})
			ok := q <= inv.line.open
			agree("credit note", ok, r)
			if ok {
				inv.line.open -= q
				if returned {
					onHand[inv.line.key] += q
				}
				docs++
			}
		case 8, 9: // cancel, close or reopen an order
			if len(orders) == 0 {
				continue
			}
			o := orders[rng.IntN(len(orders))]
			path := fmt.Sprintf("Orders(%d)/", o.entry)
			switch rng.IntN(3) {
			case 0:
				untouched := true
				for _, l := range o.lines {
					untouched = untouched && l.open == l.qty
				}
				ok := !o.closed && !o.cancelled && untouched
				agree("cancel", ok, c.do("POST", path+"Cancel", nil))
				if ok {
					o.cancelled, o.closed = true, true
					for _, l := range o.lines {
						l.closed = true
					}
				}
			case 1:
				ok := !o.closed && !o.cancelled
				agree("close", ok, c.do("POST", path+"Close", nil))
				if ok {
					o.closed = true
					for _, l := range o.lines {
						l.closed = true
					}
				}
			case 2:
				any := false
				for _, l := range o.lines {
					any = any || l.open > 0
				}
				ok := o.closed && !o.cancelled && any
				agree("reopen", ok, c.do("POST", path+"Reopen", nil))
				if ok {
					o.closed = false
					for _, l := range o.lines {
						l.closed = l.open == 0
					}
				}
			}
		}
		if step%20 == 19 {
			check(step)
		}
	}
	check(160)
	t.Logf("%d documents added, %d requests refused as the model predicted", docs, refused)
	if docs < 40 || refused < 5 {
		t.Errorf("the sequence exercised too little: %d documents, %d refusals", docs, refused)
	}
}
