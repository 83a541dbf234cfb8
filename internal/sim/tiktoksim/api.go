package tiktoksim

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Error codes and messages. Messages are TikTok's own where the reference or
// the common-errors page gives them (the rymndcs/tiktok_shop_rb_api fixture
// copies that page); clients are told to branch on the message for 36009004,
// so the simulator uses the same words.
const (
	codeOK            = 0
	codeRateLimited   = 36009002
	codeInvalid       = 36009004 // TikTok's catch-all: credentials, timestamp, params
	codeInvalidPath   = 36009009
	codeInvalidMethod = 36009010
	codeBadVersion    = 36009014
	codeBodyFormat    = 36009022
	codeTokenExpired  = 105002
	codeBadSign       = 106001
	codeNoCipher      = 106013
)

const (
	msgAppKey      = "Invalid credentials. Invalid `app_key` query parameter."
	msgNoSign      = "Missing credentials. The request does not include a required signature in the query."
	msgBadSign     = "Invalid credentials. The `sign` query parameter is invalid."
	msgTSPast      = "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than 5 minutes before the current time."
	msgTSFuture    = "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current time by more than 30 seconds."
	msgTSNegative  = "Invalid timestamp. The value of the `timestamp` query parameter must not be lesser than 0."
	msgTSMissing   = "Invalid timestamp. The `timestamp` query parameter is missing or not a unix time in seconds."
	msgToken       = "Invalid credentials. The `x-tts-access-token` header is invalid."
	msgExpired     = "access token is expired, please refresh it"
	msgCipherExtra = "Unexpected identifier. The `shop_cipher` query parameter is not required for this request."
	msgCipherNone  = "Missing identifier. The `shop_cipher` query parameter is required to identify the target shop."
	msgCipherBad   = "Invalid identifier. The `shop_cipher` query parameter is invalid."
	msgShopID      = "Invalid identifier. The `shop_id` query parameter is invalid."
	msgPath        = "Invalid path. The specified path does not match any available endpoint."
	msgMethod      = "Invalid method. The HTTP method used is not supported by this endpoint."
	msgVersion     = "Invalid API version. The `version` value is invalid or unsupported."
	msgBodyFormat  = "Invalid request format. The request body format must be `application/json` for structured data or `multipart/form-data` for binary files."
	msgRateLimited = "Too many requests. You've made too many requests in a short period of time."
)

// maxBody bounds a request body; the largest real one (inventory update of a
// product's SKUs) is a few kilobytes.
const maxBody = 4 << 20

