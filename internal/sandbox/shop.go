package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/config"
	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// newOnboarding is the service's onboarding, on cfg's TikTok settings.
func newOnboarding(cfg *config.Config, pool *pgxpool.Pool) (*shops.Onboarding, error) {
	sealer, err := shops.NewSealer([]byte(cfg.TikTok.TokenKey.Reveal()))
	if err != nil {
		return nil, err
	}
	api := tiktok.New(tiktok.Config{
		AppKey: cfg.TikTok.AppKey, AppSecret: cfg.TikTok.AppSecret.Reveal(),
		APIURL: cfg.TikTok.APIURL, AuthURL: cfg.TikTok.AuthURL,
	})
	return shops.NewOnboarding(pool, sealer, api, shops.OnboardingOptions{
		AuthorizeURL: cfg.TikTok.AuthorizeURL, ServiceID: cfg.TikTok.ServiceID,
	}), nil
}

// configureShop stores the shop's orders-flow configuration the first time:
// the generic customer, the simulator's currency, warehouse 01, shipping as
// the shipping service item, FBT orders skipped, a cut-over four days back
// (before the simulator's demo orders) and nothing paused; and both SAP
// warehouses counted for the shop's TikTok warehouse (the simulator's
// warehouse id moves with its seed on every start: sets for earlier ids are
// removed). A configuration that exists is kept, with any change made to it
// since.
func configureShop(ctx context.Context, pool *pgxpool.Pool, shopID, tiktokWarehouse string) error {
	_, err := db.New(pool).UpsertWarehouseSets(ctx, db.UpsertWarehouseSetsParams{
		UpdatedBy: "sandbox", ShopIds: []string{shopID, shopID},
		TiktokWarehouseIds: []string{tiktokWarehouse, tiktokWarehouse}, WhsCodes: []string{"01", "02"},
	})
	if err != nil {
		return fmt.Errorf("sandbox: storing the shop's warehouse set: %w", err)
	}
	if _, err := db.New(pool).DeleteOtherWarehouseSets(ctx, db.DeleteOtherWarehouseSetsParams{ShopID: shopID, TiktokWarehouseID: tiktokWarehouse}); err != nil {
		return fmt.Errorf("sandbox: removing the warehouse sets of an earlier start: %w", err)
	}
	exists, err := db.New(pool).ShopConfigExists(ctx, shopID)
	if err != nil {
		return fmt.Errorf("sandbox: reading the shop's configuration: %w", err)
	}
	if exists {
		return nil
	}
	_, err = db.New(pool).UpsertShopConfigs(ctx, db.UpsertShopConfigsParams{
		UpdatedBy:           "sandbox",
		ShopIds:             []string{shopID},
		CardCodes:           []string{Customer},
		Currencies:          []string{Currency},
		Series:              []int32{0},
		DefaultWarehouses:   []string{"01"},
		ShippingModes:       []string{"service_item"},
		ShippingItemCodes:   []string{ShippingItem},
		FreightExpenseCodes: []int32{0},
		PricesIncludeTax:    []bool{false},
		TiktokRemitsTax:     []bool{false},
		ExemptTaxCodes:      []string{""},
		FbtModes:            []string{"skip"},
		FbtWarehouses:       []string{""},
		AlreadyShipped:      []string{"exception"},
		CutoverAts:          []time.Time{time.Now().Add(-4 * 24 * time.Hour)},
		ExtraHoldSeconds:    []float64{0},
		OrdersPaused:        []bool{false},
		InventoryPaused:     []bool{false},
		CancellationsPaused: []bool{false},
	})
	if err != nil {
		return fmt.Errorf("sandbox: storing the shop's configuration: %w", err)
	}
	return nil
}
