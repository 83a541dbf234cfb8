package sapb1sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim/odata"
)

// Reading: GET by key, collections with $filter/$select/$orderby/$top/$skip,
// paging and $count. Query options are parsed into trees (package odata) and
// translated into parameterised SQL over the company's tables; a value from
// the URL never becomes SQL text. Whatever cannot be parsed or names a
// property the entity does not have is a 400 with SAP's -1000, never an
// unfiltered answer.

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// defaultPageSize is b1s.conf's PageSize default (SLG §3.7.6).
const defaultPageSize = 20

// args collects the parameters of one statement.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// rawParam is one query parameter as received, kept for odata.nextLink.
type rawParam struct {
	key, raw string
}

// queryOptions are a request's parsed system query options.
type queryOptions struct {
	filter     odata.Expr
	sel        []odata.Field // nil = all
	orderBy    []odata.OrderItem
	top, skip  int
	hasTop     bool
	inlineCnt  bool
	params     []rawParam
	hasOptions bool
}

var knownOptions = map[string]bool{"$filter": true, "$select": true, "$orderby": true, "$top": true, "$skip": true, "$inlinecount": true, "$format": true}

func parseOptions(rawQuery string, single bool) (*queryOptions, *slError) {
	q := &queryOptions{}
	seen := map[string]bool{}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rk, rv, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(rk)
		v, err2 := url.QueryUnescape(rv)
		if err1 != nil || err2 != nil {
			return nil, errQuery("Invalid query string near '%s'", pair)
		}
		q.params = append(q.params, rawParam{k, pair})
		if !strings.HasPrefix(k, "$") {
			continue // custom options are ignored, as OData says
		}
		if !knownOptions[k] {
			return nil, errQuery("Query option '%s' is not supported", k)
		}
		if seen[k] {
			return nil, errQuery("Query option '%s' is given twice", k)
		}
		seen[k] = true
		q.hasOptions = true
		if single && k != "$select" && k != "$format" {
			return nil, errQuery("Query option '%s' is not allowed on a single entity", k)
		}
		var err error
		switch k {
		case "$filter":
			q.filter, err = odata.ParseFilter(v)
		case "$select":
			q.sel, err = odata.ParseSelect(v)
		case "$orderby":
			q.orderBy, err = odata.ParseOrderBy(v)
		case "$top":
			q.top, err = nonNegative(v)
			q.hasTop = true
		case "$skip":
			q.skip, err = nonNegative(v)
		case "$inlinecount":
			switch v {
			case "allpages":
				q.inlineCnt = true
			case "none":
			default:
				return nil, errQuery("Invalid value '%s' for $inlinecount (allpages or none)", v)
			}
		case "$format":
			if v != "json" && v != "application/json" {
				return nil, errQuery("Unsupported $format '%s'", v)
			}
		}
		if err != nil {
			return nil, errQuery("Invalid %s: %v", k, err)
		}
	}
	return q, nil
}

func nonNegative(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("'%s' is not a non-negative integer", v)
	}
	return n, nil
}

// selected resolves $select into the entity's plain fields and collections.
func (s *Server) selected(e *entity, sel []odata.Field) (plain, colls []*field, err *slError) {
	all := s.fieldsOf(e)
	want := map[string]bool{}
	for _, f := range sel {
		if len(f.Path) != 1 || s.lookup(e, f.Path[0]) == nil {
			return nil, nil, errProperty(f.String(), e.typ)
		}
		want[f.Path[0]] = true
	}
	for _, f := range all {
		if sel != nil && !want[f.name] {
			continue
		}
		if f.kind == kColl {
			colls = append(colls, f)
		} else {
			plain = append(plain, f)
		}
	}
	return plain, colls, nil
}

