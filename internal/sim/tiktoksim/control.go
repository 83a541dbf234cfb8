package tiktoksim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The control API: plain JSON under /_sim/, no signing. It is what a test,
// the demo or a rehearsal uses to play the buyers, the carrier and TikTok's
// campaigns, and to read back what the service did. Every route has a
// Go-level twin on *Server for in-process use.
//
//	POST /_sim/products               {"products":[NewProduct…]} → {"products":[CreatedSKU…]}; 409 on a duplicate seller_sku
//	GET  /_sim/skus                   {"skus":[SKUState…]}
//	GET  /_sim/skus/{seller_sku}      SKUState
//	POST /_sim/skus/{seller_sku}/lock {"quantity":N} campaign-locks stock
//	POST /_sim/orders                 NewOrder → {"order_id"}; 409 when stock is short (nothing changes)
//	GET  /_sim/orders                 {"order_ids":[…]} in creation order
//	GET  /_sim/orders/{id}            the order exactly as the API returns it
//	POST /_sim/orders/{id}/cancel     CancelRequest → {"order_id","cancel_id"}; 409 once shipped
//	POST /_sim/orders/{id}/status     {"status":"IN_TRANSIT"} → the order
//	POST /_sim/orders/{id}/address    the buyer changes the address (webhook 3) → the order
//	GET  /_sim/stats                  Stats
//	POST /_sim/flash-sale             FlashSaleRequest → {"id"} (runs in the background)
//	GET  /_sim/flash-sale[?id=]       FlashSaleProgress of the given or latest sale
//	POST /_sim/tokens                 a token pair without the OAuth round trip
//	POST /_sim/tokens/expire          {"access_token":"…"} (empty: all) → {"expired":n}
//	GET  /_sim/shop                   the shop, its cipher and its warehouses
//	POST /_sim/warehouses             {"name":"…"} → {"warehouse_id"}
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	segs, err := controlSegments(r.URL.EscapedPath())
	if err != nil {
		s.controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	method := r.Method
	matchedWrongMethod := false // a path that exists with another method: 405, not 404
	is := func(m string, pattern ...string) bool {
		if len(segs) != len(pattern) {
			return false
		}
		for i, p := range pattern {
			if p != "*" && p != segs[i] {
				return false
			}
		}
		if m != method {
			matchedWrongMethod = true
			return false
		}
		return true
	}
	switch {
	case is("POST", "products"):
		var body struct {
			Products []NewProduct `json:"products"`
		}
		if s.decodeControl(w, r, &body) {
			created, err := s.AddProducts(body.Products)
			s.controlResult(w, map[string]any{"products": created}, err)
		}
	case is("GET", "skus"):
		s.controlResult(w, map[string]any{"skus": s.SKUs()}, nil)
	case is("GET", "skus", "*"):
		st, err := s.SKU(segs[1])
		s.controlResult(w, st, err)
	case is("POST", "skus", "*", "lock"):
		var body struct {
			Quantity *int `json:"quantity"`
		}
		if s.decodeControl(w, r, &body) {
			if body.Quantity == nil {
				s.controlError(w, http.StatusBadRequest, "quantity is required")
				return
			}
			err := s.LockSKU(segs[1], *body.Quantity)
			st, _ := s.SKU(segs[1])
			s.controlResult(w, st, err)
		}
	case is("POST", "orders"):
		var body NewOrder
		if s.decodeControl(w, r, &body) {
			id, err := s.PlaceOrder(body)
			s.controlResult(w, map[string]any{"order_id": id}, err)
		}
	case is("GET", "orders"):
		s.controlResult(w, map[string]any{"order_ids": s.OrderIDs()}, nil)
	case is("GET", "orders", "*"):
		s.controlOrder(w, segs[1], nil)
	case is("POST", "orders", "*", "cancel"):
		var body CancelRequest
		if s.decodeControl(w, r, &body) {
			id, err := s.CancelOrder(segs[1], body)
			s.controlResult(w, map[string]any{"order_id": segs[1], "cancel_id": id}, err)
		}
	case is("POST", "orders", "*", "status"):
		var body struct {
			Status string `json:"status"`
		}
		if s.decodeControl(w, r, &body) {
			s.controlOrder(w, segs[1], s.SetOrderStatus(segs[1], body.Status))
		}
	case is("POST", "orders", "*", "address"):
		s.controlOrder(w, segs[1], s.UpdateAddress(segs[1]))
	case is("GET", "stats"):
		s.controlResult(w, s.Stats(), nil)
	case is("POST", "flash-sale"):
		var body FlashSaleRequest
		if s.decodeControl(w, r, &body) {
			id, err := s.StartFlashSale(body)
			s.controlResult(w, map[string]any{"id": id}, err)
		}
	case is("GET", "flash-sale"):
		p, err := s.FlashSale(r.URL.Query().Get("id"))
		s.controlResult(w, p, err)
	case is("POST", "tokens"):
		s.controlResult(w, s.IssueToken(), nil)
	case is("POST", "tokens", "expire"):
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if s.decodeControl(w, r, &body) {
			n, err := s.ExpireTokens(body.AccessToken)
			s.controlResult(w, map[string]any{"expired": n}, err)
		}
	case is("GET", "shop"):
		s.controlResult(w, s.shopInfo(), nil)
	case is("POST", "warehouses"):
		var body struct {
			Name string `json:"name"`
		}
		if s.decodeControl(w, r, &body) {
			id, err := s.AddWarehouse(body.Name)
			s.controlResult(w, map[string]any{"warehouse_id": id}, err)
		}
	case matchedWrongMethod:
		s.controlError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", method, r.URL.Path))
	default:
		s.controlError(w, http.StatusNotFound, fmt.Sprintf("no control endpoint %s %s (see the package documentation of tiktoksim for the list)", method, r.URL.Path))
	}
}

