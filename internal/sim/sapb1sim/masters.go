package sapb1sim

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Master data: Items, Warehouses, PriceLists, BusinessPartners and
// ProductTrees. As in a company with SAP's default settings, a new item gets
// a stock row (OITW) in every warehouse and a price row (ITM1) in every
// price list, and a new warehouse or price list gets one for every item.

func (s *Server) masterOp(ctx context.Context, op *operation, rq *slReq, tc *txCtx) (*slResp, *slError) {
	var err error
	var resp *slResp
	e := op.entity
	switch op.kind {
	case opCreate:
		resp, err = s.createMaster(ctx, e, rq, tc)
	case opPatch:
		err = s.patchMaster(ctx, e, op.key, rq, tc)
		resp = noContent()
	case opDelete:
		err = s.deleteMaster(ctx, e, op.key, rq, tc)
		resp = noContent()
	default:
		return nil, errResource(op.action)
	}
	if err != nil {
		return nil, toSL(err)
	}
	return resp, nil
}

// plainColumns lists the body's writable plain properties as columns.
func (s *Server) plainColumns(e *entity, b *body) (cols []string, vals []any) {
	for _, name := range b.order {
		val, ok := b.values[name]
		if !ok {
			continue
		}
		f := s.lookup(e, name)
		if f == nil || f.kind == kColl {
			continue
		}
		cols = append(cols, f.col)
		vals = append(vals, val)
	}
	return cols, vals
}

func (s *Server) exists(ctx context.Context, tx pgx.Tx, table, col string, val any) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM "+s.t(table)+" WHERE "+ident(col)+" = $1)", val).Scan(&ok)
	return ok, err
}