// readEntities runs "SELECT … FROM e T0 WHERE … <tail>" and renders each row
// with its collections.
func (s *Server) readEntities(ctx context.Context, q querier, e *entity, plain, colls []*field, where string, a args, tail string) ([]object, error) {
	keyCol := e.keys[0]
	exprs := []string{"T0." + ident(keyCol) + "::text"}
	if e.etag {
		exprs = append(exprs, `T0."LogInstanc"::text`)
	}
	for _, f := range plain {
		exprs = append(exprs, f.selectExpr("T0"))
	}
	sql := "SELECT " + strings.Join(exprs, ", ") + " FROM " + s.t(e.table) + " T0"
	if where != "" {
		sql += " WHERE " + where
	}
	rows, err := q.Query(ctx, sql+" "+tail, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type row struct {
		key  string
		etag string
		vals []pgtype.Text
	}
	var list []row
	for rows.Next() {
		vals := make([]pgtype.Text, len(exprs))
		ptrs := make([]any, len(exprs))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := row{key: vals[0].String}
		vals = vals[1:]
		if e.etag {
			r.etag, vals = vals[0].String, vals[1:]
		}
		r.vals = vals
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	keys := make([]string, len(list))
	for i, r := range list {
		keys[i] = r.key
	}
	children := map[string]map[string][]object{}
	for _, c := range colls {
		m, err := s.readChildren(ctx, q, c.coll, keys)
		if err != nil {
			return nil, err
		}
		children[c.name] = m
	}
	out := make([]object, len(list))
	for i, r := range list {
		var o object
		if e.etag {
			o.set("odata.etag", jsonString(`W/"`+r.etag+`"`))
		}
		for j, f := range plain {
			o.set(f.name, f.render(r.vals[j].String, r.vals[j].Valid))
		}
		for _, c := range colls {
			kids := children[c.name][r.key]
			if kids == nil {
				kids = []object{}
			}
			o.set(c.name, mustJSON(kids))
		}
		out[i] = o
	}
	return out, nil
}

// readChildren reads a collection for many parents at once, by parent key.
func (s *Server) readChildren(ctx context.Context, q querier, child *entity, parentKeys []string) (map[string][]object, error) {
	out := map[string][]object{}
	if len(parentKeys) == 0 {
		return out, nil
	}
	fields := s.fieldsOf(child)
	exprs := []string{"T0." + ident(child.link) + "::text"}
	for _, f := range fields {
		exprs = append(exprs, f.selectExpr("T0"))
	}
	cast := "text[]"
	if child.link == "DocEntry" {
		cast = "int[]"
	}
	sql := "SELECT " + strings.Join(exprs, ", ") + " FROM " + s.t(child.table) + " T0 WHERE T0." + ident(child.link) +
		" = ANY($1::" + cast + ") ORDER BY T0." + ident(child.link) + ", " + prefixCols("T0", child.sort)
	rows, err := q.Query(ctx, sql, parentKeys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]pgtype.Text, len(exprs))
		ptrs := make([]any, len(exprs))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var o object
		for j, f := range fields {
			o.set(f.name, f.render(vals[j+1].String, vals[j+1].Valid))
		}
		out[vals[0].String] = append(out[vals[0].String], o)
	}
	return out, rows.Err()
}

func prefixCols(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = alias + "." + p
	}
	return strings.Join(parts, ", ")
}

// keyWhere is the WHERE clause for a key from the URL.
func keyWhere(e *entity, key map[string]string, a *args) string {
	var conds []string
	for _, f := range keyProperties(e) {
		v := key[f.name]
		if f.kind == kString {
			conds = append(conds, "T0."+ident(f.col)+" = "+a.add(v))
		} else {
			conds = append(conds, "T0."+ident(f.col)+" = "+a.add(v)+"::bigint")
		}
	}
	return strings.Join(conds, " AND ")
}

// getOne answers GET Set(key).
func (s *Server) getOne(ctx context.Context, q querier, e *entity, key map[string]string, rq *slReq) (*slResp, *slError) {
	opts, err := parseOptions(rq.query, true)
	if err != nil {
		return nil, err
	}
	plain, colls, err := s.selected(e, opts.sel)
	if err != nil {
		return nil, err
	}
	return s.entityResp(ctx, q, e, key, plain, colls, http.StatusOK, rq.base)
}

