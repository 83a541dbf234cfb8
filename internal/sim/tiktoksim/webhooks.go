package tiktoksim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// eventTypes are the webhook event names TikTok knows and their type numbers
// (reference §9). The simulator raises 1, 3 and 11; the others can be
// subscribed to, as on TikTok, and simply never fire.
var eventTypes = map[string]int{
	"ORDER_STATUS_CHANGE": 1, "REVERSE_STATUS_UPDATE": 2, "RECIPIENT_ADDRESS_UPDATE": 3, "PACKAGE_UPDATE": 4,
	"PRODUCT_STATUS_CHANGE": 5, "SELLER_DEAUTHORIZATION": 6, "UPCOMING_AUTHORIZATION_EXPIRATION": 7,
	"CANCELLATION_STATUS_CHANGE": 11, "RETURN_STATUS_CHANGE": 12, "PRODUCT_INFORMATION_CHANGE": 15,
	"PRODUCT_CREATION": 16, "PRODUCT_AUDIT_STATUS_CHANGE": 37,
}

type subscription struct {
	address    string
	createTime int64
	updateTime int64
}

// emit queues a webhook of type typ for the event's subscriber, if any.
// Called with s.mu held; the body is marshalled and signed once, so every
// retry carries the same bytes and the same tts_notification_id.
func (s *Server) emit(typ int, event string, data map[string]any) {
	if s.quiet {
		return
	}
	sub := s.subs[event]
	if sub == nil {
		return
	}
	id := "73" + s.randString(s.noteRng, "0123456789", 17)
	body, _ := json.Marshal(struct {
		Type              int            `json:"type"`
		TTSNotificationID string         `json:"tts_notification_id"`
		ShopID            string         `json:"shop_id"`
		Timestamp         int64          `json:"timestamp"`
		Data              map[string]any `json:"data"`
	}{typ, id, s.shop.ID, s.now().Unix(), data})
	s.sender.enqueue(&delivery{id: id, url: sub.address, body: body})
}

// --- subscriptions API ---

type webhookJSON struct {
	Address    string `json:"address"`
	CreateTime int64  `json:"create_time"`
	EventType  string `json:"event_type"`
	UpdateTime int64  `json:"update_time"`
}

// apiGetWebhooks is GET /event/202309/webhooks.
func (s *Server) apiGetWebhooks(rq *apiRequest) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []webhookJSON{}
	for name, sub := range s.subs {
		out = append(out, webhookJSON{sub.address, sub.createTime, name, sub.updateTime})
	}
	slices.SortFunc(out, func(a, b webhookJSON) int { return eventTypes[a.EventType] - eventTypes[b.EventType] })
	return map[string]any{"webhooks": out, "total_count": len(out)}, nil
}

type webhookBody struct {
	Address   string `json:"address,omitempty"`
	EventType string `json:"event_type"`
}

func readWebhookBody(rq *apiRequest, needAddress bool) (webhookBody, *apiError) {
	var b webhookBody
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &b); e != nil {
		return b, e
	}
	if _, ok := eventTypes[b.EventType]; !ok {
		return b, invalidParam("event_type %q is not a webhook event type.", b.EventType)
	}
	if needAddress {
		u, err := url.Parse(b.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(b.Address) > 255 {
			return b, invalidParam("address must be an http(s) URL of at most 255 characters, got %q.", b.Address)
		}
	}
	return b, nil
}

// apiPutWebhook is PUT /event/202309/webhooks {address, event_type}.
func (s *Server) apiPutWebhook(rq *apiRequest) (any, *apiError) {
	b, e := readWebhookBody(rq, true)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := rq.now.Unix()
	if sub := s.subs[b.EventType]; sub != nil {
		sub.address, sub.updateTime = b.Address, at
	} else {
		s.subs[b.EventType] = &subscription{b.Address, at, at}
	}
	return struct{}{}, nil
}

// apiDeleteWebhook is DELETE /event/202309/webhooks {event_type}.
func (s *Server) apiDeleteWebhook(rq *apiRequest) (any, *apiError) {
	b, e := readWebhookBody(rq, false)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, b.EventType)
	return struct{}{}, nil
}