func (s *Server) createMaster(ctx context.Context, e *entity, rq *slReq, tc *txCtx) (*slResp, error) {
	tx := tc.tx
	st := s.stampOf(tc)
	b, serr := s.decodeBody(rq.body, e)
	if serr != nil {
		return nil, serr
	}
	cols, vals := s.plainColumns(e, b)
	key := map[string]string{}
	switch e {
	case itemEntity:
		code, _ := b.values["ItemCode"].(string)
		if strings.TrimSpace(code) == "" {
			return nil, errRule("Enter an item code [OITM.ItemCode]")
		}
		if dup, err := s.exists(ctx, tx, "OITM", "ItemCode", code); err != nil || dup {
			if err != nil {
				return nil, err
			}
			return nil, errRule("Item code '%s' already exists", code) // SLG §3.9's own example
		}
		if w, ok := b.values["DefaultWarehouse"].(string); ok && w != "" {
			if ok, err := s.exists(ctx, tx, "OWHS", "WhsCode", w); err != nil || !ok {
				if err != nil {
					return nil, err
				}
				return nil, errNotFound(http.StatusBadRequest)
			}
		}
		cols = append(cols, "CreateDate", "CreateTS", "UpdateDate", "UpdateTS")
		vals = append(vals, st.date, st.ts, st.date, st.ts)
		if err := s.insert(ctx, tx, "OITM", cols, vals); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("OITW")+` ("ItemCode", "WhsCode", "createDate") SELECT $1, "WhsCode", $2::timestamp FROM `+s.t("OWHS"), code, st.date); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("ITM1")+` ("ItemCode", "PriceList", "Price", "Currency") SELECT $1, "ListNum", 0, "PrimCurr" FROM `+s.t("OPLN"), code); err != nil {
			return nil, err
		}
		if err := s.itemCollections(ctx, tx, code, b); err != nil {
			return nil, err
		}
		key["ItemCode"] = code
	case warehouseEntity:
		code, _ := b.values["WarehouseCode"].(string)
		name, _ := b.values["WarehouseName"].(string)
		if strings.TrimSpace(code) == "" || strings.TrimSpace(name) == "" {
			return nil, errRule("Enter a warehouse code and name [OWHS.WhsCode]")
		}
		if dup, err := s.exists(ctx, tx, "OWHS", "WhsCode", code); err != nil || dup {
			if err != nil {
				return nil, err
			}
			return nil, errDuplicate()
		}
		cols = append(cols, "createDate", "updateDate")
		vals = append(vals, st.date, st.date)
		if err := s.insert(ctx, tx, "OWHS", cols, vals); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("OITW")+` ("ItemCode", "WhsCode", "createDate") SELECT "ItemCode", $1, $2::timestamp FROM `+s.t("OITM"), code, st.date); err != nil {
			return nil, err
		}
		// The first warehouse becomes the company's default, as the
		// company setup wizard makes it.
		if _, err := tx.Exec(ctx, `UPDATE `+s.t("OADM")+` SET "DfltWhs" = $1 WHERE "DfltWhs" IS NULL`, code); err != nil {
			return nil, err
		}
		key["WarehouseCode"] = code
	case priceListEntity:
		name, _ := b.values["PriceListName"].(string)
		if strings.TrimSpace(name) == "" {
			return nil, errRule("Enter a price list name [OPLN.ListName]")
		}
		var num int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max("ListNum"), 0) + 1 FROM `+s.t("OPLN")).Scan(&num); err != nil {
			return nil, err
		}
		if bp, ok := b.values["BasePriceList"].(int64); !ok {
			cols = append(cols, "BASE_NUM") // a list is its own base by default
			vals = append(vals, num)
		} else if int(bp) != num {
			if ok, err := s.exists(ctx, tx, "OPLN", "ListNum", bp); err != nil || !ok {
				if err != nil {
					return nil, err
				}
				return nil, errNotFound(http.StatusBadRequest)
			}
		}
		cols = append(cols, "ListNum", "CreateDate", "UpdateDate")
		vals = append(vals, num, st.date, st.date)
		if err := s.insert(ctx, tx, "OPLN", cols, vals); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("ITM1")+` ("ItemCode", "PriceList", "Price", "Currency") SELECT "ItemCode", $1, 0, $2 FROM `+s.t("OITM"),
			num, b.values["DefaultPrimeCurrency"]); err != nil {
			return nil, err
		}
		key["PriceListNo"] = strconv.Itoa(num)
	case salesTaxCodeEntity:
		code, _ := b.values["Code"].(string)
		if strings.TrimSpace(code) == "" {
			return nil, errRule("Enter a tax code [OSTC.Code]")
		}
		if r, ok := b.values["Rate"].(decimal.Decimal); ok && (r.IsNegative() || r.GreaterThan(decimal.NewFromInt(100))) {
			return nil, errRule("Tax rate must be between 0 and 100 [OSTC.Rate]")
		}
		if dup, err := s.exists(ctx, tx, "OSTC", "Code", code); err != nil || dup {
			if err != nil {
				return nil, err
			}
			return nil, errDuplicate()
		}
		if err := s.insert(ctx, tx, "OSTC", cols, vals); err != nil {
			return nil, err
		}
		key["Code"] = code
	case additionalExpenseEntity:
		name, _ := b.values["Name"].(string)
		if strings.TrimSpace(name) == "" {
			return nil, errRule("Enter a name [OEXD.ExpnsName]")
		}
		var num int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max("ExpnsCode"), 0) + 1 FROM `+s.t("OEXD")).Scan(&num); err != nil {
			return nil, err
		}
		cols = append(cols, "ExpnsCode")
		vals = append(vals, num)
		if err := s.insert(ctx, tx, "OEXD", cols, vals); err != nil {
			return nil, err
		}
		key["ExpensCode"] = strconv.Itoa(num)
	case businessPartnerEntity:
		code, _ := b.values["CardCode"].(string)
		if strings.TrimSpace(code) == "" {
			return nil, errRule("Enter a business partner code [OCRD.CardCode]")
		}
		if dup, err := s.exists(ctx, tx, "OCRD", "CardCode", code); err != nil || dup {
			if err != nil {
				return nil, err
			}
			return nil, errRule("1320000140 - Business partner code '%s' already assigned to a business partner; enter a unique business partner code", code)
		}
		if ln, ok := b.values["PriceListNum"].(int64); ok {
			if ok, err := s.exists(ctx, tx, "OPLN", "ListNum", ln); err != nil || !ok {
				if err != nil {
					return nil, err
				}
				return nil, errNotFound(http.StatusBadRequest)
			}
		} else if ok, err := s.exists(ctx, tx, "OPLN", "ListNum", 1); err != nil {
			return nil, err
		} else if ok {
			cols = append(cols, "ListNum")
			vals = append(vals, 1)
		}
		cols = append(cols, "CreateDate", "CreateTS", "UpdateDate", "UpdateTS")
		vals = append(vals, st.date, st.ts, st.date, st.ts)
		if err := s.insert(ctx, tx, "OCRD", cols, vals); err != nil {
			return nil, err
		}
		key["CardCode"] = code
	case productTreeEntity:
		code, err := s.createProductTree(ctx, tx, st, b)
		if err != nil {
			return nil, err
		}
		key["TreeCode"] = code
	default:
		return nil, errNotSupported()
	}
	tc.wrote = true
	// The key as stored (case may differ from the request's).
	resp, serr := s.created(ctx, tx, e, key, rq)
	if serr != nil {
		return nil, serr
	}
	return resp, nil
}

