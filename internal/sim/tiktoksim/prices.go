package tiktoksim

// priceUpdate is the body of POST /product/202309/products/{product_id}/prices/update.
type priceUpdate struct {
	SKUs []struct {
		ID    string `json:"id"`
		Price struct {
			Amount   string `json:"amount"`
			Currency string `json:"currency"`
		} `json:"price"`
	} `json:"skus"`
}

// apiUpdatePrice sets the sale price of SKUs of one product, all or none
// (minimal: no price-change review, no promotion checks).
func (s *Server) apiUpdatePrice(rq *apiRequest) (any, *apiError) {
	var req priceUpdate
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &req); e != nil {
		return nil, e
	}
	if len(req.SKUs) == 0 {
		return nil, invalidParam("skus must not be empty.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prod := s.productByID[rq.params["product_id"]]
	if prod == nil {
		return nil, bizError(codeNoProduct, "The product ID does not exist.")
	}
	set := make([]cents, len(req.SKUs))
	for i, u := range req.SKUs {
		k := s.skuByID[u.ID]
		if u.ID == "" || k == nil || k.prod != prod {
			return nil, bizError(codeNotInProduct, "The SKU ID does not belong to the product.")
		}
		if u.Price.Currency != s.opts.Currency {
			return nil, invalidParam("skus[%d].price.currency must be %s, got %q.", i, s.opts.Currency, u.Price.Currency)
		}
		p, err := parseMoney(u.Price.Amount)
		if err != nil || p <= 0 {
			return nil, invalidParam("skus[%d].price.amount must be a positive amount, got %q.", i, u.Price.Amount)
		}
		set[i] = p
	}
	for i, u := range req.SKUs {
		k := s.skuByID[u.ID]
		k.price = set[i]
		k.prices++
	}
	return struct{}{}, nil
}
