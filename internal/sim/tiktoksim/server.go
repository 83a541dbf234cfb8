package tiktoksim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value of each field is its default.
type Options struct {
	// AppKey and AppSecret are the app's credentials; every request is
	// checked and every webhook signed with them. Required.
	AppKey, AppSecret string

	// Seed seeds every id, name and demo order. Default 0 (a valid seed).
	Seed uint64
	// Demo seeds a few listings and about twenty orders covering what real
	// shops send (see demo.go). Default false: an empty shop.
	Demo bool

	// ShopID is the shop's id. Default: derived from Seed (19 digits).
	ShopID string
	// ShopName is the shop's (and seller's) name. Default "Sandbox Shop <n>".
	ShopName string
	// Region is the shop's region code. Default "GB".
	Region string
	// Currency of every amount. Default "GBP".
	Currency string

	// RateLimit is the sustained rate, in requests per second, of each token
	// bucket (one per app, shop and endpoint path template). Default 50, the
	// one published figure (reference §4, C1); negative disables limiting.
	RateLimit float64
	// RateBurst is each bucket's capacity. Default: RateLimit rounded up.
	RateBurst int

	// AccessTokenTTL is the life of an access token. Default 7 days.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the life of a refresh token. Default 365 days.
	RefreshTokenTTL time.Duration

	// WebhookURL, when set, subscribes every event type the simulator sends
	// (order status, address update, cancellation status) to this address,
	// as the app's default webhook in Partner Center would. The API's
	// /event/202309/webhooks changes subscriptions later. Default: none.
	WebhookURL string
	// WebhookRetryDelays are the waits before each retry of a webhook whose
	// delivery failed (non-2xx, error or timeout); after the last one the
	// delivery is dropped and counted as failed. Default 2m, 30m, 3h, 12h
	// (reference §9, C1). Tests use milliseconds.
	WebhookRetryDelays []time.Duration
	// WebhookTimeout bounds one delivery attempt. Default 5s.
	WebhookTimeout time.Duration
	// WebhookWorkers is the number of deliveries in flight at once. Default 4.
	WebhookWorkers int

	// Now is the clock for time stamps and request checks. Default time.Now.
	// Only time stamps depend on it; retry waits use real time.
	Now func() time.Time
	// Logger receives what an operator must act on (webhooks given up).
	// Default: discard.
	Logger *slog.Logger
}

// Server is the simulator. It is an http.Handler; Start runs the webhook
// sender and Close stops it and any flash sale.
type Server struct {
	opts Options
	now  func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	rng     *rand.Rand // shop, listings, orders: everything a test compares
	tokRng  *rand.Rand // tokens: independent, so logging in does not shift order ids
	noteRng *rand.Rand // webhook notification ids
	usedIDs map[string]bool
	pageKey []byte
	quiet   bool // while seeding demo data: history sends no webhooks

	shop        Shop
	warehouses  []*warehouse
	products    []*product
	productByID map[string]*product
	skuByID     map[string]*sku
	skuBySeller map[string]*sku
	orders      []*order
	orderByID   map[string]*order
	cancels     []*cancellation
	cancelByID  map[string]*cancellation
	access      map[string]*accessToken
	refresh     map[string]*refreshToken
	usedCodes   map[string]bool
	subs        map[string]*subscription
	buckets     map[string]*bucket
	counters    counters
	flashSales  []*flashSale
	seq         int64 // creation sequence of orders and products

	sender  *sender
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

// Shop is the one shop the simulator serves.
type Shop struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Region     string `json:"region"`
	SellerType string `json:"seller_type"`
	Cipher     string `json:"cipher"`
	Code       string `json:"code"`
}