// itemCollections applies ItemPrices (by PriceList) and
// ItemWarehouseInfoCollection (by WarehouseCode) from a body.
func (s *Server) itemCollections(ctx context.Context, tx pgx.Tx, code string, b *body) error {
	for _, p := range b.colls["ItemPrices"] {
		pl, ok := p.values["PriceList"].(int64)
		if !ok {
			return errRule("Enter a price list [ItemPrices.PriceList]")
		}
		sets := []string{}
		var a args
		if v, ok := p.values["Price"]; ok {
			sets = append(sets, `"Price" = `+a.add(v))
		}
		if v, ok := p.values["Currency"]; ok {
			sets = append(sets, `"Currency" = `+a.add(v))
		}
		if v, ok := p.values["Factor"]; ok {
			sets = append(sets, `"Factor" = `+a.add(v))
		}
		if len(sets) == 0 {
			continue
		}
		tag, err := tx.Exec(ctx, "UPDATE "+s.t("ITM1")+" SET "+strings.Join(sets, ", ")+` WHERE "ItemCode" = `+a.add(code)+` AND "PriceList" = `+a.add(pl), a...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errNotFound(http.StatusBadRequest)
		}
	}
	for _, w := range b.colls["ItemWarehouseInfoCollection"] {
		whs, ok := w.values["WarehouseCode"].(string)
		if !ok || whs == "" {
			return errRule("Enter a warehouse [ItemWarehouseInfoCollection.WarehouseCode]")
		}
		cols, vals := s.plainColumns(itemWhsEntity, w)
		var a args
		var sets []string
		for i, c := range cols {
			if c != "WhsCode" {
				sets = append(sets, ident(c)+" = "+a.add(vals[i]))
			}
		}
		if len(sets) == 0 {
			sets = append(sets, `"WhsCode" = "WhsCode"`)
		}
		tag, err := tx.Exec(ctx, "UPDATE "+s.t("OITW")+" SET "+strings.Join(sets, ", ")+` WHERE "ItemCode" = `+a.add(code)+` AND "WhsCode" = `+a.add(whs), a...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errNotFound(http.StatusBadRequest)
		}
	}
	return nil
}

// createProductTree adds a bill of materials and marks its item's TreeType.
func (s *Server) createProductTree(ctx context.Context, tx pgx.Tx, st *stamp, b *body) (string, error) {
	code, _ := b.values["TreeCode"].(string)
	var stored, invnt string
	err := tx.QueryRow(ctx, `SELECT "ItemCode", "InvntItem" FROM `+s.t("OITM")+` WHERE "ItemCode" = $1 FOR UPDATE`, code).Scan(&stored, &invnt)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNotFound(http.StatusBadRequest)
	}
	if err != nil {
		return "", err
	}
	if dup, err := s.exists(ctx, tx, "OITT", "Code", stored); err != nil || dup {
		if err != nil {
			return "", err
		}
		return "", errDuplicate()
	}
	treeType := "P"
	if t, ok := b.values["TreeType"].(string); ok {
		treeType = t
	}
	switch treeType {
	case "S", "A", "P", "T":
	default:
		return "", errRule("Invalid BOM type '%s' [OITT.TreeType]", enumTreeType.nameOf(treeType))
	}
	if treeType == "S" && invnt == "Y" {
		return "", errRule("The parent of a sales BOM must be a non-inventory item [OITT.Code]")
	}
	qty := decimal.NewFromInt(1)
	if q, ok := b.values["Quantity"].(decimal.Decimal); ok {
		qty = q
	}
	if !qty.IsPositive() {
		return "", errRule("Quantity must be greater than zero [OITT.Qauntity]")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("OITT")+` ("Code", "TreeType", "Qauntity", "PriceList", "ToWH", "Name", "HideComp", "CreateDate", "UpdateDate")
		VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, 'Y'), $8::timestamp, $8::timestamp)`,
		stored, treeType, qty, b.values["PriceList"], b.values["Warehouse"], b.values["ProductDescription"], b.values["HideBOMComponentsInPrintout"], st.date); err != nil {
		return "", err
	}
	if err := s.addTreeLines(ctx, tx, stored, b.colls["ProductTreeLines"], 0, true); err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, `UPDATE `+s.t("OITM")+` SET "TreeType" = $2, "UpdateDate" = $3::timestamp, "UpdateTS" = $4, "LogInstanc" = "LogInstanc" + 1 WHERE "ItemCode" = $1`,
		stored, treeType, st.date, st.ts)
	return stored, err
}

