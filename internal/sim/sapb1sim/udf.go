package sapb1sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// User-defined fields. A UDF is a row in CUFD and a column U_<Name> on its
// table. As in SAP (reference §A6), a UDF created on a marketing document
// header (ORDR, ODLN, OINV, ORIN) is created on every header table, and one
// on a line table (RDR1, ...) on every line table, so a value copied from
// an order to its delivery has a column to land in. The Service Layer sees
// a new UDF at once (a real one needs a restart: DESIGN.md; the simulator
// does not model that).

var udfGroups = [][]string{
	{"ORDR", "ODLN", "OINV", "ORIN"},
	{"RDR1", "DLN1", "INV1", "RIN1"},
	{"OITM"}, {"OCRD"}, {"OWHS"}, {"OITW"},
}

func udfGroup(table string) []string {
	for _, g := range udfGroups {
		for _, t := range g {
			if strings.EqualFold(t, table) {
				return g
			}
		}
	}
	return nil
}

// loadUDFs reads CUFD into the field lists the requests use.
func (s *Server) loadUDFs(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT "TableID", "AliasID", "TypeID", "EditType", coalesce("SizeID", 0) FROM `+s.t("CUFD")+` ORDER BY "TableID", "FieldID"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	udfs := map[string][]*field{}
	for rows.Next() {
		var table, alias, typ, sub string
		var size int
		if err := rows.Scan(&table, &alias, &typ, &sub, &size); err != nil {
			return err
		}
		f := &field{name: "U_" + alias, col: "U_" + alias, udf: true}
		switch typ {
		case "A":
			f.kind, f.size = kString, size
		case "M":
			f.kind = kString
		case "N":
			f.kind = kInt
		case "B":
			f.kind = kDec
		case "D":
			f.kind = kDate
			if sub == "T" {
				f.kind = kTime
			}
		default:
			continue
		}
		udfs[strings.ToUpper(table)] = append(udfs[strings.ToUpper(table)], f)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.udfMu.Lock()
	s.udfs = udfs
	s.udfMu.Unlock()
	return nil
}

// fieldsOf returns an entity's properties in output order: its own, its
// user-defined fields, then its collections.
func (s *Server) fieldsOf(e *entity) []*field {
	var own, colls []*field
	for _, f := range e.fields {
		if f.kind == kColl {
			colls = append(colls, f)
		} else {
			own = append(own, f)
		}
	}
	if e.udfTable != "" {
		s.udfMu.RLock()
		own = append(own, s.udfs[e.udfTable]...)
		s.udfMu.RUnlock()
	}
	return append(own, colls...)
}

// lookup finds a property by its exact name (query options are
// case-sensitive: SAP rejects "u_note" for "U_Note").
func (s *Server) lookup(e *entity, name string) *field {
	for _, f := range s.fieldsOf(e) {
		if f.name == name {
			return f
		}
	}
	return nil
}

var udfName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

// userFieldOp serves POST and PATCH on UserFieldsMD.
func (s *Server) userFieldOp(ctx context.Context, op *operation, rq *slReq, tc *txCtx) (*slResp, *slError) {
	e := op.entity
	switch op.kind {
	case opCreate:
	case opPatch:
		return s.patchUserField(ctx, op, rq, tc)
	case opDelete:
		return nil, errNotSupported()
	default:
		return nil, errResource(op.action)
	}
	body, err := s.decodeBody(rq.body, e)
	if err != nil {
		return nil, err
	}
	v := body.values
	name, _ := v["Name"].(string)
	table, _ := v["TableName"].(string)
	if name == "" || table == "" {
		return nil, errRule("Name and TableName are required")
	}
	if strings.HasPrefix(name, "U_") {
		name = strings.TrimPrefix(name, "U_")
	}
	if !udfName.MatchString(name) {
		return nil, errRule("Invalid field name '%s'", name)
	}
	group := udfGroup(table)
	if group == nil {
		return nil, errNotFound(http.StatusBadRequest)
	}
	typ := "A"
	if t, ok := v["Type"].(string); ok {
		typ = t
	}
	sub, _ := v["SubType"].(string)
	size := int64(0)
	if n, ok := v["Size"].(int64); ok {
		size = n
	}
	if n, ok := v["EditSize"].(int64); ok && size == 0 {
		size = n
	}
	var colType string
	switch typ {
	case "A":
		if size == 0 {
			size = 10
		}
		if size < 1 || size > 254 {
			return nil, errRule("Invalid field size %d for an alphanumeric field (1-254)", size)
		}
		colType = fmt.Sprintf("varchar(%d) COLLATE sapb1sim.ci", size)
	case "M":
		colType = "text COLLATE sapb1sim.ci"
	case "N":
		if size == 0 {
			size = 11
		}
		colType = "bigint"
	case "B":
		switch sub {
		case "R", "S", "P", "Q", "%", "M":
		default:
			return nil, errRule("A db_Float field needs a SubType (st_Price, st_Quantity, st_Sum, st_Rate, st_Percentage or st_Measurement)")
		}
		colType = "numeric(19,6)"
	case "D":
		if sub != "" && sub != "T" {
			return nil, errRule("A db_Date field takes SubType st_None or st_Time")
		}
		colType = "timestamp(3)"
		if sub == "T" {
			colType = "int"
		}
	}
	if sub != "" && typ != "B" && typ != "D" && !(typ == "A" && (sub == "?" || sub == "#" || sub == "B" || sub == "I")) {
		return nil, errRule("SubType '%s' does not fit Type '%s'", enumSubType.nameOf(sub), enumFieldType.nameOf(typ))
	}
	var dflt any
	if d, ok := v["DefaultValue"].(string); ok && d != "" {
		// The default must be a value of the field's own type.
		probe := &field{name: "DefaultValue", kind: map[string]kind{"A": kString, "M": kString, "N": kInt, "B": kDec, "D": kDate}[typ], size: int(size)}
		if typ == "D" && sub == "T" {
			probe.kind = kTime
		}
		var in any = d
		if typ == "N" || typ == "B" {
			in = json.Number(d)
		}
		val, err := probe.parseValue(in, e.typ)
		if err != nil {
			return nil, err
		}
		dflt = fmt.Sprint(val)
	}
	mandatory := "N"
	if m, ok := v["Mandatory"].(string); ok {
		mandatory = m
	}
	descr, _ := v["Description"].(string)
	linked, _ := v["LinkedTable"].(string)

	tx := tc.tx
	var fieldID int64
	for _, t := range group {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+s.t("CUFD")+` WHERE "TableID" = $1 AND "AliasID" = $2)`, t, name).Scan(&exists); err != nil {
			return nil, sqlErr(err)
		}
		if exists {
			return nil, errDuplicate()
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max("FieldID") + 1, 0) FROM `+s.t("CUFD")+` WHERE "TableID" = $1`, t).Scan(&id); err != nil {
			return nil, sqlErr(err)
		}
		if strings.EqualFold(t, table) {
			fieldID = id
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.t("CUFD")+` ("TableID", "FieldID", "AliasID", "Descr", "TypeID", "EditType", "SizeID", "EditSize", "Dflt", "NotNull", "RTable")
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)`, t, id, name, descr, typ, sub, size, dflt, mandatory, nullIfEmpty(linked)); err != nil {
			return nil, sqlErr(err)
		}
		ddl := "ALTER TABLE " + s.t(t) + " ADD COLUMN " + ident("U_"+name) + " " + colType
		if dflt != nil {
			ddl += " DEFAULT " + quoteLiteral(dflt.(string))
		}
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return nil, sqlErr(err)
		}
	}
	tc.wrote, tc.udfChanged = true, true
	key := map[string]string{"TableName": group[indexFold(group, table)], "FieldID": fmt.Sprint(fieldID)}
	return s.created(ctx, tc.tx, e, key, rq)
}

func (s *Server) patchUserField(ctx context.Context, op *operation, rq *slReq, tc *txCtx) (*slResp, *slError) {
	body, err := s.decodeBody(rq.body, op.entity)
	if err != nil {
		return nil, err
	}
	for name := range body.values {
		if name != "Description" && name != "TableName" && name != "Name" {
			return nil, errReadOnly()
		}
	}
	tag, e := tc.tx.Exec(ctx, `UPDATE `+s.t("CUFD")+` SET "Descr" = coalesce($3, "Descr") WHERE "TableID" = $1 AND "FieldID" = $2::int`,
		op.key["TableName"], op.key["FieldID"], body.values["Description"])
	if e != nil {
		return nil, sqlErr(e)
	}
	if tag.RowsAffected() == 0 {
		return nil, errNotFound(http.StatusNotFound)
	}
	tc.wrote = true
	return noContent(), nil
}

func indexFold(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return 0
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlErr wraps a database error for the caller's transaction to report.
func sqlErr(err error) *slError {
	sl, _ := asSLError(err)
	if sl.code == -1 {
		sl.msg = "Internal error: " + err.Error()
	}
	return sl
}
