package tiktoksim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// FlashSaleRequest starts a crowd of buyers.
type FlashSaleRequest struct {
	// Orders is the number of buyers; each tries once.
	Orders int `json:"orders"`
	// PerSecond is the pace of buyers; 0 or less: as fast as they can.
	PerSecond float64 `json:"per_second"`
	// SKUs are the seller SKUs on sale. Default: every live listing.
	SKUs []string `json:"skus,omitempty"`
}

// FlashSaleProgress is how a flash sale is going.
type FlashSaleProgress struct {
	ID     string `json:"id"`
	Orders int    `json:"orders"`
	// Placed orders and the units they bought.
	Placed    int `json:"placed"`
	UnitsSold int `json:"units_sold"`
	// SoldOutAttempts counts buyers who found too little stock and gave up.
	SoldOutAttempts int `json:"sold_out_attempts"`
	// Failed counts buyers refused for another reason (a listing taken
	// off sale meanwhile).
	Failed    int    `json:"failed"`
	Done      bool   `json:"done"`
	StartedAt string `json:"started_at"`
	ElapsedMS int64  `json:"elapsed_ms"`
}

type flashSale struct {
	progress FlashSaleProgress // guarded by Server.mu
	started  time.Time
	finished time.Time
}

// StartFlashSale starts buyers in the background and returns at once with
// the sale's id. Each buyer picks a listed SKU at random and buys one or two
// units if the listing shows them available, or gives up (counted). Close
// stops a running sale.
func (s *Server) StartFlashSale(req FlashSaleRequest) (string, error) {
	if req.Orders < 1 || req.Orders > 1_000_000 {
		return "", fmt.Errorf("%w: orders must be 1 to 1000000, got %d", ErrInvalid, req.Orders)
	}
	s.mu.Lock()
	var skus []string
	if len(req.SKUs) == 0 {
		for _, p := range s.products {
			for _, k := range p.skus {
				if p.status == "ACTIVATE" {
					skus = append(skus, k.sellerSKU)
				}
			}
		}
		if len(skus) == 0 {
			s.mu.Unlock()
			return "", fmt.Errorf("%w: there is no live listing to sell", ErrConflict)
		}
	} else {
		for _, sk := range req.SKUs {
			if s.skuBySeller[sk] == nil {
				s.mu.Unlock()
				return "", fmt.Errorf("%w: no listing has seller_sku %q", ErrNotFound, sk)
			}
		}
		skus = req.SKUs
	}
	n := len(s.flashSales)
	fs := &flashSale{started: time.Now()}
	fs.progress = FlashSaleProgress{ID: "fs-" + strconv.Itoa(n+1), Orders: req.Orders, StartedAt: s.now().UTC().Format(time.RFC3339)}
	s.flashSales = append(s.flashSales, fs)
	s.mu.Unlock()

	// Its own generator: the crowd's choices are repeatable for a seed
	// without disturbing the ids of everything else.
	rng := rand.New(rand.NewPCG(s.opts.Seed, 0x666c617368+uint64(n)))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runFlashSale(fs, rng, skus, req)
	}()
	return fs.progress.ID, nil
}

func (s *Server) runFlashSale(fs *flashSale, rng *rand.Rand, skus []string, req FlashSaleRequest) {
	defer func() {
		s.mu.Lock()
		fs.progress.Done, fs.finished = true, time.Now()
		s.mu.Unlock()
	}()
	for i := range req.Orders {
		if req.PerSecond > 0 {
			due := fs.started.Add(time.Duration(float64(i) / req.PerSecond * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-s.ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		} else if s.ctx.Err() != nil {
			return
		}
		sk, qty := skus[rng.IntN(len(skus))], 1+rng.IntN(2)
		s.mu.Lock()
		_, err := s.placeOrderLocked(NewOrder{Lines: []NewOrderLine{{SellerSKU: sk, Quantity: qty}}}, s.now().Unix())
		switch {
		case err == nil:
			fs.progress.Placed++
			fs.progress.UnitsSold += qty
		case errors.Is(err, ErrConflict) && s.skuBySeller[sk].prod.status == "ACTIVATE":
			fs.progress.SoldOutAttempts++
		default:
			fs.progress.Failed++
		}
		s.mu.Unlock()
	}
}

// FlashSale reports the progress of the sale with this id, or of the latest
// one when id is empty.
func (s *Server) FlashSale(id string) (FlashSaleProgress, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.flashSales) == 0 {
		return FlashSaleProgress{}, fmt.Errorf("%w: no flash sale has started", ErrNotFound)
	}
	for i := len(s.flashSales) - 1; i >= 0; i-- {
		fs := s.flashSales[i]
		if id == "" || fs.progress.ID == id {
			p := fs.progress
			end := fs.finished
			if !p.Done {
				end = time.Now()
			}
			p.ElapsedMS = end.Sub(fs.started).Milliseconds()
			return p, nil
		}
	}
	return FlashSaleProgress{}, fmt.Errorf("%w: no flash sale %q", ErrNotFound, id)
}
