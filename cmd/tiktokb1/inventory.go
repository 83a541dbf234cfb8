package main

import (
	"context"
	"fmt"
	"io"
	"os/user"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/service"
)

const inventoryUsage = `inventory confirm [--shop ID]

  confirm  release the inventory pushes held because they would change more
           than TIKTOKB1_INVENTORY_CONFIRM_SHARE of a shop's TikTok listings
           at once (exception inventory_push_held): the next push of each
           shop, within seconds, sends everything due. Check the held rows
           first: integration.inventory_push WHERE result = 'held'.`

func runInventory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inventory", inventoryUsage, stdout, stderr, nil)
	shop := fs.String("shop", "", "confirm only this shop's held push (default: every shop's)")
	if len(args) == 0 || args[0] != "confirm" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return parse(fs, args, stderr)
		}
		return usageError(fs, stderr, "expected confirm")
	}
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	cfg, logger, err := loadConfig(stderr)
	if err != nil {
		return err
	}
	pool, err := service.OpenPool(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	by := "tiktokb1 inventory confirm"
	if u, err := user.Current(); err == nil {
		by += " (" + u.Username + ")"
	}
	holds, err := inventory.Confirm(ctx, pool, *shop, by)
	if err != nil {
		return err
	}
	if len(holds) == 0 {
		fmt.Fprintln(stdout, "No inventory push is held.")
		return nil
	}
	for _, h := range holds {
		fmt.Fprintf(stdout, "Shop %s: the push of %d of %d listings (held since %s) goes out with the next push.\n",
			h.ShopID, h.Skus, h.Listings, h.HeldAt.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return nil
}