// created answers a POST with the new entity (201), or 204 with Location
// when the client sent "Prefer: return-no-content" (reference §A3).
func (s *Server) created(ctx context.Context, q querier, e *entity, key map[string]string, rq *slReq) (*slResp, *slError) {
	location := rq.base + "/b1s/v1/" + e.set + "(" + keyText(e, key) + ")"
	if prefers(rq.header, "return-no-content") {
		r := noContent()
		r.header.Set("Location", location)
		r.header.Set("Preference-Applied", "return-no-content")
		return r, nil
	}
	plain, colls, _ := s.selected(e, nil)
	r, err := s.entityResp(ctx, q, e, key, plain, colls, http.StatusCreated, rq.base)
	if err != nil {
		return nil, err
	}
	r.header.Set("Location", location)
	return r, nil
}

func (s *Server) entityResp(ctx context.Context, q querier, e *entity, key map[string]string, plain, colls []*field, status int, base string) (*slResp, *slError) {
	var a args
	objs, err := s.readEntities(ctx, q, e, plain, colls, keyWhere(e, key, &a), a, "")
	if err != nil {
		return nil, sqlErr(err)
	}
	if len(objs) == 0 {
		return nil, errNotFound(http.StatusNotFound)
	}
	o := object{{"odata.metadata", jsonString(base + "/b1s/v1/$metadata#" + e.set + "/@Element")}}
	o = append(o, objs[0]...)
	r := jsonResp(status, o)
	if e.etag {
		for _, m := range objs[0] {
			if m.key == "odata.etag" {
				var tag string
				_ = json.Unmarshal(m.val, &tag)
				r.header.Set("ETag", tag)
			}
		}
	}
	return r, nil
}

// keyText prints a key as it appears in a URL: Orders(12), Items('A1'),
// UserFieldsMD(TableName='ORDR',FieldID=0).
func keyText(e *entity, key map[string]string) string {
	fields := keyProperties(e)
	var parts []string
	for _, f := range fields {
		v := key[f.name]
		if f.kind == kString {
			v = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
		if len(fields) > 1 {
			v = f.name + "=" + v
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ",")
}

// prefers reports whether the Prefer header carries the preference.
func prefers(h http.Header, pref string) bool {
	for _, v := range h.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), pref) {
				return true
			}
		}
	}
	return false
}

// pageSize is the request's page size: Prefer odata.maxpagesize wins over
// B1S-PageSize, which wins over the default 20; 0 turns paging off.
func pageSize(h http.Header) (size int, applied string, err *slError) {
	for _, v := range h.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				n, e := nonNegative(strings.TrimSpace(val))
				if e != nil {
					return 0, "", errQuery("Invalid odata.maxpagesize: %v", e)
				}
				return n, "odata.maxpagesize=" + strconv.Itoa(n), nil
			}
		}
	}
	if v := h.Get("B1S-PageSize"); v != "" {
		n, e := nonNegative(strings.TrimSpace(v))
		if e != nil {
			return 0, "", errQuery("Invalid B1S-PageSize: %v", e)
		}
		return n, "", nil
	}
	return defaultPageSize, "", nil
}

