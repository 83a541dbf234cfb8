package posting

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// applied counts what apply wrote.
type applied struct {
	states   map[string]int // orders moved (or confirmed) per new state
	raised   int            // exceptions opened or changed
	resolved int            // exceptions resolved by themselves
	queued   int            // post_order jobs enqueued
}

// stateRow is one ledger row for InsertOrderPostings / UpdateOrderPostings.
type stateRow struct {
	ShopID         string     `json:"shop_id"`
	OrderID        string     `json:"order_id"`
	Expected       string     `json:"expected,omitempty"`
	State          string     `json:"state"`
	Reason         string     `json:"reason"`
	ReasonKind     string     `json:"reason_kind"`
	WaitUntil      *time.Time `json:"wait_until,omitempty"`
	PayloadID      int64      `json:"payload_id,omitempty"`
	OrderDerivedAt *time.Time `json:"order_derived_at,omitempty"`
	AsShipped      bool       `json:"as_shipped"`
}

// apply writes evaluations in tx, set-based: the exceptions they raise,
// those whose cause cleared resolved by themselves, the ledger rows (each
// only while still in the state evaluated), and one post_order job per order
// that became ready, in the same transaction.
func (p *Poster) apply(ctx context.Context, tx pgx.Tx, evs []evaluation) (applied, error) {
	res := applied{states: map[string]int{}}
	if len(evs) == 0 {
		return res, nil
	}
	q := db.New(tx)

	var probs []problem
	type evaluated struct {
		ShopID     string `json:"shop_id"`
		OrderID    string `json:"order_id"`
		Final      bool   `json:"final"`
		Resolution string `json:"resolution,omitempty"`
	}
	var evald []evaluated
	var keep []problem
	var configured []string
	seenShop := map[string]bool{}
	for _, ev := range evs {
		evald = append(evald, evaluated{ev.key.ShopID, ev.key.OrderID, ev.final, ev.resolution})
		for _, pr := range ev.problems {
			probs = append(probs, pr)
			if pr.OrderID != "" {
				keep = append(keep, pr)
			}
		}
		if ev.shopConfigured && !seenShop[ev.key.ShopID] {
			seenShop[ev.key.ShopID] = true
			configured = append(configured, ev.key.ShopID)
		}
	}
	probs = dedupeShopLevel(probs)
	if len(probs) > 0 {
		raised, err := q.RaiseOrderProblems(ctx, mustJSON(probs))
		if err != nil {
			return res, fmt.Errorf("posting: raising %d exceptions: %w", len(probs), err)
		}
		res.raised = len(raised)
	}
	resolved, err := q.ResolveClearedOrderProblems(ctx, db.ResolveClearedOrderProblemsParams{
		Kinds: validationKinds, Orders: mustJSON(evald), Keep: mustJSON(nonNil(keep)),
	})
	if err != nil {
		return res, fmt.Errorf("posting: resolving cleared exceptions: %w", err)
	}
	res.resolved = len(resolved)
	if len(configured) > 0 {
		r, err := q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
			ResolvedBy: "tiktokb1", Resolution: "auto: the shop is configured now",
			Kinds: []string{KindShopNotConfigured}, ShopIds: configured,
		})
		if err != nil {
			return res, fmt.Errorf("posting: resolving shop_not_configured: %w", err)
		}
		res.resolved += len(r)
	}

	var inserts, updates []stateRow
	for _, ev := range evs {
		r := stateRow{ShopID: ev.key.ShopID, OrderID: ev.key.OrderID, Expected: ev.from, State: ev.state, Reason: ev.reason,
			ReasonKind: ev.reasonKind, WaitUntil: ev.waitUntil, PayloadID: ev.payloadID, AsShipped: ev.asShipped}
		if !ev.derivedAt.IsZero() {
			t := ev.derivedAt
			r.OrderDerivedAt = &t
		}
		if ev.from == "" {
			inserts = append(inserts, r)
		} else {
			updates = append(updates, r)
		}
	}
	var ready []Key
	if len(inserts) > 0 {
		rows, err := q.InsertOrderPostings(ctx, mustJSON(inserts))
		if err != nil {
			return res, fmt.Errorf("posting: adding %d orders to the ledger: %w", len(inserts), err)
		}
		for _, r := range rows {
			res.states[r.State]++
			if r.State == StateReady {
				ready = append(ready, Key{r.ShopID, r.OrderID})
			}
		}
	}
	if len(updates) > 0 {
		rows, err := q.UpdateOrderPostings(ctx, mustJSON(updates))
		if err != nil {
			return res, fmt.Errorf("posting: moving %d orders in the ledger: %w", len(updates), err)
		}
		for _, r := range rows {
			res.states[r.State]++
			if r.State == StateReady && r.Previous != StateReady {
				ready = append(ready, Key{r.ShopID, r.OrderID})
			}
		}
	}
	if len(ready) > 0 && p.canPost() {
		if err := p.opts.Jobs.PostOrders(ctx, tx, ready); err != nil {
			return res, fmt.Errorf("posting: queueing %d orders for posting: %w", len(ready), err)
		}
		res.queued = len(ready)
	}
	return res, nil
}

// dedupeShopLevel keeps one shop-level problem per shop and kind (every
// order of an unconfigured shop reports it).
func dedupeShopLevel(ps []problem) []problem {
	seen := map[[2]string]bool{}
	out := make([]problem, 0, len(ps))
	for _, p := range ps {
		if p.OrderID == "" {
			k := [2]string{p.Kind, p.ShopID}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, p)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// mustJSON encodes v; every value passed is made of plain fields.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("posting: encoding %T: %v", v, err))
	}
	return b
}
