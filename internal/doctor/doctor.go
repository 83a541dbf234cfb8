// Package doctor checks what tiktokb1 needs from the systems around it: the
// database schema, TikTok Shop for every shop, SAP's Service Layer and SQL
// Server, and the user-defined fields the orders flow writes. Creating a
// missing field alters SAP's tables, so it happens only when asked (an IT
// change-window step: the Service Layer sees new fields after a restart).
package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Check is one finding.
type Check struct {
	Name string
	OK   bool
	// Detail says what was found, and for a failure what to do.
	Detail string
}

// UserField is a UDF the orders flow writes.
type UserField struct {
	Table       string // ORDR (header) or RDR1 (lines)
	Name        string // without U_
	Size        int
	Description string
}

// RequiredFields are the UDFs the orders flow writes on Sales Orders.
var RequiredFields = []UserField{
	{"ORDR", "TikTokOrderId", 30, "TikTok order id"},
	{"ORDR", "TikTokShopId", 30, "TikTok shop id"},
	{"ORDR", "TikTokRelease", 1, "Released to the warehouse (Y/N)"},
	{"RDR1", "TikTokPackageId", 30, "TikTok package id"},
}

// SAP is what doctor asks SAP's Service Layer (a *sapb1.Client).
type SAP interface {
	UserFields(ctx context.Context, table string) ([]sapb1.UserField, error)
	CreateUserField(ctx context.Context, f sapb1.UserField) error
}

// UserFields checks the required UDFs, creating the missing ones when fix.
func UserFields(ctx context.Context, sap SAP, fix bool) []Check {
	var out []Check
	byTable := map[string]map[string]bool{}
	for _, f := range RequiredFields {
		if _, ok := byTable[f.Table]; ok {
			continue
		}
		fields, err := sap.UserFields(ctx, f.Table)
		if err != nil {
			out = append(out, Check{Name: "SAP user fields of " + f.Table, Detail: fmt.Sprintf("cannot list them: %v", err)})
			byTable[f.Table] = nil
			continue
		}
		names := map[string]bool{}
		for _, uf := range fields {
			names[strings.ToLower(strings.TrimPrefix(uf.Name, "U_"))] = true
		}
		byTable[f.Table] = names
	}
	for _, f := range RequiredFields {
		names := byTable[f.Table]
		if names == nil {
			continue
		}
		name := fmt.Sprintf("SAP user field U_%s on %s", f.Name, f.Table)
		if names[strings.ToLower(f.Name)] {
			out = append(out, Check{Name: name, OK: true, Detail: "present"})
			continue
		}
		if !fix {
			out = append(out, Check{Name: name, Detail: "missing: run `tiktokb1 doctor --fix` in a change window (it alters SAP's tables; restart the Service Layer afterwards)"})
			continue
		}
		err := sap.CreateUserField(ctx, sapb1.UserField{TableName: f.Table, Name: f.Name, Type: "db_Alpha", Size: f.Size, EditSize: f.Size, Description: f.Description})
		if err != nil {
			out = append(out, Check{Name: name, Detail: fmt.Sprintf("missing, and creating it failed: %v", err)})
			continue
		}
		out = append(out, Check{Name: name, OK: true, Detail: "created: restart the Service Layer so it sees the new field"})
	}
	return out
}

// Pinger is anything whose connection can be checked.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Connection checks one connection.
func Connection(ctx context.Context, name string, p Pinger, fix string) Check {
	if err := p.Ping(ctx); err != nil {
		return Check{Name: name, Detail: fmt.Sprintf("%v; %s", err, fix)}
	}
	return Check{Name: name, OK: true, Detail: "connected"}
}

// Shop is one onboarded TikTok shop.
type Shop struct {
	ID, Name, Cipher string
	// WarehouseSets are the TikTok warehouse ids the shop has warehouse
	// sets for (integration.warehouse_set).
	WarehouseSets []string
}

// TikTokShop checks that TikTok answers for the shop with its stored token
// (a cheap read: its warehouses), and that its warehouse sets name TikTok
// warehouses the shop has.
func TikTokShop(ctx context.Context, client *tiktok.Client, s Shop) Check {
	name := fmt.Sprintf("TikTok shop %s (%s)", s.Name, s.ID)
	whs, err := client.Warehouses(ctx, tiktok.Shop{ID: s.ID, Cipher: s.Cipher})
	if err != nil {
		return Check{Name: name, Detail: fmt.Sprintf("%v; if the authorisation expired, re-authorise the shop through /oauth/tiktok/start", err)}
	}
	return WarehouseSets(name, whs, s.WarehouseSets)
}

// WarehouseSets compares a shop's warehouse sets with the warehouses TikTok
// lists for it. A set for a warehouse TikTok does not list fails (its stock
// is never pushed); a shop without any set is reported, not failed (the
// orders flow does not need one). Either way the detail lists TikTok's
// warehouse ids, which is where an operator finds them for the import.
func WarehouseSets(name string, tiktokWarehouses []tiktok.Warehouse, configured []string) Check {
	known := map[string]bool{}
	var list []string
	for _, w := range tiktokWarehouses {
		id := string(w.ID)
		known[id] = true
		desc := w.Name
		if w.IsDefault {
			desc += ", default"
		}
		if w.Type == "RETURN_WAREHOUSE" {
			desc += ", returns only"
		}
		if w.EffectStatus != "" && w.EffectStatus != "ENABLED" {
			desc += ", " + strings.ToLower(w.EffectStatus)
		}
		if !slices.Contains(configured, id) {
			desc += ", no warehouse set"
		}
		list = append(list, fmt.Sprintf("%s (%s)", id, desc))
	}
	listed := "TikTok's warehouses: " + strings.Join(list, "; ")
	if len(list) == 0 {
		listed = "TikTok lists no warehouse for the shop"
	}
	var unknown []string
	for _, id := range configured {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	switch {
	case len(unknown) > 0:
		return Check{Name: name, Detail: fmt.Sprintf("warehouse set for TikTok warehouse %s, which the shop does not have: that stock is never pushed; "+
			"correct the tiktok_warehouse_id with tiktokb1 mapping import warehouse-sets --replace. %s", strings.Join(unknown, ", "), listed)}
	case len(configured) == 0:
		return Check{Name: name, OK: true, Detail: "answers; no warehouse set, so no stock is pushed (tiktokb1 mapping import warehouse-sets). " + listed}
	}
	return Check{Name: name, OK: true, Detail: "answers; " + listed}
}

// SAPWarehouseSets checks that the warehouse sets name SAP warehouses that
// exist and are active (problems from the last SAP warehouse snapshot): a
// set counting a warehouse SAP does not have adds nothing, silently.
func SAPWarehouseSets(problems []db.WarehouseSetProblemsRow) Check {
	const name = "warehouse sets vs SAP warehouses"
	if len(problems) == 0 {
		return Check{Name: name, OK: true, Detail: "every SAP warehouse named is active in SAP (or no SAP warehouse snapshot yet)"}
	}
	var list []string
	for _, p := range problems {
		list = append(list, fmt.Sprintf("%s (shop %s, TikTok warehouse %s) is %s", p.WhsCode, p.ShopID, p.TiktokWarehouseID, p.Problem))
	}
	return Check{Name: name, Detail: strings.Join(list, "; ") +
		": its stock is not counted; fix the SAP warehouse or the set (tiktokb1 mapping import warehouse-sets --replace)"}
}