// list answers GET Set (and Set/$count).
func (s *Server) list(ctx context.Context, q querier, e *entity, rq *slReq, count bool) (*slResp, *slError) {
	opts, err := parseOptions(rq.query, false)
	if err != nil {
		return nil, err
	}
	var a args
	where := ""
	if opts.filter != nil {
		where, err = s.filterSQL(e, opts.filter, &a)
		if err != nil {
			return nil, err
		}
	}
	countSQL := "SELECT count(*) FROM " + s.t(e.table) + " T0"
	if where != "" {
		countSQL += " WHERE " + where
	}
	if count {
		var n int64
		if err := q.QueryRow(ctx, countSQL, a...).Scan(&n); err != nil {
			return nil, sqlErr(err)
		}
		h := http.Header{}
		h.Set("Content-Type", "text/plain;charset=utf-8")
		return &slResp{status: http.StatusOK, header: h, body: []byte(strconv.FormatInt(n, 10))}, nil
	}
	plain, colls, err := s.selected(e, opts.sel)
	if err != nil {
		return nil, err
	}
	order, err := s.orderSQL(e, opts.orderBy)
	if err != nil {
		return nil, err
	}
	size, applied, err := pageSize(rq.header)
	if err != nil {
		return nil, err
	}
	// $skip applies before $top (SLG §3.7). A page holds at most size rows;
	// when more remain within $top, odata.nextLink asks for the rest.
	limit := -1
	if opts.hasTop {
		limit = opts.top
	}
	more := false
	if size > 0 && (limit < 0 || limit > size) {
		more = true // decided below by fetching one row more
		limit = size + 1
	}
	tail := "ORDER BY " + order
	if limit >= 0 {
		tail += " LIMIT " + strconv.Itoa(limit)
	}
	if opts.skip > 0 {
		tail += " OFFSET " + strconv.Itoa(opts.skip)
	}
	objs, e2 := s.readEntities(ctx, q, e, plain, colls, where, a, tail)
	if e2 != nil {
		return nil, sqlErr(e2)
	}
	if more {
		more = len(objs) > size
		if more {
			objs = objs[:size]
		}
	}
	var o object
	o.set("odata.metadata", jsonString(rq.base+"/b1s/v1/$metadata#"+e.set))
	if opts.inlineCnt {
		var n int64
		if err := q.QueryRow(ctx, countSQL, a...).Scan(&n); err != nil {
			return nil, sqlErr(err)
		}
		o.set("odata.count", jsonString(strconv.FormatInt(n, 10)))
	}
	if objs == nil {
		objs = []object{}
	}
	o.set("value", mustJSON(objs))
	if more {
		o.set("odata.nextLink", jsonString(nextLink(e.set, opts, size)))
	}
	r := jsonResp(http.StatusOK, o)
	if applied != "" {
		r.header.Set("Preference-Applied", applied)
	}
	return r, nil
}

// nextLink is the relative link to the next page: the same query with $skip
// moved on by one page and $top reduced by it.
func nextLink(set string, opts *queryOptions, size int) string {
	var parts []string
	for _, p := range opts.params {
		if p.key == "$skip" || p.key == "$top" {
			continue
		}
		parts = append(parts, p.raw)
	}
	if opts.hasTop {
		parts = append(parts, "$top="+strconv.Itoa(opts.top-size))
	}
	parts = append(parts, "$skip="+strconv.Itoa(opts.skip+size))
	return "/b1s/v1/" + set + "?" + strings.Join(parts, "&")
}

// orderSQL translates $orderby; the key follows as a tie-breaker, so pages
// never overlap. NULLs sort first ascending, as on SQL Server.
func (s *Server) orderSQL(e *entity, items []odata.OrderItem) (string, *slError) {
	var parts []string
	for _, it := range items {
		f, err := s.resolve(e, it.Field)
		if err != nil {
			return "", err
		}
		if it.Desc {
			parts = append(parts, "T0."+ident(f.col)+" DESC NULLS LAST")
		} else {
			parts = append(parts, "T0."+ident(f.col)+" ASC NULLS FIRST")
		}
	}
	for _, k := range e.keys {
		parts = append(parts, "T0."+ident(k))
	}
	return strings.Join(parts, ", "), nil
}

// resolve finds a plain property named in a query option. A path
// (DocumentLines/ItemCode) is a line-level filter, which SAP's $filter on
// documents does not support (reference §A5): it is refused like any
// unknown property.
func (s *Server) resolve(e *entity, fld odata.Field) (*field, *slError) {
	if len(fld.Path) != 1 {
		return nil, errProperty(fld.String(), e.typ)
	}
	f := s.lookup(e, fld.Path[0])
	if f == nil || f.kind == kColl {
		return nil, errProperty(fld.String(), e.typ)
	}
	return f, nil
}

var sqlOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
var flipped = map[string]string{"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}

// filterSQL translates a $filter tree into a WHERE clause over alias T0.
func (s *Server) filterSQL(e *entity, x odata.Expr, a *args) (string, *slError) {
	switch x := x.(type) {
	case odata.Logical:
		l, err := s.filterSQL(e, x.L, a)
		if err != nil {
			return "", err
		}
		r, err := s.filterSQL(e, x.R, a)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + strings.ToUpper(x.Op) + " " + r + ")", nil
	case odata.Not:
		inner, err := s.filterSQL(e, x.X, a)
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	case odata.Compare:
		return s.compareSQL(e, x, a)
	case odata.Call:
		return s.callSQL(e, x, a)
	}
	return "", errQuery("Invalid $filter: %s is not a condition", x)
}

func (s *Server) compareSQL(e *entity, x odata.Compare, a *args) (string, *slError) {
	op, l, r := x.Op, x.L, x.R
	if _, ok := l.(odata.Literal); ok {
		l, r, op = r, l, flipped[op]
	}
	lf, ok := l.(odata.Field)
	if !ok {
		return "", errQuery("Invalid $filter: '%s' compares two constants", x)
	}
	f, err := s.resolve(e, lf)
	if err != nil {
		return "", err
	}
	col := "T0." + ident(f.col)
	switch r := r.(type) {
	case odata.Field:
		g, err := s.resolve(e, r)
		if err != nil {
			return "", err
		}
		if g.kind != f.kind || (f.kind == kEnum && g.enum != f.enum) {
			return "", errQuery("Invalid $filter: '%s' compares properties of different types", x)
		}
		return col + " " + sqlOps[op] + " T0." + ident(g.col), nil
	case odata.Literal:
		if r.Kind == odata.LitNull {
			switch op {
			case "eq":
				return col + " IS NULL", nil
			case "ne":
				return col + " IS NOT NULL", nil
			}
			return "", errQuery("Invalid $filter: null can only be compared with eq or ne")
		}
		v, cast, err := literalFor(f, r, e.typ)
		if err != nil {
			return "", err
		}
		return col + " " + sqlOps[op] + " " + a.add(v) + cast, nil
	}
	return "", errQuery("Invalid $filter: '%s'", x)
}

// literalFor converts a literal for comparison with field f.
func literalFor(f *field, lit odata.Literal, typ string) (any, string, *slError) {
	bad := errQuery("Invalid $filter: %s does not fit property '%s' of '%s'", lit, f.name, typ)
	switch f.kind {
	case kString:
		if lit.Kind == odata.LitString {
			return lit.Value, "", nil
		}
	case kInt, kDec:
		if lit.Kind == odata.LitNumber {
			d, err := decimal.NewFromString(lit.Value)
			if err == nil {
				return d.String(), "::numeric", nil
			}
		}
	case kDate:
		if lit.Kind == odata.LitString || lit.Kind == odata.LitDateTime {
			if d, ok := parseDate(lit.Value); ok {
				return d, "::timestamp", nil
			}
		}
	case kTime:
		if lit.Kind == odata.LitString {
			if t, ok := parseTime(lit.Value); ok {
				return t, "::int", nil
			}
		}
	case kEnum:
		if lit.Kind == odata.LitString {
			if l, ok := f.enum.parse(lit.Value); ok {
				return l, "", nil
			}
			return nil, "", errQuery("Enumeration value '%s' is invalid for property '%s' of '%s' (%s)", lit.Value, f.name, typ, f.enum.name)
		}
	}
	return nil, "", bad
}

// callSQL translates startswith, endswith, contains and substringof into a
// case-insensitive LIKE (SQL Server's collation is case-insensitive; the
// column is compared under a deterministic ICU collation because Postgres
// cannot LIKE over the nondeterministic "ci" one).
func (s *Server) callSQL(e *entity, x odata.Call, a *args) (string, *slError) {
	fa, la := x.Args[0], x.Args[1]
	if x.Func == "substringof" {
		fa, la = la, fa
	}
	fld, ok1 := fa.(odata.Field)
	lit, ok2 := la.(odata.Literal)
	if !ok1 || !ok2 || lit.Kind != odata.LitString {
		return "", errQuery("Invalid $filter: %s takes a property and a string", x.Func)
	}
	f, err := s.resolve(e, fld)
	if err != nil {
		return "", err
	}
	if f.kind != kString {
		return "", errQuery("Invalid $filter: %s needs a string property, not '%s'", x.Func, f.name)
	}
	pat := likeEscape(lit.Value)
	switch x.Func {
	case "startswith":
		pat += "%"
	case "endswith":
		pat = "%" + pat
	default:
		pat = "%" + pat + "%"
	}
	return `lower(T0.` + ident(f.col) + ` COLLATE "und-x-icu") LIKE lower(` + a.add(pat) + `::text COLLATE "und-x-icu")`, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
