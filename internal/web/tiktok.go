package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// MaxWebhookBody is the largest webhook body accepted (1 MiB); TikTok's are a
// few hundred bytes.
const MaxWebhookBody = 1 << 20

// TikTok configures the TikTok Shop routes: GET /oauth/tiktok/start, GET
// /oauth/tiktok/callback and POST /webhooks/tiktok.
type TikTok struct {
	// AppKey and AppSecret verify the webhooks' signatures.
	AppKey    string
	AppSecret string
	// Onboarding hands out authorisation links and completes the callback
	// (a *shops.Onboarding); nil serves no OAuth routes.
	Onboarding Onboarding
	// DB lands the webhooks (the pool).
	DB TxBeginner
	// Jobs enqueues their processing in the landing transaction (the River
	// client).
	Jobs JobInserter
}

// Onboarding is what the OAuth routes call.
type Onboarding interface {
	StartURL(ctx context.Context) (string, error)
	Complete(ctx context.Context, code, state string) (shops.Authorized, error)
}

// TxBeginner starts a transaction (a *pgxpool.Pool).
type TxBeginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// JobInserter inserts a River job in a transaction (a *river.Client[pgx.Tx]).
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

func (opts Options) tiktokRoutes(route func(pattern, name string, h http.Handler)) {
	tt := opts.TikTok
	route("POST /webhooks/tiktok", "tiktok_webhook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outcome, code := receiveWebhook(r.Context(), tt, opts.Logger, w, r)
		opts.Metrics.TikTokWebhooks.WithLabelValues(outcome).Inc()
		if code == http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"code":0}`)
			return
		}
		http.Error(w, webhookMessages[outcome], code)
	}))
	if tt.Onboarding == nil {
		return
	}
	route("GET /oauth/tiktok/start", "tiktok_oauth_start", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := tt.Onboarding.StartURL(r.Context())
		if err != nil {
			opts.Logger.Error("TikTok onboarding: cannot start", "err", err)
			page(w, http.StatusInternalServerError, "TikTok Shop: cannot start", "The authorisation could not be started (the service log says why). Try again in a moment.", "")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusFound)
	}))
	route("GET /oauth/tiktok/callback", "tiktok_oauth_callback", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := tt.Onboarding.Complete(r.Context(), r.URL.Query().Get("code"), r.URL.Query().Get("state"))
		switch {
		case errors.Is(err, shops.ErrStartAgain):
			opts.Logger.Info("TikTok onboarding: callback refused", "err", err)
			page(w, http.StatusBadRequest, "TikTok Shop: start again",
				"This authorisation link cannot be used: it was not handed out by this service, it expired, it was used already, or TikTok refused it. Nothing was stored.",
				"start")
		case err != nil:
			opts.Logger.Error("TikTok onboarding: callback failed", "err", err)
			page(w, http.StatusBadGateway, "TikTok Shop: not connected",
				"The authorisation could not be completed (TikTok or the database did not answer as expected; the service log says why). Nothing was stored.",
				"start")
		default:
			opts.Logger.Info("TikTok onboarding: seller authorised", "open_id", res.OpenID, "seller", res.SellerName, "shops", len(res.Shops))
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_ = connectedPage.Execute(w, res)
		}
	}))
}

// webhookMessages answer the failed deliveries, by outcome
// (metrics.TikTokWebhookOutcomes).
var webhookMessages = map[string]string{
	"bad_signature": "signature does not match",
	"malformed":     "not a TikTok webhook",
	"too_large":     "body larger than 1 MiB",
	"error":         "not stored; deliver again",
}

// receiveWebhook verifies, parses and lands one delivery. It returns the
// outcome label and the HTTP status to answer.
func receiveWebhook(ctx context.Context, tt *TikTok, logger *slog.Logger, w http.ResponseWriter, r *http.Request) (string, int) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return "too_large", http.StatusRequestEntityTooLarge
	}
	if err != nil {
		return "malformed", http.StatusBadRequest
	}
	if !tiktok.VerifyWebhook(tt.AppKey, tt.AppSecret, body, r.Header.Get("Authorization")) {
		return "bad_signature", http.StatusUnauthorized
	}
	wh, err := tiktok.ParseWebhook(body)
	if err != nil || wh.Type > math.MaxInt32 || wh.Timestamp < 0 {
		return "malformed", http.StatusBadRequest
	}
	stored, err := landWebhook(ctx, tt, wh, body, jsonCopy(body))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 && pgErr.Code[:2] == "22" {
		// Postgres's jsonb refused what Go's JSON accepted (a number out of
		// its range, say): land the raw bytes without the jsonb copy.
		stored, err = landWebhook(ctx, tt, wh, body, nil)
	}
	if err != nil {
		logger.Error("TikTok webhook not stored; TikTok will deliver it again", "notification_id", string(wh.NotificationID), "type", int64(wh.Type), "err", err)
		return "error", http.StatusInternalServerError
	}
	if !stored {
		return "duplicate", http.StatusOK
	}
	return "stored", http.StatusOK
}

// landWebhook stores the webhook and, only when it is new, enqueues its
// processing, in one transaction.
func landWebhook(ctx context.Context, tt *TikTok, wh tiktok.Webhook, body, bodyJSON []byte) (bool, error) {
	tx, err := tt.DB.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	p := db.InsertWebhookEventParams{
		NotificationID: string(wh.NotificationID),
		Type:           int32(wh.Type),
		Body:           body,
		BodyJson:       bodyJSON,
	}
	if wh.ShopID != "" {
		s := string(wh.ShopID)
		p.ShopID = &s
	}
	if wh.Timestamp > 0 {
		t := time.Unix(int64(wh.Timestamp), 0).UTC()
		p.EventTime = &t
	}
	id, err := db.New(tx).InsertWebhookEvent(ctx, p)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // delivered before: acknowledged, not processed again
	}
	if err != nil {
		return false, err
	}
	if _, err := tt.Jobs.InsertTx(ctx, tx, jobs.ProcessTikTokWebhookArgs{EventID: id}, nil); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// jsonCopy returns body for the jsonb column, or nil when Postgres's jsonb
// would refuse it (invalid UTF-8, or a \u0000 escape).
func jsonCopy(body []byte) []byte {
	if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	return body
}

// page writes a small HTML page; next, when set, links to where to start
// again (relative, so it works behind a path prefix).
func page(w http.ResponseWriter, code int, title, text, next string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_ = messagePage.Execute(w, struct{ Title, Text, Next string }{title, text, next})
}

var messagePage = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Next}}<p>Start again from <a href="{{.Next}}">/oauth/tiktok/start</a>.</p>{{end}}
</body></html>
`))

var connectedPage = template.Must(template.New("connected").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TikTok Shop connected</title></head>
<body>
<h1>TikTok Shop connected</h1>
<p>Seller {{.SellerName}} authorised tiktokb1{{if .Shops}} for these shops{{end}}:</p>
{{if .Shops}}<ul>
{{range .Shops}}<li>{{.Name}} ({{.Region}}, shop id {{.ID}}{{if .Code}}, code {{.Code}}{{end}})</li>
{{end}}</ul>
<p>Their webhooks are being subscribed now. You can close this page.</p>
{{else}}<p>TikTok listed no shops for this authorisation.</p>{{end}}
</body></html>
`))