// Errors of the Go-level helpers; the control API maps them to HTTP 404, 409
// and 400.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// New builds a simulator. It panics without an app key and secret (a
// programming error; the command line checks them first).
func New(opts Options) *Server {
	if opts.AppKey == "" || opts.AppSecret == "" {
		panic("tiktoksim: Options.AppKey and Options.AppSecret are required")
	}
	if opts.Region == "" {
		opts.Region = "GB"
	}
	if opts.Currency == "" {
		opts.Currency = "GBP"
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 50
	}
	if opts.RateBurst <= 0 && opts.RateLimit > 0 {
		opts.RateBurst = int(opts.RateLimit)
		if float64(opts.RateBurst) < opts.RateLimit {
			opts.RateBurst++
		}
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = 7 * 24 * time.Hour
	}
	if opts.RefreshTokenTTL <= 0 {
		opts.RefreshTokenTTL = 365 * 24 * time.Hour
	}
	if opts.WebhookRetryDelays == nil {
		opts.WebhookRetryDelays = []time.Duration{2 * time.Minute, 30 * time.Minute, 3 * time.Hour, 12 * time.Hour}
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 5 * time.Second
	}
	if opts.WebhookWorkers <= 0 {
		opts.WebhookWorkers = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		opts:        opts,
		now:         opts.Now,
		log:         opts.Logger,
		rng:         rand.New(rand.NewPCG(opts.Seed, 0x7469_6b74_6f6b_0001)),
		tokRng:      rand.New(rand.NewPCG(opts.Seed, 0x7469_6b74_6f6b_0002)),
		noteRng:     rand.New(rand.NewPCG(opts.Seed, 0x7469_6b74_6f6b_0003)),
		usedIDs:     map[string]bool{},
		productByID: map[string]*product{},
		skuByID:     map[string]*sku{},
		skuBySeller: map[string]*sku{},
		orderByID:   map[string]*order{},
		cancelByID:  map[string]*cancellation{},
		access:      map[string]*accessToken{},
		refresh:     map[string]*refreshToken{},
		usedCodes:   map[string]bool{},
		subs:        map[string]*subscription{},
		buckets:     map[string]*bucket{},
	}
	key := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("tiktoksim page tokens"), opts.Seed))
	s.pageKey = key[:]
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sender = newSender(opts, s.log)

	// The shop id is always drawn, even when given, so the ids that follow do
	// not depend on --shop-id.
	shopID := s.newID("749", 19)
	if opts.ShopID != "" {
		shopID = opts.ShopID
	}
	name := opts.ShopName
	if name == "" {
		name = "Sandbox Shop " + shopID[len(shopID)-4:]
	}
	s.shop = Shop{
		ID:         shopID,
		Name:       name,
		Region:     opts.Region,
		SellerType: "LOCAL",
		Cipher:     "ROW_" + s.randString(s.rng, alnum, 28),
		Code:       opts.Region + "LC" + s.randString(s.rng, upperDigits, 8),
	}
	s.warehouses = []*warehouse{{id: s.newID("70", 19), name: "Main warehouse", isDefault: true}}
	if opts.WebhookURL != "" {
		at := s.now().Unix()
		for _, name := range []string{"ORDER_STATUS_CHANGE", "RECIPIENT_ADDRESS_UPDATE", "CANCELLATION_STATUS_CHANGE"} {
			s.subs[name] = &subscription{address: opts.WebhookURL, createTime: at, updateTime: at}
		}
	}
	if opts.Demo {
		s.seedDemo()
	}
	return s
}

// Start runs the webhook sender in the background. Events raised before
// Start wait in its queue. Calling Start twice does nothing.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sender.run(s.ctx)
	}()
}

// Close stops the webhook sender and any flash sale, and waits for them.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// ControlBase is the path prefix of the control API.
const ControlBase = "/_sim/"

// ServeHTTP serves the API, the token paths and the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/_sim" || strings.HasPrefix(p, ControlBase):
		s.serveControl(w, r)
	case p == tokenGetPath || p == tokenRefreshPath:
		s.serveToken(w, r)
	default:
		s.serveAPI(w, r)
	}
}

// newID draws an unused numeric id of the given length starting with prefix.
// Real ids are 18-19 digit strings; a client that parses them as float64
// loses digits, which the tests of the client should notice.
func (s *Server) newID(prefix string, length int) string {
	for {
		b := []byte(prefix)
		for len(b) < length {
			b = append(b, byte('0'+s.rng.IntN(10)))
		}
		id := string(b)
		if !s.usedIDs[id] {
			s.usedIDs[id] = true
			return id
		}
	}
}

const (
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	tokenChars  = alnum + "-_"
)

func (s *Server) randString(rng *rand.Rand, chars string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

// requestID looks like TikTok's: the UTC time to the second, then 20 hex
// digits. Not derived from the seed: it is per request, like a time stamp.
func (s *Server) requestID(now time.Time) string {
	s.counters.mu.Lock()
	s.counters.reqSeq++
	n := s.counters.reqSeq
	s.counters.mu.Unlock()
	h := strconv.FormatUint(uint64(n)*0x9E3779B97F4A7C15, 16)
	h = strings.ToUpper(strings.Repeat("0", 20-min(20, len(h))) + h)
	return now.UTC().Format("20060102150405") + h[:20]
}