func (s *Server) addTreeLines(ctx context.Context, tx pgx.Tx, father string, lines []*body, first int, needOne bool) error {
	if needOne && len(lines) == 0 {
		return errRule("Enter at least one component [ProductTreeLines]")
	}
	for i, l := range lines {
		comp, _ := l.values["ItemCode"].(string)
		var stored, name string
		err := tx.QueryRow(ctx, `SELECT "ItemCode", coalesce("ItemName", '') FROM `+s.t("OITM")+` WHERE "ItemCode" = $1`, comp).Scan(&stored, &name)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound(http.StatusBadRequest)
		}
		if err != nil {
			return err
		}
		if strings.EqualFold(stored, father) {
			return errRule("A bill of materials cannot contain its own parent item [ProductTreeLines.ItemCode][line: %d]", i+1)
		}
		qty := decimal.NewFromInt(1)
		if q, ok := l.values["Quantity"].(decimal.Decimal); ok {
			qty = q
		}
		if !qty.IsPositive() {
			return errRule("Quantity must be greater than zero [ProductTreeLines.Quantity][line: %d]", i+1)
		}
		if w, ok := l.values["Warehouse"].(string); ok && w != "" {
			if ok, err := s.exists(ctx, tx, "OWHS", "WhsCode", w); err != nil || !ok {
				if err != nil {
					return err
				}
				return errNotFound(http.StatusBadRequest)
			}
		}
		n := first + i
		price := decimal.Zero
		if p, ok := l.values["Price"].(decimal.Decimal); ok {
			price = p
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("ITT1")+` ("Father", "ChildNum", "VisOrder", "Code", "Quantity", "Warehouse", "Price", "Currency",
			"PriceList", "IssueMthd", "Uom", "Comment", "ItemName") VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, coalesce($9, 'M'), $10, $11, $12)`,
			father, n, stored, qty, l.values["Warehouse"], price, l.values["Currency"], l.values["PriceList"], l.values["IssueMethod"],
			l.values["InventoryUOM"], l.values["Comment"], name); err != nil {
			return err
		}
	}
	return nil
}