// apiError is a rejection: the HTTP status and TikTok's code and message.
type apiError struct {
	status int
	code   int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

// invalidParam is TikTok's generic parameter rejection, with what is wrong.
func invalidParam(format string, args ...any) *apiError {
	return &apiError{http.StatusOK, codeInvalid, "Invalid param. " + fmt.Sprintf(format, args...)}
}

// bizError is an endpoint's own error code, answered with HTTP 200.
func bizError(code int, msg string) *apiError {
	return &apiError{http.StatusOK, code, msg}
}

type apiRequest struct {
	r      *http.Request
	query  url.Values
	body   []byte
	params map[string]string
	now    time.Time
}

type route struct {
	method     string
	segs       []string
	shopScoped bool // needs shop_cipher (everything but /authorization/)
	handle     func(s *Server, rq *apiRequest) (any, *apiError)
}

// routes are the real paths the simulator serves. A path that matches none
// is 36009009; a path that matches with another method is 36009010.
var routes = []route{
	newRoute("GET", "/authorization/202309/shops", false, (*Server).apiShops),
	newRoute("POST", "/order/202309/orders/search", true, (*Server).apiSearchOrders),
	newRoute("GET", "/order/202309/orders", true, (*Server).apiGetOrders),
	newRoute("POST", "/return_refund/202309/cancellations/search", true, (*Server).apiSearchCancellations),
	newRoute("POST", "/return_refund/202309/cancellations/{cancel_id}/approve", true, (*Server).apiApproveCancellation),
	newRoute("POST", "/return_refund/202309/cancellations/{cancel_id}/reject", true, (*Server).apiRejectCancellation),
	newRoute("POST", "/product/202309/products/search", true, (*Server).apiSearchProducts),
	newRoute("POST", "/product/202309/inventory/search", true, (*Server).apiSearchInventory),
	newRoute("POST", "/product/202309/products/{product_id}/inventory/update", true, (*Server).apiUpdateInventory),
	newRoute("POST", "/product/202309/products/{product_id}/prices/update", true, (*Server).apiUpdatePrice),
	newRoute("GET", "/logistics/202309/warehouses", true, (*Server).apiWarehouses),
	newRoute("GET", "/event/202309/webhooks", true, (*Server).apiGetWebhooks),
	newRoute("PUT", "/event/202309/webhooks", true, (*Server).apiPutWebhook),
	newRoute("DELETE", "/event/202309/webhooks", true, (*Server).apiDeleteWebhook),
}

func newRoute(method, pattern string, shopScoped bool, h func(*Server, *apiRequest) (any, *apiError)) route {
	return route{method: method, segs: strings.Split(strings.Trim(pattern, "/"), "/"), shopScoped: shopScoped, handle: h}
}

// template is the route's path pattern: the rate-limit bucket key and the
// name in the per-endpoint counters.
func (rt *route) template() string { return "/" + strings.Join(rt.segs, "/") }

// version is the path's version segment, e.g. 202309.
func (rt *route) version() string { return rt.segs[1] }

// matchRoute finds the route of method and path; known reports whether the
// path exists with some other method.
func matchRoute(method, path string) (rt *route, params map[string]string, known bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if path == "" || path[len(path)-1] == '/' {
		return nil, nil, false
	}
	for i := range routes {
		cand := &routes[i]
		p, ok := matchSegs(cand.segs, segs)
		if !ok {
			continue
		}
		known = true
		if cand.method == method {
			return cand, p, true
		}
	}
	return nil, nil, known
}

func matchSegs(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// serveAPI runs TikTok's gateway checks in TikTok's order, then the endpoint.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	rt, params, known := matchRoute(r.Method, r.URL.Path)
	endpoint := "unknown"
	if rt != nil {
		endpoint = r.Method + " " + rt.template()
	}
	s.counters.request(endpoint)
	if rt == nil {
		if known {
			s.writeError(w, now, &apiError{http.StatusMethodNotAllowed, codeInvalidMethod, msgMethod})
		} else {
			s.writeError(w, now, &apiError{http.StatusNotFound, codeInvalidPath, msgPath})
		}
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, now, &apiError{http.StatusRequestEntityTooLarge, codeBodyFormat, "Invalid request format. The request body is larger than 4 MiB or could not be read."})
		return
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, now, invalidParam("The query string is malformed: %v.", err))
		return
	}
	rq := &apiRequest{r: r, query: query, body: body, params: params, now: now}
	if e := s.checkGateway(rt, rq); e != nil {
		s.writeError(w, now, e)
		return
	}
	if wait, ok := s.allow(s.opts.AppKey+"|"+s.shopKey(rt)+"|"+rt.template(), now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		s.counters.limited()
		s.writeError(w, now, &apiError{http.StatusTooManyRequests, codeRateLimited, msgRateLimited})
		return
	}
	data, e := rt.handle(s, rq)
	if e != nil {
		s.writeError(w, now, e)
		return
	}
	s.writeJSON(w, http.StatusOK, envelope{Code: codeOK, Message: "Success", RequestID: s.requestID(now), Data: data})
}

func (s *Server) shopKey(rt *route) string {
	if rt.shopScoped {
		return s.shop.ID
	}
	return ""
}

// checkGateway: app_key, timestamp, sign, version, access token, shop.
func (s *Server) checkGateway(rt *route, rq *apiRequest) *apiError {
	q := rq.query
	if q.Get("app_key") != s.opts.AppKey {
		// The one gateway error reported with HTTP 400 (reference §4, C1).
		return &apiError{http.StatusBadRequest, codeInvalid, msgAppKey}
	}
	if e := checkTimestamp(q, rq.now); e != nil {
		return e
	}
	sign := q.Get("sign")
	if sign == "" {
		return &apiError{http.StatusOK, codeInvalid, msgNoSign}
	}
	// Over the path, the decoded query as received and the exact body bytes
	// received: a client that signs anything else (re-marshalled JSON,
	// encoded values, upper-case hex) fails here.
	want := tiktok.Sign(s.opts.AppSecret, rq.r.URL.Path, q, rq.body, rq.r.Header.Get("Content-Type"))
	if !hmac.Equal([]byte(sign), []byte(want)) {
		return &apiError{http.StatusOK, codeBadSign, msgBadSign}
	}
	if v, ok := q["version"]; ok && (len(v) != 1 || v[0] != rt.version()) {
		return &apiError{http.StatusOK, codeBadVersion, msgVersion}
	}
	if e := s.checkAccessToken(rq.r.Header.Get("x-tts-access-token"), rq.now); e != nil {
		return e
	}
	cipher, hasCipher := q["shop_cipher"]
	switch {
	case !rt.shopScoped && hasCipher:
		return &apiError{http.StatusOK, codeInvalid, msgCipherExtra}
	case rt.shopScoped && (!hasCipher || cipher[0] == ""):
		return &apiError{http.StatusOK, codeNoCipher, msgCipherNone}
	case rt.shopScoped && cipher[0] != s.shop.Cipher:
		return &apiError{http.StatusOK, codeInvalid, msgCipherBad}
	}
	if id, ok := q["shop_id"]; ok && id[0] != s.shop.ID {
		return &apiError{http.StatusOK, codeInvalid, msgShopID}
	}
	return nil
}