// --- sender ---

type delivery struct {
	id      string
	url     string
	body    []byte
	attempt int // attempts made so far
	due     time.Time
}

// sender delivers webhooks in the background: any 2xx acknowledges; anything
// else (another status, an error, a timeout) is retried after the next of
// the configured delays, with the same body, signature and notification id;
// after the last delay the delivery is given up and counted.
type sender struct {
	appKey, appSecret string
	client            *http.Client
	delays            []time.Duration
	workers           int
	log               *slog.Logger

	mu       sync.Mutex
	queue    []*delivery
	inFlight int
	wake     chan struct{}

	sent, attempts, failed atomic.Int64
}

func newSender(opts Options, log *slog.Logger) *sender {
	return &sender{
		appKey: opts.AppKey, appSecret: opts.AppSecret,
		client:  &http.Client{Timeout: opts.WebhookTimeout},
		delays:  opts.WebhookRetryDelays,
		workers: opts.WebhookWorkers,
		log:     log,
		wake:    make(chan struct{}, 1),
	}
}

func (sd *sender) enqueue(d *delivery) {
	sd.mu.Lock()
	sd.queue = append(sd.queue, d)
	sd.mu.Unlock()
	sd.poke()
}

func (sd *sender) poke() {
	select {
	case sd.wake <- struct{}{}:
	default:
	}
}

func (sd *sender) stats() (sent, attempts, failed, pending int64) {
	sd.mu.Lock()
	pending = int64(len(sd.queue) + sd.inFlight)
	sd.mu.Unlock()
	return sd.sent.Load(), sd.attempts.Load(), sd.failed.Load(), pending
}

// run hands due deliveries to the workers until ctx ends.
func (sd *sender) run(ctx context.Context) {
	work := make(chan *delivery)
	var wg sync.WaitGroup
	for range sd.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				sd.attempt(ctx, d)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		sd.mu.Lock()
		now := time.Now()
		var due []*delivery
		next := time.Time{}
		kept := sd.queue[:0]
		for _, d := range sd.queue {
			if !d.due.After(now) {
				due = append(due, d)
				continue
			}
			kept = append(kept, d)
			if next.IsZero() || d.due.Before(next) {
				next = d.due
			}
		}
		clear(sd.queue[len(kept):])
		sd.queue = kept
		sd.inFlight += len(due)
		sd.mu.Unlock()
		for i, d := range due {
			select {
			case work <- d:
			case <-ctx.Done():
				sd.mu.Lock()
				sd.inFlight -= len(due) - i
				sd.queue = append(sd.queue, due[i:]...)
				sd.mu.Unlock()
				return
			}
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-sd.wake:
		case <-timer.C:
		}
	}
}

func (sd *sender) attempt(ctx context.Context, d *delivery) {
	sd.attempts.Add(1)
	d.attempt++
	status, err := sd.post(ctx, d)
	sd.mu.Lock()
	sd.inFlight--
	switch {
	case err == nil && status/100 == 2:
		sd.mu.Unlock()
		sd.sent.Add(1)
		return
	case ctx.Err() != nil:
		// Shutting down: keep it queued, as it was not delivered.
		sd.queue = append(sd.queue, d)
		sd.mu.Unlock()
		return
	case d.attempt > len(sd.delays):
		sd.mu.Unlock()
		sd.failed.Add(1)
		reason := "HTTP " + strconv.Itoa(status)
		if err != nil {
			reason = err.Error()
		}
		sd.log.Warn("webhook given up", "tts_notification_id", d.id, "url", d.url, "attempts", d.attempt, "last_error", reason)
		return
	}
	d.due = time.Now().Add(sd.delays[d.attempt-1])
	sd.queue = append(sd.queue, d)
	sd.mu.Unlock()
	sd.poke()
}

func (sd *sender) post(ctx context.Context, d *delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", tiktok.SignWebhook(sd.appKey, sd.appSecret, d.body))
	resp, err := sd.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}