// controlSegments splits /_sim/a/b into its unescaped segments, so a seller
// SKU with a '/' or a space can be addressed escaped.
func controlSegments(escaped string) ([]string, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(escaped, "/_sim"), "/")
	if rest == "" {
		return nil, nil
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, fmt.Errorf("bad path segment %q: %v", p, err)
		}
		parts[i] = u
	}
	return parts, nil
}

// decodeControl decodes a JSON body strictly; it answers 400 saying what is
// wrong and returns false when it cannot. An empty body is an empty object.
func (s *Server) decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.controlError(w, http.StatusRequestEntityTooLarge, "the body is larger than 4 MiB")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		msg := "bad JSON body: " + err.Error()
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			msg = fmt.Sprintf("bad JSON body: field %q must be a %s, got a JSON %s", typeErr.Field, jsonKind(typeErr.Type.String()), typeErr.Value)
		case errors.As(err, &syntaxErr):
			msg = fmt.Sprintf("bad JSON body: %v at byte %d", err, syntaxErr.Offset)
		}
		s.controlError(w, http.StatusBadRequest, msg)
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		s.controlError(w, http.StatusBadRequest, "bad JSON body: data after the JSON object")
		return false
	}
	return true
}

func (s *Server) controlResult(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		s.writeJSON(w, http.StatusOK, v)
	case errors.Is(err, ErrNotFound):
		s.controlError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrConflict):
		s.controlError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrInvalid):
		s.controlError(w, http.StatusBadRequest, err.Error())
	default:
		s.controlError(w, http.StatusInternalServerError, err.Error())
	}
}

// controlOrder answers with the order after an action (err from it).
func (s *Server) controlOrder(w http.ResponseWriter, id string, err error) {
	if err != nil {
		s.controlResult(w, nil, err)
		return
	}
	o, err := s.Order(id)
	s.controlResult(w, o, err)
}

func (s *Server) controlError(w http.ResponseWriter, status int, msg string) {
	s.writeJSON(w, status, map[string]string{"error": msg})
}

type shopInfo struct {
	Shop
	AppKey     string          `json:"app_key"`
	Warehouses []warehouseJSON `json:"warehouses"`
}

func (s *Server) shopInfo() shopInfo {
	wh, _ := s.apiWarehouses(nil)
	return shopInfo{Shop: s.shop, AppKey: s.opts.AppKey, Warehouses: wh.(map[string]any)["warehouses"].([]warehouseJSON)}
}