func checkTimestamp(q url.Values, now time.Time) *apiError {
	raw := q.Get("timestamp")
	ts, err := strconv.ParseInt(raw, 10, 64)
	switch {
	case err != nil:
		return &apiError{http.StatusOK, codeInvalid, msgTSMissing}
	case ts < 0:
		return &apiError{http.StatusOK, codeInvalid, msgTSNegative}
	case ts < now.Unix()-5*60:
		return &apiError{http.StatusOK, codeInvalid, msgTSPast}
	case ts > now.Unix()+30:
		return &apiError{http.StatusOK, codeInvalid, msgTSFuture}
	}
	return nil
}

// envelope is TikTok's response wrapper. Data is omitted on errors.
type envelope struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Data      any    `json:"data,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, now time.Time, e *apiError) {
	s.counters.reject(e.code)
	s.writeJSON(w, e.status, envelope{Code: e.code, Message: e.msg, RequestID: s.requestID(now)})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // a bug: every response type marshals
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// decodeBody decodes a JSON body into v strictly: an unknown field or a
// wrong type is a parameter error (the simulator never answers a filter it
// did not understand with the unfiltered set), malformed JSON is TikTok's
// body-format error. An empty body means "no filters", as clients that skip
// an empty {} send it.
func decodeBody(body []byte, contentType string, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return &apiError{http.StatusOK, codeBodyFormat, msgBodyFormat}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				return &apiError{http.StatusOK, codeBodyFormat, "Invalid request format. The request body must be a JSON object."}
			}
			return invalidParam("`%s` must be a %s, got a JSON %s.", field, jsonKind(typeErr.Type.String()), typeErr.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return invalidParam("Unknown field %s in the request body.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return &apiError{http.StatusOK, codeBodyFormat, "Invalid request format. The request body is not valid JSON: " + err.Error() + "."}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{http.StatusOK, codeBodyFormat, "Invalid request format. The request body has data after the JSON object."}
	}
	return nil
}

// jsonKind names a Go type as a client would say it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "list"
	case strings.Contains(goType, "int"), strings.Contains(goType, "Number"):
		return "number"
	case strings.Contains(goType, "bool"):
		return "boolean"
	case strings.Contains(goType, "string"):
		return "string"
	}
	return "object"
}

// pageParams reads page_size (within 1..max; def when absent, 0 = required),
// page_token, sort_field (the first of sortFields by default; none allowed
// when sortFields is empty) and sort_order from the query, where TikTok
// wants them even on POST.
type pageParams struct {
	size  int
	token string
	sort  string
	desc  bool
}

func readPageParams(q url.Values, def, max int, sortFields []string, defDesc bool) (pageParams, *apiError) {
	p := pageParams{token: q.Get("page_token"), desc: defDesc}
	raw, ok := q["page_size"]
	switch {
	case !ok && def == 0:
		return p, invalidParam("page_size is required (1 to %d).", max)
	case !ok:
		p.size = def
	default:
		n, err := strconv.Atoi(raw[0])
		if err != nil || n < 1 || n > max {
			return p, invalidParam("page_size must be an integer from 1 to %d, got %q.", max, raw[0])
		}
		p.size = n
	}
	if len(sortFields) == 0 {
		// The endpoint has no sort parameters: refuse them rather than ignore them.
		for _, k := range []string{"sort_field", "sort_order"} {
			if _, ok := q[k]; ok {
				return p, invalidParam("%s is not a parameter of this endpoint.", k)
			}
		}
		return p, nil
	}
	p.sort = sortFields[0]
	if v, ok := q["sort_field"]; ok {
		found := false
		for _, f := range sortFields {
			found = found || v[0] == f
		}
		if !found {
			return p, invalidParam("sort_field must be one of %s, got %q.", strings.Join(sortFields, ", "), v[0])
		}
		p.sort = v[0]
	}
	if v, ok := q["sort_order"]; ok {
		switch v[0] {
		case "ASC":
			p.desc = false
		case "DESC":
			p.desc = true
		default:
			return p, invalidParam("sort_order must be ASC or DESC, got %q.", v[0])
		}
	}
	return p, nil
}

// cursorFor checks the request's page token against the list, sort and
// filters it must belong to.
func (s *Server) cursorFor(p pageParams, want cursor) (*cursor, *apiError) {
	if p.token == "" {
		return nil, nil
	}
	c, ok := s.decodeCursor(p.token)
	if !ok {
		return nil, invalidParam("page_token is invalid (it must be sent exactly as received, URL-encoded on the wire).")
	}
	if c.kind != want.kind || c.sort != want.sort || c.desc != want.desc || c.filter != want.filter {
		return nil, invalidParam("page_token does not belong to this query (its sort or filters differ).")
	}
	return &c, nil
}

// isNumericID reports whether id looks like a TikTok id (digits only).
func isNumericID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