// patchMaster updates a master record. Keys cannot change (-1029).
func (s *Server) patchMaster(ctx context.Context, e *entity, key map[string]string, rq *slReq, tc *txCtx) error {
	tx := tc.tx
	st := s.stampOf(tc)
	b, serr := s.decodeBody(rq.body, e)
	if serr != nil {
		return serr
	}
	var a args
	where := keyWhere(e, key, &a)
	lockSQL := `SELECT T0.` + ident(e.keys[0]) + `::text, ` + etagExpr(e) + ` FROM ` + s.t(e.table) + ` T0 WHERE ` + where + ` FOR UPDATE`
	var stored string
	var version int
	err := tx.QueryRow(ctx, lockSQL, a...).Scan(&stored, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	if e.etag {
		if err := checkIfMatch(rq, version); err != nil {
			return err
		}
	}
	for _, kf := range keyProperties(e) {
		if v, ok := b.values[kf.name]; ok {
			if sv, _ := v.(string); !strings.EqualFold(sv, stored) {
				return errReadOnly()
			}
			delete(b.values, kf.name)
		}
	}
	if e == itemEntity {
		if inv, ok := b.values["InventoryItem"].(string); ok && inv == "N" {
			var busy bool
			if err := tx.QueryRow(ctx, `SELECT "OnHand" <> 0 OR "IsCommited" <> 0 FROM `+s.t("OITM")+` WHERE "ItemCode" = $1`, stored).Scan(&busy); err != nil {
				return err
			}
			if busy {
				return errRule("Item '%s' has stock or open documents; it cannot stop being an inventory item", stored)
			}
		}
	}
	cols, vals := s.plainColumns(e, b)
	var ua args
	var sets []string
	for i, c := range cols {
		sets = append(sets, ident(c)+" = "+ua.add(vals[i]))
	}
	switch e {
	case itemEntity, businessPartnerEntity:
		sets = append(sets, `"UpdateDate" = `+ua.add(st.date)+`::timestamp`, `"UpdateTS" = `+ua.add(st.ts), `"LogInstanc" = "LogInstanc" + 1`)
	case warehouseEntity:
		sets = append(sets, `"updateDate" = `+ua.add(st.date)+`::timestamp`)
	case priceListEntity, productTreeEntity:
		sets = append(sets, `"UpdateDate" = `+ua.add(st.date)+`::timestamp`)
	}
	if len(sets) > 0 {
		sql := "UPDATE " + s.t(e.table) + " SET " + strings.Join(sets, ", ") + " WHERE " + ident(e.keys[0]) + " = " + ua.add(stored)
		if e.keys[0] == "ListNum" {
			sql += "::int"
		}
		if _, err := tx.Exec(ctx, sql, ua...); err != nil {
			return err
		}
	}
	switch e {
	case itemEntity:
		if err := s.itemCollections(ctx, tx, stored, b); err != nil {
			return err
		}
	case productTreeEntity:
		if t, ok := b.values["TreeType"].(string); ok {
			if _, err := tx.Exec(ctx, `UPDATE `+s.t("OITM")+` SET "TreeType" = $2, "UpdateDate" = $3::timestamp, "UpdateTS" = $4, "LogInstanc" = "LogInstanc" + 1 WHERE "ItemCode" = $1`,
				stored, t, st.date, st.ts); err != nil {
				return err
			}
		}
		if lines, ok := b.colls["ProductTreeLines"]; ok {
			first := 0
			if strings.EqualFold(rq.header.Get("B1S-ReplaceCollectionsOnPatch"), "true") {
				if _, err := tx.Exec(ctx, `DELETE FROM `+s.t("ITT1")+` WHERE "Father" = $1`, stored); err != nil {
					return err
				}
			} else if err := tx.QueryRow(ctx, `SELECT coalesce(max("ChildNum") + 1, 0) FROM `+s.t("ITT1")+` WHERE "Father" = $1`, stored).Scan(&first); err != nil {
				return err
			}
			if err := s.addTreeLines(ctx, tx, stored, lines, first, true); err != nil {
				return err
			}
		}
	}
	tc.wrote = true
	return nil
}

func etagExpr(e *entity) string {
	if e.etag {
		return `T0."LogInstanc"`
	}
	return "0"
}

// deleteMaster removes an item, business partner or bill of materials that
// no document uses; other master data cannot be deleted through the
// simulator.
func (s *Server) deleteMaster(ctx context.Context, e *entity, key map[string]string, rq *slReq, tc *txCtx) error {
	tx := tc.tx
	st := s.stampOf(tc)
	var a args
	where := keyWhere(e, key, &a)
	var stored string
	var version int
	err := tx.QueryRow(ctx, `SELECT T0.`+ident(e.keys[0])+`::text, `+etagExpr(e)+` FROM `+s.t(e.table)+` T0 WHERE `+where+` FOR UPDATE`, a...).Scan(&stored, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	if e.etag {
		if err := checkIfMatch(rq, version); err != nil {
			return err
		}
	}
	used := func(sql string) error {
		var n bool
		if err := tx.QueryRow(ctx, sql, stored).Scan(&n); err != nil {
			return err
		}
		if n {
			return errRule("Cannot remove '%s': it is used in documents or other master data", stored)
		}
		return nil
	}
	switch e {
	case itemEntity:
		var checks []string
		for _, d := range docTables {
			checks = append(checks, `EXISTS (SELECT FROM `+s.t(d[1])+` WHERE "ItemCode" = $1)`)
		}
		checks = append(checks, `EXISTS (SELECT FROM `+s.t("OIVL")+` WHERE "ItemCode" = $1)`,
			`EXISTS (SELECT FROM `+s.t("ITT1")+` WHERE "Code" = $1)`, `EXISTS (SELECT FROM `+s.t("OITT")+` WHERE "Code" = $1)`)
		if err := used("SELECT " + strings.Join(checks, " OR ")); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM `+s.t("OITM")+` WHERE "ItemCode" = $1`, stored)
	case businessPartnerEntity:
		var checks []string
		for _, d := range docTables {
			checks = append(checks, `EXISTS (SELECT FROM `+s.t(d[0])+` WHERE "CardCode" = $1)`)
		}
		if err := used("SELECT " + strings.Join(checks, " OR ")); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM `+s.t("OCRD")+` WHERE "CardCode" = $1`, stored)
	case productTreeEntity:
		if _, err := tx.Exec(ctx, `DELETE FROM `+s.t("OITT")+` WHERE "Code" = $1`, stored); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE `+s.t("OITM")+` SET "TreeType" = 'N', "UpdateDate" = $2::timestamp, "UpdateTS" = $3, "LogInstanc" = "LogInstanc" + 1 WHERE "ItemCode" = $1`,
			stored, st.date, st.ts)
	default:
		return errNotSupported()
	}
	if err != nil {
		return err
	}
	tc.wrote = true
	return nil
}
